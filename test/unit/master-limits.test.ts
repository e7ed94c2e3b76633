/**
 * The master's limits against abuse (master/limits.ts), in-process with a
 * manual clock: SUBSCRIBEs per second per principal, frameworks per
 * principal, tasks per framework. Each refusal is RESOURCE_EXHAUSTED and
 * names the limit and its flag; test/integration/fuzz.test.ts confirms the
 * size caps through real processes.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import type { Caller } from '../../lib/auth';
import type { Event, FrameworkInfo__Output, TaskStatus__Output } from '../../lib/proto';
import { MasterHarness, Recorder } from '../fixtures/master-harness';

let h: MasterHarness | undefined;
afterEach(() => {
  h?.stop();
  h = undefined;
});

/** A caller authenticated as `principal`. */
const as = (principal: string): Caller => ({ principal, peer: 'ipv4:127.0.0.1:1' });
const anonymous: Caller = { peer: 'ipv4:127.0.0.1:1' };

/** A SUBSCRIBE's refusal, as the framework's link saw it (throws if it was let through). */
async function refusal(harness: MasterHarness, caller: Caller, info: Partial<FrameworkInfo__Output> = {}) {
  const link = new Recorder<Event>();
  const full = { id: '', name: 'fw', user: '', roles: [], capabilities: [], hostname: '', labels: {}, ...info } as FrameworkInfo__Output;
  assert.equal(await harness.master.subscribe(link, full, caller), undefined, 'the SUBSCRIBE was let through');
  assert.ok(link.closed, 'the stream is closed');
  return errorOf(link.sent);
}

/** The first ERROR event among `events`, its message as a string. */
function errorOf(events: Event[]) {
  const e = events.find((x) => x.error)!.error!;
  return { ...e, message: e.message ?? '' };
}

describe('SUBSCRIBEs per second per principal', () => {
  test('a burst of 2 at rate 1/s: the third waits for a token, told how long, and the principals are apart', async () => {
    h = await MasterHarness.start({ limits: { subscribeRate: 1, subscribeBurst: 2 } });
    await h.framework({}, as('web'));
    const again = await h.framework({}, as('web'));
    const e = await refusal(h, as('web'));
    assert.equal(e.kind, 'RESOURCE_EXHAUSTED');
    assert.equal(e.fatal, true);
    assert.match(e.message, /principal "web": SUBSCRIBEs exceed 1 a second \(burst 2; --subscribe-rate, --subscribe-burst\); retry in 1\.0 s/);
    await h.framework({}, as('batch')); // another principal's bucket is full
    // Re-subscribing an existing framework takes from the rate too: a reconnect loop is what it bounds.
    assert.match((await refusal(h, as('web'), { id: again.id })).message, /retry in/);
    h.clock.advance(1000); // one token back
    await h.framework({ id: again.id }, as('web'));
  });

  test('anonymous callers share one allowance', async () => {
    h = await MasterHarness.start({ limits: { subscribeRate: 1, subscribeBurst: 1 } });
    await h.framework();
    assert.match((await refusal(h, anonymous)).message, /anonymous callers \(authentication is off\) together: SUBSCRIBEs exceed 1 a second/);
  });
});

describe('frameworks per principal', () => {
  test('a new framework beyond the limit is refused; re-subscribing is not; a teardown makes room', async () => {
    h = await MasterHarness.start({ limits: { maxFrameworksPerPrincipal: 2 } });
    const first = await h.framework({}, as('web'));
    await h.framework({}, as('web'));
    const e = await refusal(h, as('web'));
    assert.equal(e.kind, 'RESOURCE_EXHAUSTED');
    assert.equal(e.fatal, true);
    assert.match(e.message, /principal "web": 2 registered frameworks reach the limit of 2 per principal \(--max-frameworks-per-principal\)/);
    await h.framework({ id: first.id }, as('web')); // failover of an existing one
    await h.framework({}, as('batch'));
    await h.master.teardown(first.id, () => undefined);
    await h.framework({}, as('web'));
  });

  test('disconnected frameworks, within their failover timeout, still count', async () => {
    h = await MasterHarness.start({ limits: { maxFrameworksPerPrincipal: 1 } });
    const fw = await h.framework();
    h.master.frameworkDisconnected(fw.record, fw);
    assert.match((await refusal(h, anonymous)).message, /anonymous callers \(authentication is off\) together: 1 registered frameworks reach the limit of 1/);
    // A principal a caller names itself is no identity: it counts as anonymous still.
    assert.match((await refusal(h, anonymous, { principal: 'someone-else' })).message, /anonymous callers/);
  });
});

describe('tasks per framework', () => {
  test('an accept that would pass the limit launches nothing, each task TASK_ERROR naming it; room returns as tasks end', async () => {
    h = await MasterHarness.start({ limits: { maxTasksPerFramework: 3 } });
    const a = await h.agent();
    const fw = await h.framework();
    await h.launch(fw, [{ taskId: 't1' }, { taskId: 't2' }]);
    await h.launch(fw, [{ taskId: 't3' }, { taskId: 't4' }]); // 2 live + 2 > 3
    assert.equal(a.sent.filter((m) => m.runTasks).length, 1);
    const why = /framework \S+ has 2 live tasks and this accept would add 2; the limit is 3 per framework \(--max-tasks-per-framework\)/;
    for (const id of ['t3', 't4']) {
      const s: TaskStatus__Output = h.updates(fw, id).at(-1)!;
      assert.equal(s.state, 'TASK_ERROR');
      assert.match(s.message, why);
    }
    const error = errorOf(fw.sent);
    assert.equal(error.kind, 'RESOURCE_EXHAUSTED');
    assert.equal(error.fatal, false);
    assert.match(error.message, why);
    h.statusUpdate(a, { taskId: 't1', state: 'TASK_FINISHED', frameworkId: fw.id });
    await h.launch(fw, [{ taskId: 't3' }, { taskId: 't4' }]); // 1 live + 2 = 3
    assert.equal(a.sent.filter((m) => m.runTasks).length, 2);
  });

  test('the cap per accept is kept, refused as RESOURCE_EXHAUSTED', async () => {
    h = await MasterHarness.start();
    await h.agent({ cpus: 1000, mem: 1e6 });
    const fw = await h.framework();
    await h.launch(fw, Array.from({ length: 1001 }, (_, i) => ({ taskId: `t${i}` })));
    const error = errorOf(fw.sent);
    assert.equal(error.kind, 'RESOURCE_EXHAUSTED');
    assert.match(error.message, /accept holds 1001 tasks; the limit is 1000 per accept/);
  });
});
