/**
 * Every invalid ACCEPT answers a clear error naming what was wrong, and
 * leaks nothing: afterwards the whole cluster is offered again.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, op, task, waitFor, type Proc, type TestScheduler } from '../harness';
import type { Event__Output, Offer__Output } from '../../lib/proto';

describe('invalid accepts', () => {
  const c = new Cluster();
  let master: Proc;
  let fw: TestScheduler;

  before(async () => {
    master = await c.startMaster();
    await c.startAgent(master.address, { resources: 'cpus:4;mem:4096;disk:1000' });
    await c.startAgent(master.address, { resources: 'cpus:4;mem:4096;disk:1000' });
    fw = c.scheduler(master.address);
    await fw.subscribe({ name: 'validator' });
  });
  after(() => c.teardown());

  /**
   * Waits for this framework to hold exactly one offer on each agent. An
   * agent's free resources may come in several offers (leftovers of an accept,
   * resources of a task that ended); those are declined so they come back merged.
   */
  async function holdBoth(s: TestScheduler): Promise<Offer__Output[]> {
    return waitFor('one offer on each agent', () => {
      const held = s.outstanding();
      const fragments = held.filter((o) => held.filter((h) => h.agentId === o.agentId).length > 1);
      if (fragments.length) s.send({ decline: { offerIds: fragments.map((o) => o.id), filters: { refuseSeconds: 0 } } });
      else if (held.length === 2) return held;
      return undefined;
    });
  }

  /** Sends an accept and returns the ERROR event it caused. */
  async function acceptError(s: TestScheduler, offerIds: string[], tasks: object[]): Promise<Event__Output['error']> {
    const from = s.events.length;
    s.send({ accept: { offerIds, operations: [{ launch: { taskInfos: tasks as never } }], filters: { refuseSeconds: 0 } } });
    const ev = await s.waitEvent('ERROR for the accept', (e) => e.error?.call === 'ACCEPT', from);
    assert.equal(ev.error!.fatal, false);
    return ev.error;
  }

  const cases: { name: string; tasks: (agentId: string, otherAgent: string) => object[]; want: RegExp; state: string }[] = [
    { name: 'resources beyond the offer', tasks: () => [task('big', 'true', { cpus: 100 })], want: /does not fit.*needs 100 cpus, 4 available/, state: 'TASK_ERROR' },
    { name: 'tasks that together over-commit', tasks: () => [task('half-1', 'true', { cpus: 3 }), task('half-2', 'true', { cpus: 3 })], want: /half-2 does not fit/, state: 'TASK_ERROR' },
    { name: 'an empty command', tasks: () => [task('empty', '  ')], want: /empty has an empty command/, state: 'TASK_ERROR' },
    { name: 'negative resources', tasks: () => [task('neg', 'true', { cpus: -1 })], want: /cpus is -1; it must not be negative/, state: 'TASK_ERROR' },
    { name: 'NaN resources', tasks: () => [task('nan', 'true', { mem: Number.NaN })], want: /mem is NaN; it must be a finite number/, state: 'TASK_ERROR' },
    { name: 'a duplicate task id in one accept', tasks: () => [task('dup', 'true'), task('dup', 'true')], want: /dup appears twice/, state: 'TASK_ERROR' },
    { name: 'a task naming another agent', tasks: (_a, b) => [task('elsewhere', 'true', { agentId: b })], want: /names agent .* but the offers are on agent/, state: 'TASK_ERROR' },
  ];

  /** Sends `tc`'s invalid accept on the offers `holdBoth` gives, checks the error and the task's update, and hands the other offer back. */
  async function rejects(tc: (typeof cases)[number]): Promise<void> {
    const [o1, o2] = await holdBoth(fw);
    const from = fw.events.length;
    const err = await acceptError(fw, [o1!.id], tc.tasks(o1!.agentId, o2!.agentId));
    assert.match(err!.message, tc.want);
    const ids = tc.tasks(o1!.agentId, o2!.agentId).map((t) => (t as { taskId: string }).taskId);
    // Updates since this accept only: the same case may have run before (the leak test runs them all).
    await fw.waitEvent(`${tc.state} update`, (e) => {
      const st = e.update?.status;
      return !!st && st.taskId === ids.at(-1) && st.state === tc.state && tc.want.test(st.message);
    }, from);
    fw.send({ decline: { offerIds: [o2!.id], filters: { refuseSeconds: 0 } } });
  }

  for (const tc of cases) test(`rejects ${tc.name}`, () => rejects(tc));

  test('rejects a task id already used by a live task', async () => {
    const [o1, o2] = await holdBoth(fw);
    fw.send({ accept: { offerIds: [o1!.id], operations: [{ launch: { taskInfos: [task('live', 'exec sleep 600')] } }], filters: { refuseSeconds: 0 } } });
    fw.send({ decline: { offerIds: [o2!.id], filters: { refuseSeconds: 0 } } });
    try {
      await waitFor('live RUNNING', () => fw.updates('live').some((s) => s.state === 'TASK_RUNNING'))
        .catch((err) => { throw new Error(`${err.message}: ${JSON.stringify(fw.updates('live'))} ${JSON.stringify(fw.events.filter((e) => e.error))}`); });
      const [p1, p2] = await holdBoth(fw);
      const err = await acceptError(fw, [p1!.id], [task('live', 'true')]);
      assert.match(err!.message, /live is already used by a live task/);
      fw.send({ decline: { offerIds: [p2!.id], filters: { refuseSeconds: 0 } } });
    } finally {
      // Pass or fail, the task ends here: no later test finds its resources in use.
      fw.send({ kill: { taskId: 'live', agentId: '' } });
      await waitFor('live KILLED', () => fw.updates('live').some((s) => s.state === 'TASK_KILLED'));
    }
  });

  test('rejects offers on two agents in one accept', async () => {
    const [o1, o2] = await holdBoth(fw);
    const err = await acceptError(fw, [o1!.id, o2!.id], [task('split', 'true')]);
    assert.match(err!.message, /on different agents/);
    await waitFor('split LOST', () => fw.updates('split').some((s) => s.state === 'TASK_LOST'));
  });

  test('rejects unknown and stale offer ids', async () => {
    let err = await acceptError(fw, ['no-such-offer'], [task('ghost', 'true')]);
    assert.match(err!.message, /offer no-such-offer is unknown or no longer valid/);
    const [o1, o2] = await holdBoth(fw);
    fw.send({ decline: { offerIds: [o1!.id, o2!.id], filters: { refuseSeconds: 0 } } });
    err = await acceptError(fw, [o1!.id], [task('stale', 'true')]);
    assert.match(err!.message, new RegExp(`offer ${o1!.id} is unknown or no longer valid`));
  });

  test("rejects another framework's offer, which stays valid for its owner", async () => {
    await holdBoth(fw);
    fw.send({ decline: { offerIds: fw.outstanding().map((o) => o.id), filters: { refuseSeconds: 3600 } } });
    const other = c.scheduler(master.address);
    try {
      await other.subscribe({ name: 'other' });
      const mine = await holdBoth(other);
      const err = await acceptError(fw, [mine[0]!.id], [task('thief', 'true')]);
      assert.match(err!.message, /was made to another framework/);
      other.send({ accept: { offerIds: [mine[0]!.id], operations: [{ launch: { taskInfos: [task('owner', 'true')] } }], filters: { refuseSeconds: 0 } } });
      await waitFor('owner FINISHED', () => other.updates('owner').some((s) => s.state === 'TASK_FINISHED'));
    } finally {
      // Pass or fail, the cluster goes back to fw alone: other leaves with its offers, fw's long filter is lifted.
      if (other.frameworkId) {
        other.send({ teardown: {} });
        await waitFor('other to be removed', () => other.ended);
      }
      fw.send({ revive: { roles: [] } });
    }
  });

  test('leaks nothing: after every invalid accept, both agents are offered whole again', async () => {
    // Its own round of invalid accepts, so that it holds whichever tests ran before it, or none.
    for (const tc of cases) await rejects(tc);
    const [o1, o2] = await holdBoth(fw);
    assert.match((await acceptError(fw, [o1!.id, o2!.id], [task('split-again', 'true')]))!.message, /on different agents/);
    const state = await waitFor('no resources in use', async () => {
      const s = await op<object, { used: { cpus: number; mem: number } }>(c.operator(master.address), 'getState', {});
      return s.used.cpus === 0 && s.used.mem === 0 ? s : undefined;
    });
    assert.ok(state);
    const cpus = (o: Offer__Output) => o.resources.find((r) => r.name === 'cpus')?.scalar ?? 0;
    await waitFor('whole agents offered', async () => {
      const held = await holdBoth(fw);
      return held.every((o) => cpus(o) === 4);
    }).catch((err: Error) => { throw new Error(`${err.message}; held: ${JSON.stringify(fw.outstanding().map((o) => [o.id, o.agentId, cpus(o)]))}`); });
  });
});
