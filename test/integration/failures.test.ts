/**
 * What must hold when things fail: an agent killed -9, a framework that
 * disconnects (and returns in time, or does not), a master restarted on
 * its data directory.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { alive, Cluster, op, task, waitFor, type TestScheduler } from '../harness';
import type { ListTasksResponse__Output } from '../../lib/proto/generated/mezzanine/v1/ListTasksResponse';
import type { ListFrameworksResponse__Output } from '../../lib/proto/generated/mezzanine/v1/ListFrameworksResponse';
import type { ReadFileResponse__Output } from '../../lib/proto';

/** Accepts the next offers (on `agentId` if given) with one long task each, until `ids` are launched. */
async function launchOn(fw: TestScheduler, ids: string[], agentId?: string) {
  await fw.launchEach(ids.map((id) => task(id, 'echo pid=$$; exec sleep 600')), agentId);
  await waitFor(`${ids.join(', ')} RUNNING`, () => ids.every((id) => fw.updates(id).some((s) => s.state === 'TASK_RUNNING')));
  // Hand back what is left for a moment, so that other frameworks are offered it.
  const left = fw.outstanding().map((o) => o.id);
  if (left.length) fw.send({ decline: { offerIds: left, filters: { refuseSeconds: 1 } } });
}

const listTasks = (c: Cluster, address: string, req: object = {}) =>
  op<object, ListTasksResponse__Output>(c.operator(address), 'listTasks', req).then((r) => r.tasks);

describe('an agent killed -9', () => {
  const c = new Cluster();
  after(() => c.teardown());

  test('its tasks become UNREACHABLE (partition-aware) or LOST, and its offers are rescinded', async () => {
    const master = await c.startMaster();
    const stays = await c.startAgent(master.address, { name: 'stays' });
    const dies = await c.startAgent(master.address, { name: 'dies' });
    const pa = c.scheduler(master.address);
    await pa.subscribe({ name: 'partition-aware', capabilities: ['PARTITION_AWARE'] });
    pa.autoAck();
    const plain = c.scheduler(master.address);
    await plain.subscribe({ name: 'plain' });
    plain.autoAck();
    const doomedId = await waitFor('the doomed agent to register', async () => {
      const tasks = await op<object, { agents: { id: string; address: string }[] }>(c.operator(master.address), 'listAgents', {});
      return tasks.agents.find((a) => a.address.endsWith(`:${dies.port}`))?.id;
    });
    void stays;
    await launchOn(pa, ['pa-task'], doomedId);
    await launchOn(plain, ['plain-task'], doomedId);
    // Hold an offer on the doomed agent: whoever is offered it next keeps it.
    const holder = await waitFor('an outstanding offer on the doomed agent', () =>
      [pa, plain].find((fw) => fw.outstanding().some((o) => o.agentId === doomedId)));
    const held = holder.outstanding().find((o) => o.agentId === doomedId)!;
    await dies.kill9();
    await holder.waitEvent(`RESCIND of ${held.id}`, (e) => e.rescind?.offerId === held.id);
    await waitFor('pa-task UNREACHABLE', () => pa.updates('pa-task').some((s) => s.state === 'TASK_UNREACHABLE'), 15_000);
    await waitFor('plain-task LOST', () => plain.updates('plain-task').some((s) => s.state === 'TASK_LOST'), 15_000);
    const agents = await op<object, { agents: { id: string; state: string }[] }>(c.operator(master.address), 'listAgents', {});
    assert.equal(agents.agents.find((a) => a.id === doomedId)?.state, 'UNREACHABLE');
  });
});

