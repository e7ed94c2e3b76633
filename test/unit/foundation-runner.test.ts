/**
 * FrameworkRunner in-process: two instances on one embedded election and
 * store, with a fake SDK connection that records what each was asked to
 * subscribe with. The same story on real processes, a real master and etcd
 * is test/integration/foundation-ha.test.ts.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EmbeddedElection } from '../../lib/election-embedded';
import { EmbeddedStore } from '../../lib/store-embedded';
import { SubscribeError, type Framework, type FrameworkOptions } from '../../frameworks/sdk';
import { FrameworkRunner, FRAMEWORK_ID_KEY, LeadershipLostError, type LeaderContext } from '../../frameworks/foundation';
import { waitFor } from '../harness';

/** What a fake master knows: the ids it issued, the ones it removed, every subscription made. */
class FakeMaster {
  issued = 0;
  removed = new Set<string>();
  subscriptions: { options: FrameworkOptions; framework: FakeFramework }[] = [];
  connect = async (options: FrameworkOptions): Promise<Framework> => {
    if (options.frameworkId && this.removed.has(options.frameworkId)) throw new SubscribeError(`framework ${options.frameworkId} was removed`, 'FRAMEWORK_REMOVED');
    const framework = new FakeFramework(options.frameworkId ?? `fw-${++this.issued}`);
    this.subscriptions.push({ options, framework });
    return framework as unknown as Framework;
  };
}

/** The part of Framework a runner and these tests use. */
class FakeFramework extends EventEmitter {
  closed = false;
  launches = 0;
  constructor(readonly frameworkId: string) {
    super();
  }
  close(): void {
    this.closed = true;
  }
  launch(): boolean {
    if (this.closed) throw new Error('closed');
    this.launches++;
    return true;
  }
}

