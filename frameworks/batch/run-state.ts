/**
 * A job run's state, as a pure function of its record, its tasks and the
 * clock: INITIAL (stored, nothing launched) → STARTING (launched, none
 * running) → ACTIVE (a task runs) → SUCCESS (every completion done) or
 * FAILED with a reason. The run record is stored before anything is
 * launched; the scheduler asks this each round and stores what changed.
 *
 *   deadline exceeded       activeDeadlineSeconds passed since the run started
 *   backoff limit reached   more failed attempts, over all indexes, than backoffLimit (Kubernetes' rule)
 *   task failed             a task failed and no retry is allowed (restart policy NEVER, or backoffLimit 0)
 *   task error              a task the agent refused as invalid: no retry can help
 *   stopped, replaced       set by the caller (a stop, a REPLACE schedule), never here
 */
import type { TaskRecord } from '../foundation/index';

export type RunState = 'INITIAL' | 'STARTING' | 'ACTIVE' | 'SUCCESS' | 'FAILED';
export type FailReason = 'deadline exceeded' | 'backoff limit reached' | 'task failed' | 'task error' | 'stopped' | 'replaced' | 'gang timeout';

export interface RunRecord {
  id: string;
  jobId: string;
  /** ms since the epoch: when the record was stored. */
  createdAt: number;
  /** When the first task was launched. */
  startedAt?: number;
  /** When it reached SUCCESS or FAILED. */
  finishedAt?: number;
  state: RunState;
  reason?: FailReason;
}

/** What of the job's spec decides a run's end. */
export interface RunLimits {
  completions: number;
  backoffLimit: number;
  activeDeadlineSeconds?: number;
}

const ENDED_BAD = new Set(['TASK_FAILED', 'TASK_KILLED', 'TASK_ERROR']);

export function isFinished(run: Pick<RunRecord, 'state'>): boolean {
  return run.state === 'SUCCESS' || run.state === 'FAILED';
}

/**
 * The run as it stands at `now` given its tasks (every attempt, ended ones
 * included). A finished run is returned as it is: its end is final.
 */
export function nextRunState(run: RunRecord, tasks: readonly TaskRecord[], limits: RunLimits, now: number): RunRecord {
  if (isFinished(run)) return run;
  const started = run.startedAt ?? (tasks.length ? Math.min(...tasks.map((t) => t.launchedAt)) : undefined);
  const at = started !== undefined ? { ...run, startedAt: started } : run;
  const fail = (reason: FailReason): RunRecord => ({ ...at, state: 'FAILED', reason, finishedAt: now });
  const succeeded = new Set(tasks.filter((t) => t.state === 'TASK_FINISHED').map((t) => t.instance));
  if (succeeded.size >= limits.completions) return { ...at, state: 'SUCCESS', finishedAt: now };
  if (tasks.some((t) => t.state === 'TASK_ERROR')) return fail('task error');
  // With no retries at all (restart policy NEVER), the first failure is the run's: say so plainly.
  if (tasks.filter((t) => ENDED_BAD.has(t.state)).length > limits.backoffLimit) return fail(limits.backoffLimit === 0 ? 'task failed' : 'backoff limit reached');
  if (limits.activeDeadlineSeconds !== undefined && started !== undefined && now - started >= limits.activeDeadlineSeconds * 1000) return fail('deadline exceeded');
  if (tasks.some((t) => t.state === 'TASK_RUNNING')) return { ...at, state: 'ACTIVE' };
  if (started !== undefined) return { ...at, state: run.state === 'ACTIVE' ? 'ACTIVE' : 'STARTING' };
  return at;
}

/** A run ended by the caller (a stop, a REPLACE schedule): FAILED with that reason, unless already finished. */
export function endRun(run: RunRecord, reason: 'stopped' | 'replaced' | 'gang timeout', now: number): RunRecord {
  return isFinished(run) ? run : { ...run, state: 'FAILED', reason, finishedAt: now };
}
