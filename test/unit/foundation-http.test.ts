/**
 * The foundation's HTTP API server (frameworks/foundation/http.ts): the one
 * error shape for bad bodies (syntax, types, unknown and missing fields,
 * size), YAML bodies, tokens and ACLs, /health and /metrics, hidden
 * internals on 500 — through fastify.inject, then through a real listening
 * server (fetch), and over mutual TLS (node:https).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { after, before, describe, it } from 'node:test';
import { Type } from 'typebox';
import { Acls, Authenticator, loadTls } from '../../lib/auth';
import { NotFoundError } from '../../lib/errors';
import { type Api, createApi, type ErrorBody } from '../../frameworks/foundation';
import { locateJsonError } from '../../frameworks/foundation/http-body';
import { testTls } from '../fixtures/tls';

const OPS = 'ops-secret-0123456789';
const WEB = 'web-secret-0123456789';
const authenticator = new Authenticator([{ principal: 'ops', secret: OPS }, { principal: 'web', secret: WEB }]);
// web may read and write apps under /web/, nothing else; ops may do everything.
const acls = Acls.parse(JSON.stringify({
  rules: [
    { principals: ['ops'], actions: '*', objects: '*' },
    { principals: ['web'], actions: ['framework_read', 'framework_write'], objects: ['services:/web/*'] },
  ],
}), 'acls.json');

/** A logger that keeps its lines, to check what reached the log and not the client. */
function recordingLog() {
  const lines: string[] = [];
  const keep = (level: string) => (message: string, meta?: unknown) => void lines.push(`${level} ${message} ${meta ? JSON.stringify(meta) : ''}`);
  return { lines, log: { debug: keep('debug'), info: keep('info'), warn: keep('warn'), error: keep('error') } as never };
}

const App = Type.Object({
  id: Type.String({ minLength: 1 }),
  instances: Type.Optional(Type.Integer({ minimum: 0 })),
  upgradeStrategy: Type.Optional(Type.Object({
    minimumHealthCapacity: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    maximumOverCapacity: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  }, { additionalProperties: false })),
}, { additionalProperties: false });

/** `/v2/apps/*`: the app id after /v2/apps, as Marathon's ids hold slashes. */
const AppPath = Type.Object({ '*': Type.String() });

