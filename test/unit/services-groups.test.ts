/**
 * Marathon's /v2/groups without a cluster: a group body read (relative ids,
 * every bad field at its JSON path), the change it makes (PUT removes what
 * it leaves out, group dependencies copied into the apps and groups expanded
 * to their apps, unknown dependencies and cycles named), and the routes on a
 * leading scheduler with no agents: one deployment whose steps follow the
 * dependencies, 201/409/404/422, nothing stored for a bad body, ACLs on
 * `services:<group>/*`.
 */
import assert from 'node:assert/strict';
import { describe, it, test } from 'node:test';
import { Acls, Authenticator } from '../../lib/auth';
import { createApi, type LeaderContext } from '../../frameworks/foundation';
import { addServiceRoutes } from '../../frameworks/services/api';
import { groupChange, parseGroup, type ExistingApp, type GroupSpec } from '../../frameworks/services/group-spec';
import { ServicesScheduler } from '../../frameworks/services/scheduler';
import { quiet } from '../harness';
import { memoryState } from './memory-state';

const paths = (r: { errors?: { path: string }[] }) => (r.errors ?? []).map((e) => e.path).sort();
const why = (r: { errors?: { path: string; errors: string[] }[] }, path: string) => r.errors?.find((e) => e.path === path)?.errors.join('; ') ?? '';

function parsed(body: unknown, opts: { id?: string; base?: string } = {}): GroupSpec {
  const r = parseGroup(body, opts);
  assert.ok(r.group, JSON.stringify(r.errors));
  return r.group;
}

describe('parseGroup', () => {
  it('resolves app and group ids against their group, and group dependencies against the group itself', () => {
    const g = parsed({
      id: 'shop',
      apps: [{ id: 'db', cmd: 'db' }, { id: '/shop/web', cmd: 'web', dependencies: ['db'] }],
      groups: [{ id: 'front', dependencies: ['../db'], apps: [{ id: 'ui', cmd: 'ui' }] }],
    });
    assert.equal(g.id, '/shop');
    assert.deepEqual(g.apps?.map((a) => a.app.id), ['/shop/db', '/shop/web']);
    assert.deepEqual(g.apps?.[1]?.app.dependencies, ['/shop/db']);
    assert.equal(g.groups?.[0]?.id, '/shop/front');
    assert.deepEqual(g.groups?.[0]?.dependencies, [{ id: '/shop/db', path: '/groups/0/dependencies/0' }]);
    assert.deepEqual(g.groups?.[0]?.apps?.map((a) => a.app.id), ['/shop/front/ui']);
    assert.equal(parsed({ apps: [] }, { base: '/x' }).id, '/x', 'POST without an id: the URL group');
    assert.equal(parsed({ id: '/shop' }, { id: '/shop' }).apps, undefined, 'apps left out stay undefined (a PUT keeps them)');
  });

  it('names every bad field by its JSON path, nested ones too, and stores nothing', () => {
    const r = parseGroup({
      id: '/shop',
      apps: [{ id: 'ok', cmd: 'x' }, { id: 'bad', cmd: 5 }],
      groups: [{ id: 'back', apps: [{ id: 'db', cmd: 'x', instances: -1 }] }, { apps: [] }, { id: '/elsewhere/x' }],
      scaleBy: 2,
      appz: [],
    });
    assert.deepEqual(paths(r), ['/apps/1/cmd', '/appz', '/groups/0/apps/0/instances', '/groups/1/id', '/groups/2/id', '/scaleBy']);
    assert.match(why(r, '/appz'), /unknown field; a group has id, apps, groups, dependencies/);
    assert.match(why(r, '/scaleBy'), /not supported/);
    assert.match(why(r, '/groups/1/id'), /is required/);
    assert.match(why(r, '/groups/2/id'), /\/elsewhere\/x is not a child of group \/shop/);
  });

  it('refuses an app outside its group, an id in the body that is not the URL group, and too many apps', () => {
    assert.deepEqual(paths(parseGroup({ id: '/shop', apps: [{ id: '/other/web', cmd: 'x' }] })), ['/apps/0/id']);
    assert.deepEqual(paths(parseGroup({ id: '/shop', apps: [{ id: 'deep/web', cmd: 'x' }] })), ['/apps/0/id'], 'apps are direct children');
    assert.match(why(parseGroup({ id: '/other' }, { id: '/shop' }), '/id'), /names \/other, not the group in the URL \(\/shop\)/);
    const many = parseGroup({ id: '/big', apps: Array.from({ length: 101 }, (_, i) => ({ id: `a${i}`, cmd: 'x' })) });
    assert.match(why(many, '/'), /at most 100 apps/);
    assert.deepEqual(paths(parseGroup([])), ['/']);
  });
});

