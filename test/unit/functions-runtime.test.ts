/**
 * The function worker runtime (frameworks/functions/worker/runtime.mjs) as a
 * real child process on an OS-chosen port: OpenWhisk's /init and /run contract
 * (status codes and bodies as its Node.js runtime answers), the command kind,
 * per-run logs with two runs in flight, and the __OW_* environment.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';

const RUNTIME = fileURLToPath(new URL('../../frameworks/functions/worker/runtime.mjs', import.meta.url));
const workers: ChildProcess[] = [];

interface Worker {
  base: string;
  output(): string;
  post(route: string, body: unknown): Promise<{ status: number; body: any }>;
}

/** Starts a worker on port 0 and learns its port from the `listening on` line. */
async function startWorker(env: Record<string, string> = {}): Promise<Worker> {
  const child = spawn(process.execPath, [RUNTIME], {
    env: { ...process.env, PORT0: '0', MEZZ_FN_HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  workers.push(child);
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (t: string) => { out += t; });
  child.stderr!.setEncoding('utf8').on('data', (t: string) => { out += t; });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not listen within 10 s: ${out}`)), 10_000);
    const look = () => {
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) { clearTimeout(timer); resolve(Number(m[1])); }
    };
    child.stdout!.on('data', look);
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`worker exited ${code}: ${out}`)); });
  });
  const base = `http://127.0.0.1:${port}`;
  return {
    base,
    output: () => out,
    async post(route, body) {
      const res = await fetch(base + route, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: res.status, body: await res.json() };
    },
  };
}

after(() => {
  for (const child of workers) {
    try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* already gone */ }
  }
});

/** A worker initialised with `code` (entry `main` unless given). */
async function nodeAction(code: string, main = 'main', env: Record<string, string> = {}): Promise<Worker> {
  const w = await startWorker(env);
  const init = await w.post('/init', { value: { name: 'test', main, code, binary: false, env: {} } });
  assert.equal(init.status, 200, JSON.stringify(init.body));
  return w;
}

/** Action code that holds a run until the test creates a file: runs overlap by design, not by timing. */
const WAIT_FOR_GATE = "const fs = require('node:fs');\nasync function waitForGate(f) { while (!fs.existsSync(f)) await new Promise((r) => setTimeout(r, 5)); }";

function gatePath(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'fn-gate-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, 'open');
}

async function health(w: Worker): Promise<{ state: string; inflight: number }> {
  return (await (await fetch(`${w.base}/health`)).json()) as { state: string; inflight: number };
}

async function waitForInflight(w: Worker, n: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while ((await health(w)).inflight !== n) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${n} runs in flight`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const HELLO = "function main(params) { return {payload: 'Hello, ' + params.name} }";

describe('functions worker runtime: nodejs', () => {
  it("runs OpenWhisk's hello action and reports ready in /health", async () => {
    const w = await startWorker();
    assert.deepEqual(await (await fetch(`${w.base}/health`)).json(), { state: 'stem', kind: 'nodejs', inflight: 0 });
    assert.equal((await w.post('/init', { value: { name: 'hello', main: 'main', code: HELLO } })).status, 200);
    const run = await w.post('/run', { value: { name: 'Ada' }, activation_id: 'a1' });
    assert.deepEqual(run, { status: 200, body: { payload: 'Hello, Ada' } });
    assert.deepEqual(await (await fetch(`${w.base}/health`)).json(), { state: 'ready', kind: 'nodejs', name: 'hello', inflight: 0 });
    // The sandbox log reads like OpenWhisk's: markers on both streams after the run.
    assert.equal(w.output().match(/XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX/g)?.length, 2);
  });

  it('names its worker in /health (MEZZ_FN_WORKER_ID), so the scheduler tells it from another process on the port', async () => {
    const w = await startWorker({ MEZZ_FN_WORKER_ID: 'fn-x-7' });
    assert.deepEqual(await (await fetch(`${w.base}/health`)).json(), { state: 'stem', kind: 'nodejs', inflight: 0, worker: 'fn-x-7' });
  });

  it('awaits an async action', async () => {
    const w = await nodeAction('function main(p) { return new Promise((resolve) => setTimeout(() => resolve({done: p.n + 1}), 20)) }');
    assert.deepEqual(await w.post('/run', { value: { n: 41 } }), { status: 200, body: { done: 42 } });
  });

  it('finds exports.main and a named entry', async () => {
    const [exported, named] = await Promise.all([
      nodeAction('exports.main = (p) => ({via: "exports", x: p.x})'),
      nodeAction('function hi(p) { return {via: "hi"} }\nmodule.exports.other = 1', 'hi'),
    ]);
    assert.deepEqual((await exported.post('/run', { value: { x: 1 } })).body, { via: 'exports', x: 1 });
    assert.deepEqual((await named.post('/run', { value: {} })).body, { via: 'hi' });
  });

  it('answers a throw with 502, a rejection with 200 {error}, a non-object with 502', async () => {
    const w = await nodeAction([
      'function main(p) {',
      "  if (p.how === 'throw') throw new Error('boom');",
      "  if (p.how === 'reject') return Promise.reject({reason: 'nope'});",
      "  if (p.how === 'empty') return Promise.reject();",
      '  return 7;',
      '}',
    ].join('\n'));
    assert.deepEqual(await w.post('/run', { value: { how: 'throw' } }), { status: 502, body: { error: 'An error has occurred: Error: boom' } });
    assert.deepEqual(await w.post('/run', { value: { how: 'reject' } }), { status: 200, body: { error: { reason: 'nope' } } });
    assert.deepEqual(await w.post('/run', { value: { how: 'empty' } }), { status: 200, body: { error: {} } });
    assert.deepEqual(await w.post('/run', { value: {} }), { status: 502, body: { error: 'The action did not return a dictionary.' } });
  });

  it('answers a syntax error at /init with 502 naming its line, then refuses runs', async () => {
    const w = await startWorker();
    const init = await w.post('/init', { value: { name: 'bad', main: 'main', code: 'function main() {\n  return {a: 1;\n}\n' } });
    assert.equal(init.status, 502);
    assert.match(init.body.error, /^Initialization has failed due to: SyntaxError: Unexpected token ';' at line 2\n  return \{a: 1;\n +\^/);
    assert.equal((await w.post('/run', { value: {} })).status, 403);
    assert.equal((await health(w)).state, 'failed');
  });

  it('refuses a second /init, an /init without code, and /run before /init with 403', async () => {
    const w = await startWorker();
    assert.deepEqual(await w.post('/run', { value: {} }), { status: 403, body: { error: 'System not initialized.' } });
    assert.deepEqual(await w.post('/init', { value: { main: 'main' } }), { status: 403, body: { error: 'Missing main/no code to execute.' } });
    assert.equal((await w.post('/init', { value: { main: 'main', code: HELLO } })).status, 200);
    assert.deepEqual(await w.post('/init', { value: { main: 'main', code: HELLO } }),
      { status: 403, body: { error: 'Cannot initialize the action more than once.' } });
  });

  it("returns the init's output with /init?logs=1, and wraps a refusal the same way", async () => {
    const w = await startWorker();
    const init = await w.post('/init?logs=1', { value: { main: 'main', code: `console.log('loading');\n${HELLO}` } });
    assert.equal(init.status, 200);
    assert.deepEqual(init.body.response, { OK: true });
    assert.deepEqual(init.body.logs.map((l: string) => l.replace(/^\S+ /, '')), ['stdout: loading']);
    assert.deepEqual(await w.post('/init?logs=1', { value: { main: 'main', code: HELLO } }),
      { status: 403, body: { response: { error: 'Cannot initialize the action more than once.' }, logs: [] } });
  });

  it('rejects an entry that is not a function', async () => {
    const w = await startWorker();
    const init = await w.post('/init', { value: { main: 'main', code: 'exports.other = 1' } });
    assert.deepEqual(init, { status: 502, body: { error: "Initialization has failed due to: Action entrypoint 'main' is not a function." } });
  });

  it('sees the run fields as __OW_* variables, each run its own with two in flight', async (t) => {
    const gate = gatePath(t);
    const w = await nodeAction(
      `${WAIT_FOR_GATE}\nasync function main(p) { if (p.gate) await waitForGate(p.gate); return {id: process.env.__OW_ACTIVATION_ID, ns: process.env.__OW_NAMESPACE} }`,
      'main', { MEZZ_FN_CONCURRENCY: '2' });
    const slow = w.post('/run', { value: { gate }, activation_id: 'slow', namespace: 'guest' });
    await waitForInflight(w, 1);
    // The fast run sets the process's __OW_ACTIVATION_ID while the slow one waits; the slow one still reads its own.
    assert.deepEqual((await w.post('/run', { value: {}, activation_id: 'fast', namespace: 'guest' })).body, { id: 'fast', ns: 'guest' });
    writeFileSync(gate, '');
    assert.deepEqual((await slow).body, { id: 'slow', ns: 'guest' });
  });

  it('returns each run its own log lines with ?logs=1, and 429 past the concurrency', async (t) => {
    const gate = gatePath(t);
    const w = await nodeAction([
      WAIT_FOR_GATE,
      'async function main(p) {',
      '  console.log("start " + p.tag);',
      '  await waitForGate(p.gate);',
      '  console.error("end " + p.tag);',
      '  process.stdout.write("raw " + p.tag);', // no newline: kept as the last line
      '  return {tag: p.tag};',
      '}',
    ].join('\n'), 'main', { MEZZ_FN_CONCURRENCY: '2' });
    const runs = Promise.all([w.post('/run?logs=1', { value: { tag: 'A', gate } }), w.post('/run?logs=1', { value: { tag: 'B', gate } })]);
    await waitForInflight(w, 2); // both have logged their start line
    assert.equal((await w.post('/run', { value: { tag: 'C', gate } })).status, 429);
    writeFileSync(gate, '');
    const [a, b] = await runs;
    for (const [run, tag] of [[a, 'A'], [b, 'B']] as const) {
      assert.equal(run.status, 200);
      assert.deepEqual(run.body.response, { tag });
      const lines: string[] = run.body.logs;
      assert.deepEqual(lines.map((l) => l.replace(/^\S+ /, '')), [`stdout: start ${tag}`, `stderr: end ${tag}`, `stdout: raw ${tag}`]);
      assert.match(lines[0]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z stdout: /);
    }
  });

  it('caps a run\'s logs and says the limit', async () => {
    const w = await nodeAction('function main() { for (let i = 0; i < 10; i++) console.log("0123456789"); return {} }', 'main', { MEZZ_FN_LOG_LIMIT: '25' });
    const run = await w.post('/run?logs=1', { value: {} });
    const lines: string[] = run.body.logs;
    // 10 bytes a line: two fit in 25, the third is refused.
    assert.equal(lines.length, 3);
    assert.match(lines[2]!, /stderr: Logs were truncated because the total bytes size exceeds the limit of 25 bytes\.$/);
  });

  it('loads a zipped action from its package.json main', async (t) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fn-zip-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ main: 'lib.js' }));
    writeFileSync(path.join(dir, 'lib.js'), 'exports.main = () => ({zipped: true})');
    try {
      execFileSync('zip', ['-q', 'a.zip', 'package.json', 'lib.js'], { cwd: dir });
    } catch {
      t.skip('no zip binary here to build the archive');
      return;
    }
    const w = await startWorker();
    const code = readFileSync(path.join(dir, 'a.zip')).toString('base64');
    assert.equal((await w.post('/init', { value: { main: 'main', code, binary: true } })).status, 200);
    assert.deepEqual((await w.post('/run', { value: {} })).body, { zipped: true });
  });
});

describe('functions worker runtime: its secret', () => {
  it('with MEZZ_FN_SECRET, /init and /run answer 401 without the secret and serve with it; the action never sees it', async () => {
    const w = await startWorker({ MEZZ_FN_SECRET: 'sesame-0123456789' });
    const code = 'function main() { return { secret: process.env.MEZZ_FN_SECRET ?? null } }';
    const refused = await w.post('/init', { value: { name: 'test', main: 'main', code, binary: false } });
    assert.equal(refused.status, 401);
    assert.match(refused.body.error, /x-mezz-fn-secret header is missing or wrong/);
    const wrong = await fetch(`${w.base}/run`, { method: 'POST', headers: { 'x-mezz-fn-secret': 'sesame-0123456780' }, body: '{}' });
    assert.equal(wrong.status, 401);
    const post = (route: string, body: unknown) => fetch(`${w.base}${route}`, { method: 'POST', headers: { 'x-mezz-fn-secret': 'sesame-0123456789' }, body: JSON.stringify(body) });
    assert.equal((await post('/init', { value: { name: 'test', main: 'main', code, binary: false } })).status, 200);
    const ran = await post('/run', { value: {} });
    assert.equal(ran.status, 200);
    assert.deepEqual(await ran.json(), { secret: null });
    assert.equal((await fetch(`${w.base}/health`)).status, 200, '/health needs no secret');
  });
});

describe('functions worker runtime: command', () => {
  const command = async (code: string) => {
    const w = await startWorker({ MEZZ_FN_KIND: 'command' });
    assert.equal((await w.post('/init', { value: { name: 'cmd', main: 'main', code } })).status, 200);
    return w;
  };

  it('runs a shell script per invocation with the value on stdin', async () => {
    const w = await command('#!/bin/sh\nread x; echo "{\\"got\\": $x}"');
    assert.deepEqual(await w.post('/run', { value: { n: 1 } }), { status: 200, body: { got: { n: 1 } } });
    assert.deepEqual(await w.post('/run', { value: { n: 2 } }), { status: 200, body: { got: { n: 2 } } });
  });

  it('answers a command that prints non-JSON, or fails, with a developer error (502)', async () => {
    const [text, failing] = await Promise.all([
      command('echo hello'), // no shebang: run by sh
      command('#!/bin/sh\necho "bad input" >&2\nexit 3'),
    ]);
    const run = await text.post('/run', { value: {} });
    assert.equal(run.status, 502);
    assert.match(run.body.error, /^The action did not produce a valid JSON response: "hello\\n"/);
    const failed = await failing.post('/run?logs=1', { value: {} });
    assert.equal(failed.status, 502);
    assert.deepEqual(failed.body.response, { error: 'The action exited with code 3: bad input' });
    assert.deepEqual(failed.body.logs.map((l: string) => l.replace(/^\S+ /, '')), ['stderr: bad input']);
  });

  it('stops a command whose stdout passes 48 MB', async () => {
    const w = await command('#!/bin/sh\nexec yes');
    assert.deepEqual(await w.post('/run', { value: {} }),
      { status: 502, body: { error: `The action wrote more than ${48 * 1024 * 1024} bytes to stdout; its response must be one JSON object.` } });
  });

  it('passes __OW_ACTIVATION_ID to the command', async () => {
    const w = await command('#!/bin/sh\necho "{\\"id\\": \\"$__OW_ACTIVATION_ID\\"}"');
    assert.deepEqual((await w.post('/run', { value: {}, activation_id: 'act-7' })).body, { id: 'act-7' });
  });
});
