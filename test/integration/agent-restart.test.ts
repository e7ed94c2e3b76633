/**
 * An agent killed -9 and restarted on the same work directory, through a
 * real master: tasks never stop, the agent comes back under the same id
 * with its tasks, a task that ended while it was down is reported with its
 * true exit status, and the framework loses no update and never sees two
 * different uuids for one state. With `--recover cleanup` the restarted
 * agent kills what it finds instead, and the master reports those tasks lost.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { alive, Cluster, op, task, waitFor, type Proc, type TestScheduler } from '../harness';
import type { ListTasksResponse__Output } from '../../lib/proto/generated/mezzanine/v1/ListTasksResponse';
import type { ReadFileResponse__Output, TaskStatus__Output } from '../../lib/proto';

// The master must not give the agent up while it is down: a restart is not a partition.
const MASTER_ARGS = ['--agent-ping-timeout', '60'];

/** Launches `tasks` (id → command) on the first offer. */
async function launch(fw: TestScheduler, tasks: Record<string, string>): Promise<void> {
  const offer = await waitFor('an offer', () => fw.outstanding()[0]);
  for (const o of fw.outstanding().slice(1)) fw.send({ decline: { offerIds: [o.id], filters: { refuseSeconds: 0 } } });
  const infos = Object.entries(tasks).map(([id, cmd]) => task(id, cmd));
  fw.send({ accept: { offerIds: [offer.id], operations: [{ launch: { taskInfos: infos } }], filters: { refuseSeconds: 60 } } });
  await waitFor('all RUNNING', () => Object.keys(tasks).every((id) => fw.updates(id).some((u) => u.state === 'TASK_RUNNING')));
}

async function pidOf(c: Cluster, master: Proc, id: string): Promise<number> {
  return waitFor(`${id}'s pid`, async () => {
    const out = await op<object, ReadFileResponse__Output>(c.operator(master.address), 'readTaskFile', { taskId: id, path: 'stdout' });
    return Number(/pid=(\d+)/.exec(out.data.toString())?.[1]);
  });
}

const sandboxOf = (fw: TestScheduler, id: string) => /^sandbox (\S+)/.exec(fw.updates(id).find((u) => u.state === 'TASK_STARTING')!.message)![1]!;
const listTasks = (c: Cluster, master: Proc) =>
  op<object, ListTasksResponse__Output>(c.operator(master.address), 'listTasks', {}).then((r) => r.tasks);

/**
 * What "no update lost or duplicated" means here. Delivery is at least
 * once, so the same update (same uuid) may arrive several times; updates
 * without a uuid (the master's reconciliation answers) carry no transition
 * and are left out. Then, for each task:
 *  - each state was reported under exactly one uuid (a retried or resent
 *    update keeps its uuid; an agent that made a second update for a
 *    transition it had already reported would show two), and
 *  - the distinct states, in the order first received, are exactly the
 *    expected transitions: none missing in between (no gap), none extra.
 */
function assertExactlyOnce(updates: TaskStatus__Output[], id: string, want: string[]): void {
  const uuidsByState = new Map<string, Set<string>>();
  const order: string[] = [];
  for (const u of updates.filter((x) => x.taskId === id && x.uuid)) {
    if (!uuidsByState.has(u.state)) { uuidsByState.set(u.state, new Set()); order.push(u.state); }
    uuidsByState.get(u.state)!.add(u.uuid);
  }
  assert.deepEqual(order, want, `${id}: states in the order received`);
  for (const [state, uuids] of uuidsByState) assert.equal(uuids.size, 1, `${id}: ${state} arrived under ${uuids.size} uuids: ${[...uuids].join(', ')}`);
}

