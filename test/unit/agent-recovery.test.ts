/**
 * Agent restart recovery in-process, against a fake master: a second Agent
 * on the same work directory re-attaches to the first one's live tasks,
 * resends its unacknowledged updates with the same uuids, reports a task
 * that ended meanwhile with its true exit status, and can kill what it
 * re-attached to; `--recover cleanup` kills everything instead. (The
 * kill -9 version, through a real master, is test/integration/agent-restart.)
 * Also: the status-update queue sends an update only once it is persisted.
 */
import assert from 'node:assert/strict';
import { access, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Agent } from '../../agent/index';
import { StatusUpdateQueue } from '../../agent/status-updates';
import { readJournal, StatusJournal } from '../../agent/status-updates-journal';
import type { TaskInfo__Output, TaskStatus, TaskStatus__Output } from '../../lib/proto';
import { FakeMaster, groupMembers, killGroups, tempDir, testLogger, waitFor, type FakeAgentStream } from '../fixtures/agent-harness';

const FW = { id: 'fw-r', name: 'recovery', roles: ['*'] };

function newAgent(master: FakeMaster, workDir: string, recover?: 'reconnect' | 'cleanup'): Agent {
  return new Agent({
    masters: [master.address], port: 0, bindHost: '127.0.0.1', workDir, recover,
    resources: { cpus: 2, mem: 1024, disk: 1000, gpus: 0 },
    pingIntervalMs: 200, statusRetryMs: 60_000, killGraceMs: 1000, backoff: { initialMs: 20, maxMs: 200 },
    logger: testLogger('agent'),
  });
}

function updatesOf(s: FakeAgentStream, taskId: string): TaskStatus__Output[] {
  const seen = new Set<string>();
  return s.statuses().filter((u) => u.taskId === taskId && !seen.has(u.uuid) && seen.add(u.uuid));
}
const waitState = (s: FakeAgentStream, taskId: string, state: string) =>
  s.waitFor(`${taskId} ${state}`, () => updatesOf(s, taskId).find((u) => u.state === state));

async function register(master: FakeMaster, n: number, agent: Agent): Promise<FakeAgentStream> {
  const s = await master.stream(n);
  s.send({ registered: { agentId: 'agent-r', pingIntervalSeconds: 0.2, masterId: 'fake' } });
  await waitFor('registration', () => agent.connected);
  return s;
}

/**
 * A fake master and a work directory for a describe block; the agents and
 * process groups its tests add are stopped and killed after it. `prepare`
 * lays out the work directory before the first test.
 */
function recoveryFixture(prepare?: (workDir: string) => Promise<void>) {
  const fx = { master: undefined as unknown as FakeMaster, workDir: '', agents: [] as Agent[], pgids: new Set<number>() };
  before(async () => {
    fx.master = await new FakeMaster().start();
    fx.workDir = await tempDir();
    await prepare?.(fx.workDir);
  });
  after(async () => {
    killGroups(fx.pgids);
    for (const a of fx.agents) await a.stop();
    fx.master.stop();
    await rm(fx.workDir, { recursive: true, force: true });
  });
  return fx;
}

