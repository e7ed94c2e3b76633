/**
 * examples/sweep-framework.ts, as its author would try it: a sweep of four
 * tasks spread over two racks, the framework killed with SIGKILL while they
 * run, started again from its state file; then the gang. Each parameter must
 * run exactly once, two per rack, and the gang's tasks together on one agent.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { Cluster, waitFor } from '../harness';

const c = new Cluster();
after(() => c.teardown());

test('a sweep survives kill -9 of its framework: reconciled, nothing launched twice, spread over racks, then a gang on one agent', async () => {
  const master = await c.startMaster();
  await c.startAgent(master.address, { name: 'r1', args: ['--attributes', 'rack:r1'] });
  await c.startAgent(master.address, { name: 'r2', args: ['--attributes', 'rack:r2'] });
  const marks = path.join(c.dir, 'marks');
  const go = path.join(c.dir, 'go');
  const args = [
    '--master', master.address, '--params', '1,2,3,4', '--spread', 'rack', '--gang', '2', '--state', path.join(c.dir, 'sweep.json'),
    // Each task leaves a mark naming its agent, then holds until the test says go.
    '--cmd', `mkdir -p ${marks} && echo $MEZZ_AGENT_ID > ${marks}/sweep-$PARAM-$MEZZ_TASK_ID && until [ -f ${go} ]; do sleep 0.1; done`,
    '--gang-cmd', `echo $MEZZ_AGENT_ID > ${marks}/gang-$MEZZ_TASK_ID`,
  ];
  const sweepMarks = () => (existsSync(marks) ? readdirSync(marks).filter((f) => f.startsWith('sweep-')) : []);

  const first = await c.spawn('sweep-1', 'examples/sweep-framework.ts', args, {}, /subscribed to the master/);
  await waitFor('all four sweep tasks running', () => sweepMarks().length === 4, 60_000);
  await first.kill9();

  const second = await c.spawn('sweep-2', 'examples/sweep-framework.ts', args, {}, /reconciled 4 tasks/);
  assert.match(second.output(), /reconciled 4 tasks: (sweep-p\d-a1 TASK_RUNNING(, )?){4}/);
  writeFileSync(go, '');
  assert.equal(await second.exited, 0, second.output());

  const sweep = sweepMarks().sort();
  assert.deepEqual(sweep.map((f) => f.replace(/-sweep-p\d-a\d$/, '')), ['sweep-1', 'sweep-2', 'sweep-3', 'sweep-4'], 'each parameter ran once');
  const agents = sweep.map((f) => readFileSync(path.join(marks, f), 'utf8').trim());
  assert.deepEqual([...new Set(agents)].map((a) => agents.filter((x) => x === a).length), [2, 2], 'two tasks per rack');
  const gang = readdirSync(marks).filter((f) => f.startsWith('gang-'));
  assert.equal(gang.length, 2);
  assert.equal(new Set(gang.map((f) => readFileSync(path.join(marks, f), 'utf8').trim())).size, 1, 'the gang ran on one agent');
});
