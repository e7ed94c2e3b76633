/**
 * The Deployer (what a leader keeps of its deployments) and ProxyEndpoints
 * (the service proxy kept to the tasks), without a cluster: plans answer the
 * writes to make and change nothing until committed; ticks answer the counts
 * per version, events and writes; finished deployments are forgotten beyond
 * the limit; the proxy serves only tasks that are up and drains one before
 * its kill, over real sockets.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, describe, test } from 'node:test';
import { Deployer, deployedApp, DEADLINE_LABEL, KEEP_FINISHED } from '../../frameworks/services/deployer';
import { ProxyEndpoints } from '../../frameworks/services/endpoints';
import { ServiceProxy } from '../../frameworks/services/service-proxy';
import { parseApp } from '../../frameworks/services/app-spec';
import type { App } from '../../frameworks/services/app-schema';
import type { ServiceTask, StoredApp } from '../../frameworks/services/app-store';

const T0 = 1_700_000_000_000;

function stored(over: Partial<App> = {}, version = '2026-01-01T00:00:00.000Z', configVersion = version): StoredApp {
  const parsed = parseApp({ id: '/web', cmd: 'serve', instances: 2, ...over });
  assert.ok(parsed.app, JSON.stringify(parsed.errors));
  return { app: parsed.app, version, configVersion };
}

function ids() {
  let n = 0;
  return () => `d${++n}`;
}

describe('Deployer', () => {
  test('deployedApp: the task version is configVersion, the definition is the version, the label gives the deadline', () => {
    const s = stored({ labels: { [DEADLINE_LABEL]: '45' } }, 'v2', 'v1');
    assert.deepEqual({ ...deployedApp(s), upgradeStrategy: undefined }, {
      id: '/web', instances: 2, dependencies: [], version: 'v1', definition: 'v2', deadlineSeconds: 45, upgradeStrategy: undefined,
    });
    assert.equal(deployedApp(stored({ labels: { [DEADLINE_LABEL]: 'soon' } })).deadlineSeconds, undefined, 'a label that is not a number is ignored');
  });

  test('a plan changes nothing until committed; then it holds its app, and a second plan is a conflict unless forced', () => {
    const d = new Deployer(ids());
    const v1 = deployedApp(stored());
    const v2 = deployedApp(stored({ cmd: 'serve2' }, 'v2'));
    const first = d.plan([v1], [v2], [], T0);
    assert.equal(first.kind, 'planned');
    assert.equal(d.running().length, 0, 'not committed yet');
    if (first.kind !== 'planned') return;
    assert.equal(first.ops.length, 1);
    d.commit(first);
    assert.equal(d.holding('/web')?.id, 'd1');
    const again = d.plan([v1], [{ ...v2, instances: 5 }], [], T0);
    assert.equal(again.kind, 'conflict');
    const forced = d.plan([v1], [{ ...v2, instances: 5 }], [], T0, { force: true });
    assert.equal(forced.kind, 'planned');
    if (forced.kind !== 'planned') return;
    assert.equal(forced.ops.length, 2, 'the new one and the superseded one, cancelled');
    assert.match(forced.events[0]!.message, /superseded by d3/);
    d.commit(forced);
    assert.deepEqual(d.running().map((x) => x.id), ['d3']);
    assert.equal(d.get('d1')?.status.state, 'cancelled');
    assert.ok(d.versionsInUse().get('/web')?.has('v2'), 'the definition the deployment targets is in use');
  });

  test('a tick answers the counts per version, its events and the writes; an unchanged world writes nothing more', () => {
    const d = new Deployer(ids());
    const v1 = deployedApp(stored());
    const v2 = deployedApp(stored({ cmd: 'serve2' }, 'v2'));
    const p = d.plan([v1], [v2], [], T0);
    assert.equal(p.kind, 'planned');
    if (p.kind !== 'planned') return;
    d.commit(p);
    const observed = { '/web': { [v1.version]: { alive: 2, healthy: 2 } } };
    const t1 = d.tick(observed, T0);
    assert.ok(t1.events.some((e) => e.eventType === 'deployment_info'));
    assert.deepEqual(t1.desired.get('/web')?.find((c) => c.version === 'v2')?.count, 2, 'maximumOverCapacity 1: both new at once');
    assert.equal(t1.ops.length, 1);
    const t2 = d.tick(observed, T0);
    assert.equal(t2.ops.length, 0);
    assert.equal(t2.events.length, 0);
    const done = d.tick({ '/web': { v2: { alive: 2, healthy: 2 } } }, T0 + 1000);
    assert.ok(done.events.some((e) => e.eventType === 'deployment_success'));
    assert.equal(d.running().length, 0);
    assert.equal(d.get('d1')?.status.state, 'succeeded', 'a finished deployment is still answered');
  });

  test('no progress for the deadline: failed, and the rollback is reported for the caller to restore the definitions', () => {
    const d = new Deployer(ids());
    const v1 = deployedApp(stored());
    const v2 = deployedApp(stored({ cmd: 'broken' }, 'v2'));
    const p = d.plan([v1], [v2], [], T0, { deadlineSeconds: 10 });
    if (p.kind !== 'planned') return assert.fail(p.kind);
    d.commit(p);
    const observed = { '/web': { [v1.version]: { alive: 2, healthy: 2 }, v2: { alive: 2, healthy: 0 } } };
    assert.equal(d.tick(observed, T0).rollbacks.length, 0);
    const late = d.tick(observed, T0 + 10_000);
    assert.equal(late.rollbacks.length, 1);
    assert.equal(late.rollbacks[0]!.id, 'd1-rollback');
    assert.equal(late.rollbacks[0]!.target['/web']?.definition, v1.definition, 'the rollback names the definition to restore');
    assert.match((d.get('d1')!.status as { reason: string }).reason, /no progress within 10 s/);
  });

  test(`finished deployments beyond ${KEEP_FINISHED} are forgotten, oldest first, with their deletes`, () => {
    const d = new Deployer(ids());
    let deletes = 0;
    for (let i = 0; i < KEEP_FINISHED + 3; i++) {
      const p = d.plan([], [{ ...deployedApp(stored({ id: `/a${i}` })), instances: 0 }], [], T0 + i);
      if (p.kind !== 'planned') return assert.fail(p.kind);
      d.commit(p);
      deletes += d.tick({}, T0 + i).ops.filter((o) => o.op === 'delete').length;
    }
    assert.equal(deletes, 3);
    assert.equal(d.get('d1'), undefined);
    assert.ok(d.get(`d${KEEP_FINISHED + 3}`));
  });

  test('cancel: a rollback by default, in place with force; a finished one is not running', () => {
    const d = new Deployer(ids());
    const v1 = deployedApp(stored());
    const p = d.plan([v1], [deployedApp(stored({ cmd: 'x' }, 'v2'))], [], T0);
    if (p.kind !== 'planned') return assert.fail(p.kind);
    d.commit(p);
    const r = d.cancel('d1', false, T0);
    assert.equal(r.kind, 'rolled back');
    assert.equal(d.cancel('nope', false, T0).kind, 'not running');
  });
});

/** A TCP server answering its name to every connection. */
async function backend(name: string): Promise<{ port: number; close: () => void }> {
  const server = net.createServer((s) => s.end(name));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as net.AddressInfo).port, close: () => server.close() };
}

