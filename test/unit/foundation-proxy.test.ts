/**
 * proxyToLeader against real local HTTP servers: a "leader" that echoes
 * what it received, and a "standby" whose every request is proxied to it.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { LEADER_HEADER, proxyToLeader, VIA_HEADER } from '../../frameworks/foundation';
import { loadTls } from '../../lib/auth';
import { waitFor } from '../harness';
import { testTls } from '../fixtures/tls';

/** Starts a server on a free loopback port; closed after the test. */
async function serve(t: TestContext, handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => {
    server.closeAllConnections();
    server.close(() => r());
  }));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A leader that answers with what it was sent: method, url, headers, body. */
async function echoLeader(t: TestContext): Promise<string> {
  return serve(t, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.writeHead(201, { 'content-type': 'application/json', 'x-custom': 'kept', connection: 'close' });
      res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString() }));
    });
  });
}

/** A standby whose every request goes through proxyToLeader(…, leader()). */
async function standby(t: TestContext, leader: () => string | undefined, opts: { timeoutMs?: number; body?: string } = {}): Promise<string> {
  return serve(t, (req, res) => void proxyToLeader(req, res, leader(), { self: 'standby:1', ...opts }));
}

async function call(address: string, path: string, init: RequestInit = {}) {
  const res = await fetch(`http://${address}${path}`, init);
  return { status: res.status, headers: res.headers, text: await res.text() };
}

test('forwards method, path, query, headers (Authorization too) and body; answers with the leader\'s status, headers and body', async (t) => {
  const leader = await echoLeader(t);
  const front = await standby(t, () => leader);
  const res = await call(front, '/v2/apps/web?embed=app.tasks&x=%2F', {
    method: 'PUT', headers: { authorization: 'Bearer s3cret', 'content-type': 'application/json', 'x-request-id': 'r1' }, body: '{"instances":3}',
  });
  assert.equal(res.status, 201);
  assert.equal(res.headers.get('x-custom'), 'kept');
  assert.equal(res.headers.get(LEADER_HEADER), leader);
  const seen = JSON.parse(res.text) as { method: string; url: string; headers: Record<string, string>; body: string };
  assert.equal(seen.method, 'PUT');
  assert.equal(seen.url, '/v2/apps/web?embed=app.tasks&x=%2F');
  assert.equal(seen.body, '{"instances":3}');
  assert.equal(seen.headers.authorization, 'Bearer s3cret');
  assert.equal(seen.headers['content-type'], 'application/json');
  assert.equal(seen.headers['x-request-id'], 'r1');
  assert.equal(seen.headers.host, leader);
  assert.equal(seen.headers[VIA_HEADER], 'standby:1');
  assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
});

test('a body the HTTP layer already read is sent as given', async (t) => {
  const leader = await echoLeader(t);
  const front = await serve(t, (req, res) => {
    req.resume(); // read (and dropped) by the layer in front
    req.on('end', () => void proxyToLeader(req, res, leader, { self: 's:1', body: '{"parsed":true}' }));
  });
  const seen = JSON.parse((await call(front, '/v2/apps', { method: 'POST', body: 'original' })).text) as { body: string; headers: Record<string, string> };
  assert.equal(seen.body, '{"parsed":true}');
  assert.equal(seen.headers['content-length'], '15');
});

test('the answer streams: the client reads the first chunk before the leader has finished', async (t) => {
  let finish!: () => void;
  const leader = await serve(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('event: first\n\n');
    finish = () => res.end('event: last\n\n');
  });
  const front = await standby(t, () => leader);
  const res = await fetch(`http://${front}/v2/events`);
  const reader = res.body!.getReader();
  const first = await reader.read();
  assert.equal(Buffer.from(first.value!).toString(), 'event: first\n\n');
  finish();
  let rest = '';
  for (let r = await reader.read(); !r.done; r = await reader.read()) rest += Buffer.from(r.value).toString();
  assert.equal(rest, 'event: last\n\n');
});

