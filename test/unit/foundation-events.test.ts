/**
 * The event stream (frameworks/foundation/events.ts, events-http.ts): the
 * EventBus with a recording sink, then `GET /v2/events` on a real API on an
 * OS-chosen port, read by a real HTTP client frame by frame — filters,
 * heartbeats, a slow client cut off, a gone client unsubscribed, 401/403,
 * 406, 400, 429, TLS, shutdown, and through a standby's proxyToLeader.
 */
import assert from 'node:assert/strict';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { describe, it, test, type TestContext } from 'node:test';
import { Acls, Authenticator, loadTls } from '../../lib/auth';
import { LimitExceededError } from '../../lib/errors';
import {
  acceptsEventStream, addEventRoutes, createApi, EventBus, type EventBusOptions, type EventSink, proxyToLeader, type ErrorBody,
} from '../../frameworks/foundation';
import { testTls } from '../fixtures/tls';

const OPS = 'ops-secret-0123456789';
const WEB = 'web-secret-0123456789';
const authenticator = new Authenticator([{ principal: 'ops', secret: OPS }, { principal: 'web', secret: WEB }]);
// ops may do everything; web may read only apps under /web/, so not the stream (services:*).
const acls = Acls.parse(JSON.stringify({
  rules: [
    { principals: ['ops'], actions: '*', objects: '*' },
    { principals: ['web'], actions: ['framework_read'], objects: ['services:/web/*'] },
  ],
}), 'acls.json');
const quiet = { debug() {}, info() {}, warn() {}, error() {} } as never;
const NOW = new Date('2026-11-28T12:00:00.000Z');

/** A sink that keeps what it is given; `pending` is set by the test to play a slow client. */
function recorder() {
  const sink = { pending: 0, frames: [] as string[], last: undefined as string | undefined };
  const asSink: EventSink = {
    get pending() {
      return sink.pending;
    },
    write: (frame) => void sink.frames.push(frame),
    end: (frame) => void (sink.last = frame),
  };
  return { sink, asSink };
}

