/**
 * Readiness checks: the timing with injected timers and a scripted probe, then the real
 * thing against HTTP(S) servers on OS-chosen loopback ports.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  parseApp,
  readinessTarget,
  ReadinessChecker,
  type HttpResponse,
  type ProbeRequest,
  type ReadinessCheckSpec,
  type ReadinessTarget,
  type ReadinessTimers,
} from '../../frameworks/services';
import { createCa, issueCertificate } from '../../lib/tls-certificates';
import { waitFor } from '../harness';

/** Marathon's defaults (readinessCheck.raml), overridden per test. */
function check(over: Partial<ReadinessCheckSpec> = {}): ReadinessCheckSpec {
  return {
    name: 'readinessCheck',
    protocol: 'HTTP',
    path: '/',
    portName: 'http-api',
    intervalSeconds: 30,
    timeoutSeconds: 10,
    httpStatusCodesForReady: [200],
    preserveLastResponse: false,
    ...over,
  };
}

function target(port: number, checks: ReadinessCheckSpec[] = [check()], taskId = 't1'): ReadinessTarget {
  return { taskId, appId: '/web', host: '127.0.0.1', ports: { 'http-api': port }, checks };
}

/** Timers that run only when the test advances the clock. */
class FakeTimers implements ReadinessTimers {
  now = 0;
  private seq = 0;
  private readonly pending = new Map<number, { at: number; fn: () => void }>();
  setTimeout(fn: () => void, ms: number): unknown {
    this.pending.set(++this.seq, { at: this.now + ms, fn });
    return this.seq;
  }
  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  get size(): number {
    return this.pending.size;
  }
  /** Runs every timer due within `ms`, in time order, the clock set to each one's time. */
  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      const due = [...this.pending].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.pending.delete(due[0]);
      this.now = due[1].at;
      due[1].fn();
    }
    this.now = end;
  }
}

/** A probe whose answers the test gives, one call at a time. */
function scriptedProbe() {
  const calls: (ProbeRequest & { at: number; answer(r: Partial<HttpResponse>): void; fail(message: string): void })[] = [];
  const timers = new FakeTimers();
  const probe = (req: ProbeRequest) =>
    new Promise<HttpResponse>((resolve, reject) => {
      calls.push({ ...req, at: timers.now, answer: (r) => resolve({ status: 200, contentType: 'text/plain', body: '', ...r }), fail: (m) => reject(new Error(m)) });
    });
  return { calls, timers, checker: new ReadinessChecker({ probe, timers }) };
}

/** Lets settled probe promises run their callbacks. */
const flush = () => new Promise<void>((r) => setImmediate(r));

test('readinessTarget: the task host ports by port name, following portDefinitions', () => {
  const parsed = parseApp({
    id: '/web',
    cmd: 'serve',
    portDefinitions: [{ port: 0, name: 'admin' }, { port: 0, name: 'http-api' }, { port: 0 }],
    readinessChecks: [{ path: '/ready' }],
  });
  assert.ok(parsed.app, JSON.stringify(parsed.errors));
  const got = readinessTarget(parsed.app, { taskId: 'web.1', hostname: 'agent-1', ports: [31000, 31001, 31002] });
  assert.deepEqual(got, {
    taskId: 'web.1',
    appId: '/web',
    host: 'agent-1',
    ports: { admin: 31000, 'http-api': 31001 }, // the third port has no name
    checks: [check({ path: '/ready' })],
  });
});

test('timing: the first check at once, the next intervalSeconds after the answer, none once ready', async () => {
  const { calls, timers, checker } = scriptedProbe();
  checker.track([target(31001, [check({ path: '/ready', preserveLastResponse: true })])]);
  assert.equal(calls.length, 1);
  assert.equal(calls[0]!.url, 'http://127.0.0.1:31001/ready');
  timers.advance(5_000); // the answer comes after 5 s, within the 10 s timeout
  calls[0]!.answer({ status: 503, body: 'warming' });
  await flush();
  assert.equal(checker.isReady('t1'), false);
  assert.deepEqual(checker.why('t1'), ["readiness check 'readinessCheck': GET http://127.0.0.1:31001/ready (try 1) answered 503; ready only on 200"]);
  timers.advance(29_999);
  assert.equal(calls.length, 1, 'not before the interval has passed since the answer');
  timers.advance(1);
  assert.equal(calls.length, 2);
  assert.equal(calls[1]!.at, 35_000); // 5 s answer + 30 s interval
  calls[1]!.answer({ status: 200, body: 'ok' });
  await flush();
  assert.equal(checker.isReady('t1'), true);
  assert.deepEqual(checker.why('t1'), []);
  assert.equal(timers.size, 0, 'a ready check is not scheduled again');
  timers.advance(600_000);
  assert.equal(calls.length, 2);
  assert.deepEqual(checker.results(), [{ name: 'readinessCheck', taskId: 't1', ready: true, lastResponse: { status: 200, contentType: 'text/plain', body: 'ok' } }]);
});

