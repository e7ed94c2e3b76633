/**
 * The master's rooms in-process (test/fixtures/master-harness.ts): a real
 * Master, a manual clock, agents and frameworks as recording links. Each
 * case is also confirmed through real processes in
 * test/integration/master-faults.test.ts.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import type { MasterMessage } from '../../lib/proto';
import { MasterHarness, reportedTask, type AgentConn, type FrameworkConn } from '../fixtures/master-harness';

let h: MasterHarness | undefined;
afterEach(() => {
  h?.stop();
  h = undefined;
});

const kills = (a: AgentConn) => a.sent.filter((m: MasterMessage) => m.killTask).map((m) => m.killTask!);

/** Runs the master for `ms` while the agents ping every 250 ms. */
function runWithPings(harness: MasterHarness, ms: number, ...agents: AgentConn[]): void {
  for (let t = 0; t < ms; t += 250) {
    for (const a of agents) harness.ping(a);
    harness.clock.advance(250);
  }
}

describe('agent liveness is judged on the agent\'s silence, not the master\'s', () => {
  test('a master stalled 20 s (ping timeout 3 s) keeps its agents and their tasks', async () => {
    h = await MasterHarness.start();
    const a = await h.agent();
    const b = await h.agent();
    const fw = await h.framework();
    await h.launch(fw, [{ taskId: 't1' }]);
    h.statusUpdate(h.agentOf(fw, 't1', a, b), { taskId: 't1', state: 'TASK_RUNNING', frameworkId: fw.id });
    h.clock.stall(20_000); // every timer fires once on waking, before the queued pings are read
    runWithPings(h, 5000, a, b);
    assert.equal(h.master.agents.get(a.id)!.status, 'ACTIVE');
    assert.equal(h.master.agents.get(b.id)!.status, 'ACTIVE');
    assert.deepEqual(h.updates(fw, 't1').map((s) => s.state).filter((s) => s !== 'TASK_RUNNING'), []);
  });

  test('an agent silent for the ping timeout while the master runs is unreachable, its tasks LOST', async () => {
    h = await MasterHarness.start();
    const a = await h.agent();
    const fw = await h.framework();
    await h.launch(fw, [{ taskId: 't1' }]);
    h.statusUpdate(a, { taskId: 't1', state: 'TASK_RUNNING', frameworkId: fw.id });
    h.clock.advance(2500); // 5 checks of 500 ms: not yet (6 make 3 s)
    assert.equal(h.master.agents.get(a.id)!.status, 'ACTIVE');
    h.clock.advance(1000);
    assert.equal(h.master.agents.get(a.id)!.status, 'UNREACHABLE');
    const lost = h.updates(fw, 't1').at(-1)!;
    assert.equal(lost.state, 'TASK_LOST');
    assert.match(lost.message, /nothing heard from it in 6 consecutive checks/);
  });
});

