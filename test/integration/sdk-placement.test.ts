/**
 * The SDK's placement helpers against a real master: a UNIQUE constraint on
 * an agent attribute lands one task per rack, and one ACCEPT mixes a LAUNCH
 * with a LAUNCH_GROUP (the master takes both operations in one call).
 */
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import {
  connectFramework,
  constraints,
  gang,
  launchOperations,
  pack,
  fieldValue,
  type Framework,
  type Placed,
  type TaskStatus__Output,
} from '../../frameworks/sdk';
import { Cluster, waitFor, quiet } from '../harness';

let c: Cluster;
let fw: Framework | undefined;
afterEach(async () => {
  fw?.close();
  await c.teardown();
});

test('UNIQUE rack puts one task on each rack; one ACCEPT launches a task and a group together', async () => {
  c = new Cluster();
  const master = await c.startMaster();
  await c.startAgent(master.address, { name: 'agent-r1', args: ['--attributes', 'rack:r1', '--hostname', 'h1'] });
  await c.startAgent(master.address, { name: 'agent-r2', args: ['--attributes', 'rack:r2', '--hostname', 'h2'] });
  fw = await connectFramework({ master: master.address, name: 'placement', logger: quiet, connectTimeout: '20s' });
  const updates: TaskStatus__Output[] = [];
  fw.on('update', (s) => updates.push(s));

  const rackOf = new Map<string, string>();
  const placed: Placed[] = [];
  const unique = constraints([['rack', 'UNIQUE']]);
  const shape = { cpus: 0.1, mem: 32 };
  let mixedSent = false;
  const framework = fw;
  framework.on('offers', (offers) => {
    // Phase 1: two tasks, one per rack, however the offers arrive.
    if (placed.length < 2) {
      const plan = pack(offers, 2 - placed.length, shape, (i) => ({ taskId: `spread-${placed.length + i}`, command: { value: 'sleep 30', shell: true } }), { where: unique, placed });
      for (const l of plan.launches) {
        for (const t of l.tasks) rackOf.set(t.taskId!, fieldValue(l.offer, 'rack')!);
        placed.push(...l.tasks.map(() => l.offer));
      }
      framework.launchAll(plan, { refuseSeconds: 0 });
      framework.decline(plan.unused, { refuseSeconds: 0 });
      return;
    }
    // Phase 2: a single task and a group of two, from one agent's offers, in one ACCEPT.
    if (mixedSent) return framework.decline(offers, { refuseSeconds: 30 });
    const g = gang(offers, [shape, shape, shape], (i) => ({ taskId: ['solo', 'g-a', 'g-b'][i]!, command: { value: 'sleep 30', shell: true } }));
    if (!g.ok) return framework.decline(offers, { refuseSeconds: 0 });
    mixedSent = framework.accept(g.offers, launchOperations({ tasks: [g.tasks[0]!], groups: [g.tasks.slice(1)] }));
    framework.decline(g.unused, { refuseSeconds: 30 });
  });

  const running = (id: string) => updates.some((s) => s.taskId === id && s.state === 'TASK_RUNNING');
  await waitFor('spread-0 and spread-1 RUNNING', () => running('spread-0') && running('spread-1'));
  assert.deepEqual([...rackOf.values()].sort(), ['r1', 'r2']);
  await waitFor('solo, g-a and g-b RUNNING', () => ['solo', 'g-a', 'g-b'].every(running));
  const agentOf = (id: string) => updates.find((s) => s.taskId === id)!.agentId;
  assert.equal(agentOf('g-a'), agentOf('solo'));
  assert.equal(agentOf('g-b'), agentOf('solo'));
  assert.ok(!updates.some((s) => s.state === 'TASK_ERROR' || s.state === 'TASK_DROPPED'), JSON.stringify(updates.filter((s) => s.message)));
});
