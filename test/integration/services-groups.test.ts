/**
 * /v2/groups on real processes (a master, one agent, mezz-services): a group
 * posted with /shop/db and /shop/web depending on it starts as one
 * deployment in two steps. db listens only a few seconds after it starts, so
 * its HTTP health check turns healthy late; web is launched only after that
 * (no web task before the deployment's second step, which starts once db is
 * healthy; web's first task staged seconds after db's started), and the
 * deployment succeeds. DELETE of the group stops both.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { Cluster, waitFor, type Proc } from '../harness';

const hasPython = spawnSync('sh', ['-c', 'command -v python3'], { stdio: 'ignore' }).status === 0;
/** An HTTP server on $PORT0 that answers 200 to everything. */
const SERVER = hasPython
  ? 'exec python3 -m http.server $PORT0'
  : `exec node -e "require('http').createServer((q,s)=>s.end('ok')).listen(process.env.PORT0)"`;
/** How long db waits before it listens: its health check cannot pass before. */
const DB_DELAY_S = 5;
const HEALTH = { protocol: 'HTTP', portIndex: 0, path: '/', gracePeriodSeconds: 60, intervalSeconds: 1, timeoutSeconds: 2, delaySeconds: 0, maxConsecutiveFailures: 0 };

/**
 * A range of `n` ports nothing listens on now, away from the 31000s that other
 * tests' agents offer: a stale server answering on db's port would pass its
 * health check early.
 */
async function freePortRange(n: number): Promise<string> {
  const free = (port: number) => new Promise<boolean>((resolve) => {
    const s = net.createServer().once('error', () => resolve(false)).listen(port, () => s.close(() => resolve(true)));
  });
  for (;;) {
    const first = 40000 + Math.floor(Math.random() * 2000) * 10;
    let ok = true;
    for (let p = first; p < first + n && ok; p++) ok = await free(p);
    if (ok) return `[${first}-${first + n - 1}]`;
  }
}

interface TaskJson { id: string; state: string; stagedAt: string; startedAt?: string }
interface AppJson { tasksHealthy: number; tasksRunning: number; tasks: TaskJson[] }
interface DeploymentJson { id: string; currentStep: number; totalSteps: number; steps: { actions: { app: string }[] }[]; status: { state: string } }

describe('/v2/groups on a master, an agent and mezz-services', () => {
  const c = new Cluster();
  let master: Proc;
  let base: string;

  const call = async (method: string, url: string, body?: unknown) => {
    const r = await fetch(`${base}${url}`, { method, ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}) });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : undefined };
  };
  const app = async (id: string) => (await call('GET', `/v2/apps${id}`)).body?.app as AppJson | undefined;

  before(async () => {
    master = await c.startMaster();
    await c.startAgent(master.address, { resources: `cpus:2;mem:1024;disk:1024;ports:${await freePortRange(10)}` });
    const services = await c.spawn('services', 'mezz-services.mjs', [
      '--master', master.address, '--host', '127.0.0.1', '--port', '0', '--data-dir', path.join(c.dir, 'services'),
    ]);
    base = `http://${services.address}`;
    await waitFor('services to lead', async () => (await call('GET', '/v2/info')).body?.elected === true);
  });
  after(async () => {
    await c.teardown();
  });

  test('web starts only once db is healthy, in one deployment of two steps that succeeds; DELETE stops the group', async () => {
    const created = await call('POST', '/v2/groups', {
      id: '/shop',
      apps: [
        { id: 'db', cmd: `sleep ${DB_DELAY_S}; ${SERVER}`, cpus: 0.1, mem: 32, healthChecks: [HEALTH] },
        { id: 'web', cmd: SERVER, cpus: 0.1, mem: 32, dependencies: ['db'], healthChecks: [HEALTH] },
      ],
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const deploymentId = created.body.deploymentId as string;

    // Watch: web is read before the deployment, so a web task seen means the deployment had entered step 2 — which it
    // does once db is healthy — by the time it was read (steps only move forward). waitFor retries on a throw, so what
    // is seen is recorded and asserted after.
    const early: string[] = [];
    let sawDbRunningUnhealthy = false;
    const steps: number[] = [];
    await waitFor('web healthy', async () => {
      const web = (await app('/shop/web'))!;
      const db = (await app('/shop/db'))!;
      const d = (await call('GET', `/v2/deployments/${deploymentId}`)).body as DeploymentJson;
      if (web.tasks.length > 0 && d.status.state === 'running' && d.currentStep < 2) early.push(JSON.stringify({ web: web.tasks, db: db.tasks }));
      if (db.tasksRunning > 0 && db.tasksHealthy === 0 && web.tasks.length === 0) sawDbRunningUnhealthy = true;
      if (d.status.state === 'running' && steps.at(-1) !== d.currentStep) steps.push(d.currentStep);
      return web.tasksHealthy === 1;
    }, 90_000, 200);
    assert.deepEqual(early, [], 'web had a task before the deployment reached its step');
    assert.ok(sawDbRunningUnhealthy, 'db ran unhealthy for a while: the wait was exercised');
    assert.deepEqual(steps, [1, 2], 'the deployment ran db then web');

    const db = (await app('/shop/db'))!.tasks[0]!;
    const web = (await app('/shop/web'))!.tasks[0]!;
    const waited = Date.parse(web.stagedAt) - Date.parse(db.startedAt!);
    assert.ok(waited >= (DB_DELAY_S - 2) * 1000, `web was staged ${waited} ms after db started; db listens only after ${DB_DELAY_S} s`);

    const done = await waitFor('the deployment to finish', async () => {
      const d = (await call('GET', `/v2/deployments/${deploymentId}`)).body as DeploymentJson;
      return d.status.state !== 'running' ? d : undefined;
    }, 30_000, 200);
    assert.equal(done.status.state, 'succeeded');
    assert.deepEqual(done.steps.map((s) => s.actions.map((a) => a.app)), [['/shop/db'], ['/shop/web']]);

    const group = (await call('GET', '/v2/groups/shop')).body as { apps: { id: string; dependencies: string[] }[] };
    assert.deepEqual(group.apps.map((a) => [a.id, a.dependencies]), [['/shop/db', []], ['/shop/web', ['/shop/db']]]);

    const deleted = await call('DELETE', '/v2/groups/shop');
    assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
    await waitFor('no tasks left', async () => ((await call('GET', '/v2/tasks')).body.tasks as unknown[]).length === 0, 30_000, 200);
    assert.equal((await call('GET', '/v2/groups/shop')).status, 404);
  });
});
