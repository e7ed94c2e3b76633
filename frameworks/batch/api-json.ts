/**
 * The batch API's response bodies in Metronome's JSON shapes (its
 * `api/v1/models` writers), each with Mezzanine's additions beside
 * Metronome's fields: a job with its embeds, a run with its tasks, a job's
 * history and its summary, queue entries, a schedule with its next run times.
 *
 * Instants are written as Metronome writes them, `2016-07-15T13:02:59.735+0000`
 * (always UTC), and `null` where Metronome writes null (`completedAt` of a
 * run under way); JavaScript's Date reads them as they are.
 */
import { nextTicks, parseSchedule } from './cron';
import type { Schedule } from './job-schema';
import { runTask, type RunTask, type StoredJob, type StoredRun } from './run-store';
import { isFinished } from './run-state';
import type { BatchService, QueuedRun } from './service';

/** Metronome's `embed` values for GET /v1/jobs and /v1/jobs/{id}. */
export const EMBEDS = ['activeRuns', 'schedules', 'history', 'historySummary'] as const;
export type Embed = (typeof EMBEDS)[number];

/** How many next run times a schedule shows. */
export const NEXT_RUNS_SHOWN = 3;

/** `ms` as Metronome writes an instant (`yyyy-MM-dd'T'HH:mm:ss.SSSZ` in UTC), null when absent. */
export function instant(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString().replace(/Z$/, '+0000');
}

/**
 * A job as GET shows it: the whole stored definition (Metronome's fields and
 * Mezzanine's, `schedules` always: they are part of the job here), plus the
 * embeds asked for. `embed=schedules` (deprecated in Metronome) adds nothing
 * since the schedules are always there.
 */
export function jobJson(service: BatchService, s: StoredJob, embed: ReadonlySet<Embed> = new Set()) {
  const id = s.job.id;
  return {
    ...s.job,
    ...(embed.has('activeRuns') ? { activeRuns: service.activeRuns(id).map((r) => runJson(service, r)) } : {}),
    ...(embed.has('history') ? { history: historyJson(service.finishedRuns(id)) } : {}),
    ...(embed.has('historySummary') ? { historySummary: historySummaryJson(service.finishedRuns(id)) } : {}),
  };
}

/**
 * A run: Metronome's `id, jobId, status, createdAt, completedAt, tasks`, and
 * Mezzanine's `startedAt` (the first launch), `reason` (why it FAILED),
 * `trigger` (api, schedule, dependency) with the schedule and its cron tick
 * or the parent runs that started it. Its tasks are every attempt of every
 * index: from the scheduler while it runs, from the record once it finished.
 */
export function runJson(service: BatchService, run: StoredRun) {
  const tasks = isFinished(run) && run.tasks ? run.tasks : service.runTasks(run.id).map(runTask);
  return {
    id: run.id,
    jobId: run.jobId,
    status: run.state,
    createdAt: instant(run.createdAt),
    completedAt: instant(run.finishedAt),
    startedAt: instant(run.startedAt),
    ...(run.reason ? { reason: run.reason } : {}),
    trigger: run.trigger,
    ...(run.scheduleId !== undefined ? { scheduleId: run.scheduleId } : {}),
    ...(run.tick !== undefined ? { tick: instant(run.tick) } : {}),
    ...(run.parents?.length ? { parents: run.parents } : {}),
    tasks: [...tasks].sort((a, b) => a.index - b.index || a.attempt - b.attempt).map(taskJson),
  };
}

/**
 * A task of a run: Metronome's `id, status, startedAt, completedAt` — its
 * `startedAt` is when the task was launched (Metronome's stagedAt) — and
 * Mezzanine's index, attempt, where it ran, when it first ran and how it ended.
 */
export function taskJson(t: RunTask) {
  return {
    id: t.id,
    status: t.state,
    startedAt: instant(t.launchedAt),
    completedAt: instant(t.finishedAt),
    index: t.index,
    attempt: t.attempt,
    ...(t.startedAt !== undefined ? { runningAt: instant(t.startedAt) } : {}),
    ...(t.agentId ? { agentId: t.agentId } : {}),
    ...(t.hostname ? { hostname: t.hostname } : {}),
    ...(t.exitCode !== undefined ? { exitCode: t.exitCode } : {}),
    ...(t.message ? { message: t.message } : {}),
  };
}

/**
 * Metronome's history summary, over the finished runs kept (the job's
 * `historyLimits`; Metronome counted every run since the job was created).
 */
export function historySummaryJson(finished: readonly StoredRun[]) {
  const ok = finished.filter((r) => r.state === 'SUCCESS');
  const failed = finished.filter((r) => r.state === 'FAILED');
  return {
    successCount: ok.length,
    failureCount: failed.length,
    lastSuccessAt: instant(latestEnd(ok)),
    lastFailureAt: instant(latestEnd(failed)),
  };
}

/** The summary and the finished runs, newest first, as Metronome's `history` embed; a failed one says why, and each what started it (Mezzanine's `trigger`). */
export function historyJson(finished: readonly StoredRun[]) {
  const entry = (r: StoredRun) => ({
    id: r.id,
    createdAt: instant(r.createdAt),
    finishedAt: instant(r.finishedAt),
    tasks: (r.tasks ?? []).map((t) => t.id),
    ...(r.reason ? { reason: r.reason } : {}),
    trigger: r.trigger,
  });
  return {
    ...historySummaryJson(finished),
    successfulFinishedRuns: finished.filter((r) => r.state === 'SUCCESS').map(entry),
    failedFinishedRuns: finished.filter((r) => r.state === 'FAILED').map(entry),
  };
}

function latestEnd(runs: readonly StoredRun[]): number | undefined {
  const ends = runs.flatMap((r) => (r.finishedAt !== undefined ? [r.finishedAt] : []));
  return ends.length ? Math.max(...ends) : undefined;
}

/**
 * Metronome's queue, `[{jobId, runs: [{runId}]}]`, with Mezzanine's answer to
 * "why is this not running?" on each run: per waiting index the reasons
 * (each check and how many offers it refused), a backoff's end, and a gang's
 * held offers.
 */
export function queueJson(queued: readonly QueuedRun[]) {
  const byJob = new Map<string, QueuedRun[]>();
  for (const q of queued) (byJob.get(q.jobId) ?? byJob.set(q.jobId, []).get(q.jobId)!).push(q);
  return [...byJob].map(([jobId, runs]) => ({
    jobId,
    runs: runs.map((q) => ({
      runId: q.runId,
      waiting: q.waiting.map((w) => ({ index: w.instance, reasons: w.reasons, ...(w.backoffUntil !== undefined ? { backoffUntil: instant(w.backoffUntil) } : {}) })),
      ...(q.gang ? { gang: { holdingSince: instant(q.gang.holdingSince), retryAt: instant(q.gang.retryAt), timeouts: q.gang.timeouts } } : {}),
    })),
  }));
}

/**
 * A schedule as Metronome shows it, plus Mezzanine's `nextRunAt`: its next
 * NEXT_RUNS_SHOWN run times after `now` (empty when it is disabled).
 */
export function scheduleJson(s: Schedule, now: number) {
  const parsed = s.enabled ? parseSchedule(s.cron, s.timezone) : undefined;
  const next = parsed?.schedule ? nextTicks(parsed.schedule, now, NEXT_RUNS_SHOWN) : [];
  return { ...s, nextRunAt: next.map((t) => instant(t)) };
}
