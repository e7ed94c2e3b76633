/**
 * mezz-functions on real processes: a master, one agent (cgroups where the
 * host allows) and the function runner (queue limit 250), driven through
 * OpenWhisk's /api/v1 with fetch and with the `openwhisk` npm client:
 * - OpenWhisk's hello action and an async one, blocking and not, the activation
 *   with its own logs only and where its worker came from (pool, none, warm);
 * - a throw (developer error) and a rejection (application error), as OpenWhisk;
 * - a shell `command` function; a timeout, its worker recycled; a memory kill;
 * - scale to zero and back; a burst of 200 from zero on at most 8 workers, and
 *   429s with Retry-After past the queue limit;
 * - a deleted and re-created function never answers with the old code;
 * - bad input is refused with a clear 4xx and changes nothing.
 * Each test deletes its functions, which stops their workers: the agent's
 * memory is kept for the burst. Workers are told apart in the master's task
 * list by their kind (`fn worker ID (nodejs:MB)`): a test that counts them
 * gives its function a memory no other function here uses.
 */
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import openwhisk from 'openwhisk';
import type { ListTasksResponse__Output } from '../../lib/proto/generated/mezzanine/v1/ListTasksResponse';
import type { ListAgentsResponse__Output } from '../../lib/proto/generated/mezzanine/v1/ListAgentsResponse';
import { Cluster, op, waitFor, type Proc } from '../harness';
import { mezzIn } from '../fixtures/mezz-up';

interface Activation {
  activationId: string;
  name: string;
  version: string;
  cold: 'pool' | 'none' | 'warm';
  logs: string[];
  annotations: { key: string; value: unknown }[];
  response: { status: string; statusCode: number; success: boolean; result: Record<string, unknown> };
}
/** A response; `body` is its JSON (or its text when it is not JSON). */
interface Answer { status: number; headers: Headers; body: any }

const ACTIONS = '/api/v1/namespaces/_/actions';
const ACTIVATIONS = '/api/v1/namespaces/_/activations';
const HELLO = "function main(params) { console.log('hi ' + params.name); return {payload: 'Hello, ' + params.name + '!'} }";
const ASYNC_HELLO = "function main(params) { return new Promise((resolve) => setTimeout(() => { console.log('later ' + params.name); resolve({payload: 'Later, ' + params.name}) }, 50)) }";
/** Sleeps `params.sleep` ms when asked; answers its worker's pid, which tells workers apart. */
const SLEEPER = 'function main(params) { return new Promise((resolve) => setTimeout(() => resolve({pid: process.pid}), params.sleep || 0)) }';