describe('tasks are never left staging or half a group', () => {
  test('a task its agent never reports on is LOST after the launch timeout, and killed there', async () => {
    h = await MasterHarness.start({ taskLaunchTimeout: 60 });
    const a = await h.agent();
    const fw = await h.framework();
    await h.launch(fw, [{ taskId: 'silent' }]);
    runWithPings(h, 59_000, a);
    assert.equal(h.updates(fw, 'silent').length, 0);
    runWithPings(h, 2000, a);
    const [u] = h.updates(fw, 'silent');
    assert.equal(u?.state, 'TASK_LOST');
    assert.equal(u?.reason, 'REASON_LAUNCH_TIMEOUT');
    assert.deepEqual(kills(a).map((k) => k.taskId), ['silent']);
  });

  test('a reported task is not timed out', async () => {
    h = await MasterHarness.start({ taskLaunchTimeout: 60 });
    const a = await h.agent();
    const fw = await h.framework();
    await h.launch(fw, [{ taskId: 'slow' }]);
    h.statusUpdate(a, { taskId: 'slow', state: 'TASK_STARTING', frameworkId: fw.id });
    runWithPings(h, 120_000, a);
    assert.equal(h.master.frameworks.get(fw.id)!.tasks.get('slow')?.status.state, 'TASK_STARTING');
  });

  test('a failed member of a LAUNCH_GROUP gets the rest killed, with a reason naming it', async () => {
    h = await MasterHarness.start();
    const a = await h.agent();
    const fw = await h.framework();
    await h.launch(fw, [{ taskId: 'g1' }, { taskId: 'g2' }, { taskId: 'g3' }], { group: true });
    for (const id of ['g1', 'g2', 'g3']) h.statusUpdate(a, { taskId: id, state: 'TASK_RUNNING', frameworkId: fw.id });
    h.statusUpdate(a, { taskId: 'g2', state: 'TASK_FAILED', frameworkId: fw.id, exitCode: 3 } as never);
    const k = kills(a);
    assert.deepEqual(k.map((x) => x.taskId).sort(), ['g1', 'g3']);
    assert.match(k[0]?.reason ?? '', /task g2 of its LAUNCH_GROUP ended TASK_FAILED \(exit code 3\)/);
  });

  test('a member that finishes leaves the group running; plain LAUNCH tasks are independent', async () => {
    h = await MasterHarness.start();
    const a = await h.agent();
    const fw = await h.framework();
    await h.launch(fw, [{ taskId: 'g1' }, { taskId: 'g2' }], { group: true });
    h.statusUpdate(a, { taskId: 'g1', state: 'TASK_FINISHED', frameworkId: fw.id });
    await h.launch(fw, [{ taskId: 'p1' }, { taskId: 'p2' }]);
    h.statusUpdate(a, { taskId: 'p1', state: 'TASK_FAILED', frameworkId: fw.id });
    assert.deepEqual(kills(a), []);
  });
});

describe('reconciliation after a master restart answers from the agents', () => {
  test('no answer while the task\'s agent has not re-registered; its real end once it has', async () => {
    h = await MasterHarness.start();
    const a = await h.agent();
    const fw = await h.framework({ capabilities: ['PARTITION_AWARE'] });
    await h.launch(fw, [{ taskId: 'job' }]);
    h.statusUpdate(a, { taskId: 'job', state: 'TASK_RUNNING', frameworkId: fw.id });
    await h.restart();
    const again = await h.framework({ id: fw.id, capabilities: ['PARTITION_AWARE'] });
    await h.call(again, { call: 'reconcile', reconcile: { tasks: [{ taskId: 'job', agentId: a.id }, { taskId: 'job', agentId: '' }] } });
    assert.deepEqual(h.updates(again), [], 'answered before the agent re-registered');
    await h.agent({ id: a.id, tasks: [reportedTask(fw.id, 'job', 'TASK_FINISHED')] });
    await h.call(again, { call: 'reconcile', reconcile: { tasks: [{ taskId: 'job', agentId: a.id }] } });
    assert.deepEqual(h.updates(again, 'job').map((s) => s.state), ['TASK_FINISHED']);
  });

  test('after the re-registration window, an unknown task is answered UNKNOWN', async () => {
    h = await MasterHarness.start({ agentReregisterTimeout: 10 });
    const a = await h.agent();
    const fw = await h.framework({ capabilities: ['PARTITION_AWARE'] });
    await h.restart();
    const again = await h.framework({ id: fw.id, capabilities: ['PARTITION_AWARE'] });
    h.clock.advance(11_000);
    await h.call(again, { call: 'reconcile', reconcile: { tasks: [{ taskId: 'never', agentId: a.id }] } });
    assert.deepEqual(h.updates(again, 'never').map((s) => s.state), ['TASK_UNKNOWN']);
  });

  test('an UNREACHABLE task follows its agent\'s later report', async () => {
    h = await MasterHarness.start();
    const a = await h.agent();
    const fw = await h.framework({ capabilities: ['PARTITION_AWARE'] });
    await h.launch(fw, [{ taskId: 'x' }]);
    h.statusUpdate(a, { taskId: 'x', state: 'TASK_RUNNING', frameworkId: fw.id });
    h.clock.advance(4000);
    assert.equal(h.updates(fw, 'x').at(-1)!.state, 'TASK_UNREACHABLE');
    const back = await h.agent({ id: a.id, tasks: [reportedTask(fw.id, 'x', 'TASK_FINISHED')] });
    h.statusUpdate(back, { taskId: 'x', state: 'TASK_FINISHED', frameworkId: fw.id });
    await h.call(fw, { call: 'reconcile', reconcile: { tasks: [{ taskId: 'x', agentId: a.id }] } });
    assert.equal(h.updates(fw, 'x').at(-1)!.state, 'TASK_FINISHED');
    assert.deepEqual([...h.master.allTasks()].filter((t) => t.status.state === 'TASK_UNREACHABLE'), []);
  });

  test('an UNREACHABLE task that runs again is live again, with no stale record left', async () => {
    h = await MasterHarness.start();
    const a = await h.agent();
    const fw = await h.framework({ capabilities: ['PARTITION_AWARE'] });
    await h.launch(fw, [{ taskId: 'x' }]);
    h.statusUpdate(a, { taskId: 'x', state: 'TASK_RUNNING', frameworkId: fw.id });
    h.clock.advance(4000);
    await h.agent({ id: a.id, tasks: [reportedTask(fw.id, 'x', 'TASK_RUNNING')] });
    assert.deepEqual([...h.master.allTasks()].map((t) => `${t.id}:${t.status.state}`), ['x:TASK_RUNNING']);
  });
});

