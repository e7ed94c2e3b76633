/**
 * Where the batch framework keeps its jobs, runs, tasks and cron cursors, in
 * the leader's fenced FrameworkState:
 *
 *   jobs/<job id>                     the job (defaults filled in)
 *   runs/<job id>/<run id>            every run, active and finished (history, pruned by historyLimits)
 *   tasks/<task id>                   the reconciler's records of the active runs' tasks
 *   cursors/<job id>/<schedule id>    the last cron tick a schedule acted on
 *
 * A scheduled run is written in ONE transaction with its schedule's cursor,
 * and a DAG child's run with its parent's success, so a leader that dies at
 * any point leaves either both or neither: the next one neither loses the
 * tick nor runs it twice. Every write happens before anything acts on it.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { FrameworkState, StateOp, TaskRecord } from '../foundation/index';
import type { Job } from './job-schema';
import type { RunRecord } from './run-state';

/** A job as stored. */
export interface StoredJob {
  job: Job;
  /** ms since the epoch. */
  createdAt: number;
  updatedAt: number;
}

/** What started a run. */
export type RunTrigger = 'api' | 'schedule' | 'dependency';

/** A task of a run as its history keeps it. */
export interface RunTask {
  id: string;
  index: number;
  attempt: number;
  state: string;
  agentId?: string;
  hostname?: string;
  launchedAt: number;
  startedAt?: number;
  /** When it ended. */
  finishedAt?: number;
  exitCode?: number;
  message?: string;
}

/** A run: its record (state, reason, times), what started it, and the job as it was when it started. */
export interface StoredRun extends RunRecord {
  trigger: RunTrigger;
  /** trigger `schedule`: which schedule, and the cron tick (ms) the run belongs to. */
  scheduleId?: string;
  tick?: number;
  /** trigger `dependency`: the parents' runs whose success started it. */
  parents?: string[];
  /** The job as it was when the run was created: a later update does not change a run under way. */
  job: Job;
  /** Gang runs: when the run's offers started being held, and how many times it timed out. */
  gang?: { holdingSince?: number; timeouts: number; retryAt?: number };
  /** Filled when the run finishes: every attempt of every index. */
  tasks?: RunTask[];
}

/** A batch task record: the reconciler's, with how it ended. */
export interface BatchTask extends TaskRecord {
  exitCode?: number;
  message?: string;
}

const jobKey = (id: string) => `jobs/${id}`;
const runKey = (jobId: string, runId: string) => `runs/${jobId}/${runId}`;
const taskKey = (taskId: string) => `tasks/${taskId}`;
const cursorKey = (jobId: string, scheduleId: string) => `cursors/${jobId}/${scheduleId}`;

export async function loadJobs(state: FrameworkState): Promise<Map<string, StoredJob>> {
  return new Map((await state.list<StoredJob>('jobs/')).map((e) => [e.value.job.id, e.value]));
}

export async function loadRuns(state: FrameworkState): Promise<Map<string, StoredRun>> {
  return new Map((await state.list<StoredRun>('runs/')).map((e) => [e.value.id, e.value]));
}

export async function loadTasks(state: FrameworkState): Promise<Map<string, BatchTask>> {
  return new Map((await state.list<BatchTask>('tasks/')).map((e) => [e.value.taskId, e.value]));
}

/** Each schedule's last tick, keyed `<job id>/<schedule id>`. */
export async function loadCursors(state: FrameworkState): Promise<Map<string, number>> {
  return new Map((await state.list<number>('cursors/')).map((e) => [e.key.slice('cursors/'.length), e.value]));
}

export const cursorId = (jobId: string, scheduleId: string) => `${jobId}/${scheduleId}`;

export const putJobOp = (s: StoredJob): StateOp => ({ op: 'put', key: jobKey(s.job.id), value: s });
export const deleteJobOp = (id: string): StateOp => ({ op: 'delete', key: jobKey(id) });
export const putRunOp = (r: StoredRun): StateOp => ({ op: 'put', key: runKey(r.jobId, r.id), value: r });
export const deleteRunOp = (r: Pick<StoredRun, 'jobId' | 'id'>): StateOp => ({ op: 'delete', key: runKey(r.jobId, r.id) });
export const putTaskOp = (t: BatchTask): StateOp => ({ op: 'put', key: taskKey(t.taskId), value: t });
export const deleteTaskOp = (taskId: string): StateOp => ({ op: 'delete', key: taskKey(taskId) });
export const putCursorOp = (jobId: string, scheduleId: string, tick: number): StateOp => ({ op: 'put', key: cursorKey(jobId, scheduleId), value: tick });
export const deleteCursorOp = (jobId: string, scheduleId: string): StateOp => ({ op: 'delete', key: cursorKey(jobId, scheduleId) });

/** `YYYYMMDDhhmmss` of `ms` in UTC, the start of Metronome's run ids. */
function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
function suffix(bytes: Uint8Array): string {
  return [...bytes.subarray(0, 5)].map((b) => ALPHABET[b % ALPHABET.length]).join('');
}

/** A new run id as Metronome's: the creation time and five random characters (`20261128153000abcde`). */
export function newRunId(now: number): string {
  return stamp(now) + suffix(randomBytes(5));
}

/**
 * The run id of a schedule's tick: the tick's time and five characters
 * derived from the job, the schedule and the tick, so the same tick always names the
 * same run (and its task ids), whichever leader creates it.
 */
export function scheduledRunId(jobId: string, scheduleId: string, tick: number): string {
  return stamp(tick) + suffix(createHash('sha256').update(`${jobId}\u0000${scheduleId}\u0000${tick}`).digest());
}

/** The history entry of a task record. */
export function runTask(t: BatchTask): RunTask {
  const ended = t.state !== 'TASK_STAGING' && t.state !== 'TASK_STARTING' && t.state !== 'TASK_RUNNING' && t.state !== 'TASK_KILLING';
  return {
    id: t.taskId, index: t.instance, attempt: t.attempt, state: t.state, launchedAt: t.launchedAt,
    ...(t.agentId ? { agentId: t.agentId } : {}),
    ...(t.hostname ? { hostname: t.hostname } : {}),
    ...(t.startedAt !== undefined ? { startedAt: t.startedAt } : {}),
    ...(ended ? { finishedAt: t.updatedAt } : {}),
    ...(t.exitCode !== undefined ? { exitCode: t.exitCode } : {}),
    ...(t.message ? { message: t.message } : {}),
  };
}
