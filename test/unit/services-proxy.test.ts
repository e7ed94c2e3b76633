/**
 * The service proxy against real sockets on loopback: round-robin, drain, retry past a dead
 * backend, no backends, listener lifecycle, limits, and the zero-downtime rolling update.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';
import { DrainTimeoutError, ServiceProxy, type ProxyBackend, type ServiceProxyOptions } from '../../frameworks/services';
import { waitFor } from '../harness';

/** A port nothing listens on: bound by the OS, then released. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** A TCP backend that greets each connection with `<id>\n`, echoes what it reads, and says `bye\n` at the client's FIN. */
async function greeter(t: TestContext, id: string): Promise<ProxyBackend & { connections: number }> {
  const sockets = new Set<Socket>();
  const backend = { id, host: '127.0.0.1', port: 0, connections: 0 };
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    backend.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.write(`${id}\n`);
    socket.on('data', (d) => socket.write(d));
    socket.on('end', () => socket.end('bye\n'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  backend.port = (server.address() as AddressInfo).port;
  t.after(() => new Promise<void>((r) => {
    for (const s of sockets) s.destroy();
    server.close(() => r());
  }));
  return backend;
}

async function startProxy(t: TestContext, opts: ServiceProxyOptions = {}): Promise<{ proxy: ServiceProxy; port: number }> {
  const proxy = new ServiceProxy(opts);
  t.after(() => proxy.close());
  return { proxy, port: await freePort() };
}

/** A client connection through the proxy that collects what it reads. */
async function dial(port: number): Promise<{ socket: Socket; text: () => string; closed: Promise<{ error?: string }> }> {
  const socket = net.connect({ host: '127.0.0.1', port });
  let text = '';
  let error: string | undefined;
  socket.on('data', (d) => (text += d.toString()));
  socket.on('error', (err: NodeJS.ErrnoException) => (error = err.code ?? err.message));
  const closed = new Promise<{ error?: string }>((r) => socket.on('close', () => r(error === undefined ? {} : { error })));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { socket, text: () => text, closed };
}

/** The greeting of one fresh connection through the proxy. */
async function greetingVia(port: number): Promise<string> {
  const c = await dial(port);
  const line = await waitFor('a greeting', () => (c.text().includes('\n') ? c.text().split('\n')[0] : undefined), 5_000, 5);
  c.socket.destroy();
  return line;
}

test('forwards new connections to the backends round-robin', async (t) => {
  const { proxy, port } = await startProxy(t);
  const backends = await Promise.all(['a', 'b', 'c'].map((id) => greeter(t, id)));
  await proxy.setBackends(port, backends);
  const seen: string[] = [];
  for (let i = 0; i < 6; i++) seen.push(await greetingVia(port));
  assert.deepEqual(seen, ['a', 'b', 'c', 'a', 'b', 'c']);
  assert.equal(proxy.counters.forwarded, 6);
});

test('bytes flow both ways and a half-close is passed on: the backend answers after the client\'s FIN', async (t) => {
  const { proxy, port } = await startProxy(t);
  await proxy.setBackends(port, [await greeter(t, 'a')]);
  const c = await dial(port);
  c.socket.end('ping\n');
  assert.deepEqual(await c.closed, {});
  assert.equal(c.text(), 'a\nping\nbye\n');
});

test('a removed backend gets no new connection while its open one finishes; drained() resolves after it closes', async (t) => {
  const { proxy, port } = await startProxy(t);
  const a = await greeter(t, 'a');
  const b = await greeter(t, 'b');
  await proxy.setBackends(port, [a, b]);
  const held = await dial(port);
  await waitFor('the greeting of a', () => held.text() === 'a\n', 5_000, 5);

  await proxy.setBackends(port, [b]);
  assert.deepEqual(proxy.draining(), [{ id: 'a', open: 1 }]);
  let drained = false;
  const drain = proxy.drained('a').then(() => (drained = true));
  for (let i = 0; i < 3; i++) assert.equal(await greetingVia(port), 'b');
  assert.equal(a.connections, 1, 'a got no new connection after its removal');

  held.socket.write('still here\n');
  await waitFor('the echo from a', () => held.text() === 'a\nstill here\n', 5_000, 5);
  assert.equal(drained, false, 'not drained while its connection is open');
  await assert.rejects(proxy.drained('a', 20), (err: unknown) => err instanceof DrainTimeoutError && err.open === 1);

  held.socket.end();
  await drain;
  assert.deepEqual(proxy.draining(), []);
  await proxy.drained('a'); // at once now
});

test('a backend that refuses connections is skipped without the client noticing', async (t) => {
  const { proxy, port } = await startProxy(t);
  const dead: ProxyBackend = { id: 'dead', host: '127.0.0.1', port: await freePort() };
  const good = await greeter(t, 'good');
  await proxy.setBackends(port, [dead, good]);
  for (let i = 0; i < 4; i++) assert.equal(await greetingVia(port), 'good');
  // Each connection's turn comes to dead first (its retry moves the turn on to good, and the
  // next connection's turn is back at dead): 4 connections, 4 failed attempts, none seen.
  assert.equal(proxy.counters.connectFailures, 4);
  assert.equal(proxy.counters.forwarded, 4);
  assert.deepEqual(proxy.draining(), []);
});

/** How a connection through the proxy ended when it was reset: the code seen at connect or at the first read. */
async function resetCode(port: number): Promise<string | undefined> {
  try {
    const c = await dial(port);
    const { error } = await c.closed;
    assert.equal(c.text(), '');
    return error;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code;
  }
}

test('with no backend (none set, or none accepting) a connection is accepted and reset at once', async (t) => {
  const { proxy, port } = await startProxy(t);
  await proxy.setBackends(port, []);
  assert.equal(await resetCode(port), 'ECONNRESET');

  await proxy.setBackends(port, [{ id: 'dead', host: '127.0.0.1', port: await freePort() }]);
  assert.equal(await resetCode(port), 'ECONNRESET');
  assert.equal(proxy.counters.noBackend, 2);
});

test('the listener opens with the service port and closes when it is removed', async (t) => {
  const { proxy, port } = await startProxy(t);
  await proxy.setBackends(port, [await greeter(t, 'a')]);
  assert.deepEqual(proxy.servicePorts(), [port]);
  assert.equal(proxy.address(port)?.address, '127.0.0.1');
  assert.equal(await greetingVia(port), 'a');

  await proxy.removeServicePort(port);
  assert.deepEqual(proxy.servicePorts(), []);
  await assert.rejects(dial(port), { code: 'ECONNREFUSED' });
  await proxy.drained('a');
});

test('a port out of range or a malformed backend is refused, naming it, and nothing changes', async (t) => {
  const { proxy, port } = await startProxy(t);
  const table: { name: string; servicePort: number; backends: ProxyBackend[]; want: RegExp }[] = [
    { name: 'service port 0', servicePort: 0, backends: [], want: /^service port 0: must be a whole number from 1 to 65535$/ },
    { name: 'backend port 70000', servicePort: port, backends: [{ id: 'a', host: '127.0.0.1', port: 70000 }], want: /backends\[0\]\.port: 70000 must be/ },
    { name: 'empty host', servicePort: port, backends: [{ id: 'a', host: '', port: 80 }], want: /backends\[0\]\.host: must be a non-empty string/ },
    { name: 'same id twice', servicePort: port, backends: [{ id: 'a', host: 'h', port: 80 }, { id: 'a', host: 'h', port: 81 }], want: /backends\[1\]\.id: a is given twice/ },
  ];
  for (const c of table) await assert.rejects(proxy.setBackends(c.servicePort, c.backends), { name: 'InvalidArgumentError', message: c.want }, c.name);
  assert.deepEqual(proxy.servicePorts(), []);
});

test('a port that cannot be bound is refused and forgotten', async (t) => {
  const { proxy, port } = await startProxy(t);
  const squatter = net.createServer();
  await new Promise<void>((r) => squatter.listen(port, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => squatter.close(() => r())));
  await assert.rejects(proxy.setBackends(port, []), { code: 'EADDRINUSE' });
  assert.deepEqual(proxy.servicePorts(), []);
});

test('a connection over maxConnections is closed, and an idle one is closed after idleTimeoutMs', async (t) => {
  const { proxy, port } = await startProxy(t, { maxConnections: 1, idleTimeoutMs: 300 });
  await proxy.setBackends(port, [await greeter(t, 'a')]);
  const first = await dial(port);
  await waitFor('the greeting', () => first.text() === 'a\n', 5_000, 5);
  const second = await dial(port);
  await second.closed;
  assert.equal(second.text(), '');
  assert.equal(proxy.counters.overLimit, 1);

  await first.closed; // nothing sent after the greeting: the idle timeout ends it
  assert.equal(proxy.counters.idleClosed, 1);
});

/** An HTTP backend answering `<version>` after 20 ms of "work", so a removal can catch a request in flight. */
async function app(t: TestContext, id: string, version: string): Promise<ProxyBackend & { close: () => Promise<void>; inFlight: () => number }> {
  let inFlight = 0;
  const server = http.createServer((_req, res) => {
    inFlight++;
    setTimeout(() => {
      inFlight--;
      res.end(version);
    }, 20);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  };
  t.after(close);
  return { id, host: '127.0.0.1', port: (server.address() as AddressInfo).port, close, inFlight: () => inFlight };
}

function get(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent: false, headers: { connection: 'close' } }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`status ${res.statusCode}`))));
    });
    req.on('error', reject);
  });
}

