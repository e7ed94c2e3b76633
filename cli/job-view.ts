/**
 * What `mezz job …` shows of the batch framework's answers (Metronome's /v1
 * with Mezzanine's additions): the progress line of a followed run and how
 * it ended, the jobs, one job with its schedules' next runs, a job's runs,
 * the task behind `mezz job logs`, the DAG. Pure (the clock is passed in),
 * so every text is unit-tested with literal API answers.
 *
 * The API's JSON is read here and only here: the `*Json` types below are the
 * fields the CLI uses, so a field the API renames is one edit in this file.
 */
import { type DagJob, graphDot, graphTree } from '../frameworks/batch/dag-text';
import { duration, formatTable, truncate } from './table';

export type RunStatus = 'INITIAL' | 'STARTING' | 'ACTIVE' | 'SUCCESS' | 'FAILED';

/** A task of a run: every attempt of every index. `status` is the Mesos task state (`TASK_RUNNING`). */
export interface RunTaskJson {
  id: string;
  status: string;
  index: number;
  attempt: number;
  startedAt?: string | null;
  completedAt?: string | null;
  exitCode?: number;
  agentId?: string;
  hostname?: string;
}

/** `GET /v1/jobs/{id}/runs/{runId}`, and the entries of `activeRuns`. */
export interface RunJson {
  id: string;
  jobId: string;
  status: RunStatus;
  createdAt: string;
  completedAt?: string | null;
  /** Why a run FAILED: `backoff limit reached`, `deadline exceeded`, `stopped`, … */
  reason?: string;
  trigger?: 'api' | 'schedule' | 'dependency';
  scheduleId?: string;
  completions?: number;
  tasks?: RunTaskJson[];
}

/** A finished run as the job's `history` lists it. */
export interface FinishedRunJson {
  id: string;
  createdAt: string;
  finishedAt?: string | null;
  reason?: string;
  trigger?: RunJson['trigger'];
  scheduleId?: string;
}

export interface HistorySummaryJson {
  successCount: number;
  failureCount: number;
  lastSuccessAt?: string | null;
  lastFailureAt?: string | null;
}

export interface HistoryJson extends HistorySummaryJson {
  successfulFinishedRuns?: FinishedRunJson[];
  failedFinishedRuns?: FinishedRunJson[];
}

export interface ScheduleJson {
  id: string;
  cron: string;
  timezone?: string;
  enabled?: boolean;
  concurrencyPolicy?: string;
  startingDeadlineSeconds?: number;
}

/** A job with what `?embed=activeRuns,schedules,history,historySummary` adds. */
export interface JobJson {
  id: string;
  description?: string;
  run: {
    cmd?: string;
    args?: string[];
    cpus?: number;
    mem?: number;
    disk?: number;
    gpus?: number;
    restart?: { policy?: string; activeDeadlineSeconds?: number };
  };
  schedules?: ScheduleJson[];
  parallelism?: number;
  completions?: number;
  completionMode?: string;
  backoffLimit?: number;
  gang?: boolean;
  dependencies?: { id: string }[];
  activeRuns?: RunJson[];
  historySummary?: HistorySummaryJson;
  history?: HistoryJson;
}

/** The next run times of each schedule (ms since the epoch), or why there are none. */
export type NextRuns = ReadonlyMap<string, readonly number[] | string>;

const FINISHED = new Set<string>(['SUCCESS', 'FAILED']);
const LIVE = new Set(['TASK_STAGING', 'TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING']);

export function isFinished(run: Pick<RunJson, 'status'>): boolean {
  return FINISHED.has(run.status);
}

/** A run's tasks counted: indexes succeeded of the completions asked, live tasks, and attempts that failed (each one a retry while the backoff limit allows). */
export interface RunCounts {
  succeeded: number;
  completions: number;
  running: number;
  starting: number;
  /** Live tasks that are a second or later attempt of their index. */
  retrying: number;
  failedAttempts: number;
}