describe('EventBus', () => {
  it('stamps eventType and timestamp into the JSON and frames it as Marathon does; the attached event comes first', () => {
    const bus = new EventBus({ now: () => NOW });
    const { sink, asSink } = recorder();
    bus.subscribe(asSink, { remoteAddress: '10.0.0.1' });
    bus.publish('status_update_event', { taskId: 't1', taskStatus: 'TASK_RUNNING', eventType: 'forged', timestamp: 'forged' });
    assert.deepEqual(sink.frames, [
      'event: event_stream_attached\ndata: {"remoteAddress":"10.0.0.1","eventType":"event_stream_attached","timestamp":"2026-11-28T12:00:00.000Z"}\n\n',
      'event: status_update_event\ndata: {"taskId":"t1","taskStatus":"TASK_RUNNING","eventType":"status_update_event","timestamp":"2026-11-28T12:00:00.000Z"}\n\n',
    ]);
  });

  it('a subscriber with types hears only those; without, everything', () => {
    const bus = new EventBus({ now: () => NOW });
    const only = recorder();
    const all = recorder();
    bus.subscribe(only.asSink, { types: new Set(['deployment_info', 'no_such_event']) });
    bus.subscribe(all.asSink);
    for (const type of ['api_post_event', 'deployment_info', 'status_update_event']) bus.publish(type, {});
    const types = (frames: string[]) => frames.map((f) => /^event: (\w+)/.exec(f)![1]);
    assert.deepEqual(types(only.sink.frames), ['deployment_info']);
    assert.deepEqual(types(all.sink.frames), ['event_stream_attached', 'api_post_event', 'deployment_info', 'status_update_event']);
  });

  it('refuses a malformed event type and bad limits, naming the rule', () => {
    const bus = new EventBus();
    assert.throws(() => bus.publish('Status Update', {}), /event type "Status Update" is not valid: lower-case letters, digits and _/);
    assert.throws(() => new EventBus({ maxSubscribers: 0 }), /maxSubscribers must be a whole number >= 1, got 0/);
  });

  it('a subscriber more than maxBufferedBytes behind is ended with a comment saying why; the others hear it detached', () => {
    const bus = new EventBus({ maxBufferedBytes: 100 });
    const slow = recorder();
    const fast = recorder();
    bus.subscribe(slow.asSink, { remoteAddress: 'slow' });
    bus.subscribe(fast.asSink, { remoteAddress: 'fast' });
    slow.sink.pending = 101; // the client has not read 101 bytes
    bus.publish('api_post_event', {});
    assert.equal(slow.sink.last, ': disconnected: this client read too slowly (101 bytes unread, the limit is 100); reconnect and read the state afresh\n\n');
    assert.deepEqual([bus.size, bus.slowDisconnects], [1, 1]);
    assert.match(fast.sink.frames.at(-1)!, /^event: event_stream_detached\ndata: \{"remoteAddress":"slow"/);
    const before = slow.sink.frames.length;
    bus.publish('api_post_event', {});
    assert.equal(slow.sink.frames.length, before, 'nothing is written after the end');
  });

  it('at most maxSubscribers; a gone one frees its place and is announced detached; closeAll ends every stream', () => {
    const bus = new EventBus({ maxSubscribers: 2 });
    const [a, b, c] = [recorder(), recorder(), recorder()];
    const subA = bus.subscribe(a.asSink, { remoteAddress: 'a' });
    bus.subscribe(b.asSink);
    assert.throws(() => bus.subscribe(c.asSink), (err: unknown) => err instanceof LimitExceededError && /already has 2 subscribers, its limit \(2\)/.test(err.message));
    subA.unsubscribe();
    subA.unsubscribe(); // idempotent: announced once
    assert.equal(b.sink.frames.filter((f) => f.startsWith('event: event_stream_detached')).length, 1);
    bus.subscribe(c.asSink);
    bus.closeAll('this instance stopped leading; reconnect');
    assert.equal(bus.size, 0);
    assert.deepEqual([b.sink.last, c.sink.last], [': this instance stopped leading; reconnect\n\n', ': this instance stopped leading; reconnect\n\n']);
    assert.equal(a.sink.last, undefined, 'a client that went away is not written to');
  });
});

test('acceptsEventStream: no Accept, event-stream, text/* and */* do; others, or event-stream with q=0, do not', () => {
  const cases: [string | undefined, boolean][] = [
    [undefined, true], ['', true], ['text/event-stream', true], ['application/json, text/*;q=0.5', true], ['*/*', true],
    ['TEXT/Event-Stream; charset=utf-8', true], ['application/json', false], ['text/event-stream;q=0, */*', false], ['*/*;q=0', false],
  ];
  for (const [accept, want] of cases) assert.equal(acceptsEventStream(accept), want, String(accept));
});

// ─── over HTTP ──────────────────────────────────────────────────────────────

interface Frame {
  event?: string;
  data?: Record<string, unknown>;
  comment?: string;
}

/**
 * Reads a response's SSE frames as they come; `until` waits, with a
 * deadline, for what the test expects: checked on every chunk, and every
 * 20 ms for conditions outside the stream (the bus's size).
 */
class SseReader {
  readonly frames: Frame[] = [];
  ended = false;
  #rest = '';
  #wake = new Set<() => void>();

  constructor(readonly res: IncomingMessage) {}

  /** Starts reading (a test that plays a slow client calls it late). */
  read(): this {
    this.res.setEncoding('utf8');
    this.res.on('data', (chunk: string) => {
      this.#rest += chunk;
      for (let i = this.#rest.indexOf('\n\n'); i >= 0; i = this.#rest.indexOf('\n\n')) {
        this.frames.push(parseFrame(this.#rest.slice(0, i)));
        this.#rest = this.#rest.slice(i + 2);
      }
      this.#notify();
    });
    this.res.on('close', () => {
      this.ended = true;
      this.#notify();
    });
    return this;
  }

  events(): string[] {
    return this.frames.flatMap((f) => (f.event ? [f.event] : []));
  }

  async until<T>(what: string, found: () => T, timeoutMs = 15_000): Promise<NonNullable<T>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = found();
      if (v) return v;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last frames: ${JSON.stringify(this.frames.slice(-5)).slice(0, 2000)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 20));
        this.#wake.add(() => (clearTimeout(timer), resolve()));
      });
    }
  }

  #notify() {
    const all = [...this.#wake];
    this.#wake.clear();
    for (const wake of all) wake();
  }
}

function parseFrame(text: string): Frame {
  const frame: Frame = {};
  for (const line of text.split('\n')) {
    if (line.startsWith(':')) frame.comment = line.slice(1).trim();
    else if (line.startsWith('event: ')) frame.event = line.slice(7);
    else if (line.startsWith('data: ')) frame.data = JSON.parse(line.slice(6)) as Record<string, unknown>;
  }
  return frame;
}

