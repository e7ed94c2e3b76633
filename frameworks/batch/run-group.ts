/**
 * A job run as the reconciler wants it (a batch TaskGroup keyed by job id
 * and run id, so task ids are `<job>.<run>.<index>.<attempt>`), the finishing
 * of each TaskInfo the reconciler cut (the run's environment, the job's
 * user and artifacts), and the limits that decide the run's end.
 */
import type { TaskInfo } from '../sdk/index';
import { BATCH_BACKOFF, type TaskGroup } from '../foundation/index';
import type { Job } from './job-schema';
import type { RunLimits } from './run-state';
import type { StoredRun } from './run-store';

/** The shell command line of `cmd`, or of `args` quoted for sh. */
export function jobCommand(run: Job['run']): string {
  if (run.cmd) return run.cmd;
  return (run.args ?? []).map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(' ');
}

/**
 * How many times a failed index is launched again: none under Metronome's
 * `restart.policy: NEVER` (its default), up to `backoffLimit` under ON_FAILURE.
 */
export function retriesOf(job: Job): number {
  return job.run.restart.policy === 'ON_FAILURE' ? job.backoffLimit : 0;
}

/** What ends a run: every completion, more failures than retries allow, or the deadline. */
export function runLimits(job: Job): RunLimits {
  return {
    completions: job.completions,
    backoffLimit: retriesOf(job),
    ...(job.run.restart.activeDeadlineSeconds !== undefined ? { activeDeadlineSeconds: job.run.restart.activeDeadlineSeconds } : {}),
  };
}

/**
 * The run's reconciler group. Retries wait `retryDelaySeconds`, doubling,
 * capped at 6 minutes (BATCH_BACKOFF's cap); `maxLaunchDelay` caps it lower.
 */
export function runGroup(run: StoredRun, retryDelaySeconds: number = BATCH_BACKOFF.initialSeconds): TaskGroup {
  const { job } = run;
  return {
    id: job.id,
    version: run.id,
    count: job.completions,
    restart: 'batch',
    parallelism: job.parallelism,
    gang: job.gang,
    maxRetries: retriesOf(job),
    backoff: { initialSeconds: retryDelaySeconds, factor: BATCH_BACKOFF.factor, maxSeconds: Math.min(BATCH_BACKOFF.maxSeconds, job.run.maxLaunchDelay) },
    resources: { cpus: job.run.cpus, mem: job.run.mem, disk: job.run.disk, gpus: job.run.gpus, ports: 0 },
    task: {
      command: jobCommand(job.run),
      env: job.run.env,
      labels: { ...job.labels, 'mezz.job': job.id, 'mezz.run': run.id },
      ...(job.run.taskKillGracePeriodSeconds ? { killGraceSeconds: job.run.taskKillGracePeriodSeconds } : {}),
    },
    // The SDK reads Metronome's {attribute, operator, value} as it is (EQ as IS).
    constraints: job.run.placement.constraints,
  };
}

/**
 * `task` as it is launched: the run's environment (`MEZZ_JOB_ID`,
 * `MEZZ_JOB_RUN_ID`, `MEZZ_JOB_ATTEMPT`, and `MEZZ_JOB_INDEX` for an Indexed
 * job, as Kubernetes' JOB_COMPLETION_INDEX), the job's user and artifacts.
 */
export function finishTask(run: StoredRun, task: TaskInfo, index: number, attempt: number): TaskInfo {
  const { job } = run;
  const env = {
    ...(task.command?.environment ?? {}),
    MEZZ_JOB_ID: job.id,
    MEZZ_JOB_RUN_ID: run.id,
    MEZZ_JOB_ATTEMPT: String(attempt),
    ...(job.completionMode === 'Indexed' ? { MEZZ_JOB_INDEX: String(index) } : {}),
  };
  const uris = job.run.artifacts.map((a) => ({ value: a.uri, extract: a.extract, executable: a.executable }));
  return {
    ...task,
    name: `${job.id} ${run.id}`,
    command: { ...task.command, environment: env, ...(uris.length ? { uris } : {}), ...(job.run.user ? { user: job.run.user } : {}) },
  };
}
