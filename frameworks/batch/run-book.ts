/**
 * The leader's in-memory copy of the runs and task records, indexed the
 * ways a round asks: a job's runs, the active runs, a run's tasks. With
 * 10,000 jobs a round must not scan every task per run.
 */
import { hasEnded } from '../foundation/index';
import { isFinished } from './run-state';
import type { BatchTask, StoredRun } from './run-store';

export class RunBook {
  #runs = new Map<string, StoredRun>();
  #byJob = new Map<string, Map<string, StoredRun>>();
  #active = new Map<string, StoredRun>();
  #tasks = new Map<string, BatchTask>();
  #byRun = new Map<string, Map<string, BatchTask>>();

  constructor(runs: Iterable<StoredRun> = [], tasks: Iterable<BatchTask> = []) {
    for (const r of runs) this.setRun(r);
    for (const t of tasks) this.setTask(t);
  }

  run(id: string): StoredRun | undefined {
    return this.#runs.get(id);
  }

  /** Every run of `jobId`, in no order. */
  jobRuns(jobId: string): StoredRun[] {
    return [...(this.#byJob.get(jobId)?.values() ?? [])];
  }

  /** The runs not finished. */
  active(): StoredRun[] {
    return [...this.#active.values()];
  }

  /** Finished runs not archived yet (their tasks still in the records). */
  unarchived(): StoredRun[] {
    return [...this.#runs.values()].filter((r) => isFinished(r) && !r.tasks);
  }

  setRun(r: StoredRun): void {
    this.#runs.set(r.id, r);
    const own = this.#byJob.get(r.jobId) ?? this.#byJob.set(r.jobId, new Map()).get(r.jobId)!;
    own.set(r.id, r);
    if (isFinished(r)) this.#active.delete(r.id);
    else this.#active.set(r.id, r);
  }

  deleteRun(id: string): void {
    const r = this.#runs.get(id);
    if (!r) return;
    this.#runs.delete(id);
    this.#active.delete(id);
    const own = this.#byJob.get(r.jobId);
    own?.delete(id);
    if (own?.size === 0) this.#byJob.delete(r.jobId);
  }

  task(id: string): BatchTask | undefined {
    return this.#tasks.get(id);
  }

  tasks(): BatchTask[] {
    return [...this.#tasks.values()];
  }

  /** A run's task records, every attempt, by index then attempt. */
  runTasks(runId: string): BatchTask[] {
    return [...(this.#byRun.get(runId)?.values() ?? [])].sort((a, b) => a.instance - b.instance || a.attempt - b.attempt);
  }

  hasLiveTasks(runId: string): boolean {
    for (const t of this.#byRun.get(runId)?.values() ?? []) if (!hasEnded(t.state)) return true;
    return false;
  }

  setTask(t: BatchTask): void {
    this.#tasks.set(t.taskId, t);
    const own = this.#byRun.get(t.version) ?? this.#byRun.set(t.version, new Map()).get(t.version)!;
    own.set(t.taskId, t);
  }

  deleteTask(id: string): void {
    const t = this.#tasks.get(id);
    if (!t) return;
    this.#tasks.delete(id);
    const own = this.#byRun.get(t.version);
    own?.delete(id);
    if (own?.size === 0) this.#byRun.delete(t.version);
  }
}