describe('the master holds agents to their word', () => {
  test('an update for a task the agent does not run is dropped (and acknowledged)', async () => {
    h = await MasterHarness.start();
    const a = await h.agent();
    const b = await h.agent();
    const fw = await h.framework();
    await h.launch(fw, [{ taskId: 'real' }]);
    const liar = h.agentOf(fw, 'real', a, b) === a ? b : a;
    h.statusUpdate(liar, { taskId: 'real', state: 'TASK_FINISHED', frameworkId: fw.id, uuid: 'lie' });
    assert.deepEqual(h.updates(fw, 'real'), []);
    assert.equal(h.master.frameworks.get(fw.id)!.tasks.get('real')?.status.state, 'TASK_STAGING');
    assert.ok(liar.sent.some((m) => m.acknowledge?.uuid === 'lie'));
  });

  test('a reported task claiming more than the agent has is killed, not adopted; unknown states are ignored', async () => {
    h = await MasterHarness.start();
    const fw = await h.framework();
    const a = await h.agent({ cpus: 4, tasks: [reportedTask(fw.id, 'phantom', 'TASK_RUNNING', { cpus: 100_000 }), reportedTask(fw.id, 'weird', 'TASK_BOGUS')] });
    assert.deepEqual(kills(a).map((k) => k.taskId), ['phantom']);
    assert.equal(h.master.frameworks.get(fw.id)!.tasks.size, 0);
    assert.equal(h.master.agents.get(a.id)!.used.cpus, 0);
  });

  test('agent ids that could not be registry keys are refused', async () => {
    h = await MasterHarness.start();
    await assert.rejects(h.agent({ id: 'x/agent-1' }), /agent id "x\/agent-1" is invalid/);
    await assert.rejects(h.agent({ id: 'a'.repeat(5000) }), /agent id is 5000 characters long; the limit is 200/);
  });
});

describe('ids belong to whoever was given them', () => {
  test('an agent id is taken back only with the token issued with it, across a master restart', async () => {
    h = await MasterHarness.start();
    const a = await h.agent();
    const token = h.agentTokens.get(a.id)!;
    assert.match(token, /^[A-Za-z0-9_-]{43}$/);
    await h.restart();
    h.agentTokens.set(a.id, 'a-guess-at-the-token');
    await assert.rejects(h.agent({ id: a.id }), new RegExp(`agent id ${a.id} is held by another agent: the agent token presented does not match`));
    h.agentTokens.set(a.id, token);
    const back = await h.agent({ id: a.id });
    assert.equal(back.id, a.id);
    assert.equal(back.sent.find((m) => m.registered)!.registered!.agentToken, '', 'a valid token is not replaced');
  });

  test('a framework id is taken back only by its principal; with authentication off, by anyone', async () => {
    h = await MasterHarness.start();
    const fw = await h.framework({ name: 'web' }, { principal: 'web', peer: 'test' });
    assert.equal(h.master.frameworks.get(fw.id)!.info.principal, 'web');
    await assert.rejects(h.framework({ id: fw.id, name: 'thief' }, { principal: 'batch', peer: 'test' }), /belongs to principal web, not batch/);
    await assert.rejects(h.framework({ name: 'liar', principal: 'ops' }, { principal: 'batch', peer: 'test' }), /names principal "ops" but the caller authenticated as batch/);
    const again = await h.framework({ id: fw.id, name: 'web' }, { principal: 'web', peer: 'test' });
    assert.equal(again.id, fw.id);
  });
});

