/**
 * The batch API's routes (Metronome's /v1) against an in-memory BatchService,
 * over real HTTP on loopback: bodies read and refused at their paths, the
 * service's answers shaped as Metronome's, its refusals mapped to 404/409,
 * schedules changed through the job, and the ACL object of each route.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { Acls, Authenticator } from '../../lib/auth';
import { FailedPreconditionError, NotFoundError } from '../../lib/errors';
import { createApi } from '../../frameworks/foundation';
import { addBatchRoutes } from '../../frameworks/batch/api';
import type { Job } from '../../frameworks/batch/job-schema';
import { endRun, isFinished } from '../../frameworks/batch/run-state';
import { runTask, type BatchTask, type StoredJob, type StoredRun } from '../../frameworks/batch/run-store';
import type { BatchService, PutJobResult, QueuedRun } from '../../frameworks/batch/service';
import { quiet } from '../harness';

/** 2026-11-28T12:00:00Z: every time the fake stores. */
const NOW = Date.UTC(2026, 10, 28, 12);

/** The BatchService contract kept in maps, with the clock fixed at NOW; runs get ids run1, run2 … */
class FakeBatch implements BatchService {
  readonly stored = new Map<string, StoredJob>();
  readonly runs = new Map<string, StoredRun>();
  readonly tasks = new Map<string, BatchTask[]>();
  queued: QueuedRun[] = [];
  /** false: as a leader that has not loaded its state (reads here answer as if nothing were stored). */
  loaded = true;
  private runCount = 0;

  leading() {
    return this.loaded;
  }
  jobs() {
    return [...this.stored.values()];
  }
  job(id: string) {
    return this.stored.get(id);
  }
  async putJob(job: Job, mode: 'create' | 'replace'): Promise<PutJobResult> {
    const old = this.stored.get(job.id);
    if (mode === 'create' && old) throw new FailedPreconditionError('Job with this id already exists');
    if (mode === 'replace' && !old) throw new NotFoundError(`Job not found: ${job.id}`);
    const unknown = job.dependencies.findIndex((d) => !this.stored.has(d.id));
    if (unknown >= 0) return { errors: [{ path: `/dependencies/${unknown}/id`, errors: ['no such job'] }] };
    const s = { job, createdAt: old?.createdAt ?? NOW, updatedAt: NOW };
    this.stored.set(job.id, s);
    return { job: s };
  }
  async deleteJob(id: string, stopCurrentJobRuns: boolean) {
    const s = this.require(id);
    const active = this.activeRuns(id);
    if (active.length && !stopCurrentJobRuns) throw new FailedPreconditionError('There are active job runs. Override with stopCurrentJobRuns=true');
    for (const r of active) await this.stopRun(id, r.id);
    this.stored.delete(id);
    return s;
  }
  async startRun(jobId: string) {
    const run: StoredRun = { id: `run${++this.runCount}`, jobId, createdAt: NOW, state: 'INITIAL', trigger: 'api', job: this.require(jobId).job };
    this.runs.set(run.id, run);
    return run;
  }
  activeRuns(jobId: string) {
    return [...this.runs.values()].filter((r) => r.jobId === jobId && !isFinished(r)).reverse();
  }
  finishedRuns(jobId: string) {
    return [...this.runs.values()].filter((r) => r.jobId === jobId && isFinished(r)).reverse();
  }
  run(jobId: string, runId: string) {
    const r = this.runs.get(runId);
    return r?.jobId === jobId ? r : undefined;
  }
  runTasks(runId: string) {
    return this.tasks.get(runId) ?? [];
  }
  async stopRun(jobId: string, runId: string) {
    const r = this.run(jobId, runId);
    if (!r) throw new NotFoundError(`Job Run not found: ${runId}`);
    const ended: StoredRun = { ...r, ...endRun(r, 'stopped', NOW + 1000), tasks: this.runTasks(runId).map(runTask) };
    this.runs.set(runId, ended);
    return ended;
  }
  queue() {
    return this.queued;
  }
  dependencyStatus(jobId: string) {
    return this.require(jobId).job.dependencies.length ? { due: false as const, why: 'waiting for extract to succeed' } : { due: true as const };
  }
  private require(id: string) {
    const s = this.stored.get(id);
    if (!s) throw new NotFoundError(`Job not found: ${id}`);
    return s;
  }
}

