/**
 * Async invocations survive kill -9 of mezz-functions: accepted (202) means
 * stored, so after a restart on the same data dir, or on the standby of two
 * instances on etcd, each runs, and none twice.
 *
 * "Not yet run" is made deterministic: the function has one worker
 * (maxWorkers 1), and each call first appends its activation id to a marker
 * file, then takes 800 ms. Ten calls are accepted, and the instance is killed
 * as soon as the first line appears: the next call is then ~800 ms from
 * starting, so the lines read just before the kill are exactly the calls that
 * had started. Those may run again (the one in flight does: its activation
 * was never recorded); every other call must leave exactly one line, and
 * every call a successful activation record.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Cluster, waitFor, type Proc } from '../harness';
import { lines, markerDir } from '../fixtures/markers';
import { etcdOrSkip, startTestEtcd, type TestEtcd } from '../etcd';

const ACTIONS = '/api/v1/namespaces/_/actions';
const ACTIVATIONS = '/api/v1/namespaces/_/activations';

describe('mezz-functions failover with async invocations accepted and not yet run', () => {
  const c = new Cluster();
  let master: Proc;
  let marks: string;
  let etcd: TestEtcd | undefined;

  const call = async (p: Proc, method: string, url: string, body?: unknown) => {
    const r = await fetch(`http://${p.address}${url}`, {
      method, signal: AbortSignal.timeout(10_000),
      ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
    });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : undefined };
  };

  /**
   * Deploys the marking function on `leader`, accepts ten async calls, kills
   * the leader at the first marker line, lets `takeOver` bring up the next
   * leader, and checks that each call ran once (the started ones at least once).
   */
  async function scenario(name: string, leader: Proc, takeOver: () => Promise<Proc>): Promise<void> {
    const file = path.join(marks, name);
    const code = `const fs = require('fs');
function main() {
  fs.appendFileSync(${JSON.stringify(file)}, process.env.__OW_ACTIVATION_ID + '\\n');
  return new Promise((resolve) => setTimeout(() => resolve({ran: process.env.__OW_ACTIVATION_ID}), 800));
}`;
    const put = await call(leader, 'PUT', `${ACTIONS}/${name}`, { exec: { kind: 'nodejs:20', code }, annotations: [{ key: 'maxWorkers', value: 1 }] });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    const accepted: string[] = [];
    for (let i = 0; i < 10; i++) {
      const r = await call(leader, 'POST', `${ACTIONS}/${name}`, { i });
      assert.equal(r.status, 202, JSON.stringify(r.body));
      accepted.push(r.body.activationId);
    }
    await waitFor('the first call to start', () => lines(file).length >= 1, 30_000, 10);
    const started = new Set(lines(file));
    await leader.kill9();
    assert.ok(started.size < accepted.length, `${started.size} of ${accepted.length} had started at the kill`);

    const next = await takeOver();
    const records = await waitFor('every accepted call\'s activation', async () => {
      const got = await Promise.all(accepted.map((id) => call(next, 'GET', `${ACTIVATIONS}/${id}`)));
      return got.every((r) => r.status === 200) ? got.map((r) => r.body) : undefined;
    }, 30_000, 200);
    for (const r of records) assert.equal(r.response.status, 'success', JSON.stringify(r.response));
    const ran = lines(file);
    for (const id of accepted) {
      const times = ran.filter((l) => l === id).length;
      if (started.has(id)) assert.ok(times >= 1, `${id} (started before the kill) ran at least once`);
      else assert.equal(times, 1, `${id} (not yet run at the kill) ran exactly once`);
    }
    assert.deepEqual([...new Set(ran)].sort(), [...accepted].sort(), 'nothing ran that was not accepted');
  }

  before(async () => {
    master = await c.startMaster();
    await c.startAgent(master.address, { name: 'fn-agent', resources: 'cpus:4;mem:4096;disk:1024;ports:[30300-30399]', args: ['--hostname', '127.0.0.1'] });
    marks = markerDir(c.dir);
  });
  after(async () => {
    await c.teardown();
    await etcd?.dispose();
  });

  test('kill -9 and a restart on the same data dir (embedded store): each accepted call runs, the ones not yet run exactly once', async () => {
    const flags = ['--master', master.address, '--host', '127.0.0.1', '--port', '0', '--data-dir', path.join(c.dir, 'functions'), '--stems', '1'];
    const leads = async (p: Proc) => {
      await waitFor(`${p.name} to lead`, async () => (await call(p, 'GET', ACTIONS).catch(() => undefined))?.status === 200, 30_000, 100);
      return p;
    };
    const first = await leads(await c.spawn('functions-1', 'mezz-functions.mjs', flags));
    await scenario('restarted', first, async () => leads(await c.spawn('functions-2', 'mezz-functions.mjs', flags)));
  });

  test('kill -9 of the leader of two on etcd: the standby runs each accepted call, the ones not yet run exactly once', async (t) => {
    if (!etcdOrSkip(t)) return;
    etcd = await startTestEtcd();
    const start = (n: number) => c.spawn(`functions-ha-${n}`, 'mezz-functions.mjs', [
      '--master', master.address, '--etcd', etcd!.endpoint, '--cluster', 'fn-ha', '--name', 'functions-ha', '--host', '127.0.0.1', '--port', '0', '--stems', '1',
    ]);
    const instances = [await start(1), await start(2)];
    /** The instance that leads and serves, among `among`. */
    const leader = (among: Proc[]) => waitFor('a leader', async () => {
      for (const p of among) {
        const at = (await call(p, 'GET', '/leader').catch(() => undefined))?.body?.leader as string | undefined;
        const lead = among.find((i) => i.address === at);
        if (lead && (await call(lead, 'GET', ACTIONS).catch(() => undefined))?.status === 200) return lead;
      }
      return undefined;
    }, 30_000, 100);
    const lead = await leader(instances);
    await scenario('standby', lead, () => leader(instances.filter((p) => p !== lead)));
  });
});