interface Served {
  base: string;
  bus: EventBus;
  port: number;
  close(): Promise<void>;
}

/** The services API with the event stream on a free loopback port, closed after the test. */
async function serveEvents(t: TestContext, opts: { bus?: EventBusOptions; heartbeatMs?: number; tls?: boolean } = {}): Promise<Served> {
  const bus = new EventBus({ now: () => NOW, ...opts.bus });
  const tls = opts.tls ? loadTls(testTls().node)! : undefined;
  const api = createApi({ name: 'services', log: quiet, authenticator, acls, ...(tls ? { tls } : {}) });
  addEventRoutes(api, bus, { heartbeatMs: opts.heartbeatMs ?? 60_000 });
  const base = await api.listen('127.0.0.1', 0);
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await api.close();
  };
  t.after(close);
  return { base, bus, port: (api.server.server.address() as AddressInfo).port, close };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** GET a stream with node's client (so the test decides when it reads); aborted after the test. */
async function openStream(t: TestContext, url: string, headers: Record<string, string> = bearer(OPS), opts: { read?: boolean; tls?: boolean } = {}) {
  const files = testTls().node;
  const tlsOpts = opts.tls ? { ca: readFileSync(files.tlsCa), cert: readFileSync(files.tlsCert), key: readFileSync(files.tlsKey) } : {};
  const get = opts.tls ? https.get : http.get;
  const req = get(url, { headers: { accept: 'text/event-stream', ...headers }, agent: false, ...tlsOpts });
  t.after(() => void req.destroy());
  const res = await new Promise<IncomingMessage>((resolve, reject) => req.on('response', resolve).on('error', reject));
  const reader = new SseReader(res);
  if (opts.read !== false) reader.read();
  return { req, res, reader };
}

/** A plain request whose answer is not a stream (refusals). */
async function refused(url: string, headers: Record<string, string>) {
  const res = await fetch(url, { headers });
  return { status: res.status, headers: res.headers, body: (await res.json()) as ErrorBody };
}

test('GET /v2/events: 200 text/event-stream at once; attached first, then what is published, as Marathon\'s frames', async (t) => {
  const { base, bus } = await serveEvents(t);
  const { res, reader } = await openStream(t, `${base}/v2/events`);
  assert.equal(res.statusCode, 200);
  assert.equal(res.headers['content-type'], 'text/event-stream; charset=utf-8');
  assert.equal(res.headers['cache-control'], 'no-cache, no-store');
  const attached = await reader.until('the attached event', () => reader.frames[0]);
  assert.deepEqual(attached, { event: 'event_stream_attached', data: { remoteAddress: '127.0.0.1', eventType: 'event_stream_attached', timestamp: NOW.toISOString() } });
  bus.publish('deployment_success', { id: 'd-1' });
  const got = await reader.until('the published event', () => reader.frames[1]);
  assert.deepEqual(got, { event: 'deployment_success', data: { id: 'd-1', eventType: 'deployment_success', timestamp: NOW.toISOString() } });
});

test('event_type filters, repeatable; an unknown type is fine; a malformed one, or too many, is 400 naming event_type', async (t) => {
  const { base, bus } = await serveEvents(t);
  const two = (await openStream(t, `${base}/v2/events?event_type=status_update_event&event_type=deployment_info`)).reader;
  const unknown = (await openStream(t, `${base}/v2/events?event_type=no_such_event`)).reader;
  const all = (await openStream(t, `${base}/v2/events`)).reader;
  await all.until('three attached', () => bus.size === 3 && all.events().includes('event_stream_attached'));
  for (const type of ['api_post_event', 'status_update_event', 'group_change_success', 'deployment_info']) bus.publish(type, {});
  // Frames arrive in the order written: once the last one is here, every earlier one is too.
  await two.until('deployment_info', () => two.events().includes('deployment_info'));
  assert.deepEqual(two.events(), ['status_update_event', 'deployment_info']);
  bus.publish('no_such_event', {});
  await unknown.until('no_such_event', () => unknown.events().length);
  assert.deepEqual(unknown.events(), ['no_such_event']);
  await all.until('everything', () => all.events().includes('no_such_event'));
  assert.deepEqual(all.events().filter((e) => e !== 'event_stream_attached'), ['api_post_event', 'status_update_event', 'group_change_success', 'deployment_info', 'no_such_event']);

  const bad = await refused(`${base}/v2/events?event_type=deployment_info&event_type=Status-Update`, { accept: 'text/event-stream', ...bearer(OPS) });
  assert.equal(bad.status, 400);
  assert.deepEqual(bad.body, {
    message: 'Query string is not valid',
    details: [{ path: '/event_type', errors: ['"Status-Update" is not an event type: lower-case letters, digits and _, starting with a letter, at most 64 (e.g. status_update_event)'] }],
  });
  const comma = await refused(`${base}/v2/events?event_type=a,b`, bearer(OPS));
  assert.match(comma.body.details![0]!.errors[0]!, /^"a,b" is not an event type: .*; give each type its own event_type parameter$/);
  const many = await refused(`${base}/v2/events?${Array.from({ length: 33 }, (_, i) => `event_type=e${i}`).join('&')}`, bearer(OPS));
  assert.deepEqual([many.status, many.body.details![0]!.errors], [400, ['33 event types given; at most 32']]);
});