test('zero downtime: 3 instances replaced one at a time while a client sends requests the whole time', async (t) => {
  const { proxy, port } = await startProxy(t);
  const v1 = await Promise.all([1, 2, 3].map((i) => app(t, `v1-${i}`, 'v1')));
  let current: ProxyBackend[] = [...v1];
  await proxy.setBackends(port, current);

  const answers: string[] = [];
  const failures: string[] = [];
  let stop = false;
  const client = (async () => {
    while (!stop) {
      try {
        answers.push(await get(port));
      } catch (err) {
        failures.push((err as Error).message);
      }
      await new Promise((r) => setTimeout(r, 2)); // the client's pacing
    }
  })();
  /** Lets the client send `n` more requests before the next step. */
  const progress = (n: number) => {
    const goal = answers.length + failures.length + n;
    return waitFor(`${n} more requests`, () => answers.length + failures.length >= goal, 20_000, 5);
  };

  await progress(20);
  for (const [i, old] of v1.entries()) {
    const next = await app(t, `v2-${i + 1}`, 'v2');
    current = [...current, next];
    await proxy.setBackends(port, current); // add v2
    await progress(15);
    // Remove it while it serves a request, which must still be answered: the drain at work.
    await waitFor(`a request in flight at ${old.id}`, () => old.inFlight() > 0, 20_000, 1);
    current = current.filter((b) => b.id !== old.id);
    await proxy.setBackends(port, current); // remove v1
    await proxy.drained(old.id, 10_000); // wait until the proxy drained it
    await old.close(); // only now kill it
    await progress(15);
  }
  const updatedAt = answers.length;
  await progress(20);
  stop = true;
  await client;

  assert.deepEqual(failures, []);
  // at least 20 + 3 × (15 + 15) + 20 = 130 requests, every one answered
  assert.ok(answers.length >= 130, `every request answered: ${answers.length} of ${answers.length + failures.length}`);
  assert.equal(answers[0], 'v1');
  assert.ok(answers.slice(updatedAt).every((a) => a === 'v2'), 'only v2 answers after the update');
  assert.ok(answers.includes('v1') && answers.includes('v2'));
});