const OPS = 'ops-secret-0123456789';
const ETL = 'etl-secret-0123456789';

interface Client {
  service: FakeBatch;
  req(method: string, path: string, body?: unknown, opts?: { token?: string; type?: string }): Promise<{ status: number; body: any }>;
}

/** The API with the routes on a fake service, listening on loopback; closed when the test ends. */
async function start(t: TestContext, opts: { acls?: boolean } = {}): Promise<Client> {
  const service = new FakeBatch();
  const api = createApi({
    name: 'batch', log: quiet as never,
    ...(opts.acls
      ? {
          authenticator: new Authenticator([{ principal: 'ops', secret: OPS }, { principal: 'etl', secret: ETL }]),
          // etl may read and change the etl.* jobs, never delete them; ops may do everything.
          acls: Acls.parse(JSON.stringify({ rules: [
            { principals: ['ops'], actions: '*', objects: '*' },
            { principals: ['etl'], actions: ['framework_read', 'framework_write'], objects: ['batch:etl.*'] },
          ] }), 'acls.json'),
        }
      : {}),
  });
  addBatchRoutes(api, service, { leaderAddress: () => '127.0.0.1:9000', abdicate: async () => true });
  const base = await api.listen('127.0.0.1', 0);
  t.after(() => api.close());
  return {
    service,
    async req(method, path, body, o = {}) {
      const headers: Record<string, string> = o.token ? { authorization: `Bearer ${o.token}` } : {};
      if (body !== undefined) headers['content-type'] = o.type ?? 'application/json';
      const res = await fetch(base + path, { method, headers, ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}) });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    },
  };
}

const job = (id: string, extra: Record<string, unknown> = {}) => ({ id, run: { cmd: 'make report' }, ...extra });
const detailsAt = (body: { details: { path: string; errors: string[] }[] }, path: string) => body.details.find((d) => d.path === path)?.errors ?? [];

test("POST /v1/jobs stores a job with Metronome's defaults (201); GET one and the list answer it", async (t) => {
  const c = await start(t);
  const created = await c.req('POST', '/v1/jobs', job('prod.reports', { schedules: [{ id: 'nightly', cron: '0 2 * * *' }] }));
  assert.equal(created.status, 201);
  assert.equal(created.body.id, 'prod.reports');
  assert.equal(created.body.run.mem, 128, "Metronome's default");
  assert.equal(created.body.schedules[0].startingDeadlineSeconds, 900);
  assert.equal(created.body.parallelism, 1, "Mezzanine's addition, beside run");
  assert.deepEqual((await c.req('GET', '/v1/jobs/prod.reports')).body, created.body);
  const list = await c.req('GET', '/v1/jobs');
  assert.deepEqual(list.body.map((j: { id: string }) => j.id), ['prod.reports']);
  assert.equal(list.body[0].activeRuns, undefined, 'nothing embedded unless asked');
  assert.equal((await c.req('POST', '/v1/jobs', job('prod.reports'))).status, 409);
});

test('embed, repeated or comma-separated, adds active runs, history and its summary; an unknown one is 400', async (t) => {
  const c = await start(t);
  await c.req('POST', '/v1/jobs', job('etl.load'));
  const first = (await c.req('POST', '/v1/jobs/etl.load/runs')).body;
  await c.req('POST', `/v1/jobs/etl.load/runs/${first.id}/actions/stop`);
  const active = (await c.req('POST', '/v1/jobs/etl.load/runs')).body;
  for (const query of ['embed=activeRuns,history&embed=historySummary', 'embed=activeRuns&embed=history,historySummary']) {
    const [j] = (await c.req('GET', `/v1/jobs?${query}`)).body;
    assert.deepEqual(j.activeRuns.map((r: { id: string }) => r.id), [active.id], query);
    // run1 was stopped: FAILED at NOW + 1 s, kept as history.
    assert.deepEqual(j.historySummary, { successCount: 0, failureCount: 1, lastSuccessAt: null, lastFailureAt: '2026-11-28T12:00:01.000+0000' });
    assert.deepEqual(j.history.failedFinishedRuns, [{ id: first.id, createdAt: '2026-11-28T12:00:00.000+0000', finishedAt: '2026-11-28T12:00:01.000+0000', tasks: [], reason: 'stopped', trigger: 'api' }]);
    assert.deepEqual(j.history.successfulFinishedRuns, []);
  }
  const one = await c.req('GET', '/v1/jobs/etl.load?embed=historySummary');
  assert.equal(one.body.historySummary.failureCount, 1);
  const bad = await c.req('GET', '/v1/jobs?embed=activeRuns,tasks');
  assert.equal(bad.status, 400);
  assert.match(bad.body.message, /unknown tasks; known: activeRuns, schedules, history, historySummary/);
});