export function runCounts(run: RunJson, completions?: number): RunCounts {
  const tasks = run.tasks ?? [];
  const done = new Set(tasks.filter((t) => t.status === 'TASK_FINISHED').map((t) => t.index));
  const live = tasks.filter((t) => LIVE.has(t.status));
  return {
    succeeded: done.size,
    completions: run.completions ?? completions ?? Math.max(done.size, new Set(tasks.map((t) => t.index)).size),
    running: live.filter((t) => t.status === 'TASK_RUNNING').length,
    starting: live.filter((t) => t.status !== 'TASK_RUNNING').length,
    retrying: live.filter((t) => t.attempt > 1).length,
    failedAttempts: tasks.filter((t) => !LIVE.has(t.status) && t.status !== 'TASK_FINISHED').length,
  };
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

function countsText(c: RunCounts): string {
  return [
    `${c.succeeded}/${c.completions} succeeded`,
    ...(c.running ? [`${c.running} running`] : []),
    ...(c.starting ? [`${c.starting} starting`] : []),
    ...(c.retrying ? [`${c.retrying} retrying`] : []),
    ...(c.failedAttempts ? [plural(c.failedAttempts, 'failed attempt')] : []),
  ].join(', ');
}

/** A run's counts as text; undefined for a run known only from the history, which keeps no tasks to count. */
function countsOf(run: RunJson, completions: number | undefined): string | undefined {
  return run.tasks ? countsText(runCounts(run, completions)) : undefined;
}

/** `run 20261128153000abcde: ACTIVE 3/6 succeeded, 2 running, 1 retrying, 1 failed attempt`: one line, the followed run's progress. */
export function progressLine(run: RunJson, completions?: number): string {
  const status = run.reason && run.status === 'FAILED' ? `FAILED (${run.reason})` : run.status;
  const counts = countsOf(run, completions);
  return `run ${run.id}: ${status}${counts ? ` ${counts}` : ''}`;
}

/** How a finished run ended: `ok` for SUCCESS; the message says what and why, with its counts and how long it took. */
export function runOutcome(run: RunJson, completions?: number): { ok: boolean; message: string } {
  const took = run.completedAt ? ` in ${duration((Date.parse(run.completedAt) - Date.parse(run.createdAt)) / 1000)}` : '';
  const counts = countsOf(run, completions);
  if (run.status === 'SUCCESS') return { ok: true, message: `run ${run.id} of job ${run.jobId} succeeded${took}${counts ? `: ${counts}` : ''}` };
  return { ok: false, message: `run ${run.id} of job ${run.jobId} failed${took}: ${run.reason ?? 'no reason given'}${counts ? ` (${counts})` : ''}` };
}

/** `2026-11-28 15:04:05Z`: an API instant, to the second, in UTC. */
export function instant(iso: string | null | undefined): string {
  if (!iso) return '-';
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

/** `2026-11-29 02:00:00`: an instant on the wall clock of an IANA time zone. */
export function wallClock(ms: number, timezone: string): string {
  // Swedish writes dates as ISO does.
  return new Intl.DateTimeFormat('sv-SE', { timeZone: timezone, dateStyle: 'short', timeStyle: 'medium' }).format(ms);
}

function ago(iso: string | null | undefined, now: number): string {
  if (!iso) return '';
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : `${duration((now - ms) / 1000)} ago`;
}

/** `*∕5 * * * * Europe/Paris`, `(disabled)` when it is. */
export function scheduleText(s: ScheduleJson): string {
  return `${s.cron} ${s.timezone ?? 'UTC'}${s.enabled === false ? ' (disabled)' : ''}`;
}

/** The outcome of a job's latest finished run: `SUCCESS 5m ago`, `FAILED 2h ago`, `-` when none finished. */
export function lastRunText(h: HistorySummaryJson | undefined, now: number): string {
  const success = h?.lastSuccessAt ? Date.parse(h.lastSuccessAt) : -Infinity;
  const failure = h?.lastFailureAt ? Date.parse(h.lastFailureAt) : -Infinity;
  if (success === -Infinity && failure === -Infinity) return '-';
  return success >= failure ? `SUCCESS ${ago(h?.lastSuccessAt, now)}` : `FAILED ${ago(h?.lastFailureAt, now)}`;
}

/** `mezz job list`: ID, SCHEDULES, AFTER (its parents), LAST RUN, ACTIVE (runs not finished). */
export function jobsText(jobs: readonly JobJson[], now: number): string {
  if (!jobs.length) return "no jobs (create one with 'mezz job create FILE')";
  const rows = [...jobs].sort((a, b) => (a.id < b.id ? -1 : 1)).map((j) => [
    j.id,
    j.schedules?.length ? j.schedules.map(scheduleText).join(', ') : '-',
    j.dependencies?.length ? j.dependencies.map((d) => d.id).join(', ') : '-',
    lastRunText(j.historySummary ?? j.history, now),
    String(j.activeRuns?.length ?? 0),
  ]);
  return formatTable(['ID', 'SCHEDULES', 'AFTER', 'LAST RUN', 'ACTIVE'], rows);
}

function commandOf(job: JobJson): string {
  return truncate(job.run.cmd ?? (job.run.args ?? []).join(' '), 200);
}

/** `6 completions, 3 in parallel, Indexed, backoff limit 6, gang`: how a run of the job goes. */
function runShape(job: JobJson): string {
  const completions = job.completions ?? job.parallelism ?? 1;
  return [
    plural(completions, 'completion'),
    `${job.parallelism ?? 1} in parallel`,
    job.completionMode ?? 'NonIndexed',
    `backoff limit ${job.backoffLimit ?? 6}`,
    ...(job.run.restart?.activeDeadlineSeconds ? [`deadline ${duration(job.run.restart.activeDeadlineSeconds)}`] : []),
    ...(job.gang ? ['gang'] : []),
  ].join(', ');
}

function schedulesText(job: JobJson, next: NextRuns): string {
  if (!job.schedules?.length) return 'schedules: none (runs on demand or after its parents)';
  const rows = job.schedules.map((s) => {
    const times = next.get(s.id);
    const nextText = s.enabled === false ? 'disabled' : typeof times === 'string' ? times : (times ?? []).map((t) => wallClock(t, s.timezone ?? 'UTC')).join(', ');
    return [s.id, s.cron, s.timezone ?? 'UTC', s.concurrencyPolicy ?? 'ALLOW', nextText || '-'];
  });
  return `schedules:\n${formatTable(['SCHEDULE', 'CRON', 'TIMEZONE', 'POLICY', 'NEXT RUNS (IN ITS TIMEZONE)'], rows)}`;
}

function historyText(h: HistorySummaryJson | undefined, now: number): string {
  if (!h) return 'history: -';
  const last = (iso: string | null | undefined) => (iso ? ` (last ${ago(iso, now)})` : '');
  return `history: ${h.successCount} succeeded${last(h.lastSuccessAt)}, ${h.failureCount} failed${last(h.lastFailureAt)}`;
}

/** `mezz job show`: the job, its schedules with their next runs, its active runs and its history in sum. */
export function jobText(job: JobJson, next: NextRuns, now: number): string {
  const r = job.run;
  const head: [string, string][] = [
    ['job', job.id],
    ...(job.description ? [['description', truncate(job.description, 200)] as [string, string]] : []),
    ['command', commandOf(job)],
    ['resources', `cpus ${r.cpus ?? 1}, mem ${r.mem ?? 128} MB, disk ${r.disk ?? 0} MB, gpus ${r.gpus ?? 0}`],
    ['runs', runShape(job)],
    ['after', job.dependencies?.length ? job.dependencies.map((d) => d.id).join(', ') : '-'],
  ];
  const width = Math.max(...head.map(([k]) => k.length));
  const active = job.activeRuns?.length ? `active runs:\n${runsText(job.activeRuns.map(activeRow))}` : 'active runs: none';
  return [head.map(([k, v]) => `${k.padEnd(width)}   ${v}`).join('\n'), schedulesText(job, next), active, historyText(job.history ?? job.historySummary, now)].join('\n\n');
}

/** A row of `mezz job runs`: active or finished. */
export interface RunRow {
  id: string;
  status: RunStatus;
  reason?: string;
  trigger?: string;
  createdAt: string;
  finishedAt?: string | null;
}

function activeRow(r: RunJson): RunRow {
  return { id: r.id, status: r.status, reason: r.reason, trigger: triggerText(r), createdAt: r.createdAt, finishedAt: r.completedAt };
}

function finishedRow(r: FinishedRunJson, status: RunStatus): RunRow {
  return { id: r.id, status, reason: r.reason, trigger: triggerText(r), createdAt: r.createdAt, finishedAt: r.finishedAt };
}

function triggerText(r: { trigger?: string; scheduleId?: string }): string | undefined {
  return r.trigger === 'schedule' && r.scheduleId ? `schedule ${r.scheduleId}` : r.trigger;
}

/** A job's runs, active and finished (`?embed=activeRuns,history`), newest first. */
export function runRows(job: JobJson): RunRow[] {
  const rows = [
    ...(job.activeRuns ?? []).map(activeRow),
    ...(job.history?.successfulFinishedRuns ?? []).map((r) => finishedRow(r, 'SUCCESS')),
    ...(job.history?.failedFinishedRuns ?? []).map((r) => finishedRow(r, 'FAILED')),
  ];
  return rows.sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt) || (a.id < b.id ? 1 : -1));
}

