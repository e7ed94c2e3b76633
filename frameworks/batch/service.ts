/**
 * What the batch framework's HTTP API (api.ts) asks of its scheduler
 * (scheduler.ts), and nothing more: the API is written and tested against
 * this, the scheduler implements it.
 *
 * Errors the methods throw (lib/errors.ts, mapped to HTTP by the foundation):
 * UnavailableError (503) while this instance does not lead, NotFoundError
 * (404) for an unknown job or run, FailedPreconditionError (409) for a
 * conflict (a job that exists, a job deleted while it runs, a parent with
 * children). A refused job spec is not thrown: `putJob` answers its errors.
 */
import type { Waiting } from '../foundation/index';
import type { FieldErrors, Job } from './job-schema';
import type { BatchTask, StoredJob, StoredRun } from './run-store';

export type PutJobResult = { job: StoredJob; errors?: undefined } | { job?: undefined; errors: FieldErrors[] };

/** A run waiting for resources, per index: the reconciler's answer to "why is this not running?". */
export interface QueuedRun {
  jobId: string;
  runId: string;
  waiting: Waiting[];
  /** Gang runs: offers held since, and the deadline after which they are given back. */
  gang?: { holdingSince?: number; retryAt?: number; timeouts: number };
}

export interface BatchService {
  /** Whether this instance leads and has loaded its state. */
  leading(): boolean;
  jobs(): StoredJob[];
  job(id: string): StoredJob | undefined;
  /**
   * Creates (`create`: 409 if it exists) or replaces (`replace`: 404 if it
   * does not) a job. Dependencies are checked against the other jobs (an
   * unknown parent, a cycle): refused with `errors`, and nothing changes.
   * A new schedule starts counting from now (no catch-up for ticks before it existed).
   */
  putJob(job: Job, mode: 'create' | 'replace'): Promise<PutJobResult>;
  /** Deletes a job and its history. 409 while a run is active unless `stopCurrentJobRuns`, and while other jobs depend on it. */
  deleteJob(id: string, stopCurrentJobRuns: boolean): Promise<StoredJob>;
  /** Starts a run now (stored, then launched by the rounds). */
  startRun(jobId: string): Promise<StoredRun>;
  /** The job's runs not finished, newest first. */
  activeRuns(jobId: string): StoredRun[];
  /** The job's finished runs kept as history, newest first. */
  finishedRuns(jobId: string): StoredRun[];
  /** A run, active or finished. */
  run(jobId: string, runId: string): StoredRun | undefined;
  /** The tasks of an active run, every attempt (a finished run has them in `tasks`). */
  runTasks(runId: string): BatchTask[];
  /** Stops an active run: FAILED with reason `stopped`, its tasks killed. A finished run is answered as it is. */
  stopRun(jobId: string, runId: string): Promise<StoredRun>;
  /** The runs waiting for offers, and why. */
  queue(): QueuedRun[];
  /** Why a job with dependencies has not run (or that it is due). */
  dependencyStatus(jobId: string): { due: true } | { due: false; why: string };
}