async function freePort(): Promise<number> {
  const b = await backend('');
  b.close();
  return b.port;
}

function read(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let out = '';
    s.on('data', (d) => (out += String(d)));
    s.on('end', () => resolve(out));
    s.on('error', reject);
  });
}

async function until<T>(what: string, f: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('ProxyEndpoints', () => {
  const quiet = { debug() {}, info() {}, warn() {}, error() {} } as never;

  test('serves only the tasks that are up, on their host port for each service port; drains a task before its kill', async () => {
    const a = await backend('a');
    const b = await backend('b');
    after(() => (a.close(), b.close()));
    const servicePort = await freePort();
    const endpoints = new ProxyEndpoints(new ServiceProxy({ logger: quiet }), quiet);
    after(() => endpoints.clear());
    const app = stored({ portDefinitions: [{ port: servicePort }] } as never).app;
    const task = (id: string, port: number): ServiceTask => ({
      taskId: id, group: '/web', version: 'v1', instance: 0, attempt: 1, state: 'TASK_RUNNING', launchedAt: T0, updatedAt: T0, hostname: '127.0.0.1', ports: [port], agentId: 'a1',
    });
    const ta = task('ta', a.port);
    const tb = task('tb', b.port);
    endpoints.update([app], [{ task: ta, up: true }, { task: tb, up: false }]);
    const first = await until('the proxy to answer', async () => (await read(servicePort)) || undefined);
    assert.equal(first, 'a', 'the task that is not up gets nothing');
    endpoints.update([app], [{ task: ta, up: true }, { task: tb, up: true }]);
    const seen = new Set<string>();
    await until('both tasks served', async () => (seen.add(await read(servicePort)), seen.size === 2 ? true : undefined));
    await endpoints.drain(ta);
    for (let i = 0; i < 4; i++) assert.equal(await read(servicePort), 'b', 'a drained task gets no new connection');
    endpoints.update([], []);
    await until('the listener closed with the app', async () => (await read(servicePort).then(() => undefined, () => true)));
  });
});