describe('an agent killed -9 and restarted (--recover reconnect)', () => {
  const c = new Cluster();
  after(() => c.teardown());

  test('keeps running tasks under the same agent id, reports the one that ended meanwhile, and loses or doubles no update', async () => {
    const master = await c.startMaster({ args: MASTER_ARGS });
    const workDir = join(c.dir, 'agent-work');
    const agent = await c.startAgent(master.address, { name: 'agent', workDir });
    const fw = c.scheduler(master.address);
    await fw.subscribe({ name: 'restart', failoverTimeout: 300, capabilities: ['TASK_KILLING_STATE'] });
    // No acknowledgements until the agent is back: every update is still
    // unacknowledged when it dies, so the restarted one must resend them all.
    await launch(fw, {
      'long-1': 'echo pid=$$; exec sleep 600',
      'long-2': 'echo pid=$$; exec sleep 600',
      later: 'echo pid=$$; while [ ! -e go ]; do sleep 0.1; done; exit 3',
    });
    const agentId = fw.updates('long-1')[0]!.agentId;
    const pids = [await pidOf(c, master, 'long-1'), await pidOf(c, master, 'long-2')];
    const laterSandbox = sandboxOf(fw, 'later');

    await agent.kill9();
    // While the agent is down, `later` ends with status 3.
    writeFileSync(join(laterSandbox, 'go'), '');
    await waitFor('later to record its exit', () => existsSync(join(laterSandbox, 'exit_status')));
    assert.ok(pids.every(alive), 'the long tasks outlive their agent');

    await c.startAgent(master.address, { name: 'agent-restarted', workDir });
    fw.autoAck();
    const failed = await waitFor('later FAILED', () => fw.updates('later').find((u) => u.state === 'TASK_FAILED'));
    assert.equal(failed.exitCode, 3);
    assert.equal(failed.message, 'command exited with status 3');
    assert.equal(failed.agentId, agentId);

    const tasks = await waitFor('the master to list the recovered tasks', async () => {
      const t = await listTasks(c, master);
      return t.filter((x) => x.state === 'TASK_RUNNING').length === 2 ? t : undefined;
    });
    assert.deepEqual(tasks.filter((t) => t.state === 'TASK_RUNNING').map((t) => [t.id, t.agentId]).sort(), [['long-1', agentId], ['long-2', agentId]]);
    const agents = await op<object, { agents: { id: string; state: string }[] }>(c.operator(master.address), 'listAgents', {});
    assert.deepEqual(agents.agents.map((a) => [a.id, a.state]), [[agentId, 'ACTIVE']], 'the same agent, not a new one');
    assert.ok(pids.every(alive), 'the same processes still run');
    assert.deepEqual([await pidOf(c, master, 'long-1'), await pidOf(c, master, 'long-2')], pids);

    const from = fw.events.length;
    fw.send({ reconcile: { tasks: [] } });
    await fw.waitEvent('long-1 reconciled RUNNING', (e) => e.update?.status?.taskId === 'long-1' && e.update.status.state === 'TASK_RUNNING', from);

    const updates = fw.updates();
    assertExactlyOnce(updates, 'long-1', ['TASK_STARTING', 'TASK_RUNNING']);
    assertExactlyOnce(updates, 'long-2', ['TASK_STARTING', 'TASK_RUNNING']);
    assertExactlyOnce(updates, 'later', ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FAILED']);
    // Received before the kill, and again from the restarted agent: the same update, resent.
    const runningUuid = updates.find((u) => u.taskId === 'long-2' && u.state === 'TASK_RUNNING')!.uuid;
    assert.ok(updates.filter((u) => u.uuid === runningUuid).length >= 2, 'long-2\'s RUNNING was resent with its uuid');

    // The restarted agent watches what it re-attached to: a kill still ends the task.
    fw.send({ kill: { taskId: 'long-1', agentId } });
    await waitFor('long-1 KILLED', () => fw.updates('long-1').some((u) => u.state === 'TASK_KILLED'));
    await waitFor('long-1\'s process to be gone', () => !alive(pids[0]!), 10_000);
    assertExactlyOnce(fw.updates(), 'long-1', ['TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_KILLED']);
  });
});

describe('an agent killed -9 and restarted with --recover cleanup', () => {
  const c = new Cluster();
  after(() => c.teardown());

  test('kills the tasks it finds and registers anew under the same id; the master reports them lost', async () => {
    const master = await c.startMaster({ args: MASTER_ARGS });
    const workDir = join(c.dir, 'agent-work');
    const agent = await c.startAgent(master.address, { name: 'agent', workDir });
    const fw = c.scheduler(master.address);
    await fw.subscribe({ name: 'cleanup', failoverTimeout: 300 });
    fw.autoAck();
    await launch(fw, { doomed: 'echo pid=$$; exec sleep 600' });
    const agentId = fw.updates('doomed')[0]!.agentId;
    const pid = await pidOf(c, master, 'doomed');

    await agent.kill9();
    await c.startAgent(master.address, { name: 'agent-cleanup', workDir, args: ['--recover', 'cleanup'] });
    const lost = await waitFor('doomed LOST', () => fw.updates('doomed').find((u) => u.state === 'TASK_LOST'));
    assert.equal(lost.reason, 'REASON_AGENT_REREGISTERED');
    assert.equal(alive(pid), false, 'the task was killed before the agent registered');
    const agents = await op<object, { agents: { id: string; state: string }[] }>(c.operator(master.address), 'listAgents', {});
    assert.deepEqual(agents.agents.map((a) => [a.id, a.state]), [[agentId, 'ACTIVE']]);
  });
});
