/**
 * The functions API's routes (OpenWhisk's /api/v1) against an in-memory
 * FunctionsService, over real HTTP on loopback with Basic auth as
 * OpenWhisk's clients send it: actions stored, read, listed, pinned and
 * deleted; code that does not load refused at deploy; invocations blocking
 * or not, with OpenWhisk's status codes; activations and their logs and
 * results; the service's refusals (404, 429 + Retry-After) as OpenWhisk's
 * `{error, code}`.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { Authenticator } from '../../lib/auth';
import { FailedPreconditionError, LimitExceededError, NotFoundError } from '../../lib/errors';
import { createApi } from '../../frameworks/foundation';
import { type Activation, activationRecord, type WorkerAnswer } from '../../frameworks/functions/activation';
import { addFunctionRoutes, FUNCTIONS_BODY_LIMIT } from '../../frameworks/functions/api';
import type { FunctionSpec } from '../../frameworks/functions/function-schema';
import type { FunctionsService, InvokeRequest, InvokeResult } from '../../frameworks/functions/service';
import { parseVersion, type StoredVersion } from '../../frameworks/functions/versions';
import { quiet } from '../harness';

const NOW = Date.UTC(2026, 10, 28, 12);

/**
 * The FunctionsService contract kept in maps. An invocation's outcome is
 * `next` (a worker's answer), or `pending` (the wait passed), or a refusal
 * `full` (the queue is full); activations get ids a000…1, a000…2 ….
 */
class FakeFunctions implements FunctionsService {
  readonly stored = new Map<string, StoredVersion[]>();
  readonly records: Activation[] = [];
  next: WorkerAnswer = { status: 200, body: { greeting: 'hello' } };
  pending = false;
  full = false;
  invoked: { request: InvokeRequest; options: { blocking: boolean; waitMs: number } }[] = [];

  leading() {
    return true;
  }
  functions(namespace: string) {
    return [...this.stored.entries()].filter(([k]) => k.startsWith(`${namespace}/`)).sort(([a], [b]) => a.localeCompare(b)).map(([, v]) => v[0]!);
  }
  function(namespace: string, name: string, version?: string) {
    const all = this.versions(namespace, name);
    if (version === undefined) return all[0];
    return all.find((v) => v.version === parseVersion(version));
  }
  versions(namespace: string, name: string) {
    return this.stored.get(`${namespace}/${name}`) ?? [];
  }
  workers(namespace: string, name: string) {
    return this.versions(namespace, name).length ? [{ id: `${name}.worker.0.1`, state: 'ready', version: '0.0.1', inflight: 0, idleSince: NOW }] : [];
  }
  async putFunction(spec: FunctionSpec, overwrite: boolean) {
    const all = this.versions(spec.namespace, spec.name);
    if (all.length && !overwrite) throw new FailedPreconditionError('resource already exists');
    const v: StoredVersion = { version: (all[0]?.version ?? 0) + 1, spec, updated: NOW };
    this.stored.set(`${spec.namespace}/${spec.name}`, [v, ...all]);
    return v;
  }
  async deleteFunction(namespace: string, name: string) {
    const latest = this.function(namespace, name);
    if (!latest) throw new NotFoundError(`no action ${namespace}/${name}`);
    this.stored.delete(`${namespace}/${name}`);
    return latest;
  }
  async invoke(request: InvokeRequest, options: { blocking: boolean; waitMs: number }): Promise<InvokeResult> {
    this.invoked.push({ request, options });
    if (this.full) throw Object.assign(new LimitExceededError('the queue of guest/hello is full (100 calls): retry in 7 s'), { retryAfterSeconds: 7 });
    const fn = this.function(request.namespace, request.name, request.version);
    if (!fn) throw new NotFoundError(`no action ${request.namespace}/${request.name}`);
    const activationId = (this.records.length + 1).toString(16).padStart(32, 'a');
    const activation = activationRecord({
      activationId, namespace: request.namespace, name: request.name, version: fn.version, subject: request.subject, kind: fn.spec.exec.kind,
      limits: fn.spec.limits, start: NOW, end: NOW + 5, waitMs: 1, cold: 'warm', answer: this.next, logs: ['2026-11-28T12:00:00.001Z stdout: hi'],
    });
    this.records.unshift(activation);
    if (!options.blocking || this.pending) return { activationId, pending: true };
    return { activation };
  }
  activations(namespace: string, query: { name?: string; skip: number; limit: number }) {
    return this.records.filter((a) => a.namespace === namespace && (!query.name || a.name === query.name)).slice(query.skip, query.skip + query.limit);
  }
  activation(namespace: string, activationId: string) {
    return this.records.find((a) => a.namespace === namespace && a.activationId === activationId);
  }
}

