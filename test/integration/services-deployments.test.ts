/**
 * mezz-services' deployments on real processes (issue 11, "Done when"): a
 * rolling update behind the service proxy drops no request; a version that
 * never turns healthy fails at its deadline and is rolled back to the old
 * one; and a leader killed -9 mid-deployment is replaced — by the restarted
 * instance on the embedded store, by the standby on etcd — which finishes
 * the deployment without launching any task twice (each task appends its id
 * to a marker file when it starts). And an idle framework, whose offers the
 * master keeps suppressed across a re-subscription, still replaces a task
 * killed while it was down once restarted.
 */
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { freePort } from '../../lib/etcd-process';
import type { ListFrameworksResponse__Output } from '../../lib/proto/generated/mezzanine/v1/ListFrameworksResponse';
import type { ListTasksResponse__Output } from '../../lib/proto/generated/mezzanine/v1/ListTasksResponse';
import { Cluster, op, waitFor, type Proc } from '../harness';
import { markerDir } from '../fixtures/markers';
import { requireEtcd, startTestEtcd, type TestEtcd } from '../etcd';

/** An HTTP server on $PORT0 answering $VERSION, one request per connection (HTTP/1.0), after $SLOW_START seconds. */
const SERVER_PY = `import http.server, os, time
time.sleep(float(os.environ.get('SLOW_START', '0')))
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = os.environ['VERSION'].encode()
        self.send_response(200)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(('', int(os.environ['PORT0'])), Handler).serve_forever()
`;

/** Agents' host ports: out of the OS's ephemeral range and away from other suites' 31000s, per process, so parallel runs rarely meet. */
const PORT_BASE = 20_000 + (process.pid % 80) * 100;

interface TaskJson { id: string; state: string; version: string; healthCheckResults?: { alive: boolean }[] }
interface DeploymentJson { id: string; status: { state: string; reason?: string }; rollbackOf?: string }

type Call = (method: string, url: string, body?: unknown) => Promise<{ status: number; headers: Headers; body: any }>; // any: JSON answers, read field by field by the assertions

/** A JSON client of the services API at whatever `base()` is now (it changes when the leader does). */
function client(base: () => string): Call {
  return async (method, url, body) => {
    const r = await fetch(`${base()}${url}`, {
      method,
      ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
    });
    const text = await r.text();
    return { status: r.status, headers: r.headers, body: text ? JSON.parse(text) : undefined };
  };
}

/** One GET through a new connection (no keep-alive, so a draining task's connections end); resolves the body of a 200. */
function getOnce(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent: false, headers: { connection: 'close' }, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('error', reject);
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`HTTP ${res.statusCode}: ${body}`))));
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
    req.on('error', reject);
  });
}

/** Waits until the deployment is no longer running (or rolling back) and answers it as it ended. */
async function deploymentEnd(call: Call, id: string, timeoutMs = 120_000): Promise<DeploymentJson> {
  return waitFor(`deployment ${id} to end`, async () => {
    const d = (await call('GET', `/v2/deployments/${id}`)).body as DeploymentJson | undefined;
    return d?.status && d.status.state !== 'running' && d.status.state !== 'rolling back' ? d : undefined;
  }, timeoutMs, 250);
}

/** The app's live tasks counted by version: alive, and healthy (running with a passing check). */
async function byVersion(call: Call, app: string): Promise<{ tasks: TaskJson[]; alive: (v: string) => number; healthy: (v: string) => number }> {
  const tasks = ((await call('GET', `/v2/apps${app}/tasks`)).body?.tasks ?? []) as TaskJson[];
  return {
    tasks,
    alive: (v) => tasks.filter((t) => t.version === v).length,
    healthy: (v) => tasks.filter((t) => t.version === v && t.state === 'TASK_RUNNING' && t.healthCheckResults?.[0]?.alive === true).length,
  };
}


/** The task ids a marker file lists, one line per task start. */
function launches(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}

/** An app of the python server: `version` answered, its fixed service port, an HTTP check each second; each start noted in `marker`. */
function serverApp(c: Cluster, o: { id: string; instances: number; version: string; servicePort: number; marker: string; slowStart?: number }) {
  const server = path.join(c.dir, 'server.py');
  if (!existsSync(server)) writeFileSync(server, SERVER_PY, { mode: 0o644 });
  return {
    id: o.id, cmd: `echo "$MESOS_TASK_ID" >> ${o.marker}; exec python3 ${server}`, cpus: 0.1, mem: 32, instances: o.instances,
    env: { VERSION: o.version, SLOW_START: String(o.slowStart ?? 0) },
    portDefinitions: [{ port: o.servicePort, name: 'http' }],
    healthChecks: [{ protocol: 'HTTP', portIndex: 0, path: '/', gracePeriodSeconds: 60, intervalSeconds: 1, timeoutSeconds: 2, delaySeconds: 0, maxConsecutiveFailures: 3 }],
  };
}