describe('groupChange', () => {
  const stored = (id: string, dependencies: string[] = []): ExistingApp => ({ id, dependencies });

  it('copies group dependencies into every app under the group; a dependency on a group stands for its apps', () => {
    const g = parsed({
      id: '/shop',
      groups: [
        { id: 'back', apps: [{ id: 'db', cmd: 'x' }, { id: 'cache', cmd: 'x' }] },
        { id: 'front', dependencies: ['/shop/back'], groups: [{ id: 'ui', apps: [{ id: 'web', cmd: 'x', dependencies: ['/auth'] }] }] },
      ],
    });
    const r = groupChange(g, [stored('/auth')], { replace: false });
    assert.ok(r.put, JSON.stringify(r.errors));
    const web = r.put.find((a) => a.id === '/shop/front/ui/web');
    assert.deepEqual(web?.dependencies, ['/auth', '/shop/back/cache', '/shop/back/db'], 'own first, then the group\'s, expanded');
    assert.deepEqual(r.put.find((a) => a.id === '/shop/back/db')?.dependencies, []);
    assert.deepEqual(r.remove, []);
  });

  it("PUT replaces what it lists: apps left out of `apps`, and the apps of child groups left out of `groups`, are removed; what it leaves out is kept", () => {
    const now = [stored('/shop/db'), stored('/shop/old'), stored('/shop/back/x'), stored('/shop/gone/y'), stored('/other')];
    const both = groupChange(parsed({ apps: [{ id: 'db', cmd: 'x' }], groups: [{ id: 'back' }] }, { id: '/shop' }), now, { replace: true });
    assert.deepEqual(both.remove, ['/shop/gone/y', '/shop/old']);
    const appsOnly = groupChange(parsed({ apps: [{ id: 'db', cmd: 'x' }] }, { id: '/shop' }), now, { replace: true });
    assert.deepEqual(appsOnly.remove, ['/shop/old'], 'groups left out: child groups kept');
    const nested = groupChange(parsed({ groups: [{ id: 'back', apps: [] }, { id: 'gone' }] }, { id: '/shop' }), now, { replace: true });
    assert.deepEqual(nested.remove, ['/shop/back/x'], 'a child group given with apps: [] loses its apps');
    assert.deepEqual(groupChange(parsed({ apps: [{ id: 'db', cmd: 'x' }] }, { id: '/shop' }), now, { replace: false }).remove, [], 'POST removes nothing');
  });

  it('names an unknown dependency at the path it was written, and a cycle at the app that closes it', () => {
    const unknown = groupChange(parsed({ id: '/shop', dependencies: ['/nowhere'], apps: [{ id: 'web', cmd: 'x', dependencies: ['db'] }] }), [], { replace: false });
    assert.deepEqual(paths(unknown), ['/apps/0/dependencies/0', '/dependencies/0']);
    assert.match(why(unknown, '/dependencies/0'), /\/nowhere is no app or group/);

    const cycle = groupChange(parsed({ id: '/shop', apps: [{ id: 'a', cmd: 'x', dependencies: ['b'] }, { id: 'b', cmd: 'x', dependencies: ['c'] }] }), [stored('/shop/c', ['/shop/a'])], { replace: false });
    assert.deepEqual(paths(cycle), ['/apps/0/dependencies']);
    assert.match(why(cycle, '/apps/0/dependencies'), /dependency cycle: \/shop\/a → \/shop\/b → \/shop\/c → \/shop\/a/);

    const self = groupChange(parsed({ id: '/shop', dependencies: ['/shop'], apps: [{ id: 'a', cmd: 'x' }] }), [], { replace: false });
    assert.match(why(self, '/apps/0/dependencies'), /dependency cycle: \/shop\/a → \/shop\/a/, 'a group depending on itself');
  });

  it('refuses group dependencies that reach no app, an app where a group is, and an app inside an app', () => {
    assert.match(why(groupChange(parsed({ dependencies: ['/db'] }, { id: '/shop' }), [stored('/db')], { replace: true }), '/dependencies'), /applies to no app/);
    assert.deepEqual(paths(groupChange(parsed({ id: '/shop', apps: [{ id: 'web', cmd: 'x' }] }), [stored('/shop/web/v2')], { replace: false })), ['/apps/0/id']);
    assert.deepEqual(paths(groupChange(parsed({ id: '/shop', apps: [{ id: 'web', cmd: 'x' }] }), [stored('/shop')], { replace: false })), ['/apps/0/id']);
  });
});

