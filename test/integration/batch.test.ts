/**
 * mezz-batch on real processes: a master, three agents of one CPU each and
 * the batch framework (retries from 1 s, gang timeout 3 s), driven through
 * Metronome's /v1 API. Tasks note each start in marker files, so "exactly
 * once" is counted from what ran, not from what the API says:
 * - Metronome's own example jobs are accepted unchanged, and one runs;
 * - an Indexed job (completions 6, parallelism 3) runs each index once;
 * - a failing task is retried with growing delay, then FAILED with its reason;
 * - activeDeadlineSeconds stops a run; a gang of 4 on room for 3 never starts;
 * - the DAG A → {B, C} → D runs in order, and D does not run when C fails;
 * - cron: FORBID, REPLACE and ALLOW on a one-second schedule, and `* * * * *`
 *   in Asia/Kolkata (+05:30) firing on the minute (set up first, checked last).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { ListTasksResponse__Output } from '../../lib/proto/generated/mezzanine/v1/ListTasksResponse';
import { Cluster, op, ROOT, waitFor, type Proc } from '../harness';
import { lines, markerDir } from '../fixtures/markers';
import { mezzIn } from '../fixtures/mezz-up';

interface RunTaskJson { id: string; status: string; index: number; attempt: number; exitCode?: number; startedAt: string | null; completedAt: string | null }
interface RunJson { id: string; jobId: string; status: string; reason?: string; trigger?: string; createdAt: string; completedAt: string | null; tick?: string; tasks: RunTaskJson[] }


describe('mezz-batch on a master and three one-CPU agents', () => {
  const c = new Cluster();
  let master: Proc;
  let base: string;
  let marks: string;
  const minuteJob = 'kolkata';

  const call = async (method: string, url: string, body?: unknown) => {
    const r = await fetch(`${base}${url}`, {
      method,
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': typeof body === 'string' ? 'application/yaml' : 'application/json' } } : {}),
    });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : undefined };
  };
  const must = async (method: string, url: string, want: number, body?: unknown) => {
    const r = await call(method, url, body);
    assert.equal(r.status, want, `${method} ${url}: ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const createJob = (job: Record<string, unknown>) => must('POST', '/v1/jobs', 201, { ...job, run: { cpus: 0.1, mem: 32, ...(job.run as object) } });
  const startRun = async (jobId: string) => (await must('POST', `/v1/jobs/${jobId}/runs`, 201)) as RunJson;
  const run = async (jobId: string, runId: string) => (await must('GET', `/v1/jobs/${jobId}/runs/${runId}`, 200)) as RunJson;
  const finished = (jobId: string, runId: string, timeoutMs = 60_000) =>
    waitFor(`run ${jobId}/${runId} to finish`, async () => {
      const r = await run(jobId, runId);
      return r.status === 'SUCCESS' || r.status === 'FAILED' ? r : undefined;
    }, timeoutMs, 100);
  const allRuns = async (jobId: string): Promise<RunJson[]> => {
    const job = await must('GET', `/v1/jobs/${jobId}?embed=activeRuns&embed=history`, 200);
    const done = [...job.history.successfulFinishedRuns, ...job.history.failedFinishedRuns];
    return [...job.activeRuns, ...(await Promise.all(done.map((r: { id: string }) => run(jobId, r.id))))];
  };
  const masterTasks = async () => (await op<object, ListTasksResponse__Output>(c.operator(master.address), 'ListTasks', {})).tasks;

  before(async () => {
    master = await c.startMaster();
    for (const h of ['h1', 'h2', 'h3']) await c.startAgent(master.address, { name: h, resources: 'cpus:1;mem:1024;disk:1024;ports:[31000-31099]', args: ['--hostname', h] });
    const batch = await c.spawn('batch', 'mezz-batch.mjs', [
      '--master', master.address, '--host', '127.0.0.1', '--port', '0', '--data-dir', path.join(c.dir, 'batch'), '--retry-delay', '1s', '--gang-timeout', '3s',
    ]);
    base = `http://${batch.address}`;
    marks = markerDir(c.dir);
    await waitFor('mezz-batch to lead', async () => (await call('GET', '/v1/jobs')).status === 200);
    // Fires at the next minute in Kolkata (a +05:30 zone, so its minutes are UTC's too); checked by the last test.
    await createJob({
      id: minuteJob, run: { cmd: `echo "$MEZZ_JOB_RUN_ID" >> ${marks}/kolkata`, cpus: 0.01 },
      schedules: [{ id: 'every-minute', cron: '* * * * *', timezone: 'Asia/Kolkata', concurrencyPolicy: 'FORBID' }],
    });
  });
  after(async () => {
    await c.teardown();
  });

  test('Metronome\'s documented example jobs are accepted unchanged, and one runs', async () => {
    const dir = path.join(ROOT, 'examples/batch');
    const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    assert.ok(files.length >= 4, files.join());
    for (const f of files) {
      const r = await call('POST', '/v1/jobs', readFileSync(path.join(dir, f), 'utf8'));
      assert.equal(r.status, 201, `${f}: ${JSON.stringify(r.body)}`);
    }
    const started = await startRun('my-job');
    const active = await waitFor('my-job to be ACTIVE with a running task', async () => {
      const r = await run('my-job', started.id);
      return r.status === 'ACTIVE' && r.tasks.some((t) => t.status === 'TASK_RUNNING') ? r : undefined;
    });
    assert.equal(active.trigger, 'api');
    const refused = await call('DELETE', '/v1/jobs/my-job');
    assert.equal(refused.status, 409, 'a job is not deleted while it runs');
    assert.match(refused.body.message, /active run.*stopCurrentJobRuns=true/);
    const stopped = await must('POST', `/v1/jobs/my-job/runs/${started.id}/actions/stop`, 200);
    assert.equal(stopped.status, 'FAILED');
    assert.equal(stopped.reason, 'stopped');
    await waitFor('its task killed', async () => !(await masterTasks()).some((t) => t.id.startsWith('my-job.') && t.state === 'TASK_RUNNING'));
    for (const f of files) {
      const id = JSON.parse(readFileSync(path.join(dir, f), 'utf8')).id as string;
      await must('DELETE', `/v1/jobs/${id}?stopCurrentJobRuns=true`, 200);
    }
  });

  test('an Indexed job of completions 6, parallelism 3 runs each index exactly once, to SUCCESS', async () => {
    await createJob({ id: 'indexed', completions: 6, parallelism: 3, completionMode: 'Indexed', run: { cmd: `echo "$MEZZ_JOB_INDEX" >> ${marks}/indexed; sleep 1`, cpus: 0.3 } });
    const started = await startRun('indexed');
    const done = await finished('indexed', started.id);
    assert.equal(done.status, 'SUCCESS', JSON.stringify(done));
    assert.deepEqual(lines(path.join(marks, 'indexed')).sort(), ['0', '1', '2', '3', '4', '5']);
    assert.deepEqual(done.tasks.map((t) => t.index).sort(), [0, 1, 2, 3, 4, 5]);
    assert.ok(done.tasks.every((t) => t.status === 'TASK_FINISHED' && t.exitCode === 0 && t.attempt === 1), JSON.stringify(done.tasks));
  });

  test('a failing task is retried with growing delay up to backoffLimit, then the run is FAILED with that reason', async () => {
    await createJob({ id: 'flaky', backoffLimit: 2, run: { cmd: `date +%s%N >> ${marks}/flaky; exit 3`, restart: { policy: 'ON_FAILURE' } } });
    const started = await startRun('flaky');
    const done = await finished('flaky', started.id);
    assert.equal(done.status, 'FAILED');
    assert.equal(done.reason, 'backoff limit reached');
    assert.deepEqual(done.tasks.map((t) => [t.attempt, t.status, t.exitCode]), [[1, 'TASK_FAILED', 3], [2, 'TASK_FAILED', 3], [3, 'TASK_FAILED', 3]]);
    const at = lines(path.join(marks, 'flaky')).map((ns) => Number(BigInt(ns) / 1_000_000n));
    assert.equal(at.length, 3, 'three attempts ran');
    const gaps = [at[1]! - at[0]!, at[2]! - at[1]!];
    // --retry-delay 1s: 1 s, then 2 s (at least; a launch waits for an offer too).
    assert.ok(gaps[0]! >= 900 && gaps[1]! >= 1900 && gaps[1]! > gaps[0]!, `delays ${gaps.join(', ')} ms`);
  });

  test('`mezz job run` follows a run to its end: exit 1 and the reason on stderr when it fails; events stream each run\'s states', async () => {
    const events = await fetch(`${base}/v1/events?event_type=job_run_status`, { headers: { accept: 'text/event-stream' } });
    assert.equal(events.status, 200);
    const reader = events.body!.getReader();
    let seen = '';
    const reading = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        seen += Buffer.from(value).toString();
      }
    })();
    try {
      await createJob({ id: 'sad', run: { cmd: 'echo oops >&2; exit 4' } });
      const r = mezzIn(c.dir, ['job', 'run', 'sad', '--url', base]);
      assert.equal(r.status, 1, r.stdout + r.stderr);
      assert.match(r.stderr, /run \S+ of job sad failed.*task failed/);
      await waitFor('the FAILED event', () => /event: job_run_status[\s\S]*"jobId":"sad"[\s\S]*"status":"FAILED"/.test(seen));
      assert.doesNotMatch(seen, /event: job_task_status/, 'only the types asked for');
    } finally {
      await reader.cancel();
      await reading.catch(() => {});
    }
  });

  test('activeDeadlineSeconds stops a run: FAILED, deadline exceeded, its task killed', async () => {
    await createJob({ id: 'slow', run: { cmd: 'sleep 120', restart: { policy: 'NEVER', activeDeadlineSeconds: 2 } } });
    const started = await startRun('slow');
    const done = await finished('slow', started.id, 30_000);
    assert.equal(done.status, 'FAILED');
    assert.equal(done.reason, 'deadline exceeded');
    await waitFor('the task killed', async () => {
      const r = await run('slow', started.id);
      return r.tasks.length === 1 && r.tasks[0]!.status === 'TASK_KILLED';
    });
  });

  test('a DAG A → {B, C} → D runs in order; D does not run when C fails, and runs once C succeeds', async () => {
    const step = (id: string, code = 0) => ({ cmd: `echo ${id} >> ${marks}/dag; sleep 0.5; exit ${code}` });
    await createJob({ id: 'a', run: step('a') });
    await createJob({ id: 'b', run: step('b'), dependencies: [{ id: 'a' }] });
    await createJob({ id: 'c', run: step('c', 1), dependencies: [{ id: 'a' }] });
    await createJob({ id: 'd', run: step('d'), dependencies: [{ id: 'b' }, { id: 'c' }] });
    const cycle = await call('PUT', '/v1/jobs/a', { id: 'a', run: { cmd: 'true' }, dependencies: [{ id: 'd' }] });
    assert.equal(cycle.status, 422, JSON.stringify(cycle.body));
    assert.match(JSON.stringify(cycle.body), /cycle: a → d → [bc] → a/);
    const unknown = await call('POST', '/v1/jobs', { id: 'e', run: { cmd: 'true' }, dependencies: [{ id: 'nope' }] });
    assert.equal(unknown.status, 422);
    assert.match(JSON.stringify(unknown.body), /no job nope/);

    await startRun('a');
    const c1 = await waitFor('c to fail', async () => (await allRuns('c')).find((r) => r.status === 'FAILED'), 60_000, 200);
    const b1 = await waitFor('b to succeed', async () => (await allRuns('b')).find((r) => r.status === 'SUCCESS'), 60_000, 200);
    assert.equal(c1.trigger, 'dependency');
    assert.equal(b1.trigger, 'dependency');
    assert.deepEqual(await allRuns('d'), [], 'd does not run: c failed');
    assert.match(JSON.stringify(await must('GET', '/v1/jobs/d/dependencies/status', 200)), /waiting for c/);
    assert.deepEqual(lines(path.join(marks, 'dag')).slice(0, 1), ['a']);

    await must('PUT', '/v1/jobs/c', 200, { id: 'c', run: { cpus: 0.1, mem: 32, ...step('c') }, dependencies: [{ id: 'a' }] });
    await startRun('c');
    const d1 = await waitFor('d to succeed', async () => (await allRuns('d')).find((r) => r.status === 'SUCCESS'), 60_000, 200);
    assert.equal(d1.trigger, 'dependency');
    assert.deepEqual(lines(path.join(marks, 'dag')).sort(), ['a', 'b', 'c', 'c', 'd'], 'each ran once, c twice');
    assert.equal(lines(path.join(marks, 'dag')).at(-1), 'd', 'd last');
  });

  test('a gang of 4 on a cluster with room for 3 never starts a partial gang, and the queue says why', async () => {
    await waitFor('the cluster idle', async () => !(await masterTasks()).some((t) => t.state === 'TASK_RUNNING' && !t.id.startsWith(`${minuteJob}.`)), 30_000);
    await createJob({ id: 'gang', completions: 4, parallelism: 4, gang: true, backoffLimit: 1, run: { cmd: `echo x >> ${marks}/gang; sleep 30`, cpus: 0.9, restart: { policy: 'ON_FAILURE' } } });
    const started = await startRun('gang');
    const queued = await waitFor('the queue to say why', async () => {
      const q = JSON.stringify(await must('GET', '/v1/queue', 200));
      return q.includes('gang: 3 of 4 placeable') ? q : undefined;
    });
    assert.match(queued, new RegExp(started.id));
    // Held 3 s, given back, retried after 1 s, held 3 s again, then FAILED: no task ever starts.
    const done = await finished('gang', started.id, 30_000);
    assert.equal(done.status, 'FAILED');
    assert.equal(done.reason, 'gang timeout');
    assert.equal(lines(path.join(marks, 'gang')).length, 0, 'no member of a partial gang ran');
    assert.ok(!(await masterTasks()).some((t) => t.id.startsWith('gang.')), 'the master never saw one');
  });

  test('one-second schedules: FORBID skips while a run is active, REPLACE stops it and starts the new one, ALLOW overlaps', async () => {
    for (const policy of ['ALLOW', 'FORBID', 'REPLACE']) {
      await createJob({
        id: `p-${policy.toLowerCase()}`, run: { cmd: `echo "$MEZZ_JOB_RUN_ID" >> ${marks}/${policy}; sleep 60`, cpus: 0.01 },
        schedules: [{ id: 'every-second', cron: '* * * * * *', timezone: 'Europe/Berlin', concurrencyPolicy: policy }],
      });
    }
    await waitFor('ALLOW to overlap 3 runs', async () => lines(path.join(marks, 'ALLOW')).length >= 3, 30_000, 200);
    await waitFor('REPLACE to have replaced 2', async () => (await allRuns('p-replace')).filter((r) => r.reason === 'replaced').length >= 2, 30_000, 200);
    const forbid = await allRuns('p-forbid');
    assert.equal(forbid.length, 1, `FORBID: one run, the others skipped: ${forbid.map((r) => r.id)}`);
    const allow = await allRuns('p-allow');
    assert.ok(allow.filter((r) => r.status === 'ACTIVE' || r.status === 'STARTING').length >= 2, 'ALLOW: runs overlap');
    const replace = await allRuns('p-replace');
    assert.equal(replace.filter((r) => !r.completedAt).length, 1, 'REPLACE: one active run');
    await waitFor('the replaced runs\' tasks killed', async () => (await allRuns('p-replace')).filter((r) => r.reason === 'replaced').every((r) => r.tasks.every((t) => t.status === 'TASK_KILLED')));
    for (const r of [...allow, ...replace, ...forbid]) assert.ok(r.tick && Date.parse(r.tick) % 1000 === 0, `a run belongs to its tick: ${r.tick}`);
    for (const policy of ['ALLOW', 'FORBID', 'REPLACE']) await must('DELETE', `/v1/jobs/p-${policy.toLowerCase()}?stopCurrentJobRuns=true`, 200);
  });

  test('`* * * * *` in Asia/Kolkata fires on the minute, within a second, and runs', async () => {
    const r = await waitFor('the minute\'s run to succeed', async () => (await allRuns(minuteJob)).find((x) => x.status === 'SUCCESS'), 90_000, 250);
    assert.equal(r.trigger, 'schedule');
    const tick = Date.parse(r.tick!);
    assert.equal(tick % 60_000, 0, `on a minute: ${r.tick}`);
    const late = Date.parse(r.createdAt) - tick;
    assert.ok(late >= 0 && late < 1000, `stored ${late} ms after its tick`);
    assert.ok(lines(path.join(marks, 'kolkata')).includes(r.id), 'its task ran');
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /mezz_batch_cron_start_lateness_seconds_count [1-9]/);
  });
});
