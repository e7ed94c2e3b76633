/**
 * mezz-services when its store goes away: on etcd behind a proxy that cuts
 * the connection (a partition that drops packets, not a clean refusal), a
 * change answers 503 with the reason within seconds instead of hanging, and
 * reads still answer; once the link heals, the instance leads again, the
 * change goes through, and the app that ran throughout was never launched
 * twice.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import type { ListTasksResponse__Output } from '../../lib/proto/generated/mezzanine/v1/ListTasksResponse';
import { Cluster, op, waitFor, type Proc } from '../harness';
import { requireEtcd, startProxy, startTestEtcd, type Proxy, type TestEtcd } from '../etcd';

describe('mezz-services with its etcd cut off', { skip: requireEtcd() }, () => {
  const c = new Cluster();
  let etcd: TestEtcd;
  let link: Proxy;
  let master: Proc;
  let services: Proc;

  /** A call with a client-side deadline: what it must never do is hang. */
  const call = async (method: string, url: string, body?: unknown, timeoutMs = 20_000) => {
    const started = Date.now();
    const r = await fetch(`http://${services.address}${url}`, {
      method,
      signal: AbortSignal.timeout(timeoutMs),
      ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
    });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : undefined, ms: Date.now() - started };
  };

  before(async () => {
    etcd = await startTestEtcd();
    link = await startProxy(etcd.endpoint);
    master = await c.startMaster();
    await c.startAgent(master.address, { resources: 'cpus:2;mem:1024;disk:1024;ports:[31300-31399]' });
    services = await c.spawn('services', 'mezz-services.mjs', [
      '--master', master.address, '--etcd', link.endpoint, '--cluster', 'svc-store', '--lease-ttl', '2',
      '--host', '127.0.0.1', '--port', '0', '--data-dir', path.join(c.dir, 'services'), '--no-service-proxy',
    ]);
    await waitFor('services to lead', async () => (await call('GET', '/v2/info')).body?.elected === true, 30_000, 250);
  });
  after(async () => {
    await c.teardown();
    await link?.close();
    await etcd?.dispose();
  });

  test('a change answers 503 naming why within seconds, reads answer, and after the link heals the change goes through with nothing launched twice', async () => {
    assert.equal((await call('POST', '/v2/apps', { id: '/steady', cmd: 'sleep 600', cpus: 0.1, mem: 16 })).status, 201);
    await waitFor('/steady running', async () => (await call('GET', '/v2/apps/steady')).body?.app?.tasksRunning === 1, 60_000, 250);

    link.pause();
    const refused = await call('POST', '/v2/apps', { id: '/during', cmd: 'sleep 600', cpus: 0.1, mem: 16 });
    assert.equal(refused.status, 503, JSON.stringify(refused.body));
    assert.ok(refused.ms < 15_000, `answered in ${refused.ms} ms, not hung`);
    assert.match(refused.body.message, /etcd|lead|store/i, 'the reason is named');
    const read = await call('GET', '/v2/apps', undefined, 15_000);
    assert.ok([200, 503].includes(read.status), `a read answers (${read.status}) in ${read.ms} ms`);

    await link.resume();
    const accepted = await waitFor('the change to go through once the link healed', async () => {
      const r = await call('POST', '/v2/apps', { id: '/during', cmd: 'sleep 600', cpus: 0.1, mem: 16 }).catch(() => undefined);
      return r?.status === 201 ? r : undefined;
    }, 60_000, 500);
    assert.equal(accepted.status, 201);
    await waitFor('/during running', async () => (await call('GET', '/v2/apps/during')).body?.app?.tasksRunning === 1, 60_000, 250);
    const onMaster = (await op<object, ListTasksResponse__Output>(c.operator(master.address), 'ListTasks', {})).tasks.filter((t) => t.id.startsWith('steady'));
    assert.equal(onMaster.length, 1, `one /steady task ever: ${JSON.stringify(onMaster.map((t) => [t.id, t.state]))}`);
    assert.equal((await call('GET', '/v2/apps/steady')).body.app.tasksRunning, 1);
  });
});