test("a bad job body is Metronome's 422 at each path: a bad cron at /schedules/0/cron, an unknown field by name; nothing is stored", async (t) => {
  const c = await start(t);
  const r = await c.req('POST', '/v1/jobs', job('prod.reports', { schedules: [{ id: 'nightly', cron: '0 25 * * *' }], colour: 'blue' }));
  assert.equal(r.status, 422);
  assert.equal(r.body.message, 'Object is not valid');
  assert.deepEqual(detailsAt(r.body, '/colour').length, 1, JSON.stringify(r.body));
  assert.match(detailsAt(r.body, '/colour')[0]!, /unknown field/);
  const zone = await c.req('POST', '/v1/jobs', job('prod.reports', { schedules: [{ id: 'nightly', cron: '0 25 * * *', timezone: 'Mars/Olympus' }] }));
  assert.equal(zone.status, 422);
  const cron = detailsAt(zone.body, '/schedules/0/cron').join(' ');
  assert.match(cron, /hour/, 'names the field of the expression that is wrong');
  assert.match(cron, /timezone: 'Mars\/Olympus' is not an IANA time zone/);
  assert.deepEqual((await c.req('GET', '/v1/jobs')).body, []);
});

test('a refusal by the service (an unknown parent) is a 422 like a bad body', async (t) => {
  const c = await start(t);
  const r = await c.req('POST', '/v1/jobs', job('etl.load', { dependencies: [{ id: 'etl.extract' }] }));
  assert.equal(r.status, 422);
  assert.deepEqual(detailsAt(r.body, '/dependencies/0/id'), ['no such job']);
});

test('a YAML body is read as JSON is', async (t) => {
  const c = await start(t);
  const yaml = ['id: etl.load', 'run:', '  cmd: ./load.sh', '  mem: 256', 'schedules:', '  - id: hourly', '    cron: "0 * * * *"'].join('\n');
  const r = await c.req('POST', '/v1/jobs', yaml, { type: 'application/yaml' });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.equal(r.body.run.mem, 256);
  const bad = await c.req('PUT', '/v1/jobs/etl.load', 'run:\n  cmd: x\n  mem: -1\n', { type: 'text/yaml' });
  assert.equal(bad.status, 422);
  assert.ok(detailsAt(bad.body, '/run/mem').length, JSON.stringify(bad.body));
});

test('PUT replaces a job; the id is the path, its schedules are kept unless the body gives them; 404 for an unknown job', async (t) => {
  const c = await start(t);
  await c.req('POST', '/v1/jobs', job('etl.load', { schedules: [{ id: 'hourly', cron: '0 * * * *' }] }));
  const put = await c.req('PUT', '/v1/jobs/etl.load', { run: { cmd: './load.sh --all' } });
  assert.equal(put.status, 200);
  assert.equal(put.body.run.cmd, './load.sh --all');
  assert.deepEqual(put.body.schedules.map((s: { id: string }) => s.id), ['hourly'], "a Metronome client's PUT keeps the schedules");
  const cleared = await c.req('PUT', '/v1/jobs/etl.load', job('etl.load', { schedules: [] }));
  assert.deepEqual(cleared.body.schedules, []);
  const other = await c.req('PUT', '/v1/jobs/etl.load', job('etl.other'));
  assert.equal(other.status, 422);
  assert.match(detailsAt(other.body, '/id')[0]!, /"etl.other" but the path names job etl.load/);
  assert.equal((await c.req('PUT', '/v1/jobs/etl.none', job('etl.none'))).status, 404);
});

