/**
 * mezz-services on real processes: a master, three agents (h1/h2/h3 on racks
 * r1/r2/r3) and the services framework. An app with hostname:UNIQUE and an
 * HTTP health check runs one healthy task per host; a fourth instance waits
 * and /v2/queue says why; a killed task is replaced; scale down, DELETE, a
 * bad body (422, nothing stored), /v2/leader; and one of Marathon's own
 * examples posted unchanged, which after kill -9 and a restart is found
 * again, not launched twice. On etcd, a standby proxies /v2 to the leader and
 * takes over the app and its task after the leader abdicates.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ListTasksResponse__Output } from '../../lib/proto/generated/mezzanine/v1/ListTasksResponse';
import { Cluster, op, ROOT, waitFor, type Proc } from '../harness';
import { requireEtcd, startTestEtcd, type TestEtcd } from '../etcd';

const hasPython = spawnSync('sh', ['-c', 'command -v python3'], { stdio: 'ignore' }).status === 0;
/** An HTTP server on $PORT0 that answers 200 to everything. */
const SERVER = hasPython
  ? 'exec python3 -m http.server $PORT0'
  : `exec node -e "require('http').createServer((q,s)=>s.end('ok')).listen(process.env.PORT0)"`;

interface TaskJson { id: string; host: string; ports: number[]; state: string; healthCheckResults?: { alive: boolean }[] }
interface AppJson { id: string; instances: number; tasksRunning: number; tasksHealthy: number; tasksStaged: number; tasks: TaskJson[] }

