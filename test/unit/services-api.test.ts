/**
 * The services API's routes without a cluster: each is authorized on
 * `services:<app id>` (framework_read / write / delete), the app id read
 * from the path or, for POST, the body; a bad body is a 422 before anything
 * is stored; writes wait for the leadership.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Acls, Authenticator } from '../../lib/auth';
import { createApi } from '../../frameworks/foundation';
import { addServiceRoutes } from '../../frameworks/services/api';
import { ServicesScheduler } from '../../frameworks/services/scheduler';
import { quiet } from '../harness';

const OPS = 'ops-secret-0123456789';
const WEB = 'web-secret-0123456789';

function api() {
  const a = createApi({
    name: 'services', log: quiet as never,
    authenticator: new Authenticator([{ principal: 'ops', secret: OPS }, { principal: 'web', secret: WEB }]),
    // web may read and write apps under /web/, never delete; ops may do everything.
    acls: Acls.parse(JSON.stringify({ rules: [
      { principals: ['ops'], actions: '*', objects: '*' },
      { principals: ['web'], actions: ['framework_read', 'framework_write'], objects: ['services:/web/*'] },
    ] }), 'acls.json'),
  });
  addServiceRoutes(a, new ServicesScheduler({ log: quiet as never, newId: () => 'd1' }), { leaderAddress: () => 'me:8080', abdicate: async () => false });
  return a;
}

const as = (token: string) => ({ authorization: `Bearer ${token}`, 'content-type': 'application/json' });

test('each route is authorized on services:<app id>, from the path or the POST body', async (t) => {
  const a = api();
  t.after(() => a.close());
  const req = async (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, token: string, body?: unknown) =>
    (await a.server.inject({ method, url, headers: as(token), ...(body ? { payload: JSON.stringify(body) } : {}) })).statusCode;
  assert.equal(await req('GET', '/v2/apps/web/api', WEB), 404, 'allowed, and unknown');
  assert.equal(await req('GET', '/v2/apps/web/api/tasks', WEB), 404);
  assert.equal(await req('GET', '/v2/apps/shop/api', WEB), 403);
  assert.equal(await req('POST', '/v2/apps', WEB, { id: '/shop/api', cmd: 'sleep 1' }), 403, 'the body names an app outside /web');
  assert.equal(await req('POST', '/v2/apps', WEB, { id: '/web/api', cmd: 'sleep 1' }), 503, 'allowed; not leading yet');
  assert.equal(await req('DELETE', '/v2/apps/web/api', WEB), 403, 'no framework_delete');
  assert.equal(await req('DELETE', '/v2/apps/web/api', OPS), 503, 'allowed; not leading yet');
  assert.equal(await req('GET', '/v2/apps', WEB), 403, 'the list needs services:*');
  assert.equal(await req('GET', '/v2/apps', OPS), 200);
  assert.equal(await req('GET', '/v2/leader', OPS), 200);
  assert.equal((await a.server.inject({ method: 'GET', url: '/v2/apps' })).statusCode, 401);
});

test("a bad app body is Marathon's 422 with every path, JSON or YAML, before anything is stored", async (t) => {
  const a = api();
  t.after(() => a.close());
  const r = await a.server.inject({ method: 'POST', url: '/v2/apps', headers: as(OPS), payload: JSON.stringify({ id: '/web', cmd: 'x', args: ['y'], cpu: 1 }) });
  assert.equal(r.statusCode, 422);
  const body = r.json() as { message: string; details: { path: string }[] };
  assert.equal(body.message, 'Object is not valid');
  assert.ok(body.details.some((d) => d.path === '/cpu'), JSON.stringify(body));
  const yaml = await a.server.inject({ method: 'POST', url: '/v2/apps', headers: { ...as(OPS), 'content-type': 'application/yaml' }, payload: 'id: /web\ninstances: -1\ncmd: x\n' });
  assert.equal(yaml.statusCode, 422);
  assert.ok((yaml.json() as { details: { path: string }[] }).details.some((d) => d.path === '/instances'));
  assert.deepEqual((await a.server.inject({ method: 'GET', url: '/v2/apps', headers: as(OPS) })).json(), { apps: [] });
});