/** Creates the app and waits for its deployment to succeed; answers its task version. */
async function created(call: Call, app: { id: string }): Promise<string> {
  const r = await call('POST', '/v2/apps', app);
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const d = await deploymentEnd(call, r.headers.get('marathon-deployment-id')!);
  assert.equal(d.status.state, 'succeeded', JSON.stringify(d));
  return (await call('GET', `/v2/apps${app.id}`)).body.app.versionInfo.lastConfigChangeAt as string;
}

/**
 * A rolling update that goes one instance at a time, each new one healthy
 * only after its slow start: the leader is killed -9 once some new ones are
 * healthy and some old ones are left; `takeOver` brings up the next leader
 * and answers its API. The deployment must succeed, and every task id must
 * appear once in the markers, six in all (three old, three new).
 */
async function killedMidDeployment(c: Cluster, t: TestContext, o: { call: Call; leader: () => Proc; takeOver: () => Promise<void>; id: string; marker: string }): Promise<void> {
  const { call, id, marker } = o;
  const servicePort = await freePort();
  const app = { ...serverApp(c, { id, instances: 3, version: 'v1', servicePort, marker }), upgradeStrategy: { minimumHealthCapacity: 1, maximumOverCapacity: 0 } };
  const v1 = await created(call, app);
  const put = await call('PUT', `/v2/apps${id}`, { env: { VERSION: 'v2', SLOW_START: '3' } });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  const deploymentId = put.body.deploymentId as string;
  const v2 = (await call('GET', `/v2/apps${id}`)).body.app.versionInfo.lastConfigChangeAt as string;
  assert.notEqual(v2, v1);

  const partway = await waitFor('some new instances healthy and some old ones left', async () => {
    const seen = await byVersion(call, id);
    return seen.healthy(v2) >= 1 && seen.alive(v1) >= 1 ? seen : undefined;
  }, 90_000, 100);
  t.diagnostic(`killed -9 with ${partway.healthy(v2)} new healthy and ${partway.alive(v1)} old alive`);
  await o.leader().kill9();
  await o.takeOver();

  const end = await deploymentEnd(call, deploymentId);
  assert.equal(end.status.state, 'succeeded', `the deployment finishes after the takeover: ${JSON.stringify(end)}`);
  const final = await waitFor('three healthy v2 tasks and no v1', async () => {
    const seen = await byVersion(call, id);
    return seen.healthy(v2) === 3 && seen.tasks.length === 3 ? seen : undefined;
  }, 30_000, 250);

  const lines = launches(marker);
  const distinct = new Set(lines);
  assert.equal(lines.length, distinct.size, `no task launched twice: ${lines.join(', ')}`);
  for (const t of final.tasks) assert.ok(distinct.has(t.id), `${t.id} noted its start`);
  for (const t of partway.tasks) assert.ok(distinct.has(t.id), `${t.id} (seen before the kill) noted its start`);
  assert.equal(distinct.size, 6, `three v1 and three v2 tasks started, no instance twice: ${lines.join(', ')}`);
  await waitFor('the new leader\'s service proxy to answer v2', async () => (await getOnce(servicePort)) === 'v2', 30_000, 250);
}

