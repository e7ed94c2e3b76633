/**
 * What `mezz job …` says of the batch framework's answers, from literal /v1
 * JSON: a followed run's progress line and outcome, the jobs table, one job
 * with its schedules' next runs, a job's runs, the task `mezz job logs`
 * reads, and the DAG.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  finishedRun, graphText, instant, isFinished, type JobJson, jobsText, jobText, lastRunText, latestRunId, progressLine, runCounts, type RunJson,
  runOutcome, runRows, runsText, type RunTaskJson, scheduleText, taskOfIndex, wallClock,
} from '../../cli/job-view';

const NOW = Date.parse('2026-11-28T16:00:00Z');

const task = (index: number, attempt: number, status: string): RunTaskJson => ({ id: `r1-${index}-${attempt}`, index, attempt, status });

function run(over: Partial<RunJson> = {}): RunJson {
  return { id: '20261128153000abcde', jobId: 'report', status: 'ACTIVE', createdAt: '2026-11-28T15:30:00.000Z', completedAt: null, trigger: 'api', tasks: [], ...over };
}

function job(over: Partial<JobJson> = {}): JobJson {
  return { id: 'report', run: { cmd: './report.sh', cpus: 0.5, mem: 256, disk: 0, gpus: 0 }, ...over };
}

describe('runCounts and progressLine: completions, live tasks, retries, failed attempts', () => {
  // Indexed, completions 6: 0-2 finished; 3 failed once and its second attempt runs; 4 runs; 5 is staging.
  const tasks = [
    task(0, 1, 'TASK_FINISHED'), task(1, 1, 'TASK_FINISHED'), task(2, 1, 'TASK_FINISHED'),
    task(3, 1, 'TASK_FAILED'), task(3, 2, 'TASK_RUNNING'), task(4, 1, 'TASK_RUNNING'), task(5, 1, 'TASK_STAGING'),
  ];

  it('counts indexes succeeded of the completions, running and starting tasks, retries and failed attempts', () => {
    assert.deepEqual(runCounts(run({ completions: 6, tasks })), { succeeded: 3, completions: 6, running: 2, starting: 1, retrying: 1, failedAttempts: 1 });
  });

  it('the completions come from the run, else from the job, else from the indexes seen', () => {
    assert.equal(runCounts(run({ tasks }), 8).completions, 8);
    assert.equal(runCounts(run({ tasks })).completions, 6); // indexes 0-5
  });

  it('an index that finished on a later attempt is counted once, its failed attempt kept', () => {
    const c = runCounts(run({ completions: 1, tasks: [task(0, 1, 'TASK_KILLED'), task(0, 2, 'TASK_FINISHED')] }));
    assert.deepEqual(c, { succeeded: 1, completions: 1, running: 0, starting: 0, retrying: 0, failedAttempts: 1 });
  });

  const cases = [
    { name: 'an active run', input: run({ completions: 6, tasks }), want: 'run 20261128153000abcde: ACTIVE 3/6 succeeded, 2 running, 1 starting, 1 retrying, 1 failed attempt' },
    { name: 'a run nothing launched for yet', input: run({ status: 'INITIAL', completions: 2 }), want: 'run 20261128153000abcde: INITIAL 0/2 succeeded' },
    {
      name: 'a failed run says why',
      input: run({ status: 'FAILED', reason: 'backoff limit reached', completions: 2, tasks: [task(0, 1, 'TASK_FINISHED'), task(1, 1, 'TASK_FAILED'), task(1, 2, 'TASK_FAILED')] }),
      want: 'run 20261128153000abcde: FAILED (backoff limit reached) 1/2 succeeded, 2 failed attempts',
    },
  ];
  for (const c of cases) it(c.name, () => assert.equal(progressLine(c.input), c.want));
});

describe('runOutcome: how a followed run ended, and the exit it asks for', () => {
  it('SUCCESS: ok, with how long it took (created 15:30:00, completed 15:31:03: 63 s)', () => {
    const r = run({ status: 'SUCCESS', completedAt: '2026-11-28T15:31:03.000Z', completions: 1, tasks: [task(0, 1, 'TASK_FINISHED')] });
    assert.deepEqual(runOutcome(r), { ok: true, message: 'run 20261128153000abcde of job report succeeded in 1m3s: 1/1 succeeded' });
  });

  it('FAILED: not ok, the reason first', () => {
    const r = run({ status: 'FAILED', reason: 'deadline exceeded', completedAt: '2026-11-28T15:40:00.000Z', completions: 2, tasks: [task(0, 1, 'TASK_KILLED')] });
    assert.deepEqual(runOutcome(r), { ok: false, message: 'run 20261128153000abcde of job report failed in 10m: deadline exceeded (0/2 succeeded, 1 failed attempt)' });
  });

  it('a run known only from the history (no tasks) is said without counts', () => {
    const r = { ...run({ status: 'FAILED', reason: 'stopped', completedAt: '2026-11-28T15:30:30.000Z' }), tasks: undefined };
    assert.equal(runOutcome(r).message, 'run 20261128153000abcde of job report failed in 30s: stopped');
    assert.equal(progressLine(r), 'run 20261128153000abcde: FAILED (stopped)');
  });

  it('only SUCCESS and FAILED are finished', () => {
    assert.deepEqual((['INITIAL', 'STARTING', 'ACTIVE', 'SUCCESS', 'FAILED'] as const).map((status) => isFinished({ status })), [false, false, false, true, true]);
  });
});

describe('times', () => {
  it('instant: an API time to the second in UTC; none is -', () => {
    assert.equal(instant('2026-11-28T15:30:00.123Z'), '2026-11-28 15:30:00Z');
    assert.equal(instant(null), '-');
  });

  it('wallClock: an instant on a zone\'s clock (Paris is UTC+1 in November)', () => {
    assert.equal(wallClock(Date.parse('2026-11-29T01:00:00Z'), 'Europe/Paris'), '2026-11-29 02:00:00');
  });
});

describe('mezz job list', () => {
  it('a row per job, sorted: schedules with their zones, parents, the last run\'s outcome and age, active runs', () => {
    const jobs: JobJson[] = [
      job({ id: 'report', schedules: [{ id: 'n', cron: '0 2 * * *', timezone: 'Europe/Paris' }, { id: 'm', cron: '*/5 * * * *', enabled: false }],
        activeRuns: [run()], historySummary: { successCount: 3, failureCount: 1, lastSuccessAt: '2026-11-28T14:00:00Z', lastFailureAt: '2026-11-27T14:00:00Z' } }),
      job({ id: 'archive', dependencies: [{ id: 'report' }, { id: 'clean' }], historySummary: { successCount: 0, failureCount: 0 } }),
    ];
    // report's last success 14:00, now 16:00: 2h ago.
    assert.equal(jobsText(jobs, NOW), [
      'ID        SCHEDULES                                            AFTER           LAST RUN         ACTIVE',
      'archive   -                                                    report, clean   -                0',
      'report    0 2 * * * Europe/Paris, */5 * * * * UTC (disabled)   -               SUCCESS 2h ago   1',
    ].join('\n'));
  });

  it('no jobs says how to make one', () => {
    assert.equal(jobsText([], NOW), "no jobs (create one with 'mezz job create FILE')");
  });

  it('lastRunText: the later of the last success and the last failure', () => {
    assert.equal(lastRunText({ successCount: 1, failureCount: 1, lastSuccessAt: '2026-11-28T10:00:00Z', lastFailureAt: '2026-11-28T15:00:00Z' }, NOW), 'FAILED 1h ago');
    assert.equal(lastRunText(undefined, NOW), '-');
  });

  it('scheduleText: cron, zone (UTC when unset), disabled', () => {
    assert.equal(scheduleText({ id: 's', cron: '* * * * *' }), '* * * * * UTC');
  });
});