describe('framework info is validated once, for SUBSCRIBE and UPDATE_FRAMEWORK', () => {
  test('ids that are not valid, or were never issued, are refused', async () => {
    h = await MasterHarness.start();
    await assert.rejects(h.framework({ id: '../../../../tmp/escape' }), /framework id .* is invalid/);
    await assert.rejects(h.framework({ id: 'fw-from-another-cluster' }), /is not registered with this cluster/);
    await assert.rejects(h.framework({ roles: ['r'.repeat(300)] }), /role of 300 characters is too long; the limit is 256/);
    await assert.rejects(h.framework({ labels: { big: 'x'.repeat(10_000) } }), /framework labels value of "big" is 10000 characters long; the limit is 4096/);
  });

  test('webui_url: an http(s) URL is kept for discovery; anything else is refused', async () => {
    h = await MasterHarness.start();
    const fw = await h.framework({ webuiUrl: 'http://127.0.0.1:8080' });
    assert.equal(h.master.frameworks.get(fw.id)!.info.webuiUrl, 'http://127.0.0.1:8080');
    await assert.rejects(h.framework({ webuiUrl: 'file:///etc/passwd' }), /webui_url must be an http:\/\/ or https:\/\/ URL/);
    await assert.rejects(h.framework({ webuiUrl: `http://x/${'a'.repeat(3000)}` }), /webui_url is 3009 characters long; the limit is 2048/);
  });

  test('an unknown capability is refused, naming the known ones', async () => {
    h = await MasterHarness.start();
    await assert.rejects(h.framework({ capabilities: ['TASK_KILLING'] }), /capability "TASK_KILLING" is unknown; the known ones are PARTITION_AWARE, GPU_RESOURCES, TASK_KILLING_STATE, MULTI_ROLE/);
    await assert.rejects(h.framework({ capabilities: ['x'.repeat(300)] }), /capability is 300 characters long; the limit is 256/);
  });

  test('UPDATE_FRAMEWORK refuses a negative failover timeout and keeps the old one', async () => {
    h = await MasterHarness.start();
    const fw = await h.framework({ failoverTimeout: 60 });
    const info = { ...fw.record.info, failoverTimeout: -1 };
    await h.call(fw, { call: 'updateFramework', updateFramework: { framework: info } });
    assert.match(fw.sent.at(-1)?.error?.message ?? '', /failover_timeout must be 0-31536000 seconds/);
    assert.equal(h.master.frameworks.get(fw.id)!.failoverTimeout, 60);
  });
});