describe('deployments on a master, an agent and one mezz-services (embedded store)', () => {
  const c = new Cluster();
  let master: Proc;
  let services: Proc;
  let markers: string;
  /** The service port of /zdt, which the last test finds served again after a restart. */
  let zdtPort: number;
  const call = client(() => `http://${services.address}`);
  const startServices = () => c.spawn('services', 'mezz-services.mjs', [
    '--master', master.address, '--host', '127.0.0.1', '--port', '0', '--data-dir', path.join(c.dir, 'services'),
  ]);
  const leads = () => waitFor('services to lead', async () => (await call('GET', '/v2/info')).body?.elected, 60_000, 250);

  before(async () => {
    markers = markerDir(c.dir);
    master = await c.startMaster();
    await c.startAgent(master.address, { resources: `cpus:4;mem:4096;disk:1024;ports:[${PORT_BASE}-${PORT_BASE + 49}]` });
    services = await startServices();
    await leads();
  });
  after(async () => {
    await c.teardown();
  });

  test('zero downtime: a 3-instance app updated v1 → v2 behind the service proxy answers every request, and then only v2', async (t) => {
    const servicePort = (zdtPort = await freePort());
    const v1 = await created(call, serverApp(c, { id: '/zdt', instances: 3, version: 'v1', servicePort, marker: path.join(markers, 'zdt') }));
    await waitFor('the proxy to answer v1', async () => (await getOnce(servicePort)) === 'v1', 30_000, 100);

    const answers: string[] = [];
    const failures: string[] = [];
    let stop = false;
    const load = (async () => {
      while (!stop) {
        try {
          answers.push(await getOnce(servicePort));
        } catch (err) {
          failures.push(`request ${answers.length + failures.length}: ${(err as Error).message}`);
        }
        await new Promise((r) => setTimeout(r, 40));
      }
    })();

    try {
      // v2 takes 2 s to listen: the old instances must serve until the new ones are healthy.
      const put = await call('PUT', '/v2/apps/zdt', { env: { VERSION: 'v2', SLOW_START: '2' } });
      assert.equal(put.status, 200, JSON.stringify(put.body));
      const end = await deploymentEnd(call, put.body.deploymentId);
      assert.equal(end.status.state, 'succeeded', JSON.stringify(end));
      const sent = answers.length + failures.length;
      await waitFor('a few more requests after the deployment', () => answers.length + failures.length >= sent + 10, 30_000);
    } finally {
      stop = true;
      await load;
    }
    t.diagnostic(`${answers.length} requests answered (${answers.filter((a) => a === 'v1').length} by v1), ${failures.length} failed`);
    assert.deepEqual(failures, [], `every request through the service port succeeds (${answers.length} answered)`);
    assert.ok(answers.length >= 30, `the client kept sending during the update: ${answers.length} requests`);
    assert.ok(answers.includes('v1') && answers.includes('v2'), `both versions answered: ${[...new Set(answers)].join(', ')}`);
    assert.deepEqual(answers.filter((a) => a !== 'v1' && a !== 'v2'), []);

    const finally_ = await Promise.all(Array.from({ length: 15 }, () => getOnce(servicePort)));
    assert.deepEqual([...new Set(finally_)], ['v2'], 'only v2 answers once the deployment succeeded');
    const tasks = (await byVersion(call, '/zdt')).tasks;
    assert.equal(tasks.length, 3);
    assert.ok(tasks.every((t) => t.version !== v1), `no v1 task left: ${JSON.stringify(tasks)}`);
  });

  test('a version that never turns healthy fails at its deadline and is rolled back, stored across a restart; the old tasks run on', async () => {
    const servicePort = await freePort();
    const marker = path.join(markers, 'rb');
    const spec = serverApp(c, { id: '/rb', instances: 2, version: 'v1', servicePort, marker });
    const v1 = await created(call, spec);
    const before = (await byVersion(call, '/rb')).tasks.map((t) => t.id).sort();
    assert.equal(before.length, 2);

    // The new version never opens its port: its HTTP check never passes.
    const deadline = 8;
    const started = Date.now();
    const put = await call('PUT', `/v2/apps/rb?deadlineSeconds=${deadline}`, { cmd: `echo "$MESOS_TASK_ID" >> ${marker}; exec sleep 600` });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    const id = put.body.deploymentId as string;
    await waitFor('a task of the bad version launched', async () => (await byVersion(call, '/rb')).tasks.some((t) => t.version !== v1), 30_000, 250);

    const failed = await deploymentEnd(call, id, 60_000);
    const took = (Date.now() - started) / 1000;
    assert.equal(failed.status.state, 'failed', JSON.stringify(failed));
    assert.match(failed.status.reason!, new RegExp(`/rb: no progress within ${deadline} s`), JSON.stringify(failed));
    assert.ok(took >= deadline - 1 && took <= deadline + 20, `failed after ${took} s, deadline ${deadline} s`);

    const rollback = await deploymentEnd(call, `${id}-rollback`, 60_000);
    assert.equal(rollback.status.state, 'succeeded', JSON.stringify(rollback));
    assert.equal(rollback.rollbackOf, id);

    const app = (await call('GET', '/v2/apps/rb')).body.app;
    assert.equal(app.cmd, spec.cmd, 'the definition is the old version again');
    assert.equal(app.versionInfo.lastConfigChangeAt, v1);
    assert.deepEqual(app.deployments, []);
    const tasks = await waitFor('only the old tasks left', async () => {
      const seen = await byVersion(call, '/rb');
      return seen.tasks.length === 2 ? seen.tasks : undefined;
    }, 30_000, 250);
    assert.deepEqual(tasks.map((t) => t.id).sort(), before, 'the old tasks ran on, untouched');
    assert.ok(tasks.every((t) => t.version === v1 && t.state === 'TASK_RUNNING'), JSON.stringify(tasks));
    assert.equal(await getOnce(servicePort), 'v1');

    // The rollback is stored, not only held: an instance restarted after kill -9 finds the old definition.
    await services.kill9();
    services = await startServices();
    await leads();
    const restored = (await call('GET', '/v2/apps/rb')).body.app;
    assert.deepEqual([restored.cmd, restored.versionInfo.lastConfigChangeAt, restored.deployments], [spec.cmd, v1, []]);
    const reconciled = await waitFor('the old tasks reconciled as running', async () => {
      const seen = await byVersion(call, '/rb');
      return seen.tasks.length === 2 && seen.tasks.every((t) => t.state === 'TASK_RUNNING') ? seen.tasks : undefined;
    }, 30_000, 250);
    assert.deepEqual(reconciled.map((t) => t.id).sort(), before);
  });

  test('kill -9 of mezz-services mid-deployment: the restarted instance finishes it and launches no task twice', async (t) => {
    await killedMidDeployment(c, t, {
      call, id: '/slow', marker: path.join(markers, 'slow'), leader: () => services,
      takeOver: async () => {
        services = await startServices();
        await leads();
      },
    });
  });

  test('a task killed while mezz-services is down is replaced by the restarted instance, though the idle framework had suppressed its offers', async () => {
    const operator = c.operator(master.address);
    const framework = async () => (await op<object, ListFrameworksResponse__Output>(operator, 'listFrameworks', {})).frameworks[0]!;
    await waitFor('the idle framework to suppress its offers', async () => (await framework()).suppressed, 30_000, 250);
    const running = (await byVersion(call, '/zdt')).tasks;
    assert.equal(running.length, 3);
    const victim = running[0]!.id;

    await services.kill9();
    await op(operator, 'KillTask', { taskId: victim });
    await waitFor(`${victim} killed`, async () => {
      const tasks = (await op<object, ListTasksResponse__Output>(operator, 'ListTasks', {})).tasks;
      return !tasks.some((t) => t.id === victim && t.state === 'TASK_RUNNING');
    }, 30_000, 250);
    services = await startServices();
    await leads();

    const replaced = await waitFor('the killed task replaced', async () => {
      const seen = await byVersion(call, '/zdt');
      return seen.tasks.length === 3 && !seen.tasks.some((t) => t.id === victim) && seen.tasks.every((t) => t.state === 'TASK_RUNNING') ? seen : undefined;
    }, 30_000, 250);
    const ids = replaced.tasks.map((t) => t.id);
    for (const t of running.slice(1)) assert.ok(ids.includes(t.id), `${t.id} ran on: ${ids.join(', ')}`);
    await waitFor('the restarted leader\'s service proxy to answer v2', async () => (await getOnce(zdtPort)) === 'v2', 30_000, 250);
  });
});

