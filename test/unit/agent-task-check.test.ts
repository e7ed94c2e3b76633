/**
 * A task's generalized check (agent/task-check.ts): a probe's result as a
 * CheckStatusInfo (table-driven), `TaskCheck` reporting each changed result
 * and nothing else (scripted probe, then real HTTP and TCP servers and a
 * real command), and the spec shared with the master (lib/check-spec.ts).
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { probeFor, type ProbeResult } from '../../agent/health-check';
import { checkStatusOf, sameCheckResult, TaskCheck } from '../../agent/task-check';
import { resolveCheck, taskCheckProblems, type ResolvedCheck } from '../../lib/check-spec';
import type { CheckInfo__Output, CheckStatusInfo } from '../../lib/proto';
import { tempDir, waitFor } from '../fixtures/agent-harness';

describe('checkStatusOf (a probe\'s result as the check\'s status)', () => {
  const cases: { name: string; type: ResolvedCheck['type']; result: ProbeResult; want: CheckStatusInfo }[] = [
    { name: 'HTTP: the status code of any answer', type: 'HTTP', result: { ok: false, reason: 'answered 503', statusCode: 503 },
      want: { type: 'HTTP', http: { statusCode: 503 }, message: 'answered 503' } },
    { name: 'HTTP: no answer leaves the status code unset', type: 'HTTP', result: { ok: false, reason: 'connection refused' },
      want: { type: 'HTTP', http: {}, message: 'connection refused' } },
    { name: 'TCP: a connection that opened', type: 'TCP', result: { ok: true, detail: 'connected' },
      want: { type: 'TCP', tcp: { succeeded: true }, message: 'connected' } },
    { name: 'TCP: a connection that did not', type: 'TCP', result: { ok: false, reason: 'refused' },
      want: { type: 'TCP', tcp: { succeeded: false }, message: 'refused' } },
    { name: 'COMMAND: the exit code, 0 or not', type: 'COMMAND', result: { ok: false, reason: 'exited with status 3', exitCode: 3 },
      want: { type: 'COMMAND', command: { exitCode: 3 }, message: 'exited with status 3' } },
    { name: 'COMMAND: a timeout leaves the exit code unset', type: 'COMMAND', result: { ok: false, reason: 'no result within the 1 s timeout' },
      want: { type: 'COMMAND', command: {}, message: 'no result within the 1 s timeout' } },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(checkStatusOf(c.type, c.result), c.want));

  it('sameCheckResult compares the values, not the messages', () => {
    const a: CheckStatusInfo = { type: 'HTTP', http: {}, message: 'connection refused' };
    assert.equal(sameCheckResult(a, { ...a, message: 'timeout' }), true);
    assert.equal(sameCheckResult(a, { type: 'HTTP', http: { statusCode: 200 }, message: '' }), false);
    assert.equal(sameCheckResult(undefined, a), false);
    assert.equal(sameCheckResult(undefined, undefined), true);
  });
});

const check = (o: Partial<ResolvedCheck> = {}): ResolvedCheck => ({ type: 'HTTP', port: 1, path: '/', delayMs: 0, intervalMs: 10, timeoutMs: 1000, ...o });

describe('TaskCheck', () => {
  it('reports the first result and each change of value, never a repeat', async () => {
    // HTTP answers in order: 200, 200, 503, no answer, no answer (another message), 200.
    const script: ProbeResult[] = [
      { ok: true, detail: 'a', statusCode: 200 }, { ok: true, detail: 'a', statusCode: 200 }, { ok: false, reason: 'b', statusCode: 503 },
      { ok: false, reason: 'refused' }, { ok: false, reason: 'timeout' }, { ok: true, detail: 'c', statusCode: 200 },
    ];
    let calls = 0;
    const seen: (number | undefined)[] = [];
    const c = new TaskCheck({
      check: check(), startedAt: Date.now(), probe: async () => script[Math.min(calls++, script.length - 1)]!,
      onChange: (s) => seen.push(s.http!.statusCode),
    });
    c.start();
    await waitFor('every scripted result', () => calls > script.length);
    c.stop();
    assert.deepEqual(seen, [200, 503, undefined, 200]);
  });

  it('after an agent restart, the result reported before is not reported again', async () => {
    let calls = 0;
    const seen: CheckStatusInfo[] = [];
    const c = new TaskCheck({
      check: check({ type: 'TCP', delayMs: 60_000 }), startedAt: Date.now() - 120_000, last: { type: 'TCP', tcp: { succeeded: true }, message: 'before' },
      probe: async () => (calls++, { ok: true, detail: 'connected' }), onChange: (s) => seen.push(s),
    });
    c.start();
    await waitFor('two checks (the delay is long past)', () => calls >= 2);
    c.stop();
    assert.deepEqual(seen, []);
  });

  it('a check that outlives its timeout has no value, even if the probe ignores its signal', async () => {
    let status: CheckStatusInfo | undefined;
    const c = new TaskCheck({
      check: check({ type: 'COMMAND', timeoutMs: 50 }), startedAt: 0, probe: () => new Promise(() => undefined), onChange: (s) => { status = s; },
    });
    c.start();
    await waitFor('the result', () => status);
    c.stop();
    assert.deepEqual(status, { type: 'COMMAND', command: {}, message: 'no result within the 0.05 s timeout' });
  });

  it('reports nothing after stop()', async () => {
    let calls = 0;
    let reported = 0;
    let release!: () => void;
    const c = new TaskCheck({
      check: check(), startedAt: 0,
      probe: () => { calls++; return new Promise((r) => { release = () => r({ ok: true, detail: '', statusCode: 200 }); }); },
      onChange: () => { reported++; },
    });
    c.start();
    await waitFor('the first run', () => calls === 1);
    c.stop();
    release();
    await new Promise((r) => setImmediate(r));
    assert.equal(reported, 0);
  });
});

describe('TaskCheck against real servers and a real command', () => {
  let server: http.Server;
  let code = 200;
  let tcp: net.Server;
  let tcpPort = 0;
  let dir: string;
  const ports: number[] = [];
  before(async () => {
    server = http.createServer((_req, res) => res.writeHead(code).end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    ports.push((server.address() as net.AddressInfo).port);
    tcp = net.createServer((s) => s.destroy());
    await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
    tcpPort = (tcp.address() as net.AddressInfo).port;
    dir = await tempDir();
  });
  after(async () => {
    server.close();
    tcp.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Runs `spec` (resolved against the HTTP server's port as PORT0) until `until` holds of what it reported. */
  async function run(spec: Partial<CheckInfo__Output>, until: (seen: CheckStatusInfo[]) => boolean, between?: (seen: CheckStatusInfo[]) => void) {
    const r = resolveCheck({ delaySeconds: 0, intervalSeconds: 0.1, timeoutSeconds: 5, command: null, http: null, tcp: null, ...spec } as CheckInfo__Output, ports);
    assert.ok(r.ok, JSON.stringify(r));
    const seen: CheckStatusInfo[] = [];
    const c = new TaskCheck({
      check: r.check, startedAt: Date.now(), probe: probeFor(r.check, { sandbox: dir, environment: { PATH: process.env.PATH!, ANSWER: '7' } }),
      onChange: (s) => { seen.push(s); between?.(seen); },
    });
    c.start();
    try {
      await waitFor('the expected results', () => until(seen));
    } finally {
      c.stop();
    }
    return seen;
  }

  it('HTTP: reports the status code, a 500 as much as a 200, and its change', async () => {
    code = 200;
    const seen = await run({ type: 'HTTP', http: { port: 0, portIndex: 0, path: '/', scheme: '' } }, (s) => s.length >= 2, () => { code = 500; });
    assert.deepEqual(seen.map((s) => s.http?.statusCode), [200, 500]);
    assert.match(seen[1]!.message ?? '', /answered 500/);
  });

  it('TCP: succeeded while something listens, not once it stops', async () => {
    const seen = await run({ type: 'TCP', tcp: { port: tcpPort } }, (s) => s.length >= 2, () => { tcp.close(); });
    assert.deepEqual(seen.map((s) => s.tcp?.succeeded), [true, false]);
  });

  it('COMMAND: reports the exit code, with the task\'s environment', async () => {
    const seen = await run({ type: 'COMMAND', command: { value: 'exit $ANSWER', shell: true, arguments: [], environment: {}, uris: [], user: '' } }, (s) => s.length >= 1);
    assert.equal(seen[0]!.command?.exitCode, 7);
    assert.match(seen[0]!.message ?? '', /exited with status 7/);
  });
});