test('timing: a check with no answer gives up after timeoutSeconds, aborted, and is tried again an interval later', async () => {
  const { calls, timers, checker } = scriptedProbe();
  checker.track([target(31001, [check({ preserveLastResponse: true })])]);
  timers.advance(9_999);
  assert.equal(calls[0]!.signal.aborted, false);
  timers.advance(1);
  assert.equal(calls[0]!.signal.aborted, true, 'the request is aborted at the timeout');
  assert.deepEqual(checker.results()[0]!.lastResponse, {
    status: 504, // Marathon's answer for a check that got none
    contentType: 'text/plain',
    body: 'could not query http://127.0.0.1:31001/: timed out after 10 s',
  });
  calls[0]!.answer({ status: 200 }); // too late: ignored
  await flush();
  assert.equal(checker.isReady('t1'), false);
  timers.advance(29_999);
  assert.equal(calls.length, 1, 'one request at a time: the next waits for the interval');
  timers.advance(1);
  assert.equal(calls.length, 2);
  assert.equal(calls[1]!.at, 40_000); // 10 s timeout + 30 s interval
});

test('timing: track drops tasks no longer given (check aborted, timer gone); close stops all', async () => {
  const { calls, timers, checker } = scriptedProbe();
  checker.track([target(31001, [check()], 'a'), target(31002, [check()], 'b')]);
  checker.track([target(31001, [check()], 'a'), target(31002, [check()], 'b')]); // idempotent
  assert.equal(calls.length, 2);
  checker.track([target(31002, [check()], 'b')]);
  assert.equal(calls[0]!.signal.aborted, true);
  assert.deepEqual(checker.results().map((r) => r.taskId), ['b']);
  assert.equal(checker.isReady('a'), false);
  calls[1]!.answer({ status: 500 });
  await flush();
  assert.equal(timers.size, 1, "b's next check");
  checker.close();
  assert.equal(timers.size, 0);
  assert.deepEqual(checker.results(), []);
  checker.track([target(31003, [check()], 'c')]);
  assert.equal(calls.length, 2, 'nothing starts after close');
});

test('a target given again with other ports starts over at the new URL', () => {
  const { calls, checker } = scriptedProbe();
  checker.track([target(31001)]);
  checker.track([target(31005)]);
  assert.equal(calls[0]!.signal.aborted, true);
  assert.deepEqual(calls.map((c) => c.url), ['http://127.0.0.1:31001/', 'http://127.0.0.1:31005/']);
  checker.close();
});

test('an app without readiness checks is ready at once; an untracked task and a missing port are not', () => {
  const { calls, checker } = scriptedProbe();
  checker.track([target(31001, [], 'none'), { ...target(31001, [check({ portName: 'admin' })], 'noport') }]);
  assert.equal(checker.isReady('none'), true);
  assert.equal(checker.isReady('elsewhere'), false);
  assert.equal(checker.isReady('noport'), false);
  assert.deepEqual(checker.why('noport'), ["readiness check 'readinessCheck': the task has no port named admin"]);
  assert.equal(calls.length, 0);
  checker.close();
});

// --- real HTTP -----------------------------------------------------------------------------

/** Real timers ten times faster, so an interval of 3 s is 300 ms and a timeout of 2 s is 200 ms. */
const fastTimers: ReadinessTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms / 10),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};
const fast = (over: Partial<ReadinessCheckSpec> = {}) => check({ intervalSeconds: 3, timeoutSeconds: 2, ...over });

function checker(t: TestContext): ReadinessChecker {
  const c = new ReadinessChecker({ timers: fastTimers });
  t.after(() => c.close());
  return c;
}

async function listen(t: TestContext, server: http.Server | https.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => {
    server.closeAllConnections();
    server.close(() => r());
  }));
  return (server.address() as AddressInfo).port;
}