test('DELETE answers the deleted job; 409 while a run is active unless stopCurrentJobRuns=true; 404 after', async (t) => {
  const c = await start(t);
  await c.req('POST', '/v1/jobs', job('etl.load'));
  await c.req('POST', '/v1/jobs/etl.load/runs');
  const refused = await c.req('DELETE', '/v1/jobs/etl.load');
  assert.equal(refused.status, 409);
  assert.match(refused.body.message, /stopCurrentJobRuns=true/);
  const deleted = await c.req('DELETE', '/v1/jobs/etl.load?stopCurrentJobRuns=true');
  assert.equal(deleted.status, 200);
  assert.equal(deleted.body.id, 'etl.load');
  assert.equal((await c.req('GET', '/v1/jobs/etl.load')).status, 404);
  assert.equal((await c.req('DELETE', '/v1/jobs/etl.load')).status, 404);
});

test('runs: started (201), listed while active, read with their tasks, stopped, still found when finished', async (t) => {
  const c = await start(t);
  await c.req('POST', '/v1/jobs', job('etl.load'));
  const started = await c.req('POST', '/v1/jobs/etl.load/runs');
  assert.equal(started.status, 201);
  assert.deepEqual(started.body, {
    id: 'run1', jobId: 'etl.load', status: 'INITIAL', createdAt: '2026-11-28T12:00:00.000+0000', completedAt: null, startedAt: null, trigger: 'api', tasks: [],
  });
  c.service.tasks.set('run1', [
    { taskId: 'etl.load.run1.0.2', group: 'etl.load/run1', version: 'v', instance: 0, attempt: 2, state: 'TASK_RUNNING', launchedAt: NOW + 5000, startedAt: NOW + 6000, updatedAt: NOW + 6000, agentId: 'a1', hostname: 'h1' },
    { taskId: 'etl.load.run1.0.1', group: 'etl.load/run1', version: 'v', instance: 0, attempt: 1, state: 'TASK_FAILED', launchedAt: NOW, updatedAt: NOW + 2000, exitCode: 3, agentId: 'a1', hostname: 'h1' },
  ]);
  const got = await c.req('GET', '/v1/jobs/etl.load/runs/run1');
  assert.deepEqual(got.body.tasks, [
    { id: 'etl.load.run1.0.1', status: 'TASK_FAILED', startedAt: '2026-11-28T12:00:00.000+0000', completedAt: '2026-11-28T12:00:02.000+0000', index: 0, attempt: 1, agentId: 'a1', hostname: 'h1', exitCode: 3 },
    { id: 'etl.load.run1.0.2', status: 'TASK_RUNNING', startedAt: '2026-11-28T12:00:05.000+0000', completedAt: null, index: 0, attempt: 2, runningAt: '2026-11-28T12:00:06.000+0000', agentId: 'a1', hostname: 'h1' },
  ], 'every attempt, in index then attempt order');
  assert.deepEqual((await c.req('GET', '/v1/jobs/etl.load/runs')).body.map((r: { id: string }) => r.id), ['run1']);
  const stopped = await c.req('POST', '/v1/jobs/etl.load/runs/run1/actions/stop');
  assert.equal(stopped.status, 200);
  assert.equal(stopped.body.status, 'FAILED');
  assert.equal(stopped.body.reason, 'stopped');
  assert.equal(stopped.body.completedAt, '2026-11-28T12:00:01.000+0000');
  assert.equal(stopped.body.tasks.length, 2, 'the finished run keeps its tasks');
  assert.deepEqual((await c.req('GET', '/v1/jobs/etl.load/runs')).body, []);
  assert.equal((await c.req('GET', '/v1/jobs/etl.load/runs/run1')).body.status, 'FAILED');
});

test('runs of an unknown job or unknown runs are 404', async (t) => {
  const c = await start(t);
  await c.req('POST', '/v1/jobs', job('etl.load'));
  assert.equal((await c.req('GET', '/v1/jobs/etl.none/runs')).status, 404);
  assert.equal((await c.req('POST', '/v1/jobs/etl.none/runs')).status, 404);
  const run = await c.req('GET', '/v1/jobs/etl.load/runs/run9');
  assert.equal(run.status, 404);
  assert.match(run.body.message, /Job Run not found: run9/);
  assert.equal((await c.req('POST', '/v1/jobs/etl.load/runs/run9/actions/stop')).status, 404);
  assert.equal((await c.req('GET', '/v1/jobs/etl.none/dependencies/status')).status, 404);
});

