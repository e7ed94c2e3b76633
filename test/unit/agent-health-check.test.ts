/**
 * Health checks: the policy (`observe`, table-driven), the checker's timers
 * with a scripted probe, the probes (HTTP, HTTPS, TCP, COMMAND) against real
 * sockets and processes, several checks of one task (`TaskHealthChecks`,
 * scripted and against real servers), and the spec checks shared with the master.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { access, rm } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HealthChecker, observe, type HealthState, type ProbeResult } from '../../agent/health-check';
import { commandProbe } from '../../agent/health-check-command';
import { httpProbe } from '../../agent/health-check-http';
import { tcpProbe } from '../../agent/health-check-tcp';
import { combineHealth, TaskHealthChecks, taskChecks, type TaskCheck } from '../../agent/health-check-task';
import {
  healthCheckProblems, MAX_TASK_HEALTH_CHECKS, resolveHealthCheck, taskHealthCheckProblems, taskHealthChecks, type ResolvedHealthCheck,
} from '../../lib/health-check-spec';
import { createCa, issueCertificate } from '../../lib/tls-certificates';
import type { HealthCheck__Output } from '../../lib/proto/generated/mezzanine/v1/HealthCheck';
import { tempDir, waitFor } from '../fixtures/agent-harness';

const check = (o: Partial<ResolvedHealthCheck> = {}): ResolvedHealthCheck => ({
  type: 'TCP', port: 1, delayMs: 0, intervalMs: 10, timeoutMs: 1000, gracePeriodMs: 0, consecutiveFailures: 3, killOnFailure: true, ...o,
});
const OK: ProbeResult = { ok: true, detail: 'fine' };
const BAD: ProbeResult = { ok: false, reason: 'refused' };
const fresh: HealthState = { everHealthy: false, failures: 0 };

describe('observe (the health policy)', () => {
  const cases: { name: string; check?: Partial<ResolvedHealthCheck>; state: HealthState; result: ProbeResult; now?: number; want: object }[] = [
    { name: 'first success reports healthy', state: fresh, result: OK,
      want: { state: { healthy: true, everHealthy: true, failures: 0 }, change: { healthy: true, message: 'health check passed: fine' } } },
    { name: 'a success when healthy reports nothing', state: { healthy: true, everHealthy: true, failures: 0 }, result: OK,
      want: { state: { healthy: true, everHealthy: true, failures: 0 } } },
    // startedAt 0, grace 1000 ms, now 500: inside the grace period.
    { name: 'a failure within the grace period is ignored', check: { gracePeriodMs: 1000 }, state: fresh, result: BAD, now: 500,
      want: { state: fresh, ignored: true } },
    { name: 'after the grace period a failure reports unhealthy', check: { gracePeriodMs: 1000 }, state: fresh, result: BAD, now: 1000,
      want: { state: { healthy: false, everHealthy: false, failures: 1 }, change: { healthy: false, message: 'health check failed (1 of 3 in a row): refused' } } },
    { name: 'a first success ends the grace period early', check: { gracePeriodMs: 1000 }, state: { healthy: true, everHealthy: true, failures: 0 }, result: BAD, now: 500,
      want: { state: { healthy: false, everHealthy: true, failures: 1 }, change: { healthy: false, message: 'health check failed (1 of 3 in a row): refused' } } },
    { name: 'a second failure in a row is counted but not reported again', state: { healthy: false, everHealthy: true, failures: 1 }, result: BAD,
      want: { state: { healthy: false, everHealthy: true, failures: 2 } } },
    { name: 'the third failure in a row kills', state: { healthy: false, everHealthy: true, failures: 2 }, result: BAD,
      want: { state: { healthy: false, everHealthy: true, failures: 3 }, kill: '3 consecutive health checks failed; last: refused' } },
    { name: 'without kill_on_failure it never kills', check: { killOnFailure: false }, state: { healthy: false, everHealthy: true, failures: 9 }, result: BAD,
      want: { state: { healthy: false, everHealthy: true, failures: 10 } } },
    { name: 'a success resets the count and reports healthy again', state: { healthy: false, everHealthy: true, failures: 2 }, result: OK,
      want: { state: { healthy: true, everHealthy: true, failures: 0 }, change: { healthy: true, message: 'health check passed: fine' } } },
    { name: 'consecutive_failures 1 kills at the first counted failure', check: { consecutiveFailures: 1 }, state: fresh, result: BAD,
      want: { state: { healthy: false, everHealthy: false, failures: 1 }, change: { healthy: false, message: 'health check failed (1 of 1 in a row): refused' }, kill: '1 consecutive health checks failed; last: refused' } },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(observe(check(c.check), c.state, c.result, c.now ?? 10_000, 0), c.want));

  it('names the check when the task has several', () => {
    assert.deepEqual(observe(check({ consecutiveFailures: 1 }), fresh, BAD, 10_000, 0, '2 of 3'), {
      state: { healthy: false, everHealthy: false, failures: 1 },
      change: { healthy: false, message: 'health check 2 of 3 failed (1 of 1 in a row): refused' },
      kill: '1 consecutive health checks failed (check 2 of 3); last: refused',
    });
    assert.equal(observe(check(), fresh, OK, 0, 0, '1 of 3').change?.message, 'health check 1 of 3 passed: fine');
  });
});

describe('HealthChecker', () => {
  it('reports changes only, and asks for the kill after the failures in a row', async () => {
    // Probe results in order: ok, ok, bad, ok, bad, bad, bad (kill), then nothing more.
    const script: ProbeResult[] = [OK, OK, BAD, OK, BAD, BAD, BAD, OK, OK];
    let calls = 0;
    const changes: (boolean | string)[] = [];
    let killed = '';
    const hc = new HealthChecker({
      check: check(), startedAt: Date.now(), probe: async () => script[calls++]!,
      onChange: (h) => changes.push(h), onKill: (m) => { killed = m; },
    });
    hc.start();
    await waitFor('the kill', () => killed);
    assert.deepEqual(changes, [true, false, true, false]);
    assert.equal(calls, 7, 'no check after the kill');
    assert.equal(killed, '3 consecutive health checks failed; last: refused');
    hc.stop();
  });

  it('a check that outlives its timeout fails, even if the probe ignores its signal', async () => {
    let reason = '';
    const hc = new HealthChecker({
      check: check({ timeoutMs: 50, consecutiveFailures: 1 }), startedAt: 0,
      probe: () => new Promise(() => undefined),
      onChange: (h, m) => { if (!h) reason = m; }, onKill: () => undefined,
    });
    hc.start();
    await waitFor('the failure', () => reason);
    hc.stop();
    assert.match(reason, /no result within the 0.05 s timeout/);
  });

  it('starts with the health reported before an agent restart, and counts the delay from the task\'s start', async () => {
    const changes: boolean[] = [];
    let calls = 0;
    // Healthy before the restart; the first check (ok) changes nothing.
    const hc = new HealthChecker({
      check: check({ delayMs: 60_000 }), startedAt: Date.now() - 120_000, healthy: true,
      probe: async () => (calls++, OK), onChange: (h) => changes.push(h), onKill: () => undefined,
    });
    hc.start();
    await waitFor('two checks (the delay is long past)', () => calls >= 2);
    hc.stop();
    assert.deepEqual(changes, []);
  });
});

describe('probes', () => {
  let server: http.Server;
  let port = 0;
  let closedPort = 0;
  let dir: string;
  before(async () => {
    server = http.createServer((req, res) => {
      const code = Number(req.url!.slice(1)) || 200;
      res.writeHead(code, code === 302 ? { location: '/elsewhere' } : {});
      res.end('x');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as net.AddressInfo).port;
    // A port nobody listens on: bind, note it, close.
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    closedPort = (s.address() as net.AddressInfo).port;
    await new Promise((r) => s.close(r));
    dir = await tempDir();
  });
  after(async () => {
    server.close();
    await rm(dir, { recursive: true, force: true });
  });
  const signal = () => AbortSignal.timeout(5000);

  it('HTTP: 2xx and 3xx are healthy; 4xx, 5xx and refused connections are not', async () => {
    assert.deepEqual(await httpProbe(port, '/200')(signal()), { ok: true, detail: `GET http://127.0.0.1:${port}/200 answered 200`, statusCode: 200 });
    assert.equal((await httpProbe(port, '/302')(signal())).ok, true);
    assert.deepEqual(await httpProbe(port, '/503')(signal()),
      { ok: false, reason: `GET http://127.0.0.1:${port}/503 answered 503 Service Unavailable (2xx or 3xx is healthy)`, statusCode: 503 });
    assert.deepEqual(await httpProbe(closedPort, '/')(signal()),
      { ok: false, reason: `GET http://127.0.0.1:${closedPort}/: connection refused (nothing listens on the port)` });
  });

  it('TCP: a connection that opens is healthy', async () => {
    assert.equal((await tcpProbe(port)(signal())).ok, true);
    assert.deepEqual(await tcpProbe(closedPort)(signal()),
      { ok: false, reason: `TCP connect to 127.0.0.1:${closedPort}: connection refused (nothing listens on the port)` });
  });

  const cmd = (value: string, environment: Record<string, string> = {}) => ({ value, shell: true, arguments: [], environment, uris: [], user: '' });

  it('COMMAND: runs in the sandbox with the task\'s environment; exit 0 is healthy', async () => {
    const env = { PATH: process.env.PATH!, MEZZ_TASK_ID: 't1' };
    const ok = await commandProbe(cmd('test "$MEZZ_TASK_ID:$EXTRA" = t1:x && touch here'), { cwd: dir, env: { ...env, EXTRA: 'x' } })(signal());
    assert.equal(ok.ok, true, JSON.stringify(ok));
    await access(join(dir, 'here'));
    assert.deepEqual(await commandProbe(cmd('echo not ready >&2; exit 2'), { cwd: dir, env })(signal()),
      { ok: false, reason: 'command "echo not ready >&2; exit 2" exited with status 2: not ready', exitCode: 2 });
  });

  it('COMMAND: a timeout kills the check\'s whole process group', async () => {
    const ac = new AbortController();
    const p = commandProbe(cmd('sleep 300 & echo $! > bg.pid; wait'), { cwd: dir, env: { PATH: process.env.PATH! } })(ac.signal);
    const bg = await waitFor('the background pid', async () => Number((await import('node:fs/promises').then((f) => f.readFile(join(dir, 'bg.pid'), 'utf8')).catch(() => '')).trim()));
    ac.abort(new Error('no result within the 1 s timeout'));
    const r = await p;
    assert.deepEqual(r, { ok: false, reason: 'command "sleep 300 & echo $! > bg.pid; wait" no result within the 1 s timeout' });
    await waitFor('the background sleep to die', () => { try { process.kill(bg, 0); return false; } catch { return true; } });
  });
});

describe('health check spec (shared with the master)', () => {
  const hc = (o: Partial<HealthCheck__Output>): HealthCheck__Output => ({
    type: 'HTTP', command: null, http: null, tcp: null, killOnFailure: false, ...o,
  });
  const cases: { name: string; check: HealthCheck__Output; ports?: number[]; want: string[] }[] = [
    { name: 'HTTP on port_index 0', check: hc({ http: { port: 0, portIndex: 0, path: '/health', scheme: '' } }), ports: [31000], want: [] },
    { name: 'no port at all', check: hc({ http: { port: 0, path: '/', scheme: '' } }), ports: [31000],
      want: ['the HTTP health check names no port: set port, or port_index into the task\'s ports'] },
    { name: 'no http settings', check: hc({}), want: ['a HTTP health check needs its http settings (port or port_index)'] },
    { name: 'port_index past the task\'s ports', check: hc({ type: 'TCP', tcp: { port: 0, portIndex: 1 } }), ports: [31000],
      want: ['the TCP health check\'s port_index 1 is out of range: the task has 1 port(s) (31000)'] },
    { name: 'unknown type', check: hc({ type: 'UNKNOWN' }), want: ['health check type UNKNOWN is not supported; set type to COMMAND, HTTP or TCP'] },
    { name: 'bad interval and failures', check: hc({ type: 'TCP', tcp: { port: 80 }, intervalSeconds: 0, consecutiveFailures: 0 }),
      want: ['health check interval_seconds 0 must be between 0.1 and 2147483 seconds', 'health check consecutive_failures 0 must be ≥ 1'] },
    { name: 'negative grace', check: hc({ type: 'TCP', tcp: { port: 80 }, gracePeriodSeconds: -1 }),
      want: ['health check grace_period_seconds -1 must be between 0 and 2147483 seconds'] },
    // 2^31 ms = 2147483.648 s: a longer timer fires after 1 ms, and the check would loop.
    { name: 'interval of 10 ms, timeout past 2^31 ms', check: hc({ type: 'TCP', tcp: { port: 80 }, intervalSeconds: 0.01, timeoutSeconds: 2147484 }),
      want: ['health check interval_seconds 0.01 must be between 0.1 and 2147483 seconds',
        'health check timeout_seconds 2147484 must be between 0.1 and 2147483 seconds (timers cannot wait longer than 2^31 ms)'] },
    { name: 'delay past 2^31 ms', check: hc({ type: 'TCP', tcp: { port: 80 }, delaySeconds: 3e6 }),
      want: ['health check delay_seconds 3000000 must be between 0 and 2147483 seconds (timers cannot wait longer than 2^31 ms)'] },
    { name: 'the shortest interval and timeout, no delay', check: hc({ type: 'TCP', tcp: { port: 80 }, intervalSeconds: 0.1, timeoutSeconds: 0.1, delaySeconds: 0 }),
      want: [] },
    { name: 'empty command', check: hc({ type: 'COMMAND', command: { value: ' ', shell: true, arguments: [], environment: {}, uris: [], user: '' } }),
      want: ['the COMMAND health check has an empty command (set command.value)'] },
    { name: 'path without a slash', check: hc({ http: { port: 80, path: 'health', scheme: '' } }), want: ['the HTTP health check\'s path "health" must start with "/"'] },
    { name: 'scheme https', check: hc({ http: { port: 80, path: '/', scheme: 'https' } }), want: [] },
    { name: 'an unknown scheme', check: hc({ http: { port: 80, path: '/', scheme: 'ftp' } }), want: ['the HTTP health check\'s scheme "ftp" must be "http" or "https"'] },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(healthCheckProblems(c.check, c.ports ?? []), c.want));

  it('fills in Mesos\' defaults', () => {
    const r = resolveHealthCheck(hc({ type: 'TCP', tcp: { port: 0, portIndex: 1 } }), [31000, 31001]);
    assert.deepEqual(r, { ok: true, check: {
      type: 'TCP', port: 31001, delayMs: 15_000, intervalMs: 10_000, timeoutMs: 20_000, gracePeriodMs: 10_000, consecutiveFailures: 3, killOnFailure: false,
    } });
  });
});

describe('several checks of one task', () => {
  it('combineHealth: any failing check makes the task unhealthy; all must pass for healthy; otherwise not known yet', () => {
    const cases: [(boolean | undefined)[], boolean | undefined][] = [
      [[true, true], true], [[true, false], false], [[undefined, false], false], [[true, undefined], undefined], [[], undefined], [[true], true],
    ];
    for (const [checks, want] of cases) assert.equal(combineHealth(checks), want, JSON.stringify(checks));
  });

  /** A check whose probe answers from `results`, the last one for ever after. */
  const scripted = (results: ProbeResult[], o: Partial<ResolvedHealthCheck> = {}): TaskCheck & { calls: () => number } => {
    let n = 0;
    return { check: check(o), probe: async () => results[Math.min(n++, results.length - 1)]!, calls: () => n };
  };

  it('reports healthy only once every check passed, and unhealthy as soon as one fails', async () => {
    // Check 2 fails on its third run, then passes again.
    const a = scripted([OK]);
    const b = scripted([OK, OK, BAD, OK], { consecutiveFailures: 5 });
    const changes: [boolean, string][] = [];
    const t = new TaskHealthChecks({ checks: [a, b], startedAt: Date.now(), onChange: (h, m) => changes.push([h, m]), onKill: () => assert.fail('no kill') });
    t.start();
    await waitFor('healthy, unhealthy, healthy again', () => changes.length >= 3 && b.calls() >= 5);
    t.stop();
    assert.deepEqual(changes.map((c) => c[0]), [true, false, true]);
    assert.match(changes[0]![1], /^all 2 health checks passed; last: health check [12] of 2 passed: fine$/);
    assert.equal(changes[1]![1], 'health check 2 of 2 failed (1 of 5 in a row): refused');
    assert.equal(changes[2]![1], 'all 2 health checks passed; last: health check 2 of 2 passed: fine');
    assert.equal(t.healthy, true);
  });

  it('one check that fails too often kills the task and stops the others', async () => {
    const a = scripted([OK]);
    const b = scripted([BAD], { consecutiveFailures: 2 });
    const changes: boolean[] = [];
    let killed = '';
    const t = new TaskHealthChecks({ checks: [a, b], startedAt: Date.now(), onChange: (h) => changes.push(h), onKill: (m) => { killed = m; } });
    t.start();
    await waitFor('the kill', () => killed);
    const runs = a.calls();
    assert.equal(killed, '2 consecutive health checks failed (check 2 of 2); last: refused');
    assert.deepEqual(changes, [false]);
    // A window for a run that should not happen: check 1 runs every 10 ms while alive.
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(a.calls() <= runs + 1, `check 1 ran ${a.calls() - runs} more times after the kill`);
  });

  it('after an agent restart every check starts from the task\'s last health: unhealthy until all pass again', async () => {
    const a = scripted([OK]);
    // Check 2 answers only once the test lets it.
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const b: TaskCheck = { check: check(), probe: async () => (await gate, OK) };
    const changes: boolean[] = [];
    const t = new TaskHealthChecks({ checks: [a, b], startedAt: Date.now(), healthy: false, onChange: (h) => changes.push(h), onKill: () => undefined });
    t.start();
    await waitFor('check 1 ran twice', () => a.calls() >= 2);
    assert.deepEqual(changes, [], 'check 1 alone does not make the task healthy');
    release();
    await waitFor('healthy', () => changes.length === 1);
    t.stop();
    assert.deepEqual(changes, [true]);
  });

  it('lists health_check first, then health_checks (absent in TaskInfos journaled before it existed)', () => {
    const one = { type: 'TCP', tcp: { port: 1 } } as HealthCheck__Output;
    const two = { type: 'TCP', tcp: { port: 2 } } as HealthCheck__Output;
    assert.deepEqual(taskHealthChecks({ healthCheck: one, healthChecks: [two] }), [one, two]);
    assert.deepEqual(taskHealthChecks({ healthCheck: null }), []);
    assert.deepEqual(taskHealthChecks({ healthCheck: null, healthChecks: [two] }), [two]);
  });

  it('caps a task\'s checks and names the entry of health_checks that is wrong', () => {
    const tcp = (port: number): HealthCheck__Output => ({ type: 'TCP', command: null, http: null, tcp: { port }, killOnFailure: false });
    const nine = Array.from({ length: MAX_TASK_HEALTH_CHECKS }, (_, i) => tcp(1000 + i));
    assert.deepEqual(taskHealthCheckProblems({ healthCheck: tcp(1), healthChecks: nine }, []),
      [`${MAX_TASK_HEALTH_CHECKS + 1} health checks (health_check and health_checks together); the limit is ${MAX_TASK_HEALTH_CHECKS}`]);
    assert.deepEqual(taskHealthCheckProblems({ healthCheck: null, healthChecks: nine }, []), []);
    assert.deepEqual(taskHealthCheckProblems({ healthCheck: tcp(1), healthChecks: [tcp(2), { ...tcp(0), tcp: { port: 0, portIndex: 3 } }] }, [31000]),
      ['health_checks[1]: the TCP health check\'s port_index 3 is out of range: the task has 1 port(s) (31000)']);
  });
});