test('a heartbeat comment every heartbeatMs, also to a subscriber whose filter lets nothing through', async (t) => {
  const { base } = await serveEvents(t, { heartbeatMs: 50 });
  const { reader } = await openStream(t, `${base}/v2/events?event_type=no_such_event`);
  await reader.until('two heartbeats', () => reader.frames.filter((f) => f.comment === 'heartbeat').length >= 2);
  assert.deepEqual(reader.events(), []);
});

test('a client that stops reading is disconnected once maxBufferedBytes are unread, with a last comment saying why; others carry on', async (t) => {
  const cap = 64 * 1024;
  const { base, bus } = await serveEvents(t, { bus: { maxBufferedBytes: cap } });
  const slow = await openStream(t, `${base}/v2/events`, bearer(OPS), { read: false });
  const fast = (await openStream(t, `${base}/v2/events?event_type=big_event&event_type=event_stream_detached`)).reader;
  await fast.until('both subscribed', () => bus.size === 2);
  // 16 KiB events, each read by the fast client before the next: only the slow one falls behind (loopback's socket buffers first).
  const payload = { blob: 'x'.repeat(16 * 1024) };
  for (let i = 0; bus.slowDisconnects === 0; i++) {
    if (i > 20_000) assert.fail('the slow client was never disconnected');
    bus.publish('big_event', { i, ...payload });
    const got = await fast.until(`event ${i}`, () => fast.frames.findLast((f) => f.event === 'big_event' && f.data!.i === i));
    delete got.data!.blob; // memory stays flat however large loopback's socket buffers are
  }
  assert.equal(bus.size, 1, 'the slow one is gone at once');
  await fast.until('the detached event', () => fast.events().includes('event_stream_detached'));

  slow.reader.read(); // now it reads what was sent before the end, then the reason, then the end
  await slow.reader.until('the end of the stream', () => slow.reader.ended);
  const last = slow.reader.frames.at(-1)!;
  const m = /^disconnected: this client read too slowly \((\d+) bytes unread, the limit is 65536\); reconnect and read the state afresh$/.exec(last.comment ?? '');
  assert.ok(m, `last frame: ${JSON.stringify(last)}`);
  // Bounded: never more than the cap and the one frame that crossed it.
  assert.ok(Number(m[1]) <= cap + 17 * 1024, `${m[1]} bytes were held`);
  const seen = slow.reader.frames.flatMap((f) => (f.event === 'big_event' ? [f.data!.i] : []));
  assert.deepEqual(seen, seen.map((_, i) => i), 'what it did get is in order, without gaps');
  // The fast one is still subscribed and hears on.
  bus.publish('big_event', { i: -1 });
  await fast.until('an event after the disconnect', () => fast.frames.at(-1)?.data?.i === -1);
});

test('a client that disconnects is unsubscribed at once, and the others hear it detached', async (t) => {
  const { base, bus } = await serveEvents(t);
  const watcher = (await openStream(t, `${base}/v2/events?event_type=event_stream_detached`)).reader;
  const gone = await openStream(t, `${base}/v2/events`);
  await gone.reader.until('attached', () => gone.reader.events().includes('event_stream_attached'));
  assert.equal(bus.size, 2);
  gone.req.destroy();
  await watcher.until('the detached event', () => watcher.events().includes('event_stream_detached'));
  assert.equal(bus.size, 1);
  // Repeatedly: no subscriber is left behind by a client that came and went.
  for (let i = 0; i < 20; i++) {
    const c = await openStream(t, `${base}/v2/events`);
    await c.reader.until('attached', () => c.reader.frames.length);
    c.req.destroy();
  }
  await watcher.until('every one detached', () => watcher.events().length === 21);
  assert.equal(bus.size, 1);
});