test('schedules: created (201, 409 twice), read with their next three run times, replaced, deleted; 404 when unknown', async (t) => {
  const c = await start(t);
  await c.req('POST', '/v1/jobs', job('etl.load'));
  const created = await c.req('POST', '/v1/jobs/etl.load/schedules', { id: 'nightly', cron: '0 2 * * *' });
  assert.equal(created.status, 201);
  assert.equal(created.body.concurrencyPolicy, 'ALLOW', 'defaults filled in');
  assert.equal(created.body.nextRunAt.length, 3);
  // Consecutive 02:00 UTC, one day (86,400,000 ms) apart.
  const [a, b] = created.body.nextRunAt.map((s: string) => Date.parse(s));
  assert.equal(b - a, 86_400_000);
  assert.match(created.body.nextRunAt[0], /T02:00:00\.000\+0000$/);
  assert.equal((await c.req('POST', '/v1/jobs/etl.load/schedules', { id: 'nightly', cron: '0 3 * * *' })).status, 409);
  assert.deepEqual((await c.req('GET', '/v1/jobs/etl.load')).body.schedules.map((s: { id: string }) => s.id), ['nightly'], 'stored in the job');

  // Refused at the schedule's own paths, not the job's /schedules/1/….
  const badCron = await c.req('POST', '/v1/jobs/etl.load/schedules', { id: 'hourly', cron: '61 * * * *' });
  assert.equal(badCron.status, 422);
  assert.match(detailsAt(badCron.body, '/cron').join(), /minute/, JSON.stringify(badCron.body));
  const typo = await c.req('POST', '/v1/jobs/etl.load/schedules', { id: 'hourly', cron: '0 * * * *', enabeld: true });
  assert.match(detailsAt(typo.body, '/enabeld').join(), /unknown field/);
  assert.equal((await c.req('POST', '/v1/jobs/etl.load/schedules', ['not', 'an', 'object'])).status, 422);

  const put = await c.req('PUT', '/v1/jobs/etl.load/schedules/nightly', { cron: '30 4 * * *', enabled: false });
  assert.equal(put.status, 200);
  assert.equal(put.body.cron, '30 4 * * *');
  assert.deepEqual(put.body.nextRunAt, [], 'a disabled schedule does not run');
  assert.equal((await c.req('PUT', '/v1/jobs/etl.load/schedules/nightly', { id: 'other', cron: '* * * * *' })).status, 422);
  assert.equal((await c.req('PUT', '/v1/jobs/etl.load/schedules/none', { cron: '* * * * *' })).status, 404);
  assert.deepEqual((await c.req('GET', '/v1/jobs/etl.load/schedules')).body.map((s: { cron: string }) => s.cron), ['30 4 * * *']);
  assert.equal((await c.req('GET', '/v1/jobs/etl.load/schedules/nightly')).body.enabled, false);

  assert.equal((await c.req('DELETE', '/v1/jobs/etl.load/schedules/nightly')).status, 200);
  assert.deepEqual((await c.req('GET', '/v1/jobs/etl.load/schedules')).body, []);
  assert.equal((await c.req('GET', '/v1/jobs/etl.load/schedules/nightly')).status, 404);
  assert.equal((await c.req('DELETE', '/v1/jobs/etl.load/schedules/nightly')).status, 404);
  assert.equal((await c.req('GET', '/v1/jobs/etl.none/schedules')).status, 404);
});