describe('mezz-services on a master and three agents', () => {
  const c = new Cluster();
  let master: Proc;
  let services: Proc;
  let base: string;

  const call = async (method: string, url: string, body?: unknown) => {
    const r = await fetch(`${base}${url}`, {
      method,
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
    });
    const text = await r.text();
    return { status: r.status, headers: r.headers, body: text ? JSON.parse(text) : undefined };
  };
  const app = async (id: string) => (await call('GET', `/v2/apps${id}`)).body?.app as AppJson | undefined;
  const startServices = () => c.spawn('services', 'mezz-services.mjs', [
    '--master', master.address, '--host', '127.0.0.1', '--port', '0', '--data-dir', path.join(c.dir, 'services'),
  ]);
  const masterTasks = async () => (await op<object, ListTasksResponse__Output>(c.operator(master.address), 'ListTasks', {})).tasks;

  before(async () => {
    master = await c.startMaster();
    for (const [i, h] of ['h1', 'h2', 'h3'].entries()) {
      const ports = 31000 + i * 200;
      await c.startAgent(master.address, {
        name: h,
        resources: `cpus:2;mem:1024;disk:1024;ports:[${ports}-${ports + 99}]`,
        args: ['--hostname', h, '--attributes', `rack:r${i + 1}`],
      });
    }
    services = await startServices();
    base = `http://${services.address}`;
    // Writes are answered once the instance leads and is subscribed.
    await waitFor('services to lead', async () => (await call('GET', '/v2/leader')).status === 200 && (await call('GET', '/v2/info')).body?.elected);
  });
  after(async () => {
    await c.teardown();
  });

  test('a bad app body is refused with 422 naming the path, and nothing is stored', async () => {
    const r = await call('POST', '/v2/apps', { id: '/bad', cmd: 'sleep 1', instaces: 3 });
    assert.equal(r.status, 422, JSON.stringify(r.body));
    assert.equal(r.body.message, 'Object is not valid');
    assert.ok(r.body.details.some((d: { path: string }) => d.path === '/instaces'), JSON.stringify(r.body));
    assert.equal((await call('GET', '/v2/apps/bad')).status, 404);
    assert.deepEqual((await call('GET', '/v2/apps')).body.apps, []);
  });

  test('GET /v2/leader names this instance', async () => {
    assert.deepEqual((await call('GET', '/v2/leader')).body, { leader: services.address });
  });

  test('three instances with hostname:UNIQUE run one per host and healthy; a 4th waits and the queue says why; a killed one is replaced; scale down; delete', async () => {
    const spec = {
      id: '/web', cmd: SERVER, cpus: 0.1, mem: 32, instances: 3,
      constraints: [['hostname', 'UNIQUE']],
      healthChecks: [{ protocol: 'HTTP', portIndex: 0, path: '/', gracePeriodSeconds: 30, intervalSeconds: 1, timeoutSeconds: 2, delaySeconds: 0, maxConsecutiveFailures: 3 }],
    };
    const created = await call('POST', '/v2/apps', spec);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.ok(created.headers.get('marathon-deployment-id'));
    assert.equal(created.body.portDefinitions[0].port, 10000, 'the first service port');
    assert.equal((await call('POST', '/v2/apps', spec)).status, 409);

    const healthy = await waitFor('3 healthy tasks', async () => {
      const a = await app('/web');
      return a && a.tasksRunning === 3 && a.tasksHealthy === 3 ? a : undefined;
    }, 60_000, 250);
    assert.deepEqual(healthy.tasks.map((t) => t.host).sort(), ['h1', 'h2', 'h3']);
    for (const t of healthy.tasks) assert.equal(t.ports.length, 1);

    const scaled = await call('PUT', '/v2/apps/web', { instances: 4 });
    assert.equal(scaled.status, 200, JSON.stringify(scaled.body));
    const queued = await waitFor('the 4th instance in the queue', async () => {
      const q = (await call('GET', '/v2/queue')).body.queue as { app: { id: string }; count: number; reasons: Record<string, number> }[];
      return q.find((e) => e.app.id === '/web' && e.reasons['constraint hostname:UNIQUE']);
    }, 30_000, 250);
    assert.equal(queued.count, 1);
    const afterScale = (await app('/web'))!;
    assert.deepEqual(afterScale.tasks.map((t) => t.id).sort(), healthy.tasks.map((t) => t.id).sort(), 'a scale keeps the running tasks');

    // Kill one task through the master: the scheduler replaces it.
    const victim = healthy.tasks[0]!.id;
    await op(c.operator(master.address), 'KillTask', { taskId: victim });
    await waitFor('the killed task replaced', async () => {
      const a = await app('/web');
      return a && a.tasksRunning === 3 && !a.tasks.some((t) => t.id === victim) ? a : undefined;
    }, 60_000, 250);

    // The scale to 4 cannot finish (UNIQUE over 3 hosts): its deployment holds the app, so a new change needs force, as in Marathon.
    const locked = await call('PUT', '/v2/apps/web', { instances: 1 });
    assert.equal(locked.status, 409, JSON.stringify(locked.body));
    assert.match(locked.body.message, /locked by one or more deployments/);
    assert.equal(locked.body.deployments[0].id, scaled.body.deploymentId);
    assert.equal((await call('PUT', '/v2/apps/web?force=true', { instances: 1 })).status, 200);
    await waitFor('scaled down to 1', async () => {
      const running = (await masterTasks()).filter((t) => t.state === 'TASK_RUNNING' && t.id.startsWith('web'));
      return running.length === 1 && (await app('/web'))!.tasks.length === 1;
    }, 60_000, 250);

    const deleted = await call('DELETE', '/v2/apps/web');
    assert.equal(deleted.status, 200);
    assert.ok(deleted.body.deploymentId);
    await waitFor('every task of /web killed', async () => (await masterTasks()).every((t) => !t.id.startsWith('web') || t.state !== 'TASK_RUNNING'), 60_000, 250);
    assert.equal((await call('GET', '/v2/apps/web')).status, 404);
  });

  test('GET /v2/events streams the deployment and the task states of a new app, filtered by event_type', async () => {
    const stream = await fetch(`${base}/v2/events?event_type=deployment_success&event_type=status_update_event`, { headers: { accept: 'text/event-stream' } });
    assert.equal(stream.status, 200);
    const reader = stream.body!.getReader();
    let text = '';
    const created = await call('POST', '/v2/apps', { id: '/evented', cmd: 'sleep 600', cpus: 0.1, mem: 16 });
    assert.equal(created.status, 201);
    const deploymentId = created.body.deployments[0].id as string;
    const deadline = Date.now() + 60_000;
    while (!text.includes(`"id":"${deploymentId}"`) || !/"taskStatus":"TASK_RUNNING"/.test(text)) {
      assert.ok(Date.now() < deadline, `events so far: ${text}`);
      const { value, done } = await reader.read();
      assert.ok(!done, 'the stream stays open');
      text += new TextDecoder().decode(value);
    }
    await reader.cancel();
    const types = [...text.matchAll(/^event: (\S+)$/gm)].map((m) => m[1]);
    assert.ok(types.every((t) => t === 'deployment_success' || t === 'status_update_event' || t === 'event_stream_attached'), `only the types asked for: ${types.join(', ')}`);
    assert.match(text, /"appId":"\/evented"/);
    assert.equal((await call('DELETE', '/v2/apps/evented')).status, 200);
    await waitFor('the task of /evented to end', async () => ((await call('GET', '/v2/tasks')).body.tasks as TaskJson[]).length === 0, 30_000, 250);
  });

  test("Marathon's example basic-0.json runs unchanged", async () => {
    const body = readFileSync(path.join(ROOT, 'examples/services/basic-0.json'), 'utf8');
    const r = await call('POST', '/v2/apps', body);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    await waitFor('basic-0 running', async () => (await app('/basic-0'))?.tasksRunning === 1, 60_000, 250);
    const tasks = (await call('GET', '/v2/apps/basic-0/tasks')).body.tasks as TaskJson[];
    assert.equal(tasks.length, 1);
    assert.equal(tasks[0]!.state, 'TASK_RUNNING');
    assert.equal((await call('GET', '/v2/tasks')).body.tasks.length, 1);
  });

  test("more of Marathon's examples run unchanged: a kill grace period with labels, and python's http.server with a check whose result GET shows", async () => {
    for (const [file, id, n] of [['foo-kill-grace.json', '/foo', 2], ['http-index-test.json', '/http-index-test', 1]] as const) {
      const r = await call('POST', '/v2/apps', readFileSync(path.join(ROOT, 'examples/services', file), 'utf8'));
      assert.equal(r.status, 201, `${file}: ${JSON.stringify(r.body)}`);
      await waitFor(`${id} running`, async () => (await app(id))?.tasksRunning === n, 60_000, 250);
      if (id === '/http-index-test') {
        // Its check (GET / on PORT0, first 15 s after the start) is run by the agent and shown as Marathon's checkResult.
        const tasks = await waitFor('the check\'s first result', async () => {
          const ts = (await call('GET', '/v2/apps/http-index-test/tasks')).body.tasks as (TaskJson & { checkResult?: { http?: { statusCode?: number } } })[];
          return ts[0]?.checkResult ? ts : undefined;
        }, 60_000, 250);
        assert.equal(tasks[0]!.checkResult!.http!.statusCode, 200, JSON.stringify(tasks));
        assert.equal(tasks[0]!.state, 'TASK_RUNNING');
      }
      assert.equal((await call('DELETE', `/v2/apps${id}`)).status, 200);
      await waitFor(`${id} gone`, async () => !((await call('GET', '/v2/tasks')).body.tasks as TaskJson[]).some((t) => t.id.startsWith(id.slice(1))), 30_000, 250);
    }
  });

  test('after kill -9 and a restart, the stored app and task are found and reconciled, not launched again', async () => {
    const previous = (await call('GET', '/v2/apps/basic-0/tasks')).body.tasks as TaskJson[];
    await services.kill9();
    services = await startServices();
    base = `http://${services.address}`;
    await waitFor('services to lead again', async () => (await call('GET', '/v2/info')).body?.elected);
    const reconciled = await waitFor('basic-0 reconciled as running', async () => {
      const a = await app('/basic-0');
      return a?.tasksRunning === 1 ? a : undefined;
    }, 30_000, 250);
    assert.deepEqual(reconciled.tasks.map((t) => t.id), previous.map((t) => t.id));
    const onMaster = (await masterTasks()).filter((t) => t.id.startsWith('basic-0'));
    assert.equal(onMaster.length, 1, `one basic-0 task on the master: ${JSON.stringify(onMaster)}`);
  });

  test('a rolling update that can never proceed (UNIQUE on every host, minimumHealthCapacity 1, no room over) says so at once; cancelling it rolls the definition back', async () => {
    const spec = {
      id: '/uniq', cmd: SERVER, cpus: 0.1, mem: 32, instances: 3, env: { V: '1' },
      constraints: [['hostname', 'UNIQUE']],
      upgradeStrategy: { minimumHealthCapacity: 1, maximumOverCapacity: 0 },
    };
    assert.equal((await call('POST', '/v2/apps', spec)).status, 201);
    await waitFor('3 running', async () => (await app('/uniq'))?.tasksRunning === 3, 60_000, 250);
    const put = await call('PUT', '/v2/apps/uniq', { env: { V: '2' } });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    const id = put.body.deploymentId as string;
    const started = Date.now();
    const blocked = await waitFor('the deployment to say it cannot proceed', async () => {
      const d = (await call('GET', `/v2/deployments/${id}`)).body;
      return d?.status?.blocked?.[0] ? d : undefined;
    }, 30_000, 250);
    assert.match(blocked.status.blocked[0], /cannot proceed: \/uniq .*constraint hostname:UNIQUE ×3.*minimumHealthCapacity 1/);
    assert.ok(Date.now() - started < 20_000, 'declared within seconds, not at the 10-minute deadline');
    assert.equal(blocked.status.state, 'running');
    assert.ok(((await call('GET', '/v2/deployments')).body as { id: string }[]).some((d) => d.id === id), 'listed as running');

    const cancel = await call('DELETE', `/v2/deployments/${id}`);
    assert.equal(cancel.status, 200, JSON.stringify(cancel.body));
    assert.equal(cancel.body.deploymentId, `${id}-rollback`);
    await waitFor('the rollback to succeed', async () => (await call('GET', `/v2/deployments/${id}-rollback`)).body?.status?.state === 'succeeded', 30_000, 250);
    assert.equal((await call('GET', `/v2/deployments/${id}`)).body.status.state, 'cancelled');
    const back = (await app('/uniq'))!;
    assert.deepEqual((back as unknown as { env: Record<string, string> }).env, { V: '1' }, 'the definition is the old one again');
    assert.equal(back.tasksRunning, 3);
    assert.equal((await call('DELETE', '/v2/apps/uniq')).status, 200);
  });
});