test('the leader\'s headers reach the client at once, before any body (an event stream may stay silent a while)', async (t) => {
  const leader = await serve(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.flushHeaders(); // and nothing more until the test ends
  });
  const front = await standby(t, () => leader);
  const ac = new AbortController();
  t.after(() => ac.abort());
  const res = await fetch(`http://${front}/v2/events`, { signal: ac.signal });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/event-stream');
});

test('503 when no leader is known; 502 naming the leader when it cannot be reached or does not answer in time', async (t) => {
  const noLeader = await standby(t, () => undefined);
  const none = await call(noLeader, '/v2/apps');
  assert.equal(none.status, 503);
  assert.equal(none.headers.get('content-type'), 'application/json; charset=utf-8');
  assert.match((JSON.parse(none.text) as { message: string }).message, /no leader is known/);

  // A port nothing listens on: bind one, then close it.
  const gone = await new Promise<string>((resolve) => {
    const s = http.createServer().listen(0, '127.0.0.1', () => {
      const a = `127.0.0.1:${(s.address() as AddressInfo).port}`;
      s.close(() => resolve(a));
    });
  });
  const refused = await call(await standby(t, () => gone), '/v2/apps');
  assert.equal(refused.status, 502);
  assert.match(refused.text, new RegExp(`the leader at ${gone} did not answer: .*ECONNREFUSED`));

  const silent = await serve(t, () => undefined); // accepts, never answers
  const late = await call(await standby(t, () => silent, { timeoutMs: 200 }), '/v2/apps');
  assert.equal(late.status, 502);
  assert.match(late.text, /no answer within 200 ms/);
});

test('a request that was already forwarded once is not forwarded again (no loops between standbys)', async (t) => {
  let hits = 0;
  const leader = await serve(t, (_req, res) => void (hits++, res.end('leader')));
  const front = await standby(t, () => leader);
  const res = await call(front, '/v2/apps', { headers: { [VIA_HEADER]: 'other-standby:1' } });
  assert.equal(res.status, 503);
  assert.match(res.text, /already forwarded by other-standby:1/);
  assert.equal(hits, 0);
});

test('a client that goes away mid-answer ends the request to the leader', async (t) => {
  let closed = false;
  const leader = await serve(t, (_req, res) => {
    res.on('close', () => (closed = true));
    res.writeHead(200);
    res.write('begun');
  });
  const front = await standby(t, () => leader);
  const ac = new AbortController();
  const res = await fetch(`http://${front}/v2/events`, { signal: ac.signal });
  await res.body!.getReader().read();
  ac.abort();
  await waitFor('the leader to see its client go', () => closed, 10_000);
});

test('with TLS the leader is reached over https, shown this instance\'s certificate; a leader from another CA is refused with 502', async (t) => {
  const { node, other } = testTls();
  const mine = loadTls(node)!;
  const serveTls = async (files: typeof node) => {
    const material = loadTls(files)!;
    // Requires a client certificate from its CA: an answer proves the proxy showed one.
    const server = https.createServer({ cert: material.cert, key: material.key, ca: material.ca, requestCert: true, rejectUnauthorized: true }, (_req, res) => res.end('leader'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t.after(() => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }));
    return `127.0.0.1:${(server.address() as AddressInfo).port}`;
  };
  const leader = await serveTls(node);
  const front = await serve(t, (req, res) => void proxyToLeader(req, res, leader, { self: 's:1', tls: mine }));
  const ok = await call(front, '/whoami');
  assert.deepEqual([ok.status, ok.text], [200, 'leader']);

  const stranger = await serveTls(other);
  const refused = await call(await serve(t, (req, res) => void proxyToLeader(req, res, stranger, { self: 's:1', tls: mine })), '/whoami');
  assert.equal(refused.status, 502);
  assert.match(refused.text, new RegExp(`the leader at ${stranger} did not answer`));
});