describe('a framework that disconnects', () => {
  const c = new Cluster();
  after(() => c.teardown());

  test('keeps its tasks when it re-subscribes within its failover timeout, and loses them when it does not', async () => {
    const master = await c.startMaster();
    await c.startAgent(master.address);
    // Returns in time.
    const a = c.scheduler(master.address);
    const aId = await a.subscribe({ name: 'returns', failoverTimeout: 60 });
    a.autoAck();
    await launchOn(a, ['kept']);
    // Does not return.
    const b = c.scheduler(master.address);
    const bId = await b.subscribe({ name: 'vanishes', failoverTimeout: 1 });
    b.autoAck();
    await launchOn(b, ['doomed']);
    a.close();
    b.close();
    const frameworks = async () => (await op<object, ListFrameworksResponse__Output>(c.operator(master.address), 'listFrameworks', {})).frameworks;
    await waitFor('returns to be INACTIVE', async () => (await frameworks()).find((f) => f.id === aId)?.state === 'INACTIVE');
    await waitFor('doomed to be KILLED', async () => (await listTasks(c, master.address)).find((t) => t.id === 'doomed')?.state === 'TASK_KILLED', 15_000);
    assert.equal((await frameworks()).some((f) => f.id === bId), false, 'the framework past its timeout is removed');
    // b comes back too late: refused.
    const late = c.scheduler(master.address);
    await assert.rejects(late.subscribe({ name: 'vanishes', id: bId }), /removed/);
    // a comes back in time with its id and finds its task running.
    const again = c.scheduler(master.address);
    assert.equal(await again.subscribe({ name: 'returns', id: aId, failoverTimeout: 60 }), aId);
    const from = again.events.length;
    again.send({ reconcile: { tasks: [] } });
    const ev = await again.waitEvent('reconciliation of kept', (e) => e.update?.status?.taskId === 'kept', from);
    assert.equal(ev.update!.status!.state, 'TASK_RUNNING');
  });
});

describe('a restarted master', () => {
  const c = new Cluster();
  after(() => c.teardown());

  test('keeps frameworks, agents and running tasks when restarted on the same data directory', async () => {
    const dataDir = `${c.dir}/master-data`;
    let master = await c.startMaster({ dataDir });
    const port = master.port;
    await c.startAgent(master.address, { name: 'a1' });
    await c.startAgent(master.address, { name: 'a2' });
    const fw = c.scheduler(master.address);
    const fwId = await fw.subscribe({ name: 'survivor', failoverTimeout: 300 });
    fw.autoAck();
    await launchOn(fw, ['long-1', 'long-2']);
    const before = await listTasks(c, master.address, { state: 'TASK_RUNNING' });
    const pidOf = async (id: string) => {
      const out = await op<object, ReadFileResponse__Output>(c.operator(master.address), 'readTaskFile', { taskId: id, path: 'stdout' });
      return Number(/pid=(\d+)/.exec(out.data.toString())?.[1]);
    };
    const pids = await waitFor('task pids', async () => {
      const p = [await pidOf('long-1'), await pidOf('long-2')];
      return p.every((x) => x > 0) ? p : undefined;
    });
    await master.kill9();
    fw.close();
    master = await c.startMaster({ dataDir, port, name: 'master-restarted' });
    // The agents re-register by themselves; the framework re-subscribes with its id.
    const again = c.scheduler(master.address);
    assert.equal(await again.subscribe({ name: 'survivor', id: fwId, failoverTimeout: 300 }), fwId);
    const after2 = await waitFor('both tasks RUNNING on the new master', async () => {
      const t = await listTasks(c, master.address, { state: 'TASK_RUNNING' });
      return t.length === 2 ? t : undefined;
    });
    assert.deepEqual(after2.map((t) => [t.id, t.agentId]).sort(), before.map((t) => [t.id, t.agentId]).sort());
    assert.ok(pids.every(alive), 'the task processes were never restarted');
    assert.deepEqual([await pidOf('long-1'), await pidOf('long-2')], pids);
    const from = again.events.length;
    again.send({ reconcile: { tasks: [] } });
    await again.waitEvent('reconciled long-1 RUNNING', (e) => e.update?.status?.taskId === 'long-1' && e.update.status.state === 'TASK_RUNNING', from);
    const agents = await op<object, { agents: { state: string }[] }>(c.operator(master.address), 'listAgents', {});
    assert.deepEqual(agents.agents.map((a) => a.state), ['ACTIVE', 'ACTIVE']);
  });
});
