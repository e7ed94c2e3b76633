/**
 * The SDK's connection logic against a fake master: a real grpc-js server
 * speaking the Scheduler service on loopback, scripted per test.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { NotLeaderError } from '../../lib/errors';
import { toServiceError } from '../../lib/grpc';
import { mezzProto, type Call__Output, type Event } from '../../lib/proto';
import { CallError, connectFramework, type Framework, type FrameworkErrorEvent, type SubscribedEvent, SubscribeError } from '../../frameworks/sdk';
import { quiet } from '../harness';

type Stream = grpc.ServerDuplexStream<Call__Output, Event>;


interface FakeMaster {
  address: string;
  calls: Call__Output[];
  streams: Stream[];
  /** Waits until a call matching `pred` arrived; returns it. */
  waitFor(pred: (c: Call__Output) => boolean, ms?: number): Promise<Call__Output>;
  close(): void;
}

/**
 * Answers SUBSCRIBE with SUBSCRIBED (keeping a given id, else `fw-1`), then
 * hands every call to `onCall`; `onSubscribe` may replace the default answer.
 */
async function fakeMaster(opts: {
  heartbeat?: number;
  onSubscribe?: (call: Call__Output, stream: Stream) => boolean | void;
  onCall?: (call: Call__Output, stream: Stream) => void;
} = {}): Promise<FakeMaster> {
  const calls: Call__Output[] = [];
  const streams: Stream[] = [];
  const server = new grpc.Server();
  server.addService(mezzProto().Scheduler.service, {
    Subscribe: (stream: Stream) => {
      streams.push(stream);
      stream.on('error', () => {});
      stream.on('data', (call: Call__Output) => {
        calls.push(call);
        if (call.call === 'subscribe') {
          if (opts.onSubscribe?.(call, stream)) return;
          const id = call.subscribe?.framework?.id || 'fw-1';
          stream.write({ subscribed: { frameworkId: id, heartbeatIntervalSeconds: opts.heartbeat ?? 0, masterId: 'm-1' } });
        }
        opts.onCall?.(call, stream);
      });
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  return {
    address: `127.0.0.1:${port}`,
    calls,
    streams,
    async waitFor(pred, ms = 3000) {
      const deadline = Date.now() + ms;
      for (;;) {
        const hit = calls.find(pred);
        if (hit) return hit;
        if (Date.now() > deadline) throw new Error(`no matching call within ${ms} ms; got ${calls.map((c) => c.call).join(', ')}`);
        await sleep(10);
      }
    },
    close: () => server.forceShutdown(),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function nextEvent<T extends unknown[]>(fw: Framework, name: 'subscribed' | 'disconnected' | 'error' | 'offers' | 'update', ms = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${name}' within ${ms} ms`)), ms);
    fw.once(name, (...args: unknown[]) => { clearTimeout(timer); resolve(args as T); });
  });
}

const open: { fw?: Framework; master?: FakeMaster }[] = [];
after(() => {
  for (const o of open) { o.fw?.close(); o.master?.close(); }
});

async function setup(master: FakeMaster, extra: Partial<Parameters<typeof connectFramework>[0]> = {}): Promise<Framework> {
  const fw = await connectFramework({ master: master.address, name: 'test', logger: quiet, ...extra });
  open.push({ fw, master });
  return fw;
}

describe('connectFramework', () => {
  it('subscribes with the framework info and learns its id', async () => {
    const m = await fakeMaster();
    const fw = await setup(m, { roles: ['dev'], failoverTimeout: '1h', capabilities: ['PARTITION_AWARE'] });
    assert.equal(fw.frameworkId, 'fw-1');
    assert.equal(fw.connected, true);
    const info = m.calls[0]!.subscribe!.framework!;
    assert.equal(info.name, 'test');
    assert.deepEqual(info.roles, ['dev']);
    assert.equal(info.failoverTimeout, 3600);
    assert.deepEqual(info.capabilities, ['PARTITION_AWARE']);
    assert.equal(info.id, '');
    fw.close();
  });

  it('delivers offers sent right behind SUBSCRIBED, and launches with the framework id', async () => {
    const m = await fakeMaster({
      onCall: (call, stream) => {
        if (call.call === 'subscribe') {
          stream.write({ offers: { offers: [{ id: 'o1', agentId: 'a1', resources: [{ name: 'cpus', scalar: 1 }] }] } });
        }
      },
    });
    const fw = await setup(m);
    const [offers] = await nextEvent<[{ id: string }[]]>(fw, 'offers');
    assert.deepEqual(offers.map((o) => o.id), ['o1']);
    assert.equal(fw.launch(offers[0]!, [{ taskId: 't1', agentId: 'a1' }], { refuseSeconds: 30 }), true);
    const accept = await m.waitFor((c) => c.call === 'accept');
    assert.equal(accept.frameworkId, 'fw-1');
    assert.deepEqual(accept.accept!.offerIds, ['o1']);
    assert.equal(accept.accept!.operations[0]!.launch!.taskInfos[0]!.taskId, 't1');
    assert.equal(accept.accept!.filters!.refuseSeconds, 30);
    fw.close();
  });

  it('acknowledges updates with a uuid after the listeners ran, and only those', async () => {
    const m = await fakeMaster({
      onCall: (call, stream) => {
        if (call.call !== 'subscribe') return;
        setTimeout(() => {
          stream.write({ update: { status: { taskId: 't1', agentId: 'a1', state: 'TASK_RUNNING', uuid: 'u1' } } });
          stream.write({ update: { status: { taskId: 't2', agentId: 'a1', state: 'TASK_RUNNING', uuid: '' } } });
        }, 20);
      },
    });
    const fw = await setup(m);
    const seen: string[] = [];
    fw.on('update', (s) => seen.push(`${s.taskId} ${s.state} acked-yet=${m.calls.some((c) => c.call === 'acknowledge')}`));
    const ack = await m.waitFor((c) => c.call === 'acknowledge');
    assert.deepEqual(ack.acknowledge, { agentId: 'a1', taskId: 't1', uuid: 'u1' });
    await sleep(100);
    assert.deepEqual(seen, ['t1 TASK_RUNNING acked-yet=false', 't2 TASK_RUNNING acked-yet=false']);
    assert.equal(m.calls.filter((c) => c.call === 'acknowledge').length, 1);
    fw.close();
  });

  it('does not acknowledge with autoAcknowledge: false', async () => {
    const m = await fakeMaster({
      onCall: (call, stream) => {
        if (call.call === 'subscribe') setTimeout(() => stream.write({ update: { status: { taskId: 't1', agentId: 'a1', uuid: 'u1' } } }), 20);
      },
    });
    const fw = await setup(m, { autoAcknowledge: false });
    await nextEvent(fw, 'update');
    await sleep(100);
    assert.equal(m.calls.some((c) => c.call === 'acknowledge'), false);
    fw.close();
  });

  it('reconnects after the stream breaks, re-subscribes with its id, drops offers calls and sends queued ones', async () => {
    let subscribes = 0;
    const m = await fakeMaster({
      onSubscribe: (call, stream) => {
        subscribes++;
        if (subscribes === 2) {
          // Refuse the first re-subscription by failing the stream: the SDK must back off and retry.
          stream.emit('error', { code: grpc.status.UNAVAILABLE, details: 'busy' });
          return true;
        }
      },
    });
    const fw = await setup(m, { backoff: { initialMs: 50, maxMs: 100 } });
    const disconnected = nextEvent<[string]>(fw, 'disconnected');
    m.streams[0]!.emit('error', { code: grpc.status.UNAVAILABLE, details: 'master stopping' }); // the master side goes away
    const [reason] = await disconnected;
    assert.equal(reason, 'UNAVAILABLE: master stopping');
    assert.equal(fw.connected, false);

    const errors: FrameworkErrorEvent[] = [];
    fw.on('error', (e) => errors.push(e));
    assert.equal(fw.decline(['o1']), false);
    fw.kill('t1', 'a1');
    const [sub] = await nextEvent<[{ resubscribed: boolean; frameworkId: string }]>(fw, 'subscribed');
    assert.equal(sub.resubscribed, true);
    assert.equal(sub.frameworkId, 'fw-1');
    assert.equal(subscribes, 3);
    assert.equal(m.calls.filter((c) => c.call === 'subscribe').at(-1)!.subscribe!.framework!.id, 'fw-1');
    const kill = await m.waitFor((c) => c.call === 'kill');
    assert.deepEqual([kill.frameworkId, kill.kill!.taskId], ['fw-1', 't1']);
    assert.equal(m.calls.some((c) => c.call === 'decline'), false);
    assert.deepEqual(errors.map((e) => [e.call, e.kind, e.fatal]), [['DECLINE', 'UNAVAILABLE', false]]);
    fw.close();
  });

  it('reconnects when heartbeats stop', async () => {
    // heartbeat 0.1 s → silence for 3 × 0.1 + 1 = 1.3 s ends the stream
    const m = await fakeMaster({ heartbeat: 0.1 });
    const fw = await setup(m, { backoff: { initialMs: 20, maxMs: 50 } });
    const t0 = Date.now();
    const [reason] = await nextEvent<[string]>(fw, 'disconnected', 4000);
    assert.match(reason, /heartbeat/);
    assert.ok(Date.now() - t0 >= 1200, `disconnected after ${Date.now() - t0} ms`);
    await nextEvent(fw, 'subscribed');
    fw.close();
  });

  it('follows the leader a standby names in its trailing metadata, whatever its message says', async () => {
    const leader = await fakeMaster();
    const standby = await fakeMaster({
      onSubscribe: (_call, stream) => {
        // The address only in metadata: the SDK must not read it out of the text.
        stream.emit('error', toServiceError(new NotLeaderError('standby here; ask elsewhere', leader.address)));
        return true;
      },
    });
    const fw = await connectFramework({ master: standby.address, name: 'test', logger: quiet });
    open.push({ fw, master: leader }, { master: standby });
    assert.equal(fw.master, leader.address);
    assert.equal(leader.calls[0]!.call, 'subscribe');
    fw.close();
  });

  it('tries the masters in turn', async () => {
    const m = await fakeMaster();
    const fw = await connectFramework({ master: ['127.0.0.1:1', m.address], name: 'test', logger: quiet, backoff: { initialMs: 20 } });
    open.push({ fw, master: m });
    assert.equal(fw.master, m.address);
    fw.close();
  });

  it('rejects when the master refuses the framework with a fatal error', async () => {
    const m = await fakeMaster({
      onSubscribe: (_call, stream) => {
        stream.write({ error: { message: 'framework fw-9 was removed', fatal: true, call: 'SUBSCRIBE', kind: 'FRAMEWORK_REMOVED' } });
        return true;
      },
    });
    open.push({ master: m });
    await assert.rejects(connectFramework({ master: m.address, name: 'test', frameworkId: 'fw-9', logger: quiet }),
      (e: unknown) => e instanceof SubscribeError && /fw-9 was removed/.test(e.message) && e.kind === 'FRAMEWORK_REMOVED');
  });

  it('retries, with backoff, a SUBSCRIBE refused for a limit (RESOURCE_EXHAUSTED) instead of stopping', async () => {
    let refusals = 2;
    const m = await fakeMaster({
      onSubscribe: (_call, stream) => {
        if (refusals-- <= 0) return false;
        stream.write({ error: { message: 'SUBSCRIBEs exceed 10 a second; retry in 100 ms', fatal: true, call: 'SUBSCRIBE', kind: 'RESOURCE_EXHAUSTED' } });
        stream.end();
        return true;
      },
    });
    open.push({ master: m });
    const fw = await connectFramework({ master: m.address, name: 'test', logger: quiet, backoff: { initialMs: 20 }, connectTimeout: '5s' });
    open.push({ fw });
    assert.equal(fw.connected, true);
    assert.equal(m.calls.filter((c) => c.call === 'subscribe').length, 3);
  });

  it('stops reconnecting after a fatal error event', async () => {
    const m = await fakeMaster();
    const fw = await setup(m);
    const err = nextEvent<[FrameworkErrorEvent]>(fw, 'error');
    m.streams[0]!.write({ error: { message: 'torn down by operator', fatal: true, kind: 'FAILED_PRECONDITION' } });
    const [e] = await err;
    assert.equal(e.fatal, true);
    assert.equal(fw.connected, false);
    await sleep(400);
    assert.equal(m.calls.filter((c) => c.call === 'subscribe').length, 1);
    assert.throws(() => fw.kill('t1'), /closed/);
  });

  it('rejects after connectTimeout when no master answers', async () => {
    const t0 = Date.now();
    await assert.rejects(
      connectFramework({ master: '127.0.0.1:1', name: 'test', logger: quiet, connectTimeout: '500ms', backoff: { initialMs: 50 } }),
      (e: unknown) => e instanceof SubscribeError && /127\.0\.0\.1:1/.test(e.message) && /UNAVAILABLE/.test(e.message));
    assert.ok(Date.now() - t0 < 2000);
  });

  it('emits the first subscribed after connectFramework resolved, before the held offers, with resubscribed for a given id', async () => {
    const m = await fakeMaster({
      onCall: (call, stream) => {
        if (call.call === 'subscribe') stream.write({ offers: { offers: [{ id: 'o1', agentId: 'a1', resources: [] }] } });
      },
    });
    const fw = await setup(m, { frameworkId: 'fw-7' });
    assert.equal(fw.subscription, undefined); // not emitted yet: the listener below must see it
    const seen: string[] = [];
    fw.on('subscribed', () => seen.push('subscribed'));
    fw.on('offers', () => seen.push('offers'));
    const [s] = await nextEvent<[SubscribedEvent]>(fw, 'subscribed', 3000);
    assert.equal(s.resubscribed, true);
    assert.equal(s.frameworkId, 'fw-7');
    assert.equal(fw.subscription, s);
    for (const deadline = Date.now() + 3000; seen.length < 2 && Date.now() < deadline;) await sleep(10);
    assert.deepEqual(seen, ['subscribed', 'offers']);
    fw.close();
  });

  it('reconcileTasks resends for unanswered tasks, across a reconnect, and names those never answered', async () => {
    let reconciles = 0;
    const m = await fakeMaster({
      onCall: (call, stream) => {
        if (call.call !== 'reconcile') return;
        // t1 is answered only on the third RECONCILE; t2 never (like a task on a recovering agent).
        if (++reconciles === 3) stream.write({ update: { status: { taskId: 't1', agentId: 'a1', state: 'TASK_RUNNING', reason: 'REASON_RECONCILIATION' } } });
        if (reconciles === 2) stream.emit('error', { code: grpc.status.UNAVAILABLE, details: 'master stopping' });
      },
    });
    const fw = await setup(m, { backoff: { initialMs: 20, maxMs: 50 } });
    const t0 = Date.now();
    const r = await fw.reconcileTasks([{ taskId: 't1' }, { taskId: 't2', agentId: 'a2' }], { timeout: '2s', backoff: { initialMs: 50, maxMs: 100 } });
    assert.ok(Date.now() - t0 >= 1900, 'waited for the timeout: t2 was never answered');
    assert.deepEqual([...r.statuses.keys()], ['t1']);
    assert.equal(r.statuses.get('t1')!.state, 'TASK_RUNNING');
    assert.deepEqual(r.unanswered, ['t2']);
    assert.ok(m.calls.filter((c) => c.call === 'subscribe').length >= 2, 'reconnected in between');
    // After t1's answer only t2 is asked about.
    const last = m.calls.filter((c) => c.call === 'reconcile').at(-1)!;
    assert.deepEqual(last.reconcile!.tasks.map((t) => [t.taskId, t.agentId]), [['t2', 'a2']]);
    fw.close();
  });

  it('updateFramework resolves when the master handled it, rejects its refusal, and re-subscribes with the new info', async () => {
    const m = await fakeMaster({
      onCall: (call, stream) => {
        if (call.call === 'updateFramework' && call.updateFramework!.framework!.roles.includes('bad role')) {
          stream.write({ error: { message: 'role "bad role" is invalid', fatal: false, call: 'UPDATE_FRAMEWORK', kind: 'INVALID' } });
        }
        if (call.call === 'reconcile') {
          // The master answers a task on an unknown agent with TASK_LOST, in call order.
          for (const t of call.reconcile!.tasks) stream.write({ update: { status: { taskId: t.taskId, agentId: t.agentId, state: 'TASK_LOST', reason: 'REASON_RECONCILIATION' } } });
        }
      },
    });
    const fw = await setup(m, { backoff: { initialMs: 20, maxMs: 50 } });
    const updates: string[] = [];
    fw.on('update', (s) => updates.push(s.taskId));
    await fw.updateFramework({ roles: ['dev'], failoverTimeout: '2h' });
    const sent = (await m.waitFor((c) => c.call === 'updateFramework')).updateFramework!.framework!;
    assert.deepEqual([sent.id, sent.roles, sent.failoverTimeout, sent.name], ['fw-1', ['dev'], 7200, 'test']);
    await assert.rejects(fw.updateFramework({ roles: ['bad role'] }),
      (e: unknown) => e instanceof CallError && e.kind === 'INVALID' && e.call === 'UPDATE_FRAMEWORK' && /bad role/.test(e.message));
    assert.deepEqual(updates, [], 'the probes behind UPDATE_FRAMEWORK are not emitted');

    const again = nextEvent(fw, 'subscribed');
    m.streams.at(-1)!.emit('error', { code: grpc.status.UNAVAILABLE, details: 'master stopping' });
    await again;
    const info = m.calls.filter((c) => c.call === 'subscribe').at(-1)!.subscribe!.framework!;
    assert.deepEqual([info.roles, info.failoverTimeout], [['dev'], 7200]);
    fw.close();
    assert.throws(() => fw.updateFramework({ roles: ['x'] }), /closed/);
  });

  it('teardown sends TEARDOWN and closes', async () => {
    const m = await fakeMaster({ onCall: (call, stream) => { if (call.call === 'teardown') stream.end(); } });
    const fw = await setup(m);
    await fw.teardown();
    const td = await m.waitFor((c) => c.call === 'teardown');
    assert.equal(td.frameworkId, 'fw-1');
    assert.equal(fw.connected, false);
    await fw.teardown(); // idempotent
  });
});
