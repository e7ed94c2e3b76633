/**
 * Launching through the whole offer loop: real master, real agents, real
 * processes. Tasks finish, fail with their exit code, and die with their
 * whole process tree when killed; their output is readable through the
 * master.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { alive, Cluster, op, task, waitFor, type Proc, type TestScheduler } from '../harness';
import type { ListTasksResponse__Output } from '../../lib/proto/generated/mezzanine/v1/ListTasksResponse';
import type { ReadFileResponse__Output } from '../../lib/proto';

describe('launch', () => {
  const cluster = new Cluster();
  let master: Proc;
  let agents: Proc[];
  let fw: TestScheduler;

  before(async () => {
    master = await cluster.startMaster();
    agents = await Promise.all([cluster.startAgent(master.address), cluster.startAgent(master.address)]);
    fw = cluster.scheduler(master.address);
    await fw.subscribe({ name: 'launch-test', failoverTimeout: 60 });
    fw.autoAck();
  });
  after(() => cluster.teardown());

  /** Launches `make(i)` for i < n on whatever offers come, at most `perOffer` per offer. */
  async function launchAll(ids: string[], cmd: (id: string) => string, perOffer = ids.length) {
    const todo = [...ids];
    await waitFor(`offers for ${todo.length} more tasks`, () => {
      for (const offer of fw.outstanding()) {
        const batch = todo.splice(0, perOffer);
        if (!batch.length) {
          fw.send({ decline: { offerIds: [offer.id], filters: { refuseSeconds: 0 } } });
          continue;
        }
        fw.send({ accept: { offerIds: [offer.id], operations: [{ launch: { taskInfos: batch.map((id) => task(id, cmd(id))) } }], filters: { refuseSeconds: 0 } } });
      }
      return todo.length === 0;
    });
  }

  const finalState = (id: string) => fw.updates(id).map((s) => s.state).find((s) => !['TASK_STAGING', 'TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING'].includes(s));

  /**
   * The 20 `ok-*` tasks, launched once by whichever test reads them first and
   * waited on to end: the tests that read their output or state run alone.
   */
  let okTasks: Promise<string[]> | undefined;
  const withOkTasks = () => (okTasks ??= (async () => {
    const ids = Array.from({ length: 20 }, (_, i) => `ok-${i}`);
    await launchAll(ids, (id) => `echo hello from ${id}`, 10);
    await waitFor('20 tasks FINISHED', () => ids.every((id) => finalState(id)), 60_000);
    return ids;
  })());

  test('20 tasks run to TASK_FINISHED across both agents', async () => {
    const ids = await withOkTasks();
    for (const id of ids) assert.equal(finalState(id), 'TASK_FINISHED', `${id}: ${JSON.stringify(fw.updates(id))}`);
    const used = new Set(ids.map((id) => fw.updates(id).find((s) => s.state === 'TASK_FINISHED')!.agentId));
    assert.equal(used.size, 2, `tasks ran on ${[...used].join(', ')}; want both agents`);
    // Every update the agent sent carried a uuid and went through RUNNING first.
    for (const id of ids) {
      const states = fw.updates(id).filter((s) => s.uuid).map((s) => s.state);
      assert.ok(states.indexOf('TASK_RUNNING') < states.indexOf('TASK_FINISHED'), `${id}: ${states.join(' → ')}`);
    }
  });

  test('the output of a task is readable through the operator API', async () => {
    await withOkTasks();
    const client = cluster.operator(master.address);
    const out = await op<object, ReadFileResponse__Output>(client, 'readTaskFile', { taskId: 'ok-7', path: 'stdout', offset: 0, length: 0 });
    assert.equal(out.data.toString(), 'hello from ok-7\n');
    await assert.rejects(op(client, 'readTaskFile', { taskId: 'ok-7', path: '../../../etc/passwd' }),
      (e: { code?: number; details?: string }) => e.code === grpc.status.PERMISSION_DENIED && /leaves the sandbox/.test(e.details ?? ''));
    await assert.rejects(op(client, 'readTaskFile', { taskId: 'no-such-task', path: 'stdout' }), /not known/);
  });

  test('a failing command reports TASK_FAILED with its exit code', async () => {
    await launchAll(['fails'], () => 'echo oops >&2; exit 3');
    await waitFor('fails to end', () => finalState('fails'));
    const last = fw.updates('fails').find((s) => s.state === 'TASK_FAILED');
    assert.ok(last, JSON.stringify(fw.updates('fails')));
    assert.equal(last.exitCode, 3);
    assert.match(last.message, /3/);
    // Other tests may have failed tasks of their own: the filter lists only failed ones, this one among them.
    const tasks = await op<object, ListTasksResponse__Output>(cluster.operator(master.address), 'listTasks', { state: 'TASK_FAILED' });
    assert.deepEqual(tasks.tasks.filter((t) => t.state !== 'TASK_FAILED'), []);
    assert.deepEqual(tasks.tasks.filter((t) => t.id === 'fails').map((t) => [t.id, t.exitCode]), [['fails', 3]]);
  });

  test('RECONCILE answers the state of named tasks, and LOST for unknown ones', async () => {
    await withOkTasks();
    const from = fw.events.length;
    fw.send({ reconcile: { tasks: [{ taskId: 'ok-1', agentId: '' }, { taskId: 'never-launched', agentId: '' }] } });
    const ok = await fw.waitEvent('ok-1 reconciled', (e) => e.update?.status?.taskId === 'ok-1', from);
    assert.equal(ok.update!.status!.state, 'TASK_FINISHED');
    assert.equal(ok.update!.status!.reason, 'REASON_RECONCILIATION');
    assert.equal(ok.update!.status!.uuid, '', 'reconciliation answers need no acknowledgement');
    const ghost = await fw.waitEvent('never-launched reconciled', (e) => e.update?.status?.taskId === 'never-launched', from);
    assert.equal(ghost.update!.status!.state, 'TASK_LOST');
  });

  test('MESSAGE delivers data to a running task', async () => {
    await launchAll(['listener'], () => 'while [ ! -s messages ]; do sleep 0.05; done; base64 -d messages');
    await waitFor('listener RUNNING', () => fw.updates('listener').some((s) => s.state === 'TASK_RUNNING'));
    const agentId = fw.updates('listener')[0]!.agentId;
    fw.send({ message: { agentId, taskId: 'listener', data: Buffer.from('hello, task') } });
    await waitFor('listener FINISHED', () => fw.updates('listener').some((s) => s.state === 'TASK_FINISHED'));
    const out = await op<object, ReadFileResponse__Output>(cluster.operator(master.address), 'readTaskFile', { taskId: 'listener', path: 'stdout' });
    assert.equal(out.data.toString(), 'hello, task');
    const from = fw.events.length;
    fw.send({ message: { agentId, taskId: 'listener', data: Buffer.from('too late') } });
    const err = await fw.waitEvent('MESSAGE refused', (e) => e.error?.call === 'MESSAGE', from);
    assert.match(err.error!.message, /listener is not a live task/);
  });

  test('KILL ends the task and its whole process tree', async () => {
    await launchAll(['tree'], () => 'sleep 300 & echo child=$!; echo self=$$; wait');
    await waitFor('tree RUNNING', () => fw.updates('tree').some((s) => s.state === 'TASK_RUNNING'));
    const client = cluster.operator(master.address);
    const pids = await waitFor('tree to print its pids', async () => {
      const out = await op<object, ReadFileResponse__Output>(client, 'readTaskFile', { taskId: 'tree', path: 'stdout' });
      const m = /child=(\d+)\s+self=(\d+)/.exec(out.data.toString());
      return m ? [Number(m[1]), Number(m[2])] : undefined;
    });
    assert.ok(pids.every(alive), 'both processes run before the kill');
    const agentId = fw.updates('tree')[0]!.agentId;
    fw.send({ kill: { taskId: 'tree', agentId } });
    await waitFor('tree KILLED', () => fw.updates('tree').some((s) => s.state === 'TASK_KILLED'));
    await waitFor(`pids ${pids.join(', ')} to be gone`, () => !pids.some(alive), 10_000);
    assert.ok(agents.length === 2);
  });
});

describe('subscribing while allocation rounds run', () => {
  const cluster = new Cluster();
  let master: Proc;
  before(async () => {
    // A round every 2 ms: one lands inside almost every SUBSCRIBE's registry write.
    master = await cluster.startMaster({ name: 'busy', args: ['--allocation-interval', '0.002'] });
    await cluster.startAgent(master.address, { name: 'busy-agent' });
  });
  after(() => cluster.teardown());

  test('SUBSCRIBED is always a framework\'s first event, never preceded by OFFERS', async () => {
    for (let i = 0; i < 20; i++) {
      const fw = cluster.scheduler(master.address);
      await fw.subscribe({ name: `early-${i}`, failoverTimeout: 0 });
      await fw.waitEvent('offers', (e) => !!e.offers);
      assert.ok(fw.events[0]!.subscribed, `framework ${i}'s first event was ${fw.events[0]!.event}`);
      // Gone, it gives its offers back for the next one.
      fw.send({ teardown: {} });
      await waitFor('the framework to be removed', () => fw.ended);
    }
  });
});