// The routes, on a scheduler that leads with a store in memory and no agents: deployments are planned and stored, tasks never start.
const OPS = 'ops-secret-0123456789';
const SHOP = 'shop-secret-0123456789';

async function leadingApi() {
  const kv = new Map<string, unknown>();
  const state = memoryState(kv);
  const framework = { on() {}, revive() {}, launch() {}, decline() {}, kill() {}, reconcileTasks: async () => ({ statuses: new Map() }) };
  let n = 0;
  const scheduler = new ServicesScheduler({ log: quiet as never, newId: () => `d${++n}` });
  const lead = new AbortController();
  await scheduler.lead({ framework, state, failover: false, signal: lead.signal } as unknown as LeaderContext);
  const a = createApi({
    name: 'services', log: quiet as never,
    authenticator: new Authenticator([{ principal: 'ops', secret: OPS }, { principal: 'shop', secret: SHOP }]),
    acls: Acls.parse(JSON.stringify({ rules: [
      { principals: ['ops'], actions: '*', objects: '*' },
      { principals: ['shop'], actions: '*', objects: ['services:/shop/*'] },
    ] }), 'acls.json'),
  });
  addServiceRoutes(a, scheduler, { leaderAddress: () => 'me:8080', abdicate: async () => false });
  const call = async (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, body?: unknown, token = OPS) => {
    const r = await a.server.inject({ method, url, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body !== undefined ? { payload: JSON.stringify(body) } : {}) });
    return { status: r.statusCode, headers: r.headers, body: r.body ? JSON.parse(r.body) : undefined };
  };
  return { call, close: async () => (lead.abort(), a.close()) };
}

const SHOP_GROUP = {
  id: '/shop',
  apps: [{ id: 'db', cmd: 'db', instances: 1 }],
  groups: [{ id: 'front', dependencies: ['../db'], apps: [{ id: 'web', cmd: 'web', instances: 2 }] }],
};

test('POST /v2/groups creates every app in one deployment whose steps follow the dependencies; GET shows the tree; a second POST is 409', async (t) => {
  const { call, close } = await leadingApi();
  t.after(close);
  const created = await call('POST', '/v2/groups', SHOP_GROUP);
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(created.headers.location, '/v2/groups/shop');
  assert.equal(created.headers['marathon-deployment-id'], created.body.deploymentId);
  assert.ok(created.body.version);

  const d = (await call('GET', `/v2/deployments/${created.body.deploymentId}`)).body;
  assert.deepEqual(d.affectedApps, ['/shop/db', '/shop/front/web']);
  assert.deepEqual(d.steps.map((s: { actions: { app: string }[] }) => s.actions.map((a) => a.app)), [['/shop/db'], ['/shop/front/web']]);
  assert.equal(d.currentStep, 1, 'web waits for db, which never gets healthy here');

  const group = (await call('GET', '/v2/groups/shop')).body;
  assert.equal(group.id, '/shop');
  assert.deepEqual(group.apps.map((a: { id: string }) => a.id), ['/shop/db']);
  assert.equal(group.groups[0].id, '/shop/front');
  assert.deepEqual(group.groups[0].apps[0].dependencies, ['/shop/db']);
  assert.equal(group.groups[0].apps[0].tasksRunning, undefined, 'plain apps unless embed asks');
  const root = (await call('GET', '/v2/groups?embed=group.apps.counts')).body;
  assert.deepEqual([root.id, root.apps, root.groups.map((g: { id: string }) => g.id)], ['/', [], ['/shop']]);
  assert.equal(root.groups[0].apps[0].tasksRunning, 0, 'embed=group.apps.counts shows the counts');
  assert.equal((await call('GET', '/v2/groups/shop/front/web')).status, 404, 'an app is not a group');
  assert.equal((await call('GET', '/v2/groups/nothing')).status, 404);

  const again = await call('POST', '/v2/groups', SHOP_GROUP);
  assert.equal(again.status, 409);
  assert.match(again.body.message, /Group \/shop is already created. Use PUT/);
});