/** `mezz job runs`: RUN, STATUS, REASON, TRIGGER, CREATED, FINISHED. */
export function runsText(rows: readonly RunRow[]): string {
  if (!rows.length) return 'no runs';
  return formatTable(['RUN', 'STATUS', 'REASON', 'TRIGGER', 'CREATED', 'FINISHED'],
    rows.map((r) => [r.id, r.status, r.reason ?? '-', r.trigger ?? '-', instant(r.createdAt), instant(r.finishedAt)]));
}

/** A finished run as the job's history (`?embed=history`) keeps it, without its tasks; undefined when it is not there. */
export function finishedRun(job: JobJson, runId: string): RunJson | undefined {
  const ok = job.history?.successfulFinishedRuns?.find((r) => r.id === runId);
  const found = ok ?? job.history?.failedFinishedRuns?.find((r) => r.id === runId);
  if (!found) return undefined;
  return {
    id: found.id, jobId: job.id, status: ok ? 'SUCCESS' : 'FAILED', createdAt: found.createdAt, completedAt: found.finishedAt,
    ...(found.reason ? { reason: found.reason } : {}), ...(found.trigger ? { trigger: found.trigger } : {}),
  };
}

/** The newest run of a job, active or finished: what `mezz job logs ID` reads when no run is named. */
export function latestRunId(job: JobJson): string | undefined {
  return runRows(job)[0]?.id;
}

