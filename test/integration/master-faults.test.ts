/**
 * The master under stalls, restarts, lying agents and hostile frameworks,
 * through real processes: what test/unit/master-core.test.ts shows
 * in-process, confirmed on the wire. Tasks write marker files, so "nothing
 * was killed or run twice" is read off the disk, not off the master's word.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterEach, describe, test, type TestContext } from 'node:test';
import * as res from '../../lib/resources';
import type { ListTasksResponse__Output } from '../../lib/proto/generated/mezzanine/v1/ListTasksResponse';
import type { ListRolesResponse__Output } from '../../lib/proto/generated/mezzanine/v1/ListRolesResponse';
import { Cluster, op, task, waitFor, type Proc, type TestScheduler } from '../harness';
import { grows, stopsGrowing, ticking } from '../fixtures/markers';
import { RawAgent } from '../fixtures/raw-agent';

let c: Cluster;
afterEach(() => c.teardown());

const listTasks = (address: string, req: object = {}) =>
  op<object, ListTasksResponse__Output>(c.operator(address), 'listTasks', req).then((r) => r.tasks);
const agentIdOf = async (master: Proc, agent: Proc) => waitFor(`agent on :${agent.port} registered`, async () => {
  const r = await op<object, { agents: { id: string; address: string; status?: string }[] }>(c.operator(master.address), 'listAgents', {});
  return r.agents.find((a) => a.address.endsWith(`:${agent.port}`))?.id;
});

const running = (fw: TestScheduler, ids: string[]) =>
  waitFor(`${ids.join(', ')} RUNNING`, () => ids.every((id) => fw.updates(id).some((s) => s.state === 'TASK_RUNNING')));


describe('a master stalled past the ping timeout', () => {
  test('SIGSTOP of the master for longer than --agent-ping-timeout loses no task on any agent', async () => {
    c = new Cluster();
    const master = await c.startMaster({ args: ['--agent-ping-timeout', '2'] });
    const a1 = await c.startAgent(master.address, { name: 'a1' });
    const a2 = await c.startAgent(master.address, { name: 'a2' });
    const fw = c.scheduler(master.address);
    await fw.subscribe({ name: 'plain' });
    fw.autoAck();
    const m1 = path.join(c.dir, 'marker-1');
    const m2 = path.join(c.dir, 'marker-2');
    await fw.launchEach([task('t1', ticking(m1))], await agentIdOf(master, a1));
    await fw.launchEach([task('t2', ticking(m2))], await agentIdOf(master, a2));
    await running(fw, ['t1', 't2']);

    process.kill(master.child.pid!, 'SIGSTOP');
    const stoppedAt = Date.now();
    // The stall itself is the fault: it must outlast the 2 s ping timeout, with the agents' pings queued meanwhile.
    await waitFor('a stall of 4 s', () => Date.now() - stoppedAt >= 4000, 10_000, 100);
    process.kill(master.child.pid!, 'SIGCONT');

    // Both agents come back (or never left) and the master still counts both tasks as running.
    await waitFor('both tasks RUNNING in the master', async () => {
      const tasks = await listTasks(master.address);
      return ['t1', 't2'].every((id) => tasks.find((t) => t.id === id)?.state === 'TASK_RUNNING');
    });
    await grows(m1);
    await grows(m2);
    const bad = fw.updates().filter((s) => s.state !== 'TASK_RUNNING' && s.state !== 'TASK_STARTING');
    assert.deepEqual(bad.map((s) => `${s.taskId}: ${s.state} ${s.message}`), []);
    assert.doesNotMatch(master.output(), /is unreachable/);
  });
});

describe('reconciliation after a master restart', () => {
  test('a task that finished while the master was down is answered FINISHED, never LOST or UNKNOWN', async () => {
    c = new Cluster();
    const dataDir = path.join(c.dir, 'registry');
    let master = await c.startMaster({ dataDir });
    const port = master.port;
    await c.startAgent(master.address, { args: ['--status-retry', '10s'] });
    const fw = c.scheduler(master.address);
    const id = await fw.subscribe({ name: 'reconciler', capabilities: ['PARTITION_AWARE'] });
    const marker = path.join(c.dir, 'ran');
    await fw.launchEach([task('job', `echo run >> ${marker}; sleep 3`)]);
    await running(fw, ['job']);
    const agentId = fw.updates('job').find((s) => s.state === 'TASK_RUNNING')!.agentId;
    await master.kill9();
    // The task ends while no master runs.
    await waitFor('the task to end on its agent', () => !c.procs.length || readFileSync(marker, 'utf8') === 'run\n', 10_000);
    const finishedBy = Date.now() + 4000;
    await waitFor('the task to have ended (sleep 3)', () => Date.now() > finishedBy, 10_000, 100);
    master = await c.startMaster({ dataDir, port });
    const again = c.scheduler(master.address);
    assert.equal(await again.subscribe({ name: 'reconciler', id, capabilities: ['PARTITION_AWARE'] }), id);
    again.autoAck();
    const answer = await waitFor('an answer about the task', () => {
      again.send({ reconcile: { tasks: [{ taskId: 'job', agentId }] } });
      return again.updates('job').find((s) => s.reason === 'REASON_RECONCILIATION');
    }, 20_000);
    assert.equal(answer.state, 'TASK_FINISHED', `first answer: ${answer.state} ${answer.message}`);
    // The agent may resend updates it never saw acknowledged (at least once); none says the task was lost.
    const wrong = again.updates('job').filter((s) => ['TASK_LOST', 'TASK_UNKNOWN', 'TASK_DROPPED', 'TASK_GONE'].includes(s.state));
    assert.deepEqual(wrong.map((s) => `${s.state} ${s.message}`), []);
    assert.equal(readFileSync(marker, 'utf8'), 'run\n');
  });
});

describe('an agent that returns', () => {
  test('an UNREACHABLE task follows what its returning agent reports; none stays UNREACHABLE', async () => {
    c = new Cluster();
    const master = await c.startMaster({ args: ['--agent-ping-timeout', '1.5'] });
    const agent = await c.startAgent(master.address);
    const fw = c.scheduler(master.address);
    await fw.subscribe({ name: 'pa', capabilities: ['PARTITION_AWARE'] });
    fw.autoAck();
    const done = path.join(c.dir, 'done');
    await fw.launchEach([task('x', `sleep 2.5; touch ${done}`)]);
    await running(fw, ['x']);
    process.kill(agent.child.pid!, 'SIGSTOP');
    await fw.waitEvent('x UNREACHABLE', (e) => e.update?.status?.taskId === 'x' && e.update.status.state === 'TASK_UNREACHABLE');
    process.kill(agent.child.pid!, 'SIGCONT');
    await waitFor('x FINISHED in the master', async () => (await listTasks(master.address)).find((t) => t.id === 'x')?.state === 'TASK_FINISHED');
    assert.ok(existsSync(done));
    assert.deepEqual(await listTasks(master.address, { state: 'TASK_UNREACHABLE' }), []);
    const from = fw.events.length;
    fw.send({ reconcile: { tasks: [{ taskId: 'x', agentId: '' }] } });
    const e = await fw.waitEvent('reconcile answer', (ev) => ev.update?.status?.taskId === 'x', from);
    assert.equal(e.update!.status!.state, 'TASK_FINISHED');
  });
});

describe('LAUNCH and LAUNCH_GROUP', () => {
  test('a group lives and dies together: a failed member gets the rest killed, with a reason naming it', async () => {
    c = new Cluster();
    const master = await c.startMaster();
    await c.startAgent(master.address);
    const fw = c.scheduler(master.address);
    await fw.subscribe({ name: 'grouped' });
    fw.autoAck();
    const offer = await waitFor('an offer', () => fw.outstanding()[0]);
    const marker = (id: string) => path.join(c.dir, `alive-${id}`);
    fw.send({
      accept: {
        offerIds: [offer.id], filters: { refuseSeconds: 0 },
        operations: [{ launchGroup: { taskInfos: [task('g1', ticking(marker('g1'))), task('g2', ticking(marker('g2'))), task('bad', 'sleep 1; exit 3')] } }],
      },
    });
    for (const id of ['g1', 'g2']) {
      const killed = await fw.waitEvent(`${id} KILLED`, (e) => e.update?.status?.taskId === id && e.update.status.state === 'TASK_KILLED');
      assert.match(killed.update!.status!.message, /task bad of its LAUNCH_GROUP ended TASK_FAILED \(exit code 3\)/);
    }
    // Their processes are gone: the markers stop growing.
    await Promise.all([stopsGrowing(marker('g1')), stopsGrowing(marker('g2'))]);
  });

  test('in a plain LAUNCH each task is checked on its own: the valid ones launch', async () => {
    c = new Cluster();
    const master = await c.startMaster();
    await c.startAgent(master.address);
    const fw = c.scheduler(master.address);
    await fw.subscribe({ name: 'plain' });
    fw.autoAck();
    const offer = await waitFor('an offer', () => fw.outstanding()[0]);
    fw.send({
      accept: {
        offerIds: [offer.id], filters: { refuseSeconds: 0 },
        operations: [{ launch: { taskInfos: [task('ok', 'sleep 30'), task('too-big', 'sleep 30', { cpus: 1000 })] } }],
      },
    });
    await running(fw, ['ok']);
    const refused = await fw.waitEvent('too-big refused', (e) => e.update?.status?.taskId === 'too-big');
    assert.equal(refused.update!.status!.state, 'TASK_ERROR');
  });
});

describe('hostile frameworks', () => {
  test('ids, sizes and framework info are checked at every entry, and nothing oversized is echoed', async () => {
    c = new Cluster();
    const master = await c.startMaster();
    await c.startAgent(master.address);
    const refusal = async (info: Parameters<TestScheduler['subscribe']>[0] & { labels?: Record<string, string> }) => {
      const s = c.scheduler(master.address);
      return s.subscribe(info).then(() => 'subscribed', (err: Error) => err.message);
    };
    assert.match(await refusal({ name: 'x', id: '../../../../tmp/escape' }), /framework id .* is invalid/);
    assert.match(await refusal({ name: 'x', id: 'fw-never-issued' }), /is not registered with this cluster .*subscribe without an id/);
    const huge = await refusal({ name: 'x', labels: { big: 'y'.repeat(10 * 1024 * 1024) } });
    assert.match(huge, /framework labels value of "big" is 10485760 characters long; the limit is 4096/);
    assert.ok(huge.length < 1000);

    const fw = c.scheduler(master.address);
    const id = await fw.subscribe({ name: 'hostile', failoverTimeout: 60 });
    // UPDATE_FRAMEWORK takes the same checks: a negative failover timeout is refused, the old one kept.
    let from = fw.events.length;
    fw.send({ updateFramework: { framework: { id, name: 'hostile', failoverTimeout: -1 } } });
    const err = await fw.waitEvent('UPDATE_FRAMEWORK refused', (e) => !!e.error, from);
    assert.match(err.error!.message, /failover_timeout must be 0-31536000 seconds/);
    // A task with a 10 MB command: TASK_ERROR naming the limit, and the task list stays small.
    const offer = await waitFor('an offer', () => fw.outstanding()[0]);
    from = fw.events.length;
    fw.send({ accept: { offerIds: [offer.id], operations: [{ launch: { taskInfos: [task('big', `echo ${'z'.repeat(10 * 1024 * 1024)}`)] } }] } });
    const up = await fw.waitEvent('big refused', (e) => e.update?.status?.taskId === 'big', from);
    assert.equal(up.update!.status!.state, 'TASK_ERROR');
    assert.match(up.update!.status!.message, /command and arguments are 10485765 characters long; the limit is 65536/);
    assert.ok(JSON.stringify(fw.events.slice(from)).length < 10_000);
    assert.ok(master.output().length < 100_000, 'the master logged the oversized input');
    // The framework was kept as it was: a disconnect leaves it for its 60 s, not removed at once.
    fw.close();
    await waitFor('INACTIVE within its failover timeout', async () => {
      const r = await op<object, { frameworks: { id: string; active: boolean }[] }>(c.operator(master.address), 'listFrameworks', {});
      const f = r.frameworks.find((x) => x.id === id);
      return f && !f.active;
    });
  });
});

describe('agents are held to their word', () => {
  test('an update for another agent\'s task is dropped; a phantom task is killed, not counted; a task never reported on is LOST after the launch timeout', async () => {
    c = new Cluster();
    const master = await c.startMaster({ args: ['--task-launch-timeout', '2'] });
    const real = await c.startAgent(master.address);
    const realId = await agentIdOf(master, real);
    const fw = c.scheduler(master.address);
    const fwId = await fw.subscribe({ name: 'victim' });
    fw.autoAck();
    await fw.launchEach([task('svc', 'sleep 60')], realId);
    await running(fw, ['svc']);

    const liar = new RawAgent(master.address);
    try {
      const phantom = {
        frameworkId: fwId,
        task: { taskId: 'phantom', name: 'phantom', resources: res.toProto(res.make({ cpus: 100_000, mem: 1 })), command: { value: 'true', shell: true } },
        status: { taskId: 'phantom', state: 'TASK_RUNNING' as const, frameworkId: fwId },
      };
      const liarId = await liar.register('agent-liar', [phantom]);
      await waitFor('the phantom task killed', () => liar.received.some((m) => m.killTask?.taskId === 'phantom'));
      assert.equal((await listTasks(master.address)).find((t) => t.id === 'phantom'), undefined);
      const roles = await op<object, ListRolesResponse__Output>(c.operator(master.address), 'listRoles', {});
      assert.ok(roles.roles.every((r) => (r.allocated?.cpus ?? 0) < 100), JSON.stringify(roles.roles));

      // A false TASK_FINISHED for the real agent's task: acknowledged (so it stops) and dropped.
      liar.send({ statusUpdate: { status: { taskId: 'svc', frameworkId: fwId, state: 'TASK_FINISHED', uuid: 'lie', agentId: liarId } } });
      await waitFor('the lie acknowledged', () => liar.received.some((m) => m.acknowledge?.uuid === 'lie'));
      assert.deepEqual(fw.updates('svc').map((s) => s.state), ['TASK_STARTING', 'TASK_RUNNING']);

      // A task sent to the liar, which never reports on it: LOST after 2 s, and killed there.
      const from = fw.events.length;
      await fw.launchEach([task('swallowed', 'sleep 60')], liarId);
      const lost = await fw.waitEvent('swallowed LOST', (e) => e.update?.status?.taskId === 'swallowed', from, 15_000);
      assert.equal(lost.update!.status!.state, 'TASK_LOST');
      assert.equal(lost.update!.status!.reason, 'REASON_LAUNCH_TIMEOUT');
      await waitFor('the kill sent to the liar', () => liar.received.some((m) => m.killTask?.taskId === 'swallowed'));
    } finally {
      liar.close();
    }
  });
});

describe('a registry that cannot be written', () => {
  test('SUBSCRIBE on a read-only data dir is refused fatally, names the cause, and leaves no framework behind', async (t: TestContext) => {
    c = new Cluster();
    const dataDir = path.join(c.dir, 'ro-registry');
    mkdirSync(dataDir);
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dataDir], { encoding: 'utf8' });
    if (mounted.status !== 0) {
      if (process.env.REQUIRE_CGROUPS === '1') assert.fail(`cannot mount a tmpfs as root: ${mounted.stderr}`);
      t.skip(`cannot mount a tmpfs here (${mounted.stderr.trim()}); run as root to test a read-only registry`);
      return;
    }
    try {
      await readOnlyRegistry(dataDir);
    } finally {
      await Promise.all(c.procs.map((p) => p.stop()));
      spawnSync('umount', [dataDir]);
    }
  });
});

async function readOnlyRegistry(dataDir: string): Promise<void> {
  {
    const master = await c.startMaster({ dataDir });
    assert.equal(spawnSync('mount', ['-o', 'remount,ro', dataDir]).status, 0);
    for (let i = 0; i < 3; i++) {
      const s = c.scheduler(master.address);
      await assert.rejects(s.subscribe({ name: `attempt-${i}` }), /could not record the subscription in its registry .*read-only file system/);
    }
    assert.equal(spawnSync('mount', ['-o', 'remount,rw', dataDir]).status, 0);
    const fw = c.scheduler(master.address);
    const id = await fw.subscribe({ name: 'after' });
    const frameworks = async (address: string) =>
      (await op<object, { frameworks: { id: string }[] }>(c.operator(address), 'listFrameworks', {})).frameworks.map((f) => f.id);
    assert.deepEqual(await frameworks(master.address), [id]);
    // And nothing of the failed attempts reached the disk later.
    await master.stop();
    const again = await c.startMaster({ dataDir });
    assert.deepEqual(await frameworks(again.address), [id]);
  }
}