test('PUT /v2/groups/{id} replaces the group in one deployment (apps left out stop, 409 while a deployment holds them unless force); DELETE removes all its apps', async (t) => {
  const { call, close } = await leadingApi();
  t.after(close);
  const first = await call('POST', '/v2/groups', SHOP_GROUP);
  assert.equal(first.status, 201);

  const put = { apps: [{ id: 'db', cmd: 'db', instances: 1 }, { id: 'cache', cmd: 'cache' }], groups: [] };
  const locked = await call('PUT', '/v2/groups/shop', put);
  assert.equal(locked.status, 409, 'the first deployment still holds /shop/front/web');
  assert.deepEqual(locked.body.deployments, [{ id: first.body.deploymentId }]);

  const forced = await call('PUT', '/v2/groups/shop?force=true', put);
  assert.equal(forced.status, 200, JSON.stringify(forced.body));
  const d = (await call('GET', `/v2/deployments/${forced.body.deploymentId}`)).body;
  assert.deepEqual(d.steps, [
    { actions: [{ action: 'StopApplication', app: '/shop/front/web' }] },
    { actions: [{ action: 'StartApplication', app: '/shop/cache' }] },
  ], 'db unchanged: no action; web left out of groups: stopped');
  assert.deepEqual((await call('GET', '/v2/apps')).body.apps.map((a: { id: string }) => a.id), ['/shop/cache', '/shop/db']);

  const deleted = await call('DELETE', '/v2/groups/shop?force=true');
  assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
  assert.deepEqual((await call('GET', '/v2/apps')).body.apps, []);
  assert.equal((await call('DELETE', '/v2/groups/shop')).status, 404);
});

test('a bad group body is a 422 naming every path (a cycle, an unknown dependency), and nothing is stored', async (t) => {
  const { call, close } = await leadingApi();
  t.after(close);
  const bad = await call('POST', '/v2/groups', { id: '/shop', apps: [{ id: 'a', cmd: 'x' }, { id: 'b', args: 'x' }], groups: [{ id: 'g', apps: [{ id: 'c', cmd: 'x', instances: -1 }] }] });
  assert.equal(bad.status, 422);
  assert.equal(bad.body.message, 'Object is not valid');
  assert.deepEqual(bad.body.details.map((d: { path: string }) => d.path).sort(), ['/apps/1/args', '/groups/0/apps/0/instances']);

  const cycle = await call('POST', '/v2/groups', { id: '/shop', apps: [{ id: 'a', cmd: 'x', dependencies: ['b'] }, { id: 'b', cmd: 'x', dependencies: ['a'] }] });
  assert.equal(cycle.status, 422);
  assert.deepEqual(cycle.body.details, [{ path: '/apps/0/dependencies', errors: ['dependency cycle: /shop/a → /shop/b → /shop/a'] }]);

  const unknown = await call('PUT', '/v2/groups/shop', { apps: [{ id: 'a', cmd: 'x', dependencies: ['/db'] }] });
  assert.equal(unknown.status, 422);
  assert.equal(unknown.body.details[0].path, '/apps/0/dependencies/0');

  const empty = await call('POST', '/v2/groups', { id: '/empty', groups: [{ id: 'sub' }] });
  assert.equal(empty.status, 422);
  assert.match(empty.body.details[0].errors[0], /keeps no empty groups/);

  assert.deepEqual((await call('GET', '/v2/apps')).body.apps, []);
  assert.deepEqual((await call('GET', '/v2/deployments')).body, []);
});

test('each group route is authorized on services:<group id>/*, the URL group or the body\'s', async (t) => {
  const { call, close } = await leadingApi();
  t.after(close);
  assert.equal((await call('POST', '/v2/groups', { id: '/other', apps: [{ id: 'a', cmd: 'x' }] }, SHOP)).status, 403);
  assert.equal((await call('POST', '/v2/groups', { id: '/shop', apps: [{ id: 'a', cmd: 'x' }] }, SHOP)).status, 201);
  assert.equal((await call('GET', '/v2/groups/shop', undefined, SHOP)).status, 200);
  assert.equal((await call('GET', '/v2/groups', undefined, SHOP)).status, 403, 'the root group is services:/*');
  assert.equal((await call('PUT', '/v2/groups', { id: '/shop', apps: [{ id: 'a', cmd: 'y' }] }, SHOP)).status, 409, 'allowed (the body names /shop); the first deployment holds /shop/a');
  assert.equal((await call('PUT', '/v2/groups', { apps: [] }, SHOP)).status, 403, 'no id: the root');
  assert.equal((await call('DELETE', '/v2/groups/other', undefined, SHOP)).status, 403);
  assert.equal((await call('DELETE', '/v2/groups/shop?force=true', undefined, SHOP)).status, 200);
});