test('authenticated and authorized as every route: 401 without a token, 403 without framework_read on services:*', async (t) => {
  const { base, bus } = await serveEvents(t);
  const none = await refused(`${base}/v2/events`, { accept: 'text/event-stream' });
  assert.equal(none.status, 401);
  assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="services"');
  const web = await refused(`${base}/v2/events`, { accept: 'text/event-stream', ...bearer(WEB) });
  assert.equal(web.status, 403);
  assert.match(web.body.message, /^principal web may not framework_read on "services:\*" \(GET \/v2\/events\)/);
  assert.equal(bus.size, 0, 'nobody was subscribed');
});

test('an Accept without text/event-stream is 406 in the foundation\'s error shape; a full bus is 429 naming the limit', async (t) => {
  const { base, bus } = await serveEvents(t, { bus: { maxSubscribers: 1 } });
  const json = await refused(`${base}/v2/events`, { accept: 'application/json', ...bearer(OPS) });
  assert.equal(json.status, 406);
  assert.deepEqual(json.body, {
    message: 'GET /v2/events answers only text/event-stream (server-sent events), which Accept: "application/json" does not allow; send Accept: text/event-stream',
  });
  const first = await openStream(t, `${base}/v2/events`, { ...bearer(OPS), accept: '*/*' });
  await first.reader.until('attached', () => first.reader.frames.length);
  const full = await refused(`${base}/v2/events`, { accept: 'text/event-stream', ...bearer(OPS) });
  assert.deepEqual([full.status, full.body.message], [429, 'the event stream already has 1 subscribers, its limit (1); close one or retry later']);
  assert.equal(bus.size, 1);
});

test('over the API\'s TLS: the stream is https with a client certificate', async (t) => {
  const { port, bus } = await serveEvents(t, { tls: true });
  const { res, reader } = await openStream(t, `https://127.0.0.1:${port}/v2/events`, bearer(OPS), { tls: true });
  assert.equal(res.statusCode, 200);
  await reader.until('attached', () => reader.frames.length);
  bus.publish('status_update_event', { taskId: 't1' });
  await reader.until('the event', () => reader.events().includes('status_update_event'));
});

test('closing the API ends every open stream with a comment saying why (an open stream would hold the close)', async (t) => {
  const served = await serveEvents(t);
  const { reader } = await openStream(t, `${served.base}/v2/events`);
  await reader.until('attached', () => reader.frames.length);
  await served.close();
  await reader.until('the end', () => reader.ended);
  assert.equal(reader.frames.at(-1)!.comment, 'services is shutting down; reconnect to another instance');
  assert.equal(served.bus.size, 0);
});

test('through a standby\'s proxyToLeader: headers at once, each event as published, and a client gone there unsubscribes on the leader', async (t) => {
  const leader = await serveEvents(t);
  const standby = http.createServer((req, res) => void proxyToLeader(req, res, `127.0.0.1:${leader.port}`, { self: 'standby:1' }));
  await new Promise<void>((r) => standby.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => {
    standby.closeAllConnections();
    standby.close(() => r());
  }));
  const front = `http://127.0.0.1:${(standby.address() as AddressInfo).port}`;
  // The filter lets nothing through and the heartbeat is a minute away: only flushed headers answer this.
  const quietOne = await openStream(t, `${front}/v2/events?event_type=no_such_event`);
  assert.equal(quietOne.res.statusCode, 200);
  assert.equal(quietOne.res.headers['x-mezz-leader'], `127.0.0.1:${leader.port}`);

  const { req, reader } = await openStream(t, `${front}/v2/events?event_type=deployment_info`);
  await reader.until('both subscribed on the leader', () => leader.bus.size === 2);
  for (let i = 0; i < 3; i++) {
    leader.bus.publish('deployment_info', { i });
    await reader.until(`event ${i}`, () => reader.frames.length === i + 1); // each passes before the next is published
  }
  req.destroy();
  await reader.until('the leader to drop it', () => leader.bus.size === 1);
});