/** OpenWhisk's guest key: the uuid is the principal, the key its secret. */
const UUID = '23bc46b1-71f6-4ed5-8c54-816aa4f8c502';
const KEY = '123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP';
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

interface Client {
  service: FakeFunctions;
  req(method: string, path: string, body?: unknown, auth?: string): Promise<{ status: number; body: any; headers: Headers }>;
}

async function start(t: TestContext, opts: { auth?: boolean } = {}): Promise<Client> {
  const service = new FakeFunctions();
  const api = createApi({
    name: 'functions', log: quiet as never, bodyLimit: FUNCTIONS_BODY_LIMIT,
    ...(opts.auth === false ? {} : { authenticator: new Authenticator([{ principal: UUID, secret: KEY }]) }),
  });
  addFunctionRoutes(api, service, { leaderAddress: () => '127.0.0.1:3233', abdicate: async () => true });
  const base = await api.listen('127.0.0.1', 0);
  t.after(() => api.close());
  return {
    service,
    async req(method, path, body, auth = basic(UUID, KEY)) {
      const headers: Record<string, string> = { authorization: auth };
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(base + path, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
    },
  };
}

const HELLO = 'function main(params) { return { greeting: `hello ${params.name}` }; }';
const action = (code = HELLO, extra: Record<string, unknown> = {}) => ({ exec: { kind: 'nodejs:default', code }, ...extra });
const A = '/api/v1/namespaces/_/actions';
const ACT = '/api/v1/namespaces/_/activations';

test("PUT stores an action as the npm client sends it; GET, the list and DELETE answer OpenWhisk's action JSON; `_` is the caller's namespace", async (t) => {
  const c = await start(t);
  const put = await c.req('PUT', `${A}/hello`, action(HELLO, { parameters: [{ key: 'name', value: 'world' }] }));
  assert.equal(put.status, 200, JSON.stringify(put.body));
  assert.equal(put.body.namespace, UUID);
  assert.equal(put.body.version, '0.0.1');
  assert.deepEqual(put.body.exec, { kind: 'nodejs:20', binary: false, code: HELLO });
  assert.equal(put.body.limits.timeout, 60000);
  const got = await c.req('GET', `/api/v1/namespaces/${UUID}/actions/hello`);
  assert.deepEqual(got.body, put.body);
  assert.equal((await c.req('GET', `${A}/hello?code=false`)).body.exec.code, undefined);
  await c.req('PUT', `${A}/bye`, action());
  const list = await c.req('GET', `${A}?limit=1&skip=1`);
  assert.deepEqual(list.body.map((a: { name: string }) => a.name), ['hello']);
  assert.equal(list.body[0].exec.code, undefined, 'listings leave the code out');
  const del = await c.req('DELETE', `${A}/hello`);
  assert.equal(del.status, 200);
  assert.equal(del.body.name, 'hello');
  const gone = await c.req('GET', `${A}/hello`);
  assert.equal(gone.status, 404);
  assert.match(gone.body.error, /does not exist.*hello/);
  assert.equal(typeof gone.body.code, 'string');
  assert.equal((await c.req('DELETE', `${A}/hello`)).status, 404);
});

test('PUT without overwrite is 409 when the action exists; with it a new version, pinned by ?version=, an unknown version a 404 naming it', async (t) => {
  const c = await start(t);
  await c.req('PUT', `${A}/hello`, action());
  const again = await c.req('PUT', `${A}/hello`, action());
  assert.equal(again.status, 409);
  assert.equal(again.body.error, 'resource already exists');
  const v2 = await c.req('PUT', `${A}/hello?overwrite=true`, { limits: { timeout: 1000 } });
  assert.equal(v2.status, 200, JSON.stringify(v2.body));
  assert.equal(v2.body.version, '0.0.2');
  assert.equal(v2.body.exec.code, HELLO, 'an update without exec keeps the code');
  assert.equal((await c.req('GET', `${A}/hello?version=0.0.1`)).body.limits.timeout, 60000);
  assert.equal((await c.req('GET', `${A}/hello?version=2`)).body.limits.timeout, 1000);
  const unknown = await c.req('GET', `${A}/hello?version=0.0.7`);
  assert.equal(unknown.status, 404);
  assert.match(unknown.body.error, /version 0\.0\.7 of action .*hello; the latest is 0\.0\.2/);
  const versions = await c.req('GET', `${A}/hello/versions`);
  assert.deepEqual(versions.body.map((v: { version: string }) => v.version), ['0.0.2', '0.0.1'], 'every version, newest first');
  assert.equal(versions.body[0].exec.code, undefined, 'without their code');
  assert.equal((await c.req('GET', `${A}/nope/versions`)).status, 404);
  assert.deepEqual((await c.req('GET', `${A}/hello/workers`)).body.map((w: { id: string; state: string }) => [w.id, w.state]), [['hello.worker.0.1', 'ready']], 'its workers');
  assert.equal((await c.req('GET', `${A}/nope/workers`)).status, 404, 'an unknown function has no workers: 404');
});

test("a bad document is OpenWhisk's 400 naming the path; code that does not parse is refused at deploy with its line", async (t) => {
  const c = await start(t);
  const bad = await c.req('PUT', `${A}/hello`, action(HELLO, { limits: { memory: 4096 } }));
  assert.equal(bad.status, 400);
  assert.match(bad.body.error, /^The request content was malformed: \/limits\/memory: memory size 4096 MB exceeds allowed threshold of 512 MB/);
  const syntax = await c.req('PUT', `${A}/hello`, action('function main(params) {\n  return {\n    a: 1,,\n  };\n}'));
  assert.equal(syntax.status, 400);
  assert.match(syntax.body.error, /SyntaxError/);
  assert.match(syntax.body.error, /line 3/);
  assert.equal(c.service.stored.size, 0, 'nothing stored');
});

test('POST invokes: non-blocking 202 with the id; blocking 200 with the activation, or only its result with result=true', async (t) => {
  const c = await start(t);
  await c.req('PUT', `${A}/hello`, action());
  const async = await c.req('POST', `${A}/hello`, { name: 'ann' });
  assert.equal(async.status, 202);
  assert.match(async.body.activationId, /^[0-9a-f]{32}$/);
  assert.deepEqual(c.service.invoked[0]!.request, { namespace: UUID, name: 'hello', params: { name: 'ann' }, subject: UUID });
  const sync = await c.req('POST', `${A}/hello?blocking=true&timeout=5000`, {});
  assert.equal(sync.status, 200);
  assert.equal(sync.body.response.success, true);
  assert.equal(sync.body.version, '0.0.1');
  assert.equal(sync.headers.get('x-openwhisk-activation-id'), sync.body.activationId);
  assert.deepEqual(c.service.invoked[1]!.options, { blocking: true, waitMs: 5000 });
  const result = await c.req('POST', `${A}/hello?blocking=true&result=true`, {});
  assert.deepEqual(result.body, { greeting: 'hello' });
  assert.equal(c.service.invoked[2]!.options.waitMs, 60000, "OpenWhisk's longest wait by default");
});

test("a blocking invoke's failures are OpenWhisk's 502 (application and developer errors); a wait that passes is 202 with the id", async (t) => {
  const c = await start(t);
  await c.req('PUT', `${A}/hello`, action());
  c.service.next = { status: 200, body: { error: 'no name given' } };
  const app = await c.req('POST', `${A}/hello?blocking=true`, {});
  assert.equal(app.status, 502);
  assert.equal(app.body.response.status, 'application error');
  assert.deepEqual((await c.req('POST', `${A}/hello?blocking=true&result=true`, {})).body, { error: 'no name given' });
  c.service.next = { failure: 'timeout' };
  const slow = await c.req('POST', `${A}/hello?blocking=true`, {});
  assert.equal(slow.status, 502);
  assert.match(slow.body.response.result.error, /exceeded its time limits of 60000 milliseconds/);
  c.service.pending = true;
  const waited = await c.req('POST', `${A}/hello?blocking=true`, {});
  assert.equal(waited.status, 202);
  assert.match(waited.body.activationId, /^[0-9a-f]{32}$/);
});

test('invoking an unknown action or version is 404, never 202; parameters over 1 MB are 413 naming the limit; a full queue 429 with Retry-After', async (t) => {
  const c = await start(t);
  const unknown = await c.req('POST', `${A}/nope`, {});
  assert.equal(unknown.status, 404);
  assert.match(unknown.body.error, /nope/);
  await c.req('PUT', `${A}/hello`, action());
  assert.equal((await c.req('POST', `${A}/hello?version=0.0.9`, {})).status, 404);
  assert.equal(c.service.invoked.length, 0, 'nothing was queued');
  const big = await c.req('POST', `${A}/hello`, { blob: 'x'.repeat(1024 * 1024) });
  assert.equal(big.status, 413);
  assert.match(big.body.error, /Request larger than allowed: \d+ > 1048576 bytes/);
  c.service.full = true;
  const full = await c.req('POST', `${A}/hello`, {});
  assert.equal(full.status, 429);
  assert.equal(full.headers.get('retry-after'), '7');
  assert.match(full.body.error, /queue .* is full/);
});

test('activations: the list (summaries, or whole with docs=true, by name), one, its logs and its result', async (t) => {
  const c = await start(t);
  await c.req('PUT', `${A}/hello`, action());
  await c.req('PUT', `${A}/bye`, action());
  const first = (await c.req('POST', `${A}/hello?blocking=true`, {})).body;
  await c.req('POST', `${A}/bye?blocking=true`, {});
  const all = await c.req('GET', ACT);
  assert.deepEqual(all.body.map((a: { name: string }) => a.name), ['bye', 'hello']);
  assert.equal(all.body[0].logs, undefined, 'a summary has no logs');
  assert.equal(all.body[0].statusCode, 0);
  const docs = await c.req('GET', `${ACT}?name=hello&docs=true`);
  assert.deepEqual(docs.body.map((a: { activationId: string }) => a.activationId), [first.activationId]);
  assert.deepEqual(docs.body[0].response.result, { greeting: 'hello' });
  assert.deepEqual((await c.req('GET', `${ACT}/${first.activationId}`)).body, first);
  assert.deepEqual((await c.req('GET', `${ACT}/${first.activationId}/logs`)).body, { logs: ['2026-11-28T12:00:00.001Z stdout: hi'] });
  assert.deepEqual((await c.req('GET', `${ACT}/${first.activationId}/result`)).body, {
    status: 'success', statusCode: 0, success: true, result: { greeting: 'hello' }, size: 20,
  });
  const missing = await c.req('GET', `${ACT}/${'f'.repeat(32)}`);
  assert.equal(missing.status, 404);
  assert.match(missing.body.error, /does not exist/);
});

test("HTTP Basic with the principal and its secret is accepted (OpenWhisk's uuid:key); a wrong key or user is 401", async (t) => {
  const c = await start(t);
  assert.equal((await c.req('GET', A)).status, 200);
  assert.equal((await c.req('GET', A, undefined, `Bearer ${KEY}`)).status, 200);
  for (const auth of [basic(UUID, `${KEY}x`), basic('guest', KEY), 'Basic !!']) {
    const refused = await c.req('GET', A, undefined, auth);
    assert.equal(refused.status, 401, auth);
    assert.equal(typeof refused.body.error, 'string', `OpenWhisk's error field, for its clients: ${JSON.stringify(refused.body)}`);
    assert.equal(refused.body.error, refused.body.message, 'the same words as before, under OpenWhisk\'s name');
    assert.equal(typeof refused.body.code, 'string');
  }
  const badQuery = await c.req('GET', `${A}?limit=500`);
  assert.equal(badQuery.status, 400);
  assert.match(badQuery.body.error, /limit/, 'a malformed query, refused before the route, names the field in `error` too');
});

test('without authentication `_` is `guest`, the subject of its invocations too', async (t) => {
  const c = await start(t, { auth: false });
  assert.equal((await c.req('PUT', `${A}/hello`, action())).body.namespace, 'guest');
  assert.equal((await c.req('GET', '/api/v1/namespaces/guest/actions/hello')).status, 200);
  await c.req('POST', `${A}/hello`, {});
  assert.equal(c.service.invoked[0]!.request.subject, 'guest');
});