describe('mezz-functions on a master and an agent', () => {
  const c = new Cluster();
  let master: Proc;
  let base: string;
  /** Why the memory limit cannot be tested here; empty when it can. */
  let noCgroups = '';

  const call = async (method: string, url: string, body?: unknown): Promise<Answer> => {
    const r = await fetch(`${base}${url}`, {
      method, signal: AbortSignal.timeout(90_000),
      ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
    });
    const text = await r.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // kept as text: the assertion shows it
    }
    return { status: r.status, headers: r.headers, body: parsed };
  };
  const must = async (method: string, url: string, want: number, body?: unknown) => {
    const r = await call(method, url, body);
    assert.equal(r.status, want, `${method} ${url}: ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const deploy = (name: string, code: string, opts: { kind?: string; limits?: Record<string, number>; annotations?: Record<string, unknown> } = {}) =>
    must('PUT', `${ACTIONS}/${name}`, 200, {
      exec: { kind: opts.kind ?? 'nodejs:20', code },
      ...(opts.limits && { limits: opts.limits }),
      ...(opts.annotations && { annotations: Object.entries(opts.annotations).map(([key, value]) => ({ key, value })) }),
    });
  const invoke = (name: string, params: Record<string, unknown> = {}, query = 'blocking=true') => call('POST', `${ACTIONS}/${name}?${query}`, params);
  /** A blocking call's whole activation, once its status is `want`. */
  const activationOf = async (name: string, params: Record<string, unknown> = {}, want = 200): Promise<Activation> => {
    const r = await invoke(name, params);
    assert.equal(r.status, want, `${name}: ${JSON.stringify(r.body)}`);
    return r.body as Activation;
  };
  /** The record of an activation, once it exists. */
  const recordOf = (id: string) => waitFor(`activation ${id}`, async () => {
    const r = await call('GET', `${ACTIVATIONS}/${id}`);
    return r.status === 200 ? (r.body as Activation) : undefined;
  }, 30_000, 50);
  /** Running worker tasks of a kind (`nodejs:192`), as the master lists them. */
  const workersOf = async (kind: string) => {
    const r = await op<object, ListTasksResponse__Output>(c.operator(master.address), 'ListTasks', { state: 'TASK_RUNNING' });
    return r.tasks.filter((t) => t.state === 'TASK_RUNNING' && t.name.startsWith('fn worker ') && t.name.endsWith(`(${kind})`));
  };
  const coldStarts = async () => {
    const text = await (await fetch(`${base}/metrics`)).text();
    return [...text.matchAll(/^mezz_functions_cold_starts_total\{[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
  };
  const remove = (...names: string[]) => Promise.all(names.map((n) => must('DELETE', `${ACTIONS}/${n}`, 200)));

  before(async () => {
    master = await c.startMaster();
    await c.startAgent(master.address, { name: 'fn-agent', resources: 'cpus:4;mem:8192;disk:1024;ports:[30000-30200]', args: ['--hostname', '127.0.0.1', '--isolation', 'auto'] });
    const agents = await waitFor('the agent to register', async () => {
      const r = await op<object, ListAgentsResponse__Output>(c.operator(master.address), 'listAgents', {});
      return r.agents.length ? r.agents : undefined;
    });
    if (!agents[0]!.isolation.includes('cgroups/mem')) noCgroups = `the agent enforces [${agents[0]!.isolation.join(', ')}], no memory cgroup`;
    const fns = await c.spawn('functions', 'mezz-functions.mjs', [
      '--master', master.address, '--host', '127.0.0.1', '--port', '0', '--data-dir', path.join(c.dir, 'functions'), '--queue-limit', '250',
    ]);
    base = `http://${fns.address}`;
    await waitFor('mezz-functions to lead', async () => (await call('GET', ACTIONS)).status === 200);
  });
  after(async () => {
    await c.teardown();
  });

  test("OpenWhisk's hello action and an async one answer blocking and non-blocking calls, each activation with its own logs", async () => {
    const created = await deploy('hello', HELLO);
    assert.equal(created.version, '0.0.1');
    assert.equal(created.exec.kind, 'nodejs:20');
    await deploy('later', ASYNC_HELLO);

    for (const [name, word] of [['hello', 'Hello, Ada!'], ['later', 'Later, Ada']] as const) {
      const first = await invoke(name, { name: 'Ada' });
      assert.equal(first.status, 200, JSON.stringify(first.body));
      const a = first.body as Activation;
      assert.equal(first.headers.get('x-openwhisk-activation-id'), a.activationId);
      assert.deepEqual(a.response, { status: 'success', statusCode: 0, success: true, result: { payload: word } });
      assert.ok(a.cold === 'pool' || a.cold === 'none', `${name}'s first call is a cold start: ${a.cold}`);
      assert.ok(a.annotations.some((x) => x.key === 'initTime'), 'a cold start records its init time');
      const second = await activationOf(name, { name: 'Bo' });
      assert.equal(second.cold, 'warm', `${name}'s second call finds its worker warm`);
      assert.ok(!second.annotations.some((x) => x.key === 'initTime'));
      const onlyResult = await invoke(name, { name: 'Cy' }, 'blocking=true&result=true');
      assert.equal(onlyResult.status, 200);
      assert.deepEqual(onlyResult.body, { payload: word.replace('Ada', 'Cy') });

      // Non-blocking: 202 and the id at once; the record appears when it ran, with its own log line only.
      const ids: string[] = [];
      for (const who of ['Dee', 'Eve', 'Flo']) {
        const r = await invoke(name, { name: who }, 'blocking=false');
        assert.equal(r.status, 202, JSON.stringify(r.body));
        assert.match(r.body.activationId, /^[0-9a-f]{32}$/);
        ids.push(r.body.activationId);
      }
      for (const [i, who] of ['Dee', 'Eve', 'Flo'].entries()) {
        const rec = await recordOf(ids[i]!);
        assert.equal(rec.response.success, true);
        assert.deepEqual(rec.response.result, { payload: word.replace('Ada', who) });
        assert.ok(['pool', 'none', 'warm'].includes(rec.cold), rec.cold);
        assert.equal(rec.logs.length, 1, JSON.stringify(rec.logs));
        assert.match(rec.logs[0]!, new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\S+Z stdout: (hi|later) ${who}$`));
        assert.deepEqual(await must('GET', `${ACTIVATIONS}/${ids[i]}/logs`, 200), { logs: rec.logs });
        const result = await must('GET', `${ACTIVATIONS}/${ids[i]}/result`, 200);
        assert.equal(result.status, 'success');
        assert.deepEqual(result.result, { payload: word.replace('Ada', who) });
      }
    }
    await remove('hello', 'later');
  });

  test('a throw is a developer error and a rejection an application error, with the message, both 502 as OpenWhisk', async () => {
    await deploy('throws', "function main() { throw new Error('boom') }");
    await deploy('rejects', "async function main() { throw new Error('boom') }");
    const thrown = await activationOf('throws', {}, 502);
    assert.equal(thrown.response.status, 'action developer error');
    assert.equal(thrown.response.statusCode, 2);
    assert.deepEqual(thrown.response.result, { error: 'An error has occurred: Error: boom' });
    const rejected = await activationOf('rejects', {}, 502);
    assert.equal(rejected.response.status, 'application error');
    assert.equal(rejected.response.statusCode, 1);
    assert.match(JSON.stringify(rejected.response.result.error), /boom/);
    // The worker survives an error: the next call is warm.
    assert.equal((await activationOf('rejects', {}, 502)).cold, 'warm');
    await remove('throws', 'rejects');
  });

  test('a command function in shell reads the request on stdin and answers JSON on stdout; its stderr is the log', async () => {
    await deploy('shell', '#!/bin/sh\nread -r line\necho "got it" >&2\nprintf \'{"echo": %s, "shell": "sh"}\\n\' "$line"\n', { kind: 'command' });
    const a = await activationOf('shell', { who: 'sh', n: 3 });
    assert.deepEqual(a.response.result, { echo: { who: 'sh', n: 3 }, shell: 'sh' });
    assert.ok(a.logs.some((l) => / stderr: got it$/.test(l)), JSON.stringify(a.logs));
    const notJson = await deploy('not-json', '#!/bin/sh\necho this is not json\n', { kind: 'command' });
    assert.equal(notJson.exec.kind, 'command');
    const bad = await activationOf('not-json', {}, 502);
    assert.equal(bad.response.statusCode, 2, 'a result that is not JSON is a developer error');
    assert.match(String(bad.response.result.error), /valid JSON.*this is not json/);
    await remove('shell', 'not-json');
  });

  test('a call past its time limit is a timeout naming the limit; its worker is recycled and the next call runs on a fresh one', async () => {
    await deploy('sleepy', SLEEPER, { limits: { timeout: 1000, memory: 160 }, annotations: { maxWorkers: 1 } });
    const first = await activationOf('sleepy');
    const [before] = await workersOf('nodejs:160');
    assert.ok(before, 'one worker runs it');
    const late = await activationOf('sleepy', { sleep: 5000 }, 502);
    assert.equal(late.response.statusCode, 2);
    assert.deepEqual(late.response.result, { error: 'The action exceeded its time limits of 1000 milliseconds.' });
    assert.deepEqual(late.annotations.find((x) => x.key === 'timeout'), { key: 'timeout', value: true });
    await waitFor('the timed-out worker\'s task to end', async () => !(await workersOf('nodejs:160')).some((t) => t.id === before.id));
    const next = await activationOf('sleepy');
    assert.equal(next.response.success, true);
    assert.notEqual(next.cold, 'warm', 'a fresh worker');
    assert.notEqual(next.response.result.pid, first.response.result.pid);
    await remove('sleepy');
  });

  test('memory past the limit is reported as a memory kill', async (t: TestContext) => {
    if (noCgroups) {
      const why = `NO MEMORY CGROUP ON THIS HOST — the function memory limit is NOT tested: ${noCgroups}`;
      process.stderr.write(`\n*** ${why}\n\n`);
      if (process.env.REQUIRE_CGROUPS === '1') assert.fail(`REQUIRE_CGROUPS=1: ${why}`);
      t.skip(why);
      return;
    }
    // ~1.5 GB of Buffers: off the V8 heap, so only the cgroup's 128 MB stops it.
    await deploy('hog', 'function main() { const keep = []; for (let i = 0; i < 96; i++) keep.push(Buffer.alloc(16 << 20, 1)); return {kept: keep.length} }', { limits: { memory: 128, timeout: 20000 } });
    const a = await activationOf('hog', {}, 502);
    assert.equal(a.response.statusCode, 2);
    assert.deepEqual(a.response.result, { error: 'The action exhausted its memory and was aborted.' });
    await remove('hog');
  });

  test('scale to zero after idleTimeout, and back: the next call is a cold start and says so', async () => {
    await deploy('idle', SLEEPER, { limits: { memory: 192 }, annotations: { idleTimeout: 2 } });
    const first = await activationOf('idle');
    assert.notEqual(first.cold, 'warm');
    assert.equal((await workersOf('nodejs:192')).length, 1, 'one worker while it is warm');
    await waitFor('no worker of the function left running', async () => (await workersOf('nodejs:192')).length === 0, 20_000, 200);
    const listed = mezzIn(c.dir, ['tasks', '--state', 'running', '--json', '--master', master.address]);
    assert.equal(listed.status, 0, listed.stderr);
    const running = (JSON.parse(listed.stdout) as { name: string }[]).map((t) => t.name);
    assert.ok(!running.some((n) => n.endsWith('(nodejs:192)')), `\`mezz tasks\` shows no worker of the function: ${running.join(', ')}`);
    const back = await activationOf('idle');
    assert.equal(back.response.success, true);
    assert.equal(back.cold, 'none', 'from nothing: no stem has its memory');
    assert.notEqual(back.response.result.pid, first.response.result.pid);
    await remove('idle');
  });

  test('a burst of 200 from zero on concurrency 1 and maxWorkers 8: every call succeeds on at most 8 workers; past the queue limit 429 with Retry-After', async () => {
    await deploy('burst', SLEEPER, { limits: { concurrency: 1 }, annotations: { maxWorkers: 8 } });
    const coldBefore = await coldStarts();
    const answers = await Promise.all(Array.from({ length: 200 }, () => invoke('burst', { sleep: 50 })));
    const bad = answers.filter((r) => r.status !== 200 || !r.body.response?.success);
    assert.deepEqual(bad.map((r) => [r.status, r.body]).slice(0, 3), [], `${bad.length} of 200 failed`);
    const pids = new Set(answers.map((r) => r.body.response.result.pid as number));
    assert.ok(pids.size >= 2 && pids.size <= 8, `${pids.size} workers served the burst`);
    assert.ok((await coldStarts()) > coldBefore, 'cold starts counted');
    await remove('burst');

    // One worker, 3 s a call: 1 runs, 250 wait, the rest are refused.
    await deploy('jam', SLEEPER, { annotations: { maxWorkers: 1 } });
    const jam = await Promise.all(Array.from({ length: 320 }, () => invoke('jam', { sleep: 3000 }, 'blocking=false')));
    const refused = jam.filter((r) => r.status === 429);
    assert.deepEqual(jam.filter((r) => r.status !== 202 && r.status !== 429).map((r) => [r.status, r.body]), [], 'only 202 or 429, never a 5xx');
    assert.ok(refused.length >= 320 - 251, `${refused.length} refused`);
    for (const r of refused) {
      assert.match(r.headers.get('retry-after') ?? '', /^[1-9]\d*$/);
      assert.equal(typeof r.body.error, 'string');
      assert.equal(typeof r.body.code, 'string');
    }
    assert.match(refused[0]!.body.error, /Too many requests/);
    await remove('jam');
  });

  test('versions and parameters: the latest runs unless a version is pinned; default parameters sit under the call\'s, init parameters are the environment', async () => {
    const code = (v: number) => `function main(p) { return { v: ${v}, greeting: p.greeting, who: p.who, token: process.env.TOKEN ?? null } }`;
    const parameters = [{ key: 'greeting', value: 'hi' }, { key: 'who', value: 'world' }, { key: 'TOKEN', value: 't0k', init: true }];
    await must('PUT', `${ACTIONS}/pinned`, 200, { exec: { kind: 'nodejs:20', code: code(1) }, parameters, limits: { memory: 160 } });
    await must('PUT', `${ACTIONS}/pinned?overwrite=true`, 200, { exec: { kind: 'nodejs:20', code: code(2) } });
    const latest = await invoke('pinned', { who: 'Ada' }, 'blocking=true&result=true');
    assert.deepEqual([latest.status, latest.body], [200, { v: 2, greeting: 'hi', who: 'Ada', token: 't0k' }], 'the latest, its kept parameters under the call\'s');
    const first = await invoke('pinned', {}, 'blocking=true&result=true&version=0.0.1');
    assert.deepEqual([first.status, first.body], [200, { v: 1, greeting: 'hi', who: 'world', token: 't0k' }], 'version 0.0.1 pinned');
    const again = await invoke('pinned', {}, 'blocking=true&result=true&version=2');
    assert.deepEqual(again.body.v, 2, 'a pin may name the latest too, as 2');
    const versions = await must('GET', `${ACTIONS}/pinned/versions`, 200) as { version: string }[];
    assert.deepEqual(versions.map((v) => v.version), ['0.0.2', '0.0.1']);
    await remove('pinned');
  });

  test('a deleted and re-created function never answers with the old code', async () => {
    await deploy('phoenix', "function main() { return {v: 1, pid: process.pid} }", { annotations: { maxWorkers: 3 } });
    const old = await Promise.all(Array.from({ length: 3 }, () => activationOf('phoenix')));
    assert.ok(old.every((a) => a.response.result.v === 1));
    const oldPids = new Set(old.map((a) => a.response.result.pid));
    await remove('phoenix');
    const reborn = await deploy('phoenix', "function main() { return {v: 2, pid: process.pid} }", { annotations: { maxWorkers: 3 } });
    assert.equal(reborn.version, '0.0.1');
    const answers = [...(await Promise.all(Array.from({ length: 6 }, () => activationOf('phoenix')))), await activationOf('phoenix')];
    for (const a of answers) {
      assert.equal(a.response.result.v, 2);
      assert.ok(!oldPids.has(a.response.result.pid), 'not on a worker of the old code');
    }
    await remove('phoenix');
  });

  test('bad input gets a clear 4xx and changes nothing', async () => {
    const syntax = await call('PUT', `${ACTIONS}/broken`, { exec: { kind: 'nodejs:20', code: 'function main(params) {\n  const x = 1;\n  return {a: x,, };\n}\n' } });
    assert.equal(syntax.status, 400);
    assert.match(syntax.body.error, /SyntaxError.*line 3/);
    const noMain = await call('PUT', `${ACTIONS}/broken`, { exec: { kind: 'nodejs:20', code: 'function hello() { return {} }' } });
    assert.equal(noMain.status, 400);
    assert.match(noMain.body.error, /the entry 'main' is not defined/);
    assert.equal((await call('GET', `${ACTIONS}/broken`)).status, 404, 'nothing stored');
    const badName = await call('PUT', `${ACTIONS}/${encodeURIComponent('-bad!name')}`, { exec: { kind: 'nodejs:20', code: HELLO } });
    assert.equal(badName.status, 400, JSON.stringify(badName.body));
    assert.match(badName.body.error, /\/name: the name "-bad!name" is not allowed/);

    await deploy('fine', HELLO);
    const update = await call('PUT', `${ACTIONS}/fine?overwrite=true`, { exec: { kind: 'nodejs:20', code: 'function main( {' } });
    assert.equal(update.status, 400);
    const kept = await must('GET', `${ACTIONS}/fine`, 200);
    assert.equal(kept.version, '0.0.1', 'a refused update makes no version');
    assert.equal(kept.exec.code, HELLO);
    assert.equal((await call('GET', `${ACTIONS}/fine?version=0.0.7`)).status, 404);
    const pinned = await invoke('fine', {}, 'blocking=true&version=7');
    assert.equal(pinned.status, 404);
    assert.match(pinned.body.error, /version 7.*latest is 0\.0\.1/);
    const big = await invoke('fine', { name: 'x'.repeat(1024 * 1024 + 1) });
    assert.equal(big.status, 413);
    assert.match(big.body.error, /Request larger than allowed: \d+ > 1048576 bytes/);
    assert.equal((await invoke('nope', {}, 'blocking=false')).status, 404, 'an unknown function is 404, never 202');
    assert.equal((await invoke('nope')).status, 404);
    assert.deepEqual((await activationOf('fine', { name: 'still' })).response.result, { payload: 'Hello, still!' });
    await remove('fine');
  });

  test("a function's whole life through OpenWhisk's own npm client", async () => {
    const ow = openwhisk({ apihost: base, api_key: 'user:pass', namespace: '_' });
    const created = await ow.actions.create({ name: 'owlife', action: HELLO });
    assert.equal(created.version, '0.0.1');
    assert.deepEqual(await ow.actions.invoke({ name: 'owlife', blocking: true, result: true, params: { name: 'ow' } }), { payload: 'Hello, ow!' });
    const updated = await ow.actions.update({ name: 'owlife', action: "function main(p) { return {payload: 'Hi, ' + p.name} }" });
    assert.equal(updated.version, '0.0.2');
    const blocking = await ow.actions.invoke({ name: 'owlife', blocking: true, params: { name: 'two' } });
    assert.deepEqual(blocking.response?.result, { payload: 'Hi, two' });
    const { activationId } = await ow.actions.invoke({ name: 'owlife', params: { name: 'async' } });
    assert.match(activationId, /^[0-9a-f]{32}$/);
    const later = await waitFor('the async activation', () => ow.activations.get({ name: activationId }).catch(() => undefined));
    assert.deepEqual(later.response?.result, { payload: 'Hi, async' });
    assert.deepEqual((await ow.activations.result({ name: activationId })).result, { payload: 'Hi, async' });

    const listed = await ow.actions.list();
    assert.ok(listed.some((a) => a.name === 'owlife'), JSON.stringify(listed));
    const got = await ow.actions.get({ name: 'owlife' });
    assert.equal(got.version, '0.0.2');
    assert.match((got.exec as { code: string }).code, /Hi, /);
    const acts = await ow.activations.list({ name: 'owlife' });
    for (const id of [blocking.activationId, activationId]) assert.ok(acts.some((a: { activationId: string }) => a.activationId === id), `${id} listed`);

    await ow.actions.delete({ name: 'owlife' });
    await assert.rejects(ow.actions.get({ name: 'owlife' }), (err: { statusCode?: number }) => err.statusCode === 404);
    await assert.rejects(ow.actions.invoke({ name: 'owlife' }), (err: { statusCode?: number }) => err.statusCode === 404);
  });
});