test("the queue is Metronome's [{jobId, runs: [{runId}]}], each run with why it waits, per index", async (t) => {
  const c = await start(t);
  c.service.queued = [
    { jobId: 'etl.load', runId: 'run1', waiting: [{ group: 'etl.load/run1', version: 'v', instance: 1, reasons: { 'insufficient cpus': 3 } }] },
    { jobId: 'etl.load', runId: 'run2', waiting: [{ group: 'etl.load/run2', version: 'v', instance: 0, reasons: { backoff: 1 }, backoffUntil: NOW + 10_000 }] },
    { jobId: 'train', runId: 'run3', waiting: [], gang: { holdingSince: NOW, retryAt: NOW + 60_000, timeouts: 1 } },
  ];
  assert.deepEqual((await c.req('GET', '/v1/queue')).body, [
    { jobId: 'etl.load', runs: [
      { runId: 'run1', waiting: [{ index: 1, reasons: { 'insufficient cpus': 3 } }] },
      { runId: 'run2', waiting: [{ index: 0, reasons: { backoff: 1 }, backoffUntil: '2026-11-28T12:00:10.000+0000' }] },
    ] },
    { jobId: 'train', runs: [{ runId: 'run3', waiting: [], gang: { holdingSince: '2026-11-28T12:00:00.000+0000', retryAt: '2026-11-28T12:01:00.000+0000', timeouts: 1 } }] },
  ]);
});

test('reads are 503 until the leader has loaded its state, never an empty answer', async (t) => {
  const c = await start(t);
  await c.req('POST', '/v1/jobs', job('etl.load'));
  c.service.loaded = false;
  for (const path of ['/v1/jobs', '/v1/jobs/etl.load', '/v1/jobs/etl.load/runs', '/v1/jobs/etl.load/runs/run1', '/v1/jobs/etl.load/schedules', '/v1/queue']) {
    const r = await c.req('GET', path);
    assert.equal(r.status, 503, path);
    assert.match(r.body.message, /try again/);
  }
  assert.equal((await c.req('GET', '/v1/leader')).status, 200, 'who leads is known before the state is');
  c.service.loaded = true;
  assert.equal((await c.req('GET', '/v1/jobs')).body.length, 1);
});

test("dependency status and the leader: the service's answers as they are", async (t) => {
  const c = await start(t);
  await c.req('POST', '/v1/jobs', job('etl.extract'));
  await c.req('POST', '/v1/jobs', job('etl.load', { dependencies: [{ id: 'etl.extract' }] }));
  assert.deepEqual((await c.req('GET', '/v1/jobs/etl.load/dependencies/status')).body, {
    jobId: 'etl.load', dependencies: [{ id: 'etl.extract' }], due: false, why: 'waiting for extract to succeed',
  });
  assert.deepEqual((await c.req('GET', '/v1/leader')).body, { leader: '127.0.0.1:9000' });
  assert.deepEqual((await c.req('GET', '/leader')).body, { leader: '127.0.0.1:9000' });
  assert.deepEqual((await c.req('DELETE', '/v1/leader')).body, { message: 'Leadership abdicated' });
});

test('each route is authorized on batch:<job id>: read and write for etl.*, delete only for ops', async (t) => {
  const c = await start(t, { acls: true });
  const as = (token: string) => ({ token });
  assert.equal((await c.req('POST', '/v1/jobs', job('prod.reports'), as(ETL))).status, 403, 'the body names a job outside etl.*');
  assert.equal((await c.req('POST', '/v1/jobs', job('etl.load'), as(ETL))).status, 201);
  assert.equal((await c.req('POST', '/v1/jobs/etl.load/runs', undefined, as(ETL))).status, 201);
  assert.equal((await c.req('POST', '/v1/jobs/etl.load/schedules', { id: 'h', cron: '0 * * * *' }, as(ETL))).status, 201);
  assert.equal((await c.req('GET', '/v1/jobs/prod.reports', undefined, as(ETL))).status, 403);
  assert.equal((await c.req('DELETE', '/v1/jobs/etl.load?stopCurrentJobRuns=true', undefined, as(ETL))).status, 403, 'no framework_delete');
  assert.equal((await c.req('GET', '/v1/jobs', undefined, as(ETL))).status, 403, 'the list needs batch:*');
  assert.equal((await c.req('GET', '/v1/queue', undefined, as(OPS))).status, 200);
  assert.equal((await c.req('DELETE', '/v1/jobs/etl.load?stopCurrentJobRuns=true', undefined, as(OPS))).status, 200);
  assert.equal((await c.req('GET', '/v1/jobs')).status, 401);
});