describe('check spec (shared with the master)', () => {
  const spec = (o: Partial<CheckInfo__Output>): CheckInfo__Output => ({ type: 'HTTP', command: null, http: null, tcp: null, ...o } as CheckInfo__Output);
  const cases: { name: string; check: CheckInfo__Output; ports?: number[]; want: string[] }[] = [
    { name: 'an HTTP check by port index', check: spec({ http: { port: 0, portIndex: 0, path: '/', scheme: '' } }), ports: [31000], want: [] },
    { name: 'a port index out of range', check: spec({ http: { port: 0, portIndex: 1, path: '/', scheme: '' } }), ports: [31000],
      want: ['check: the HTTP check\'s port_index 1 is out of range: the task has 1 port(s) (31000)'] },
    { name: 'a TCP check without its settings', check: spec({ type: 'TCP' }), want: ['check: a TCP check needs its tcp settings (port or port_index)'] },
    { name: 'an empty command', check: spec({ type: 'COMMAND' }), want: ['check: the COMMAND check has an empty command (set command.value)'] },
    { name: 'no type', check: spec({ type: 'UNKNOWN' }), want: ['check: check type UNKNOWN is not supported; set type to COMMAND, HTTP or TCP'] },
    { name: 'a path without a slash and a bad scheme', check: spec({ http: { port: 80, path: 'x', scheme: 'ftp' } }),
      want: ['check: the HTTP check\'s path "x" must start with "/"', 'check: the HTTP check\'s scheme "ftp" must be "http" or "https"'] },
    { name: 'an interval too short', check: spec({ type: 'TCP', tcp: { port: 80 }, intervalSeconds: 0.01 }),
      want: ['check: check interval_seconds 0.01 must be between 0.1 and 2147483 seconds'] },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(taskCheckProblems({ check: c.check }, c.ports ?? []), c.want));

  it('no check, no problem', () => assert.deepEqual(taskCheckProblems({ check: null }, []), []));

  it('fills in Mesos\' defaults', () => {
    assert.deepEqual(resolveCheck(spec({ type: 'TCP', tcp: { port: 0, portIndex: 1 } }), [31000, 31001]), { ok: true, check: {
      type: 'TCP', port: 31001, delayMs: 15_000, intervalMs: 10_000, timeoutMs: 20_000,
    } });
  });
});