/** A port nothing listens on: bound by the OS, then released. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

test('HTTP: an endpoint that answers 503 twice, then 200, is ready with its last answer kept', async (t) => {
  let requests = 0;
  const port = await listen(t, http.createServer((req, res) => {
    requests++;
    if (requests <= 2) res.writeHead(503, { 'content-type': 'text/plain' }).end('migrating');
    else res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end('{"ready":true}');
  }));
  const c = checker(t);
  c.track([target(port, [fast({ path: '/ready', preserveLastResponse: true })])]);
  await waitFor('ready', () => c.isReady('t1'));
  assert.ok(requests >= 3);
  assert.deepEqual(c.results(), [
    { name: 'readinessCheck', taskId: 't1', ready: true, lastResponse: { status: 200, contentType: 'application/json', body: '{"ready":true}' } },
  ]);
});

test('HTTP: an endpoint that never answers times out, one request at a time, the reason kept', async (t) => {
  let open = 0;
  let mostOpen = 0;
  let requests = 0;
  const port = await listen(t, http.createServer((req) => {
    requests++;
    mostOpen = Math.max(mostOpen, ++open);
    req.socket.on('close', () => open--);
  }));
  const c = checker(t);
  c.track([target(port, [fast({ preserveLastResponse: true })])]);
  await waitFor('three tries', () => requests >= 3);
  assert.equal(mostOpen, 1);
  assert.equal(c.isReady('t1'), false);
  assert.match(c.why('t1')[0]!, /got no answer: timed out after 2 s$/);
  assert.equal(c.results()[0]!.lastResponse?.status, 504);
});

test('HTTP: a closed port is not ready, the refusal named', async (t) => {
  const port = await closedPort();
  const c = checker(t);
  c.track([target(port, [fast({ preserveLastResponse: true })])]);
  await waitFor('a refusal', () => c.results()[0]?.lastResponse);
  assert.equal(c.isReady('t1'), false);
  assert.match(c.why('t1')[0]!, /ECONNREFUSED/);
  assert.match(c.results()[0]!.lastResponse!.body, new RegExp(`^could not query http://127.0.0.1:${port}/: .*ECONNREFUSED`));
});

test('HTTP: with several checks the task is ready only when all are', async (t) => {
  let warm = false;
  const port = await listen(t, http.createServer((req, res) => {
    if (req.url === '/live') res.writeHead(200).end();
    else res.writeHead(warm ? 204 : 503).end();
  }));
  const c = checker(t);
  const checks = [fast({ name: 'live', path: '/live' }), fast({ name: 'warm', path: '/warm', httpStatusCodesForReady: [200, 204] })];
  c.track([target(port, checks)]);
  await waitFor('live ready', () => c.results().find((r) => r.name === 'live')?.ready);
  await waitFor('warm tried', () => c.why('t1')[0]?.includes('answered 503'));
  assert.equal(c.isReady('t1'), false);
  assert.deepEqual(c.results(), [{ name: 'live', taskId: 't1', ready: true }, { name: 'warm', taskId: 't1', ready: false }]);
  warm = true;
  await waitFor('ready', () => c.isReady('t1'));
  assert.deepEqual(c.results('/web').map((r) => r.ready), [true, true]);
  assert.deepEqual(c.results('/other'), []);
});

test('HTTP: a body is kept to 4 KiB, and only with preserveLastResponse', async (t) => {
  const port = await listen(t, http.createServer((req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('x'.repeat(10_000))));
  const c = checker(t);
  c.track([target(port, [fast({ name: 'kept', preserveLastResponse: true }), fast({ name: 'not kept' })])]);
  await waitFor('ready', () => c.isReady('t1'));
  const [kept, notKept] = c.results();
  assert.equal(kept!.lastResponse?.body, 'x'.repeat(4096));
  assert.deepEqual(notKept, { name: 'not kept', taskId: 't1', ready: true });
});

test('HTTPS: a task whose certificate no trusted CA signed is checked (certificates are not verified)', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mezz-readiness-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const files = issueCertificate(createCa(dir, 'task'), dir, 'task', { commonName: 'task', ips: ['127.0.0.1'] });
  const server = https.createServer({ cert: readFileSync(files.tlsCert), key: readFileSync(files.tlsKey) }, (req, res) => res.writeHead(200).end('ok'));
  const port = await listen(t, server);
  const c = checker(t);
  c.track([target(port, [fast({ protocol: 'HTTPS', preserveLastResponse: true })])]);
  await waitFor('ready', () => c.isReady('t1'));
  assert.equal(c.results()[0]!.lastResponse?.body, 'ok');
});
