/**
 * The SDK against a real master and agent (its unit tests use a fake
 * master): launching with pack, acknowledgements that stop the agent's
 * resends, a master restart followed by re-subscription with the same id,
 * LAUNCH_GROUP, and the refusals a framework must be able to tell apart.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { CallError, connectFramework, pack, SubscribeError, type Framework, type FrameworkErrorEvent, type SubscribedEvent, type TaskStatus__Output } from '../../frameworks/sdk';
import type { ListFrameworksResponse__Output } from '../../lib/proto/generated/mezzanine/v1/ListFrameworksResponse';
import type { ListTasksResponse__Output } from '../../lib/proto/generated/mezzanine/v1/ListTasksResponse';
import { Cluster, op, waitFor, quiet } from '../harness';

let c: Cluster;
const frameworks: Framework[] = [];
afterEach(async () => {
  for (const fw of frameworks.splice(0)) fw.close();
  await c.teardown();
});

async function connect(master: string, o: { name: string; frameworkId?: string; capabilities?: string[]; roles?: string[]; connectTimeout?: string }): Promise<Framework> {
  const fw = await connectFramework({ master, logger: quiet, failoverTimeout: '10m', connectTimeout: '20s', ...o });
  frameworks.push(fw);
  return fw;
}

/** Launches `n` tasks running `cmd` (with $MEZZ_TASK_ID) from the offers that come, as the README's sketch does. */
function launchOnOffers(fw: Framework, prefix: string, n: number, cmd: string): void {
  let next = 0;
  fw.on('offers', (offers) => {
    const plan = pack(offers, n - next, { cpus: 0.1, mem: 32 }, (i) => ({ taskId: `${prefix}-${next + i}`, command: { value: cmd, shell: true } }));
    next += plan.launches.reduce((k, l) => k + l.tasks.length, 0);
    fw.launchAll(plan, { refuseSeconds: 0 });
    if (next >= n) fw.suppress();
  });
}