describe('deployments with two mezz-services instances on etcd', { skip: requireEtcd() }, () => {
  const c = new Cluster();
  let etcd: TestEtcd;
  let markers: string;
  const instances: Proc[] = [];
  let leader: Proc;
  let standby: Proc;
  const call = client(() => `http://${leader.address}`);

  before(async () => {
    markers = markerDir(c.dir);
    etcd = await startTestEtcd();
    const master = await c.startMaster();
    await c.startAgent(master.address, { resources: `cpus:4;mem:4096;disk:1024;ports:[${PORT_BASE + 50}-${PORT_BASE + 99}]` });
    for (const name of ['svc-a', 'svc-b']) {
      instances.push(await c.spawn(name, 'mezz-services.mjs', [
        '--master', master.address, '--etcd', etcd.endpoint, '--cluster', 'svc-deploy', '--host', '127.0.0.1', '--port', '0',
        '--data-dir', path.join(c.dir, name),
      ]));
    }
    const address = await waitFor('a leader', async () => (await fetch(`http://${instances[0]!.address}/v2/leader`).then((r) => r.json()) as { leader?: string }).leader);
    [leader, standby] = address === instances[0]!.address ? [instances[0]!, instances[1]!] : [instances[1]!, instances[0]!];
    await waitFor('the leader to be ready', async () => (await call('GET', '/v2/info')).body?.elected, 60_000, 250);
  });
  after(async () => {
    await c.teardown();
    await etcd?.dispose();
  });

  test('kill -9 of the leading mezz-services mid-deployment: the standby finishes it and launches no task twice', async (t) => {
    await killedMidDeployment(c, t, {
      call, id: '/slow', marker: path.join(markers, 'slow'), leader: () => leader,
      takeOver: async () => {
        leader = standby;
        await waitFor('the standby to lead', async () => {
          const info = (await call('GET', '/v2/info')).body;
          return (await call('GET', '/v2/leader')).body?.leader === standby.address && info?.elected;
        }, 60_000, 250);
      },
    });
  });
});