describe('HTTPS and several checks against real servers', () => {
  let dir: string;
  let plain: http.Server;
  let secure: https.Server;
  let httpPort = 0;
  let httpsPort = 0;
  let closedPort = 0;
  const listen = async (s: net.Server) => {
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    return (s.address() as net.AddressInfo).port;
  };
  before(async () => {
    dir = await tempDir();
    // Signed by a CA nobody trusts, as a task's own certificate is.
    const files = issueCertificate(createCa(dir, 'task'), dir, 'task', { commonName: 'task', ips: ['127.0.0.1'] });
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => res.writeHead(Number(req.url!.slice(1)) || 200).end('x');
    secure = https.createServer({ cert: readFileSync(files.tlsCert), key: readFileSync(files.tlsKey) }, handler);
    plain = http.createServer(handler);
    httpsPort = await listen(secure);
    httpPort = await listen(plain);
    const s = net.createServer();
    closedPort = await listen(s);
    await new Promise((r) => s.close(r));
  });
  after(async () => {
    secure.close();
    plain.close();
    await rm(dir, { recursive: true, force: true });
  });
  const signal = () => AbortSignal.timeout(5000);

  it('HTTPS: a GET over TLS, the task\'s certificate not verified; 2xx and 3xx are healthy', async () => {
    assert.deepEqual(await httpProbe(httpsPort, '/200', 'https')(signal()), { ok: true, detail: `GET https://127.0.0.1:${httpsPort}/200 answered 200`, statusCode: 200 });
    assert.deepEqual(await httpProbe(httpsPort, '/500', 'https')(signal()),
      { ok: false, reason: `GET https://127.0.0.1:${httpsPort}/500 answered 500 Internal Server Error (2xx or 3xx is healthy)`, statusCode: 500 });
    const notTls = await httpProbe(httpPort, '/', 'https')(signal());
    assert.equal(notTls.ok, false, 'a plain HTTP server fails an HTTPS check');
  });

  /** The task's checks from wire specs, against the servers above. */
  const checksOf = (specs: Partial<HealthCheck__Output>[]) => taskChecks(
    specs.map((o) => ({ type: 'HTTP', command: null, http: null, tcp: null, killOnFailure: false, delaySeconds: 0, intervalSeconds: 0.1, gracePeriodSeconds: 0, ...o })),
    [httpPort, httpsPort, closedPort], { sandbox: dir, environment: {} },
  )!;
  const http0 = { http: { port: 0, portIndex: 0, path: '/', scheme: '' } };
  const https1 = { http: { port: 0, portIndex: 1, path: '/204', scheme: 'https' } };
  const tcpClosed = { type: 'TCP' as const, tcp: { port: 0, portIndex: 2 } };

  it('HTTP, HTTPS and TCP checks that all pass make the task healthy', async () => {
    const changes: [boolean, string][] = [];
    const t = new TaskHealthChecks({ checks: checksOf([http0, https1, { type: 'TCP', tcp: { port: 0, portIndex: 1 } }]), startedAt: Date.now(),
      onChange: (h, m) => changes.push([h, m]), onKill: () => assert.fail('no kill') });
    t.start();
    await waitFor('healthy', () => changes.length);
    t.stop();
    assert.equal(changes[0]![0], true);
    assert.match(changes[0]![1], /^all 3 health checks passed; last: health check [123] of 3 passed: /);
  });

  it('one failing check makes the task unhealthy, and with kill_on_failure kills it', async () => {
    const changes: [boolean, string][] = [];
    let killed = '';
    const t = new TaskHealthChecks({
      checks: checksOf([http0, https1, { ...tcpClosed, consecutiveFailures: 2, killOnFailure: true }]), startedAt: Date.now(),
      onChange: (h, m) => changes.push([h, m]), onKill: (m) => { killed = m; },
    });
    t.start();
    await waitFor('the kill', () => killed);
    assert.deepEqual(changes.map((c) => c[0]), [false], 'never healthy: check 3 never passed');
    assert.match(changes[0]![1], new RegExp(`^health check 3 of 3 failed \\(1 of 2 in a row\\): TCP connect to 127\\.0\\.0\\.1:${closedPort}: connection refused`));
    assert.match(killed, /^2 consecutive health checks failed \(check 3 of 3\); last: TCP connect .*connection refused/);
  });
});
