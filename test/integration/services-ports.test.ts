/**
 * mezz-services placing apps by requirePorts and acceptedResourceRoles, on a
 * real master and one agent: an app with `requirePorts: true` runs with
 * exactly its port definition's port as host port ($PORT0, and the port it
 * listens on), not the lowest of the agent's range; a second app asking the
 * same port waits with reason `ports` in /v2/queue, and one accepting only
 * resources of a role no offer has waits with reason `role`.
 *
 * The service proxy is off: it would bind the same port number in the leader,
 * which runs on the agent's host here (see frameworks/services/README.md).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { freePort } from '../../lib/etcd-process';
import { Cluster, waitFor } from '../harness';

/** An HTTP server on $PORT0 that answers 200 to everything. */
const SERVER = `exec node -e "require('http').createServer((q,s)=>s.end('ok')).listen(process.env.PORT0)"`;

interface QueueEntry { app: { id: string }; count: number; reasons: Record<string, number> }

describe('mezz-services: requirePorts and acceptedResourceRoles', () => {
  const c = new Cluster();
  let base: string;
  /** Free when the test starts; the agent offers it in the middle of its range, so lowest-first would not pick it. */
  let port: number;

  const call = async (method: string, url: string, body?: unknown) => {
    const r = await fetch(`${base}${url}`, {
      method,
      ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
    });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : undefined };
  };
  const queued = (id: string, reason: string) => waitFor(`${id} in the queue with reason ${reason}`, async () => {
    const q = (await call('GET', '/v2/queue')).body.queue as QueueEntry[];
    return q.find((e) => e.app.id === id && e.reasons[reason]);
  }, 30_000, 250);

  before(async () => {
    port = await freePort();
    const master = await c.startMaster();
    await c.startAgent(master.address, { name: 'h1', resources: `cpus:2;mem:1024;disk:1024;ports:[${port - 5}-${port + 5}]` });
    const services = await c.spawn('services', 'mezz-services.mjs', [
      '--master', master.address, '--host', '127.0.0.1', '--port', '0', '--data-dir', path.join(c.dir, 'services'),
    ]);
    base = `http://${services.address}`;
    await waitFor('services to lead', async () => (await call('GET', '/v2/leader')).status === 200 && (await call('GET', '/v2/info')).body?.elected);
  });
  after(async () => {
    await c.teardown();
  });

  test('requirePorts: the task gets exactly the port asked for; a second app asking it waits with reason ports', async () => {
    const created = await call('POST', '/v2/apps', { id: '/fixed', cmd: SERVER, cpus: 0.1, mem: 32, requirePorts: true, portDefinitions: [{ port }] });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const running = await waitFor('/fixed running', async () => {
      const tasks = (await call('GET', '/v2/apps/fixed/tasks')).body?.tasks as { ports: number[]; state: string }[] | undefined;
      return tasks?.find((t) => t.state === 'TASK_RUNNING');
    }, 60_000, 250);
    assert.deepEqual(running.ports, [port]);
    // The server listens on $PORT0: it answers on the required port.
    const answer = await waitFor('the server to answer', async () => {
      try {
        return await (await fetch(`http://127.0.0.1:${port}/`)).text();
      } catch {
        return undefined;
      }
    }, 30_000, 100);
    assert.equal(answer, 'ok');

    const second = await call('POST', '/v2/apps', { id: '/same', cmd: SERVER, cpus: 0.1, mem: 32, requirePorts: true, portDefinitions: [{ port }] });
    assert.equal(second.status, 201, JSON.stringify(second.body));
    const entry = await queued('/same', 'ports');
    assert.equal(entry.count, 1);
  });

  test('acceptedResourceRoles naming only a role no offer has: the app waits with reason role', async () => {
    const created = await call('POST', '/v2/apps', { id: '/public', cmd: 'sleep 100', cpus: 0.1, mem: 32, acceptedResourceRoles: ['slave_public'] });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal((await queued('/public', 'role')).count, 1);
  });

  test('requirePorts with port 0 is refused with 422 naming the path', async () => {
    const r = await call('POST', '/v2/apps', { id: '/zero', cmd: 'sleep 1', requirePorts: true, portDefinitions: [{ port: 0 }] });
    assert.equal(r.status, 422, JSON.stringify(r.body));
    assert.ok(r.body.details.some((d: { path: string }) => d.path === '/portDefinitions/0/port'), JSON.stringify(r.body));
  });
});