describe('mezz job show', () => {
  const shown = job({
    description: 'the nightly report', completions: 6, parallelism: 3, completionMode: 'Indexed', backoffLimit: 4, gang: true,
    run: { cmd: './report.sh', cpus: 0.5, mem: 256, disk: 0, gpus: 0, restart: { policy: 'ON_FAILURE', activeDeadlineSeconds: 600 } },
    schedules: [{ id: 'nightly', cron: '0 2 * * *', timezone: 'Europe/Paris', concurrencyPolicy: 'FORBID' }, { id: 'bad', cron: '0 0 31 2 *' }],
    dependencies: [{ id: 'extract' }],
    activeRuns: [run({ trigger: 'schedule', scheduleId: 'nightly' })],
    history: { successCount: 5, failureCount: 0, lastSuccessAt: '2026-11-28T15:00:00Z' },
  });
  // 02:00 in Paris is 01:00 UTC in winter.
  const next = new Map<string, number[] | string>([
    ['nightly', ['2026-11-29', '2026-11-30', '2026-12-01'].map((d) => Date.parse(`${d}T01:00:00Z`))],
    ['bad', "'0 0 31 2 *' never runs"],
  ]);

  it('the job, its schedules with their next runs on their zone\'s clock (or why none), active runs, history', () => {
    assert.equal(jobText(shown, next, NOW), [
      'job           report',
      'description   the nightly report',
      'command       ./report.sh',
      'resources     cpus 0.5, mem 256 MB, disk 0 MB, gpus 0',
      'runs          6 completions, 3 in parallel, Indexed, backoff limit 4, deadline 10m, gang',
      'after         extract',
      '',
      'schedules:',
      'SCHEDULE   CRON         TIMEZONE       POLICY   NEXT RUNS (IN ITS TIMEZONE)',
      'nightly    0 2 * * *    Europe/Paris   FORBID   2026-11-29 02:00:00, 2026-11-30 02:00:00, 2026-12-01 02:00:00',
      "bad        0 0 31 2 *   UTC            ALLOW    '0 0 31 2 *' never runs",
      '',
      'active runs:',
      'RUN                   STATUS   REASON   TRIGGER            CREATED                FINISHED',
      '20261128153000abcde   ACTIVE   -        schedule nightly   2026-11-28 15:30:00Z   -',
      '',
      'history: 5 succeeded (last 1h ago), 0 failed',
    ].join('\n'));
  });

  it('a job without schedules runs on demand or after its parents', () => {
    assert.match(jobText(job(), new Map(), NOW), /schedules: none \(runs on demand or after its parents\)\n\nactive runs: none\n\nhistory: -$/);
  });
});

