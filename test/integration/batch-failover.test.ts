/**
 * No run lost, none doubled, across kill -9 of the leader: two mezz-batch
 * instances on etcd, a job on a one-second schedule and a DAG A → {B, C} → D
 * of slow steps, while the leader is killed three times (and brought back as
 * a standby each time). Every task appends its run id to a marker file per
 * run, so a run that ran twice shows two lines, and a stored run that never
 * ran shows none; a scheduled run's id derives from its tick, so two runs of
 * one tick would share a file too.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { Cluster, waitFor, type Proc } from '../harness';
import { lines, markerDir } from '../fixtures/markers';
import { requireEtcd, startTestEtcd, type TestEtcd } from '../etcd';

interface RunJson { id: string; status: string; trigger?: string; tick?: string; createdAt: string; completedAt: string | null }

describe('mezz-batch failover on etcd', { skip: requireEtcd() }, () => {
  const c = new Cluster();
  let etcd: TestEtcd;
  let master: Proc;
  let marks: string;
  const instances: Proc[] = [];
  let spawned = 0;

  const startInstance = () => c.spawn(`batch-${++spawned}`, 'mezz-batch.mjs', [
    '--master', master.address, '--etcd', etcd.endpoint, '--cluster', 'batch-ha', '--host', '127.0.0.1', '--port', '0', '--retry-delay', '1s',
  ]);
  const call = async (p: Proc, method: string, url: string, body?: unknown) => {
    const r = await fetch(`http://${p.address}${url}`, {
      method, signal: AbortSignal.timeout(10_000),
      ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
    });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : undefined };
  };
  /** The instance that leads now, once one leads and answers. */
  const leader = () => waitFor('a leader', async () => {
    for (const p of instances) {
      const r = await call(p, 'GET', '/v1/leader').catch(() => undefined);
      const at = r?.status === 200 ? (r.body.leader as string) : undefined;
      const lead = instances.find((i) => i.address === at);
      if (lead && (await call(lead, 'GET', '/v1/jobs').catch(() => undefined))?.status === 200) return lead;
    }
    return undefined;
  }, 30_000, 100);
  const runsOf = async (jobId: string): Promise<RunJson[]> => {
    const lead = await leader();
    const r = await call(lead, 'GET', `/v1/jobs/${jobId}?embed=activeRuns&embed=history`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const done = [...r.body.history.successfulFinishedRuns, ...r.body.history.failedFinishedRuns] as RunJson[];
    const full = await Promise.all(done.map(async (d) => (await call(lead, 'GET', `/v1/jobs/${jobId}/runs/${d.id}`)).body as RunJson));
    return [...(r.body.activeRuns as RunJson[]), ...full];
  };
  const markers = (prefix: string) => readdirSync(marks).filter((f) => f.startsWith(prefix)).map((f) => ({ run: f.slice(prefix.length), lines: lines(path.join(marks, f)) }));

  before(async () => {
    etcd = await startTestEtcd();
    master = await c.startMaster();
    for (const h of ['h1', 'h2']) await c.startAgent(master.address, { name: h, resources: 'cpus:4;mem:2048;disk:1024;ports:[31000-31099]', args: ['--hostname', h] });
    instances.push(await startInstance(), await startInstance());
    marks = markerDir(c.dir);
  });
  after(async () => {
    await c.teardown();
    await etcd?.dispose();
  });

  test('kill -9 of the leader three times: every scheduled run ran once, no tick twice, and the DAG resumed where it was', async () => {
    const mark = (name: string) => `echo "$MEZZ_JOB_RUN_ID" >> ${marks}/${name}-$MEZZ_JOB_RUN_ID`;
    const lead = await leader();
    const create = async (job: Record<string, unknown>) => {
      const r = await call(lead, 'POST', '/v1/jobs', job);
      assert.equal(r.status, 201, JSON.stringify(r.body));
    };
    await create({
      id: 'tick', run: { cmd: mark('tick'), cpus: 0.01, mem: 16 },
      schedules: [{ id: 'each-second', cron: '* * * * * *', startingDeadlineSeconds: 60, concurrencyPolicy: 'ALLOW' }],
    });
    const step = (id: string) => ({ cmd: `${mark(id)}; sleep 2`, cpus: 0.1, mem: 16 });
    await create({ id: 'da', run: step('da') });
    await create({ id: 'db', run: step('db'), dependencies: [{ id: 'da' }] });
    await create({ id: 'dc', run: step('dc'), dependencies: [{ id: 'da' }] });
    await create({ id: 'dd', run: step('dd'), dependencies: [{ id: 'db' }, { id: 'dc' }] });
    assert.equal((await call(lead, 'POST', '/v1/jobs/da/runs')).status, 201);

    for (let kill = 0; kill < 3; kill++) {
      await waitFor('a few runs under this leader', async () => markers('tick-').length >= (kill + 1) * 3, 30_000, 200);
      const current = await leader();
      await current.kill9();
      instances.splice(instances.indexOf(current), 1);
      instances.push(await startInstance());
      await leader();
    }
    await waitFor('d to succeed', async () => (await runsOf('dd')).some((r) => r.status === 'SUCCESS'), 90_000, 500);
    // Stop the ticks, and let every run started finish.
    const last = await leader();
    const job = (await call(last, 'GET', '/v1/jobs/tick')).body;
    assert.equal((await call(last, 'PUT', '/v1/jobs/tick', { ...job, schedules: [] })).status, 200);
    const runs = await waitFor('every tick run to finish', async () => {
      const all = await runsOf('tick');
      return all.every((r) => r.status === 'SUCCESS') ? all : undefined;
    }, 60_000, 500);

    const ran = markers('tick-');
    for (const m of ran) assert.deepEqual(m.lines, [m.run], `run ${m.run} ran once`);
    assert.deepEqual(ran.map((m) => m.run).sort(), runs.map((r) => r.id).sort(), 'every stored run ran, and nothing ran that is not stored');
    const ticks = runs.map((r) => Date.parse(r.tick!) / 1000);
    assert.equal(new Set(ticks).size, ticks.length, 'no tick has two runs');
    // Ticks missed while no one led are skipped, one catch-up per takeover: at most a few seconds per failover.
    const span = Math.max(...ticks) - Math.min(...ticks) + 1;
    assert.ok(span - ticks.length <= 3 * 10, `${span - ticks.length} of ${span} ticks missed over 3 failovers`);

    for (const id of ['da', 'db', 'dc', 'dd']) {
      const r = await runsOf(id);
      assert.equal(r.length, 1, `${id}: one run: ${JSON.stringify(r)}`);
      assert.equal(r[0]!.status, 'SUCCESS');
      assert.deepEqual(markers(`${id}-`).map((m) => m.lines.length), [1], `${id} ran once`);
    }
    const [dd] = await runsOf('dd');
    for (const parent of ['db', 'dc']) assert.ok(Date.parse(dd!.createdAt) >= Date.parse((await runsOf(parent))[0]!.completedAt!), `dd after ${parent}`);
  });
});