describe('an agent restarted on the same work directory (--recover reconnect)', () => {
  const fx = recoveryFixture();

  it('re-attaches to live tasks, resends unacknowledged updates with their uuids, and reports what ended meanwhile', async () => {
    const a = newAgent(fx.master, fx.workDir);
    fx.agents.push(a);
    await a.start();
    const s0 = await register(fx.master, 0, a);
    s0.send({ runTasks: { framework: FW, tasks: [
      { taskId: 'live', command: { value: 'sleep 1000' } },
      { taskId: 'acked', command: { value: 'sleep 1000' } },
      { taskId: 'ends', command: { value: 'while [ ! -e go ]; do sleep 0.05; done; exit 3' } },
      { taskId: 'done', command: { value: 'true' } },
    ] } });
    for (const id of ['live', 'acked', 'ends']) await waitState(s0, id, 'TASK_RUNNING');
    const doneFinished = await waitState(s0, 'done', 'TASK_FINISHED');
    for (const t of a.tasks()) if (t.pid) fx.pgids.add(t.pid);
    for (const u of updatesOf(s0, 'acked')) s0.send({ acknowledge: { taskId: 'acked', uuid: u.uuid } });
    const liveStarting = updatesOf(s0, 'live')[0]!;
    s0.send({ acknowledge: { taskId: 'live', uuid: liveStarting.uuid } });
    await waitFor('the acknowledgements', () => a.pendingUpdates().length === 1 + 2 + 3); // live: RUNNING; ends: STARTING, RUNNING; done: all three
    const livePid = a.tasks().find((t) => t.taskId === 'live')!.pid!;
    const endsSandbox = a.tasks().find((t) => t.taskId === 'ends')!.sandbox!;

    // The agent goes away (its tasks do not), and one task ends meanwhile.
    await a.stop();
    s0.drop();
    await writeFile(join(endsSandbox, 'go'), '');
    await waitFor('ends to record its exit', () => access(join(endsSandbox, 'exit_status')).then(() => true, () => false));

    const b = newAgent(fx.master, fx.workDir);
    fx.agents.push(b);
    await b.start();
    const s1 = await fx.master.stream(1);
    const reg = s1.of('register')[0]!;
    assert.equal(reg.info!.id, 'agent-r', 're-registers under the same id');
    const reported = Object.fromEntries(reg.tasks.map((t) => [t.task!.taskId, [t.status!.state, t.status!.exitCode]]));
    assert.deepEqual(reported, {
      live: ['TASK_RUNNING', undefined], acked: ['TASK_RUNNING', undefined], ends: ['TASK_FAILED', 3], done: ['TASK_FINISHED', 0],
    });
    assert.equal(b.tasks().find((t) => t.taskId === 'live')!.pid, livePid, 'same process');

    await register(fx.master, 1, b);
    const ends = await waitState(s1, 'ends', 'TASK_FAILED');
    assert.equal(ends.exitCode, 3);
    assert.equal(ends.message, 'command exited with status 3');
    await s1.waitFor('the resent updates', () => updatesOf(s1, 'live').length && updatesOf(s1, 'done').length);
    // Unacknowledged updates come again with the uuids they had; acknowledged ones never.
    assert.deepEqual(updatesOf(s1, 'live').map((u) => [u.state, u.uuid]), [['TASK_RUNNING', updatesOf(s0, 'live')[1]!.uuid]]);
    assert.deepEqual(updatesOf(s1, 'done').map((u) => u.uuid), updatesOf(s0, 'done').map((u) => u.uuid));
    assert.equal(updatesOf(s1, 'done')[2]!.uuid, doneFinished.uuid);
    assert.deepEqual(updatesOf(s1, 'acked'), []);
    assert.deepEqual(updatesOf(s1, 'ends').map((u) => u.state), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FAILED']);
    assert.deepEqual(updatesOf(s1, 'ends').slice(0, 2).map((u) => u.uuid), updatesOf(s0, 'ends').slice(0, 2).map((u) => u.uuid));

    // The re-attached task is watched and can be killed, whole group.
    s1.send({ killTask: { frameworkId: 'fw-r', taskId: 'live' } });
    await waitState(s1, 'live', 'TASK_KILLED');
    assert.deepEqual(await groupMembers(livePid), []);

    // Acknowledged terminal updates make the agent forget the task and its checkpoints.
    for (const id of ['ends', 'done', 'live']) for (const u of updatesOf(s1, id)) s1.send({ acknowledge: { taskId: id, uuid: u.uuid } });
    await waitFor('ends, done and live to be forgotten', () => b.tasks().length === 1);
    await waitFor('their checkpoints to go', async () => {
      const launched = await readdir(join(fx.workDir, 'meta', 'tasks', 'fw-r')).catch(() => [] as string[]);
      const journaled = (await readJournal(fx.workDir)).map((t) => t.task.taskId);
      return launched.join() === 'acked.json' && journaled.join() === 'acked';
    });
  });

  it('a task whose wrapper died without an exit status is reported FAILED, its leftovers killed', async () => {
    const b = fx.agents[1]!;
    const s1 = fx.master.streams[1]!;
    s1.send({ runTasks: { framework: FW, tasks: [{ taskId: 'orphan', command: { value: 'sleep 1000 & sleep 1000; wait' } }] } });
    await waitState(s1, 'orphan', 'TASK_RUNNING');
    const pid = b.tasks().find((t) => t.taskId === 'orphan')!.pid!;
    fx.pgids.add(pid);
    await waitFor('the task\'s processes', async () => (await groupMembers(pid)).length === 4);
    await b.stop();
    s1.drop();
    process.kill(pid, 'SIGKILL'); // the wrapper alone: its children stay in the group
    await waitFor('the wrapper to go', async () => (await groupMembers(pid)).length === 3);

    const c = newAgent(fx.master, fx.workDir);
    fx.agents.push(c);
    await c.start();
    const s2 = await register(fx.master, 2, c);
    const failed = await waitState(s2, 'orphan', 'TASK_FAILED');
    assert.equal(failed.reason, 'REASON_EXECUTOR_TERMINATED');
    assert.equal(failed.message, 'the task wrapper ended while the agent was down and left no exit status');
    await waitFor('the leftovers to be killed', async () => (await groupMembers(pid)).length === 0);
  });
});

describe('a re-attached task with a health check', () => {
  const fx = recoveryFixture();

  it('keeps being checked by the restarted agent, which starts from the health reported before', async () => {
    const a = newAgent(fx.master, fx.workDir);
    fx.agents.push(a);
    await a.start();
    const s0 = await register(fx.master, 0, a);
    s0.send({ runTasks: { framework: FW, tasks: [{
      taskId: 'checked', command: { value: 'touch ok; exec sleep 1000' },
      healthCheck: { type: 'COMMAND', command: { value: 'test -e ok' }, delaySeconds: 0, intervalSeconds: 0.1, gracePeriodSeconds: 30, consecutiveFailures: 1 },
    }] } });
    const healthy = await s0.waitFor('healthy', () => updatesOf(s0, 'checked').find((u) => u.healthy === true));
    assert.equal(healthy.reason, 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED');
    for (const u of updatesOf(s0, 'checked')) s0.send({ acknowledge: { taskId: 'checked', uuid: u.uuid } });
    await waitFor('the acknowledgements', () => a.pendingUpdates().length === 0);
    const { pid, sandbox } = a.tasks()[0]!;
    fx.pgids.add(pid!);
    await a.stop();
    s0.drop();

    const b = newAgent(fx.master, fx.workDir);
    fx.agents.push(b);
    await b.start();
    const s1 = await register(fx.master, 1, b);
    assert.equal(s1.of('register')[0]!.tasks[0]!.status!.healthy, true, 'reported healthy at re-registration');
    await rm(join(sandbox!, 'ok'));
    const sick = await s1.waitFor('unhealthy', () => updatesOf(s1, 'checked').find((u) => u.healthy === false));
    assert.equal(sick.state, 'TASK_RUNNING');
    assert.equal(updatesOf(s1, 'checked').length, 1, 'no healthy=true again: the health before the restart carried over');
  });
});

describe('an agent restarted with --recover cleanup', () => {
  const fx = recoveryFixture();

  it('kills the tasks it finds, forgets their checkpoints and registers with none, under the same id', async () => {
    const a = newAgent(fx.master, fx.workDir);
    fx.agents.push(a);
    await a.start();
    const s0 = await register(fx.master, 0, a);
    s0.send({ runTasks: { framework: FW, tasks: [{ taskId: 'tree', command: { value: 'sleep 1000 & sleep 1000; wait' } }] } });
    await waitState(s0, 'tree', 'TASK_RUNNING');
    const pid = a.tasks()[0]!.pid!;
    fx.pgids.add(pid);
    await waitFor('the tree', async () => (await groupMembers(pid)).length === 4);
    await a.stop();
    s0.drop();

    const b = newAgent(fx.master, fx.workDir, 'cleanup');
    fx.agents.push(b);
    await b.start();
    const s1 = await fx.master.stream(1);
    assert.deepEqual(await groupMembers(pid), [], 'the whole group is gone before the registration');
    const reg = s1.of('register')[0]!;
    assert.equal(reg.info!.id, 'agent-r');
    assert.deepEqual(reg.tasks, []);
    await assert.rejects(access(join(fx.workDir, 'meta', 'tasks')));
    await waitFor('the journal to forget the task', async () => (await readJournal(fx.workDir)).length === 0);
  });
});

describe('an agent restarted on a journal without matching launch checkpoints', () => {
  const fx = recoveryFixture(async (workDir) => {
    // As a crashed agent left them: `acked` ended and all its updates were acknowledged, but the
    // agent died before it forgot the task; `running` had started, but its launch checkpoint
    // (not fsynced) was lost with the host.
    const j = await StatusJournal.open(workDir);
    const task = (taskId: string) => ({ taskId, name: taskId, command: { value: 'sleep 1000' } }) as unknown as TaskInfo__Output;
    const st = (taskId: string, uuid: string, state: string): TaskStatus => ({ taskId, frameworkId: FW.id, uuid, state: state as TaskStatus['state'] });
    const acked = { frameworkId: FW.id, task: task('acked'), sandbox: join(workDir, 'acked') };
    await j.record(acked, st('acked', 'a1', 'TASK_FINISHED'));
    j.acknowledge(FW.id, 'acked', 'a1');
    const running = { frameworkId: FW.id, task: task('running'), sandbox: join(workDir, 'running') };
    await j.record(running, st('running', 'r1', 'TASK_STARTING'));
    await j.record(running, st('running', 'r2', 'TASK_RUNNING'));
    await j.close();
  });

  it('forgets an ended, acknowledged task and reports a started one without its launch checkpoint as FAILED', async () => {
    const a = newAgent(fx.master, fx.workDir);
    fx.agents.push(a);
    await a.start();
    const s = await fx.master.stream(0);
    const reg = s.of('register')[0]!;
    assert.deepEqual(reg.tasks.map((t) => [t.task!.taskId, t.status!.state, t.status!.reason]), [
      ['running', 'TASK_FAILED', 'REASON_EXECUTOR_TERMINATED'],
    ]);
    assert.match(reg.tasks[0]!.status!.message, /without the task's launch checkpoint/);
    await waitFor('the journal to forget acked', async () => (await readJournal(fx.workDir)).map((t) => t.task.taskId).join() === 'running');
  });
});

describe('StatusUpdateQueue with a persist hook', () => {
  const st = (uuid: string): TaskStatus => ({ taskId: 't', uuid, state: 'TASK_RUNNING' });

  it('sends an update only once it is persisted, each task\'s in order', async () => {
    const sent: string[] = [];
    const persisted: { uuid: string; done: () => void; fail: (e: Error) => void }[] = [];
    const q = new StatusUpdateQueue((s) => (sent.push(s.uuid!), true), 1000, Date.now, (key, s) => new Promise<void>((resolve, reject) => {
      persisted.push({ uuid: `${key}:${s.uuid}`, done: resolve, fail: reject });
    }));
    q.add('k', st('a'));
    q.add('k', st('b'));
    q.add('k', st('c'));
    assert.deepEqual(persisted.map((p) => p.uuid), ['k:a', 'k:b', 'k:c'], 'each update handed to the hook as it is made');
    q.resendAll();
    assert.deepEqual(sent, [], 'nothing is sent before it is on disk, not even on a resend');
    persisted[0]!.done();
    await waitFor('a to be sent', () => sent.length === 1);
    persisted[2]!.done();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(sent, ['a'], 'c waits for b: a task\'s updates go in order');
    // A failed write sends nothing: b (and c behind it) wait, and b is written again after the retry interval.
    persisted[1]!.fail(new Error('disk full'));
    await q.settled();
    assert.deepEqual(sent, ['a'], 'an update whose write failed is never sent');
    await waitFor('b written again', () => persisted.length === 4);
    assert.equal(persisted[3]!.uuid, 'k:b');
    persisted[3]!.done();
    await waitFor('b and c', () => sent.length === 3);
    assert.deepEqual(sent, ['a', 'b', 'c']);
    await q.settled();
  });

  it('restored updates are durable and go out on the next resend', () => {
    const sent: string[] = [];
    const q = new StatusUpdateQueue((s) => (sent.push(s.uuid!), true), 1000, Date.now, async () => undefined);
    q.restore('k', [st('x'), st('y')]);
    q.resendAll();
    assert.deepEqual(sent, ['x', 'y']);
  });
});