describe('mezz job runs, and the run mezz job logs reads', () => {
  const withHistory = job({
    activeRuns: [run({ id: 'r3', createdAt: '2026-11-28T15:50:00Z' })],
    history: {
      successCount: 1, failureCount: 1,
      successfulFinishedRuns: [{ id: 'r1', createdAt: '2026-11-28T13:00:00Z', finishedAt: '2026-11-28T13:01:00Z' }],
      failedFinishedRuns: [{ id: 'r2', createdAt: '2026-11-28T14:00:00Z', finishedAt: '2026-11-28T14:05:00Z', reason: 'stopped', trigger: 'dependency' }],
    },
  });

  it('active and finished runs together, newest first', () => {
    assert.deepEqual(runRows(withHistory).map((r) => [r.id, r.status]), [['r3', 'ACTIVE'], ['r2', 'FAILED'], ['r1', 'SUCCESS']]);
    assert.equal(runsText(runRows(withHistory)), [
      'RUN   STATUS    REASON    TRIGGER      CREATED                FINISHED',
      'r3    ACTIVE    -         api          2026-11-28 15:50:00Z   -',
      'r2    FAILED    stopped   dependency   2026-11-28 14:00:00Z   2026-11-28 14:05:00Z',
      'r1    SUCCESS   -         -            2026-11-28 13:00:00Z   2026-11-28 13:01:00Z',
    ].join('\n'));
    assert.equal(runsText([]), 'no runs');
  });

  it('latestRunId: the newest, active or finished; none for a job that never ran', () => {
    assert.equal(latestRunId(withHistory), 'r3');
    assert.equal(latestRunId(job()), undefined);
  });

  it('finishedRun: a run found in the history, as a run without tasks', () => {
    assert.deepEqual(finishedRun(withHistory, 'r2'), {
      id: 'r2', jobId: 'report', status: 'FAILED', createdAt: '2026-11-28T14:00:00Z', completedAt: '2026-11-28T14:05:00Z', reason: 'stopped', trigger: 'dependency',
    });
    assert.equal(finishedRun(withHistory, 'r9'), undefined);
  });

  it('taskOfIndex: the latest attempt of the index; else which indexes there are', () => {
    const r = run({ tasks: [task(0, 1, 'TASK_FAILED'), task(0, 2, 'TASK_RUNNING'), task(1, 1, 'TASK_RUNNING')] });
    assert.deepEqual(taskOfIndex(r, 0), { task: task(0, 2, 'TASK_RUNNING') });
    assert.deepEqual(taskOfIndex(r, 4), { why: 'run 20261128153000abcde of job report (ACTIVE) has no task of index 4 (it has 0, 1)' });
    assert.deepEqual(taskOfIndex(run({ status: 'STARTING' }), 0), { why: 'run 20261128153000abcde of job report (STARTING) has no task of index 0 yet' });
  });
});

describe('mezz job graph', () => {
  // A → {B, C} → D, and a job on its own.
  const jobs = [
    { id: 'a' }, { id: 'b', dependencies: [{ id: 'a' }] }, { id: 'c', dependencies: [{ id: 'a' }] },
    { id: 'd', dependencies: [{ id: 'b' }, { id: 'c' }] }, { id: 'solo', dependencies: [] },
  ];

  it('a tree from the jobs without parents; a job with two parents under each', () => {
    assert.equal(graphText(jobs, false), ['a', '├── b', '│   └── d (after b, c)', '└── c', '    └── d (after b, c) …', 'solo'].join('\n'));
  });

  it('DOT: an edge from each parent to each child', () => {
    assert.equal(graphText(jobs, true), 'digraph jobs {\n  "a";\n  "a" -> "b";\n  "a" -> "c";\n  "b" -> "d";\n  "c" -> "d";\n  "solo";\n}');
  });

  it('no jobs', () => {
    assert.equal(graphText([], false), 'no jobs');
  });
});