/** An API with Marathon-like routes: PUT an app (write on its id), GET one (read), and a handler with a bug. */
function servicesApi(extra: Partial<Parameters<typeof createApi>[0]> = {}) {
  const { lines, log } = recordingLog();
  const api = createApi({ name: 'services', log, authenticator, acls, bodyLimit: 1024, health: () => ({ leader: true }), ...extra });
  api.route({
    method: 'PUT', url: '/v2/apps/*',
    schema: { params: AppPath, body: App, querystring: Type.Object({ force: Type.Optional(Type.Boolean()) }), response: { 200: Type.Object({ id: Type.String(), instances: Type.Integer(), force: Type.Boolean() }) } },
    authz: { action: 'framework_write', object: (r) => `/${r.params['*']}` },
    // The extra field shows that serialization follows the response schema.
    handler: async (r) => Object.assign({ id: r.body.id, instances: r.body.instances ?? 1, force: r.query.force ?? false }, { secret: 'x' }),
  });
  api.route({
    method: 'GET', url: '/v2/apps/*', schema: { params: AppPath, response: { 200: Type.Object({ id: Type.String() }) } },
    authz: { action: 'framework_read', object: (r) => `/${r.params['*']}` },
    handler: async (r) => {
      const id = `/${r.params['*']}`;
      if (id === '/web/missing') throw new NotFoundError(`App '${id}' does not exist`);
      return { id };
    },
  });
  api.route({
    method: 'POST', url: '/bug', schema: { response: { 200: Type.Object({}) } }, authz: 'public',
    handler: async () => {
      throw new Error('connect ECONNREFUSED 10.0.0.7:2379 (password=hunter2)');
    },
  });
  return { api, lines };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function inject(api: Api, method: 'GET' | 'PUT' | 'POST', url: string, body?: string, headers: Record<string, string> = {}) {
  const r = await api.server.inject({ method, url, headers: { 'content-type': 'application/json', ...bearer(OPS), ...headers }, ...(body !== undefined ? { payload: body } : {}) });
  return { status: r.statusCode, headers: r.headers, text: r.body, json: String(r.headers['content-type'] ?? '').includes('json') ? JSON.parse(r.body) as ErrorBody : undefined };
}

describe('foundation HTTP: bad bodies get one error shape naming every offending path', () => {
  const { api } = servicesApi();
  after(() => api.close());

  it('malformed JSON is 400 "Invalid JSON" naming the path being read and the line and column', async () => {
    const r = await inject(api, 'PUT', '/v2/apps/web/api', '{"id": "/web/api",\n "upgradeStrategy": {"minimumHealthCapacity": }}');
    assert.equal(r.status, 400);
    assert.equal(r.json!.message, 'Invalid JSON');
    assert.deepEqual(r.json!.details!.map((d) => d.path), ['/upgradeStrategy/minimumHealthCapacity']);
    // line 2: ` "upgradeStrategy": {"minimumHealthCapacity": }` — 1 space + 17 + ': {' 3 + 23 + ': ' 2 = 46, the } is 47.
    assert.match(r.json!.details![0]!.errors[0]!, /^unexpected "}" at line 2 column 47; expected a value/);
    const proto = await inject(api, 'PUT', '/v2/apps/web/api', '{"id": "x", "upgradeStrategy": {"__proto__": {"polluted": 1}}}');
    assert.deepEqual([proto.status, proto.json!.details], [400, [{ path: '/upgradeStrategy/__proto__', errors: ['the property name __proto__ is not allowed'] }]]);
  });

  it('an empty body is no body: 422 when the route needs one', async () => {
    const r = await inject(api, 'PUT', '/v2/apps/web/api', '');
    assert.deepEqual([r.status, r.json!.details![0]!.path], [422, '/']);
  });

  it('an unknown (misspelt) field is 422, at its own path, with the fields known there; every other error too', async () => {
    const r = await inject(api, 'PUT', '/v2/apps/web/api', JSON.stringify({ id: '/web/api', upgradeStrategy: { minimumHealtCapacity: 0.5, maximumOverCapacity: 2 }, cpu: 1 }));
    assert.equal(r.status, 422, 'Marathon answers a valid JSON that breaks the schema with 422');
    assert.equal(r.json!.message, 'Object is not valid');
    assert.deepEqual(r.json!.details, [
      { path: '/cpu', errors: ['unknown field; known fields here: id, instances, upgradeStrategy'] },
      { path: '/upgradeStrategy/minimumHealtCapacity', errors: ['unknown field; known fields here: minimumHealthCapacity, maximumOverCapacity'] },
      { path: '/upgradeStrategy/maximumOverCapacity', errors: ['must be <= 1'] },
    ]);
  });

  it('wrong types are 422 and never coerced ("3" is no integer, 5 no string); a missing field is named', async () => {
    const r = await inject(api, 'PUT', '/v2/apps/web/api', JSON.stringify({ id: 5, instances: '3' }));
    assert.equal(r.status, 422);
    assert.deepEqual(r.json!.details!.map((d) => [d.path, d.errors[0]]), [['/id', 'must be string'], ['/instances', 'must be integer']]);
    const missing = await inject(api, 'PUT', '/v2/apps/web/api', JSON.stringify({ instances: 1 }));
    assert.deepEqual(missing.json!.details, [{ path: '/id', errors: ['is required'] }]);
  });

  it('the query string is converted from text (?force=true is a boolean) and checked: 400 naming the parameter', async () => {
    const ok = await inject(api, 'PUT', '/v2/apps/web/api?force=true', JSON.stringify({ id: '/web/api' }));
    assert.deepEqual(JSON.parse(ok.text), { id: '/web/api', instances: 1, force: true }, 'the undeclared response field is not serialized');
    const bad = await inject(api, 'PUT', '/v2/apps/web/api?force=maybe', JSON.stringify({ id: '/web/api' }));
    assert.equal(bad.status, 400);
    assert.equal(bad.json!.message, 'Query string is not valid');
    assert.equal(bad.json!.details![0]!.path, '/force');
  });

  it('a body over the cap is 413 naming the cap', async () => {
    const r = await inject(api, 'PUT', '/v2/apps/web/api', JSON.stringify({ id: 'x'.repeat(2000) }));
    assert.equal(r.status, 413);
    assert.equal(r.json!.message, 'Request body is larger than the limit of 1024 bytes');
  });

  it('YAML bodies are parsed and validated as JSON ones; broken YAML is 400 naming line and column', async () => {
    const yaml = { 'content-type': 'application/yaml' };
    const ok = await inject(api, 'PUT', '/v2/apps/web/api', 'id: /web/api\ninstances: 3\n', yaml);
    assert.deepEqual([ok.status, JSON.parse(ok.text)], [200, { id: '/web/api', instances: 3, force: false }]);
    const unknown = await inject(api, 'PUT', '/v2/apps/web/api', 'id: /web/api\ninstance: 3\n', { 'content-type': 'text/yaml' });
    assert.deepEqual([unknown.status, unknown.json!.details![0]!.path], [422, '/instance']);
    const broken = await inject(api, 'PUT', '/v2/apps/web/api', 'id: /web/api\ninstances: "3\n', yaml);
    assert.equal(broken.status, 400);
    assert.equal(broken.json!.message, 'Invalid YAML');
    assert.match(broken.json!.details![0]!.errors[0]!, /^Missing closing "quote at line 3 column 1$/);
    const two = await inject(api, 'PUT', '/v2/apps/web/api', 'id: a\n---\nid: b\n', yaml);
    assert.equal(two.json!.details![0]!.errors[0]!, 'the body holds more than one YAML document; send one at line 2 column 1');
    const proto = await inject(api, 'PUT', '/v2/apps/web/api', 'id: x\n__proto__:\n  polluted: 1\n', yaml);
    assert.deepEqual([proto.status, proto.json!.details![0]!.path], [400, '/__proto__']);
  });

  it('another Content-Type is 415 listing the accepted ones', async () => {
    const r = await inject(api, 'PUT', '/v2/apps/web/api', 'id=x', { 'content-type': 'application/x-www-form-urlencoded' });
    assert.equal(r.status, 415);
    assert.match(r.json!.message, /application\/json, application\/yaml, text\/yaml/);
  });
});

describe('foundation HTTP: tokens, ACLs, probes and errors', () => {
  const { api, lines } = servicesApi();
  after(() => api.close());

  it('no token, or a wrong one, is 401 with WWW-Authenticate: Bearer', async () => {
    for (const headers of [{ authorization: '' }, bearer('not-a-token-of-anyone')]) {
      const r = await inject(api, 'GET', '/v2/apps/web/api', undefined, headers);
      assert.equal(r.status, 401);
      assert.equal(r.headers['www-authenticate'], 'Bearer realm="services"');
    }
    assert.equal((await inject(api, 'GET', '/no/such/route', undefined, { authorization: '' })).status, 401, 'unknown routes tell strangers nothing');
  });

  it('a principal without the action on the object is 403 naming principal, action and object; with it, 200', async () => {
    const denied = await inject(api, 'PUT', '/v2/apps/prod/api', JSON.stringify({ id: '/prod/api' }), bearer(WEB));
    assert.equal(denied.status, 403);
    assert.match(denied.json!.message, /^principal web may not framework_write on "services:\/prod\/api" \(PUT \/v2\/apps\/\*\): no rule of acls\.json matches/);
    assert.equal((await inject(api, 'PUT', '/v2/apps/web/api', JSON.stringify({ id: '/web/api' }), bearer(WEB))).status, 200);
    assert.deepEqual(JSON.parse((await inject(api, 'GET', '/v2/apps/web/api', undefined, bearer(WEB))).text), { id: '/web/api' });
    assert.ok(lines.some((l) => /^warn audit: web from ipv4:127\.0\.0\.1:\d+ framework_write on "services:\/prod\/api".*DENIED/.test(l)));
  });

  it('MezzErrors map to their status with their message (NOT_FOUND: 404)', async () => {
    const r = await inject(api, 'GET', '/v2/apps/web/missing');
    assert.deepEqual([r.status, r.json], [404, { message: "App '/web/missing' does not exist" }]);
  });

  it('/health and /metrics need no token; metrics count requests by route template and status', async () => {
    const health = await inject(api, 'GET', '/health', undefined, { authorization: '' });
    assert.deepEqual([health.status, JSON.parse(health.text)], [200, { status: 'ok', leader: true }]);
    await inject(api, 'GET', '/v2/apps/web/api');
    const metrics = await inject(api, 'GET', '/metrics', undefined, { authorization: '' });
    assert.equal(metrics.status, 200);
    assert.match(metrics.text, /^http_requests_total\{method="GET",route="\/v2\/apps\/\*",status="200"\} [1-9]/m);
    assert.match(metrics.text, /^http_request_duration_seconds_bucket\{le="0.001",method="GET",route="\/v2\/apps\/\*",status="200"\}/m);
    assert.match(metrics.text, /^process_cpu_user_seconds_total /m, 'with the default process metrics');
  });

  it('a handler\'s plain Error is 500 with a generic message; the error and its stack go to the log only', async () => {
    const r = await inject(api, 'POST', '/bug', '{}');
    assert.equal(r.status, 500);
    assert.deepEqual(r.json, { message: 'Internal error in services; the details are in its log' });
    assert.doesNotMatch(r.text, /ECONNREFUSED|hunter2|at /);
    assert.ok(lines.some((l) => l.startsWith('error services: POST /bug failed') && l.includes('ECONNREFUSED')));
  });

  it('protecting /metrics: then it needs a token and framework_read on services:metrics', async () => {
    const { api: closed } = servicesApi({ open: { metrics: false } });
    try {
      assert.equal((await inject(closed, 'GET', '/metrics', undefined, { authorization: '' })).status, 401);
      assert.equal((await inject(closed, 'GET', '/metrics', undefined, bearer(WEB))).status, 403);
      assert.equal((await inject(closed, 'GET', '/metrics')).status, 200);
    } finally {
      await closed.close();
    }
  });

  it('a route that declares no authz is refused when added', () => {
    const { api: bare } = servicesApi();
    assert.throws(() => bare.server.get('/open', async () => ({})), /route GET \/open declares no authz/);
    void bare.close();
  });

  it('each API has its own metrics registry, so two run side by side', async () => {
    const { api: second } = servicesApi();
    try {
      assert.notEqual(second.metrics, api.metrics);
      assert.equal((await inject(second, 'GET', '/metrics', undefined, { authorization: '' })).status, 200);
    } finally {
      await second.close();
    }
  });
});

describe('foundation HTTP: a real listening server', () => {
  const { api } = servicesApi();
  let base = '';
  before(async () => {
    base = await api.listen('127.0.0.1', 0);
  });
  after(() => api.close());

  it('answers over real HTTP: probes open, tokens checked, bad bodies named, good ones served', async () => {
    assert.match(base, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.deepEqual(await (await fetch(`${base}/health`)).json(), { status: 'ok', leader: true });
    const put = (body: string, headers: Record<string, string> = bearer(OPS)) =>
      fetch(`${base}/v2/apps/web/api`, { method: 'PUT', body, headers: { 'content-type': 'application/json', ...headers } });
    const anonymous = await put('{}', {});
    assert.deepEqual([anonymous.status, anonymous.headers.get('www-authenticate')], [401, 'Bearer realm="services"']);
    const malformed = await put('{"id": "/web/api", "instances": 3,}');
    assert.equal(malformed.status, 400);
    assert.equal(((await malformed.json()) as ErrorBody).details![0]!.path, '/');
    const invalid = await put(JSON.stringify({ id: '/web/api', instances: -1 }));
    assert.deepEqual([invalid.status, await invalid.json()], [422, { message: 'Object is not valid', details: [{ path: '/instances', errors: ['must be >= 0'] }] }]);
    const big = await put(JSON.stringify({ id: 'x'.repeat(5000) }));
    assert.equal(big.status, 413);
    const ok = await put(JSON.stringify({ id: '/web/api', instances: 2 }));
    assert.deepEqual([ok.status, await ok.json()], [200, { id: '/web/api', instances: 2, force: false }]);
  });
});

describe('foundation HTTP: mutual TLS', () => {
  const files = testTls().node;
  const { api } = servicesApi({ tls: loadTls(files)! });
  let port = 0;
  before(async () => {
    port = Number(new URL(await api.listen('127.0.0.1', 0)).port);
  });
  after(() => api.close());

  /** GET /health over https, with the test CA trusted and, when `withCert`, the node certificate presented. */
  const get = (withCert: boolean) => new Promise<number>((resolve, reject) => {
    const ca = readFileSync(files.tlsCa);
    const cert = withCert ? { cert: readFileSync(files.tlsCert), key: readFileSync(files.tlsKey) } : {};
    const req = https.get({ host: '127.0.0.1', port, path: '/health', ca, ...cert, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
  });

  it('serves https to a client with a certificate from the CA, and refuses one without', async () => {
    assert.equal(await get(true), 200);
    await assert.rejects(get(false), (err: NodeJS.ErrnoException) => /certificate|ECONNRESET|socket hang up/i.test(`${err.code} ${err.message}`));
  });
});

describe('locateJsonError', () => {
  const cases: { name: string; text: string; want: { path: string; offset: number } }[] = [
    { name: 'a missing value', text: '{"a": }', want: { path: '/a', offset: 6 } },
    { name: 'a trailing comma in an array', text: '{"a": [1, 2, ]}', want: { path: '/a/2', offset: 13 } },
    { name: 'an unquoted key', text: '{"a": {b: 1}}', want: { path: '/a', offset: 7 } },
    { name: 'a missing colon', text: '{"a" 1}', want: { path: '/a', offset: 5 } },
    { name: 'an unclosed string', text: '{"a": "x', want: { path: '/a', offset: 8 } },
    { name: 'a bad escape', text: '["\\q"]', want: { path: '/0', offset: 3 } },
    { name: 'junk after the value', text: '{} x', want: { path: '', offset: 3 } },
    { name: 'an empty body', text: '', want: { path: '', offset: 0 } },
    { name: 'a key with a slash, escaped as a pointer', text: '{"a/b~": tru}', want: { path: '/a~1b~0', offset: 9 } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = locateJsonError(c.text);
      assert.deepEqual({ path: got?.path, offset: got?.offset }, c.want);
    });
  }
  it('valid JSON breaks nowhere', () => assert.equal(locateJsonError('{"a": [1, "\\u00e9", {"b": null}]}'), undefined));
});