describe('TASK_KILLING reaches only frameworks that declare TASK_KILLING_STATE, as in Mesos', () => {
  const reconcileStates = async (fw: FrameworkConn, taskId: string): Promise<string[]> => {
    const from = fw.sent.length;
    await h!.call(fw, { call: 'reconcile', reconcile: { tasks: [] } });
    await h!.call(fw, { call: 'reconcile', reconcile: { tasks: [{ taskId, agentId: '' }] } });
    return fw.sent.slice(from).map((e) => e.update!.status!.state as string);
  };

  test('a framework without it sees RUNNING until KILLED; the master acknowledges the KILLING for it', async () => {
    h = await MasterHarness.start();
    const a = await h.agent();
    const fw = await h.framework();
    await h.launch(fw, [{ taskId: 't' }]);
    h.statusUpdate(a, { taskId: 't', state: 'TASK_RUNNING', frameworkId: fw.id });
    h.statusUpdate(a, { taskId: 't', state: 'TASK_KILLING', frameworkId: fw.id, uuid: 'killing', reason: 'REASON_TASK_KILLED' });
    assert.deepEqual(h.updates(fw, 't').map((s) => s.state), ['TASK_RUNNING']);
    assert.ok(a.sent.some((m) => m.acknowledge?.uuid === 'killing'), 'the agent would resend it until the task ended');
    // The master keeps the truth for the operator; the framework is answered as Mesos would.
    assert.equal(h.master.frameworks.get(fw.id)!.tasks.get('t')!.status.state, 'TASK_KILLING');
    assert.deepEqual(await reconcileStates(fw, 't'), ['TASK_RUNNING', 'TASK_RUNNING']);
    h.statusUpdate(a, { taskId: 't', state: 'TASK_KILLED', frameworkId: fw.id, uuid: 'killed' });
    assert.equal(h.updates(fw, 't').at(-1)!.state, 'TASK_KILLED');
    assert.ok(!a.sent.some((m) => m.acknowledge?.uuid === 'killed'), 'the framework acknowledges what it sees');
  });

  test('a framework with it sees KILLING and acknowledges it itself; dropping it by UPDATE_FRAMEWORK hides it again', async () => {
    h = await MasterHarness.start();
    const a = await h.agent();
    const fw = await h.framework({ capabilities: ['TASK_KILLING_STATE'] });
    await h.launch(fw, [{ taskId: 't' }]);
    h.statusUpdate(a, { taskId: 't', state: 'TASK_RUNNING', frameworkId: fw.id });
    h.statusUpdate(a, { taskId: 't', state: 'TASK_KILLING', frameworkId: fw.id, uuid: 'killing' });
    assert.deepEqual(h.updates(fw, 't').map((s) => [s.state, s.uuid]), [['TASK_RUNNING', h.updates(fw, 't')[0]!.uuid], ['TASK_KILLING', 'killing']]);
    assert.ok(!a.sent.some((m) => m.acknowledge), 'acknowledged by the framework, not the master');
    assert.deepEqual(await reconcileStates(fw, 't'), ['TASK_KILLING', 'TASK_KILLING']);
    await h.call(fw, { call: 'updateFramework', updateFramework: { framework: { ...fw.record.info, capabilities: [] } } });
    assert.deepEqual(await reconcileStates(fw, 't'), ['TASK_RUNNING', 'TASK_RUNNING']);
  });
});

describe('bounded calls', () => {
  test('an accept over the task limit launches nothing and says the limit', async () => {
    h = await MasterHarness.start();
    const a = await h.agent({ cpus: 1000, mem: 1e6 });
    const fw = await h.framework();
    await h.launch(fw, Array.from({ length: 1001 }, (_, i) => ({ taskId: `t${i}` })));
    assert.equal(a.sent.filter((m) => m.runTasks).length, 0);
    assert.match(fw.sent.find((e) => e.error)?.error?.message ?? '', /accept holds 1001 tasks; the limit is 1000 per accept/);
    assert.equal(h.updates(fw).filter((s) => s.state === 'TASK_ERROR').length, 1001);
  });

  test('an oversized task id is refused without being echoed', async () => {
    h = await MasterHarness.start();
    await h.agent();
    const fw = await h.framework();
    await h.launch(fw, [{ taskId: 'x'.repeat(1_000_000) }]);
    const events = JSON.stringify(fw.sent);
    assert.ok(events.length < 10_000, `events hold ${events.length} bytes`);
    assert.match(events, /task id is 1000000 characters long; the limit is 200/);
  });
});

describe('offers cannot be hoarded', () => {
  test('with the offer timeout, frameworks that never answer take turns with the one agent', async () => {
    h = await MasterHarness.start({ offerTimeout: 2 });
    const a = await h.agent();
    const idle = [await h.framework({ name: 'f1' }), await h.framework({ name: 'f2' }), await h.framework({ name: 'f3' })];
    h.master.allocateNow();
    runWithPings(h, 20_000, a);
    for (const fw of idle) assert.ok(fw.sent.some((e) => e.offers?.offers?.length), `${fw.record.info.name} was never offered anything`);
    assert.ok(idle.every((fw) => fw.sent.some((e) => e.rescind)), 'offers were rescinded');
  });
});