/** The latest attempt of index `index` of a run: the task whose sandbox `mezz job logs` reads; else why there is none. */
export function taskOfIndex(run: RunJson, index: number): { task: RunTaskJson } | { why: string } {
  const attempts = (run.tasks ?? []).filter((t) => t.index === index);
  if (!attempts.length) {
    const indexes = [...new Set((run.tasks ?? []).map((t) => t.index))].sort((a, b) => a - b);
    const more = indexes.length ? ` (it has ${indexes.join(', ')})` : isFinished(run) ? ': mezz-batch answered none of its tasks' : ' yet';
    return { why: `run ${run.id} of job ${run.jobId} (${run.status}) has no task of index ${index}${more}` };
  }
  return { task: attempts.reduce((a, b) => (b.attempt > a.attempt ? b : a)) };
}

/** The DAG the jobs form, as an indented tree or (`dot`) Graphviz DOT. */
export function graphText(jobs: readonly Pick<JobJson, 'id' | 'dependencies'>[], dot: boolean): string {
  const dag: DagJob[] = jobs.map((j) => ({ id: j.id, dependencies: (j.dependencies ?? []).map((d) => d.id) }));
  if (dot) return graphDot(dag).trimEnd();
  return dag.length ? graphTree(dag).trimEnd() : 'no jobs';
}
