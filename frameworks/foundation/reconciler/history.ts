/**
 * What a group's task records say about each instance: which task counts as
 * present, which must be killed whatever happens, how many attempts were
 * made, and how long a crash-looping instance must wait.
 *
 *   records ──classify──▶ counted | ignored | kill (timed-out launch, expunged unreachable)
 *   ended attempts ──streak──▶ n crashes in a row ──delay──▶ backoffUntil
 *
 * Pure; the clock is the `now` passed in.
 */
import type { Backoff, KillReason, TaskGroup, TaskRecord, UnreachableStrategy } from './types';
import { BATCH_BACKOFF, DEFAULT_UNREACHABLE, SERVICE_BACKOFF } from './types';

/** Ends caused by the agent or the launch, not by the task: replaced at once, never held against it. */
const AGENT_FAULTS: ReadonlySet<string> = new Set(['TASK_LOST', 'TASK_GONE', 'TASK_GONE_BY_OPERATOR', 'TASK_DROPPED', 'TASK_UNKNOWN']);

/** States in which a task is, or may still be, alive. */
const LIVE: ReadonlySet<string> = new Set(['TASK_STAGING', 'TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_UNREACHABLE']);

/** How one record counts in this round. */
export type Standing =
  | { kind: 'counted' }
  /** Still alive, perhaps, but no longer counted: a replacement may launch. */
  | { kind: 'inactive'; kill?: KillReason }
  | { kind: 'ended' };

/**
 * A record's standing at `now`: a launch unreported after `launchTimeoutMs`
 * is inactive and killed; an unreachable task counts until its strategy's
 * `inactiveAfterSeconds` and is killed after `expungeAfterSeconds`.
 */
export function standing(t: TaskRecord, group: TaskGroup | undefined, now: number, launchTimeoutMs: number): Standing {
  if (!LIVE.has(t.state)) return { kind: 'ended' };
  if (t.state === 'TASK_STAGING' && now - t.launchedAt >= launchTimeoutMs) return { kind: 'inactive', kill: 'launch timed out' };
  if (t.state === 'TASK_UNREACHABLE') {
    const u: UnreachableStrategy = group?.unreachable ?? DEFAULT_UNREACHABLE;
    const since = now - t.updatedAt;
    if (since >= u.expungeAfterSeconds * 1000) return { kind: 'inactive', kill: 'unreachable expunged' };
    if (since >= u.inactiveAfterSeconds * 1000) return { kind: 'inactive' };
  }
  return { kind: 'counted' };
}

/**
 * Whether an ended task failed, as its group's policy sees it. service:
 * FAILED, ERROR and FINISHED (a service that exits 0 still stopped), as
 * Marathon; KILLED was asked for. batch: FAILED, ERROR and KILLED; FINISHED
 * is success. Agent faults are never failures.
 */
export function isFailure(t: TaskRecord, group: TaskGroup): boolean {
  if (AGENT_FAULTS.has(t.state) || LIVE.has(t.state)) return false;
  if (group.restart === 'service') return t.state !== 'TASK_KILLED';
  return t.state !== 'TASK_FINISHED';
}

export function backoffOf(group: TaskGroup): Backoff {
  return group.backoff ?? (group.restart === 'service' ? SERVICE_BACKOFF : BATCH_BACKOFF);
}

/**
 * The delay after `n` failures in a row (n ≥ 1), in seconds:
 * `min(maxSeconds, initialSeconds · factor^(n-1))` — 1, 1.15, 1.3225 … 300 by Marathon's defaults.
 */
export function backoffSeconds(b: Backoff, n: number): number {
  return Math.min(b.maxSeconds, b.initialSeconds * b.factor ** (n - 1));
}

/**
 * When the instance whose records are `attempts` may launch again, or
 * undefined when it need not wait. Counts the failures in a row, newest
 * first: agent faults are skipped (not the task's doing), a KILLED service
 * task breaks the run, and so does a failure after running at least
 * `maxSeconds` — Marathon resets the delay after a run that long. A new
 * version starts with no history, so with no delay.
 */
export function backoffUntil(attempts: readonly TaskRecord[], group: TaskGroup): number | undefined {
  const b = backoffOf(group);
  const ended = attempts.filter((t) => !LIVE.has(t.state)).sort((x, y) => y.attempt - x.attempt);
  let n = 0;
  for (const t of ended) {
    // An operator reset the delay (Marathon's DELETE /v2/queue/{id}/delay): earlier failures no longer count.
    if (group.backoffResetAt !== undefined && t.updatedAt <= group.backoffResetAt) break;
    if (AGENT_FAULTS.has(t.state)) continue;
    if (!isFailure(t, group)) break;
    n++;
    if (t.startedAt !== undefined && t.updatedAt - t.startedAt >= b.maxSeconds * 1000) break;
  }
  if (!n) return undefined;
  const last = ended.find((t) => isFailure(t, group))!;
  return last.updatedAt + backoffSeconds(b, n) * 1000;
}

/** The next attempt's number for an instance: one past the highest seen. */
export function nextAttempt(attempts: readonly TaskRecord[]): number {
  return attempts.reduce((m, t) => Math.max(m, t.attempt), 0) + 1;
}