describe('two mezz-services instances on etcd', { skip: requireEtcd() }, () => {
  const c = new Cluster();
  let etcd: TestEtcd;
  let master: Proc;
  const instances: Proc[] = [];

  before(async () => {
    etcd = await startTestEtcd();
    master = await c.startMaster();
    await c.startAgent(master.address);
    for (const name of ['svc-a', 'svc-b']) {
      instances.push(await c.spawn(name, 'mezz-services.mjs', [
        '--master', master.address, '--etcd', etcd.endpoint, '--cluster', 'svc-ha', '--host', '127.0.0.1', '--port', '0',
        '--data-dir', path.join(c.dir, name),
      ]));
    }
  });
  after(async () => {
    await c.teardown();
    await etcd?.dispose();
  });

  const call = async (p: Proc, method: string, url: string, body?: unknown) => {
    const r = await fetch(`http://${p.address}${url}`, { method, ...(body ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}) });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : undefined };
  };

  test('the standby proxies /v2 to the leader; after an abdication sent to the standby the other leads with the app and its task', async () => {
    const leader = await waitFor('a leader', async () => (await call(instances[0]!, 'GET', '/v2/leader')).body?.leader as string | undefined);
    const [lead, standby] = leader === instances[0]!.address ? instances : [instances[1]!, instances[0]!];
    assert.deepEqual((await call(standby!, 'GET', '/v2/leader')).body, { leader });
    await waitFor('the leader to be ready', async () => (await call(standby!, 'GET', '/v2/info')).body?.elected);
    assert.equal((await call(standby!, 'POST', '/v2/apps', { id: '/ha', cmd: 'sleep 600', cpus: 0.1, mem: 16 })).status, 201);
    const first = await waitFor('/ha running', async () => {
      const tasks = (await call(lead!, 'GET', '/v2/apps/ha/tasks')).body?.tasks as TaskJson[] | undefined;
      return tasks?.length === 1 && tasks[0]!.state === 'TASK_RUNNING' ? tasks[0]!.id : undefined;
    }, 60_000, 250);

    assert.equal((await call(standby!, 'DELETE', '/v2/leader')).status, 200, 'proxied to the leader, which abdicates');
    await waitFor('the other instance to lead', async () => {
      const l = (await call(standby!, 'GET', '/v2/leader')).body?.leader;
      return l === standby!.address && (await call(standby!, 'GET', '/v2/info')).body?.elected;
    }, 30_000, 250);
    const tasks = await waitFor('/ha reconciled as running', async () => {
      const t = (await call(standby!, 'GET', '/v2/apps/ha/tasks')).body?.tasks as TaskJson[] | undefined;
      return t?.[0]?.state === 'TASK_RUNNING' ? t : undefined;
    }, 30_000, 250);
    assert.deepEqual(tasks.map((t) => t.id), [first], 'the same task, not launched again');
  });
});