function setup(t: TestContext) {
  const dir = mkdtempSync(path.join(tmpdir(), 'mezz-runner-'));
  const store = new EmbeddedStore(dir);
  const election = new EmbeddedElection();
  const master = new FakeMaster();
  const runners: FrameworkRunner[] = [];
  t.after(async () => {
    for (const r of runners) await r.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const runner = (advertise: string, lead: (ctx: LeaderContext) => void | Promise<void>) => {
    const r = new FrameworkRunner({ name: 'services', cluster: 'test', store, election, advertise, connect: master.connect, lead, random: () => 0, ...(process.env.DEBUG_RUNNER ? { logger: console } : {}) });
    runners.push(r);
    return r;
  };
  return { store, master, runner };
}

test('one instance leads and subscribes with webui_url; the other stands by knowing the leader; on abdication the other re-subscribes with the same id', async (t) => {
  const { store, master, runner } = setup(t);
  const led: { who: string; ctx: LeaderContext }[] = [];
  const a = runner('a:8080', (ctx) => void led.push({ who: 'a', ctx }));
  const b = runner('b:8080', (ctx) => void led.push({ who: 'b', ctx }));
  await a.start();
  await waitFor('a to lead', () => led.length === 1);
  await b.start();
  assert.equal(led[0]!.who, 'a');
  assert.equal(led[0]!.ctx.failover, false, 'a first leader registers anew');
  assert.deepEqual(master.subscriptions.map((s) => [s.options.name, s.options.frameworkId, s.options.webuiUrl]), [['services', undefined, 'http://a:8080']]);
  assert.equal((await store.get('/mezzanine/test/frameworks/services/runner/framework-id'))?.value, 'fw-1', 'the id is kept under the runner prefix');
  assert.equal(FRAMEWORK_ID_KEY, 'framework-id');
  assert.ok(a.isLeader() && !b.isLeader());
  assert.equal(a.leaderAddress(), 'a:8080');
  assert.equal(b.leaderAddress(), 'a:8080', 'the standby knows where to proxy');
  assert.equal(await b.abdicate(), false, 'a standby has nothing to give up');

  const first = led[0]!.ctx;
  await first.state.put('apps/web', { instances: 2 });
  assert.equal(await a.abdicate(), true);
  // The loss is acted on in the turn it is learned: the signal is aborted and the subscription closed.
  assert.ok(first.signal.aborted);
  assert.ok(first.signal.reason instanceof LeadershipLostError);
  assert.ok(master.subscriptions[0]!.framework.closed);
  assert.throws(() => (first.framework as unknown as FakeFramework).launch(), /closed/, 'no launch after the loss');
  await assert.rejects(first.state.put('apps/web', { instances: 9 }), (err: unknown) => err instanceof LeadershipLostError && err.message === 'this instance no longer leads (resigned): its state write was refused');

  await waitFor('b to lead', () => led.length === 2);
  assert.equal(led[1]!.who, 'b');
  assert.equal(led[1]!.ctx.failover, true);
  assert.equal(master.subscriptions[1]!.options.frameworkId, 'fw-1', 'the next leader re-subscribes with the stored id');
  assert.equal(master.subscriptions[1]!.options.webuiUrl, 'http://b:8080');
  assert.deepEqual(await led[1]!.ctx.state.get('apps/web'), { instances: 2 }, 'the next leader reads what the last one wrote');
  assert.equal(b.leaderAddress(), 'b:8080');
  await waitFor('a to see b lead', () => a.leaderAddress() === 'b:8080' && !a.isLeader());
});

test('a stored id the master removed is replaced by a new registration', async (t) => {
  const { store, master, runner } = setup(t);
  await store.put('/mezzanine/test/frameworks/services/runner/framework-id', 'fw-old');
  master.removed.add('fw-old');
  const led: LeaderContext[] = [];
  await runner('a:1', (ctx) => void led.push(ctx)).start();
  await waitFor('a to lead', () => led.length === 1);
  assert.equal(led[0]!.framework.frameworkId, 'fw-1');
  assert.equal(led[0]!.failover, false);
  assert.equal((await store.get('/mezzanine/test/frameworks/services/runner/framework-id'))?.value, 'fw-1');
});

test('a fatal SDK error (another instance took the subscription over) or a failing lead gives the leadership up', async (t) => {
  const { master, runner } = setup(t);
  const led: { who: string; ctx: LeaderContext }[] = [];
  let failOnce = true;
  const a = runner('a:1', (ctx) => void led.push({ who: 'a', ctx }));
  const b = runner('b:1', async (ctx) => {
    led.push({ who: 'b', ctx });
    if (failOnce) {
      failOnce = false;
      throw new Error('cannot load state');
    }
  });
  await a.start();
  await waitFor('a to lead', () => led.length === 1);
  await b.start();
  master.subscriptions[0]!.framework.emit('error', { message: 'framework fw-1 failed over to another connection', fatal: true, call: '', kind: 'FRAMEWORK_FAILED_OVER' });
  // b leads, its lead throws: it gives up, and a (campaigning again) leads — each with the same id.
  await waitFor('b, then a again, to lead', () => led.length === 3);
  assert.deepEqual(led.map((l) => l.who), ['a', 'b', 'a']);
  assert.ok(master.subscriptions[0]!.framework.closed);
  assert.ok(master.subscriptions[1]!.framework.closed, 'the failed leader closed its subscription');
  assert.ok(led[1]!.ctx.signal.aborted);
  assert.deepEqual(master.subscriptions.map((s) => s.options.frameworkId), [undefined, 'fw-1', 'fw-1']);
});

test('stop() ends the leadership without tearing the framework down, and stops campaigning', async (t) => {
  const { master, runner } = setup(t);
  const led: LeaderContext[] = [];
  const a = runner('a:1', (ctx) => void led.push(ctx));
  await a.start();
  await waitFor('a to lead', () => led.length === 1);
  await a.stop();
  assert.ok(led[0]!.signal.aborted);
  assert.ok(master.subscriptions[0]!.framework.closed);
  assert.equal(a.isLeader(), false);
  assert.equal(master.subscriptions.length, 1, 'no new subscription after stop');
});