describe('the SDK against a real master', () => {
  test('launches with pack, sees every task through to FINISHED, and its acknowledgements stop the resends', async () => {
    c = new Cluster();
    const master = await c.startMaster();
    await c.startAgent(master.address);
    const fw = await connect(master.address, { name: 'sdk' });
    const updates: TaskStatus__Output[] = [];
    fw.on('update', (s) => updates.push(s));
    launchOnOffers(fw, 'echo', 5, 'echo hello from $MEZZ_TASK_ID');
    await waitFor('5 tasks FINISHED', () => new Set(updates.filter((s) => s.state === 'TASK_FINISHED').map((s) => s.taskId)).size === 5);
    const count = updates.length;
    // With the agent's resend interval at 2 s, an unacknowledged update would come again within 3 s.
    const t0 = Date.now();
    await waitFor('3 s without a resend', () => Date.now() - t0 > 3000, 10_000, 100);
    assert.equal(updates.length, count, `resent: ${updates.slice(count).map((s) => `${s.taskId} ${s.state}`).join(', ')}`);
    for (let i = 0; i < 5; i++) {
      assert.deepEqual(updates.filter((s) => s.taskId === `echo-${i}`).map((s) => s.state), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
    }
  });

  test('after a master restart the SDK re-subscribes with the same id, and reconciliation answers for the running task', async () => {
    c = new Cluster();
    const dataDir = path.join(c.dir, 'registry');
    let master = await c.startMaster({ dataDir });
    const port = master.port;
    await c.startAgent(master.address);
    const fw = await connect(master.address, { name: 'survivor', capabilities: ['PARTITION_AWARE'] });
    const id = fw.frameworkId;
    const updates: TaskStatus__Output[] = [];
    fw.on('update', (s) => updates.push(s));
    launchOnOffers(fw, 'long', 1, 'sleep 60');
    await waitFor('long-0 RUNNING', () => updates.some((s) => s.taskId === 'long-0' && s.state === 'TASK_RUNNING'));
    const resubscribed = new Promise<boolean>((resolve) => fw.on('subscribed', (e) => resolve(e.resubscribed)));
    await master.kill9();
    master = await c.startMaster({ dataDir, port });
    assert.equal(await resubscribed, true);
    assert.equal(fw.frameworkId, id);
    const from = updates.length;
    await waitFor('a reconciliation answer', () => {
      fw.reconcile([{ taskId: 'long-0' }]);
      return updates.slice(from).find((s) => s.taskId === 'long-0' && s.reason === 'REASON_RECONCILIATION');
    });
    assert.equal(updates.slice(from).find((s) => s.reason === 'REASON_RECONCILIATION')!.state, 'TASK_RUNNING');
    const tasks = (await op<object, ListTasksResponse__Output>(c.operator(master.address), 'listTasks', {})).tasks;
    assert.deepEqual(tasks.map((t) => `${t.id} ${t.state} ${t.frameworkId}`), [`long-0 TASK_RUNNING ${id}`]);
  });

  test('a LAUNCH_GROUP through the SDK: one member fails, the others are killed naming it', async () => {
    c = new Cluster();
    const master = await c.startMaster();
    await c.startAgent(master.address);
    const fw = await connect(master.address, { name: 'gang' });
    const updates: TaskStatus__Output[] = [];
    fw.on('update', (s) => updates.push(s));
    fw.once('offers', (offers) => {
      const plan = pack(offers, 3, { cpus: 0.1, mem: 32 }, (i) => ({ taskId: `m${i}`, command: { value: i === 2 ? 'exit 7' : 'sleep 60', shell: true } }));
      fw.launchGroup(plan.launches[0]!.offer, plan.launches[0]!.tasks);
    });
    await waitFor('m0 and m1 KILLED', () => ['m0', 'm1'].every((id) => updates.some((s) => s.taskId === id && s.state === 'TASK_KILLED')));
    for (const id of ['m0', 'm1']) {
      assert.match(updates.find((s) => s.taskId === id && s.state === 'TASK_KILLED')!.message, /task m2 of its LAUNCH_GROUP ended TASK_FAILED \(exit code 7\)/);
    }
  });

  test('a restarted framework sees its first subscribed (resubscribed) after connectFramework, and reconciles on it', async () => {
    c = new Cluster();
    const master = await c.startMaster();
    await c.startAgent(master.address);
    const before = await connect(master.address, { name: 'restarts' });
    const updates: TaskStatus__Output[] = [];
    before.on('update', (s) => updates.push(s));
    launchOnOffers(before, 'long', 1, 'sleep 60');
    await waitFor('long-0 RUNNING', () => updates.some((s) => s.taskId === 'long-0' && s.state === 'TASK_RUNNING'));
    const id = before.frameworkId;
    before.close();

    // As a restarted process would: connect with the saved id, then attach listeners, as the README shows.
    const fw = await connect(master.address, { name: 'restarts', frameworkId: id });
    const answers: TaskStatus__Output[] = [];
    const seen: SubscribedEvent[] = [];
    fw.on('update', (s) => answers.push(s));
    fw.on('subscribed', (s) => { seen.push(s); if (s.resubscribed) fw.reconcile([{ taskId: 'long-0' }]); });
    await waitFor('the first subscribed', () => seen.length > 0, 5000);
    assert.deepEqual(seen.map((s) => [s.resubscribed, s.frameworkId]), [[true, id]]);
    assert.equal(fw.subscription, seen[0]);
    const answer = await waitFor('a reconciliation answer', () => answers.find((s) => s.taskId === 'long-0' && s.reason === 'REASON_RECONCILIATION'));
    assert.equal(answer.state, 'TASK_RUNNING');
  });

  test('reconcileTasks: a running task answered RUNNING, an unknown one TASK_LOST; a stopped master leaves them unanswered', async () => {
    c = new Cluster();
    const master = await c.startMaster();
    await c.startAgent(master.address);
    const fw = await connect(master.address, { name: 'reconciler' });
    const updates: TaskStatus__Output[] = [];
    fw.on('update', (s) => updates.push(s));
    launchOnOffers(fw, 'long', 1, 'sleep 60');
    await waitFor('long-0 RUNNING', () => updates.some((s) => s.taskId === 'long-0' && s.state === 'TASK_RUNNING'));

    const r = await fw.reconcileTasks([{ taskId: 'long-0' }, { taskId: 'never-launched' }], { timeout: '20s' });
    assert.deepEqual(r.unanswered, []);
    assert.deepEqual(Object.fromEntries([...r.statuses].map(([id, s]) => [id, s.state])), { 'long-0': 'TASK_RUNNING', 'never-launched': 'TASK_LOST' });

    // A master that answers nothing (SIGSTOP): the helper gives up after its timeout and says which.
    process.kill(-master.child.pid!, 'SIGSTOP');
    try {
      const t0 = Date.now();
      const silent = await fw.reconcileTasks([{ taskId: 'long-0' }], { timeout: '2s' });
      assert.ok(Date.now() - t0 >= 1900);
      assert.deepEqual([silent.unanswered, silent.statuses.size], [['long-0'], 0]);
    } finally {
      process.kill(-master.child.pid!, 'SIGCONT');
    }
  });

  test('updateFramework changes the failover timeout and roles the master holds; a bad role rejects with INVALID', async () => {
    c = new Cluster();
    const master = await c.startMaster();
    const fw = await connect(master.address, { name: 'changes' });
    await fw.updateFramework({ failoverTimeout: '2h', roles: ['dev', 'ops'] });
    const listed = async () => (await op<object, ListFrameworksResponse__Output>(c.operator(master.address), 'listFrameworks', {}))
      .frameworks.find((f) => f.id === fw.frameworkId)!;
    const after = await listed();
    assert.deepEqual([after.failoverTimeout, after.roles], [7200, ['dev', 'ops']]);
    await assert.rejects(fw.updateFramework({ roles: ['no spaces allowed'] }),
      (e: unknown) => e instanceof CallError && e.kind === 'INVALID' && e.call === 'UPDATE_FRAMEWORK');
    assert.deepEqual((await listed()).roles, ['dev', 'ops']);
  });

  test('reads a task\'s stdout and stderr through the master; an unknown task rejects with NOT_FOUND', async () => {
    c = new Cluster();
    const master = await c.startMaster();
    await c.startAgent(master.address);
    const fw = await connect(master.address, { name: 'reader' });
    const updates: TaskStatus__Output[] = [];
    fw.on('update', (s) => updates.push(s));
    launchOnOffers(fw, 'talk', 1, 'echo to-out; echo to-err >&2; exit 3');
    await waitFor('talk-0 FAILED', () => updates.some((s) => s.taskId === 'talk-0' && s.state === 'TASK_FAILED'));
    const out = await fw.readTaskFile('talk-0');
    assert.match(out.data.toString(), /to-out/);
    assert.equal(out.offset, 0);
    assert.match(await fw.tail('talk-0', 'stderr', 100), /to-err/);
    assert.match(await fw.tail('talk-0'), /to-err/);
    await assert.rejects(fw.readTaskFile('no-such-task'), (e: unknown) => e instanceof CallError && e.kind === 'NOT_FOUND');
  });

  test('refusals a framework can act on, told apart by kind: removed, never issued, a bad role, taken over', async () => {
    c = new Cluster();
    const master = await c.startMaster();
    const fw = await connect(master.address, { name: 'short-lived' });
    const id = fw.frameworkId;
    await fw.teardown();
    await assert.rejects(connect(master.address, { name: 'again', frameworkId: id }),
      (e: unknown) => e instanceof SubscribeError && e.kind === 'FRAMEWORK_REMOVED' && /was removed/.test(e.message));
    await assert.rejects(connect(master.address, { name: 'stranger', frameworkId: 'fw-0123456789ab' }),
      (e: unknown) => e instanceof SubscribeError && e.kind === 'FRAMEWORK_UNKNOWN' && /not registered with this cluster/.test(e.message));
    await assert.rejects(connect(master.address, { name: 'bad-role', roles: ['no spaces allowed'] }),
      (e: unknown) => e instanceof SubscribeError && e.kind === 'INVALID');

    // A second process subscribing with the same id takes the framework over; the first is told why, by kind.
    const first = await connect(master.address, { name: 'twice' });
    const errors: FrameworkErrorEvent[] = [];
    first.on('error', (e) => errors.push(e));
    await connect(master.address, { name: 'twice', frameworkId: first.frameworkId });
    await waitFor('the first connection told it was taken over', () => errors.length > 0);
    assert.deepEqual(errors.map((e) => [e.kind, e.fatal]), [['FRAMEWORK_FAILED_OVER', true]]);
    assert.equal(first.connected, false);
  });
});
