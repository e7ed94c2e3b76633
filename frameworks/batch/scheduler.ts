/**
 * The batch scheduler: one leadership's loop. Cron ticks, API calls and DAG
 * parents' successes create runs; the rounds (on offers, on status updates,
 * on a timer) ask the reconciler what each active run needs, store the new
 * records, then launch, kill and decline; each round then advances every
 * run's state and starts the DAG children that became due.
 *
 * Exactly once, across any leader's death:
 * - a scheduled run is stored in one transaction with its schedule's cursor
 *   (the tick it acted on), and its id derives from the schedule and tick;
 * - a DAG child's run is stored in one transaction with its parent's success;
 * - task records are stored before their launch, and task ids derive from
 *   job, run, index and attempt, so the next leader recognises what runs;
 * - status updates are acknowledged only once stored (the agent resends the
 *   rest), so a finished task is never taken for lost and run again.
 * Rounds, cron steps and changes run one at a time.
 */
import type { Framework, Offer__Output, TaskStatus__Output } from '../sdk/index';
import {
  BATCH_BACKOFF, backoffSeconds, hasEnded, reconcile, Rounds, writeAll, writeGroups, type FrameworkState, type LeaderContext, type StateOp, type TaskGroup, type Waiting,
} from '../foundation/index';
import { FailedPreconditionError, NotFoundError, UnavailableError } from '../../lib/errors';
import type { Logger } from '../../lib/log';
import { CronClock } from './cron-clock';
import { childrenOf, dependencyErrors, isDue, type DagHistory, type DagJob } from './dag';
import type { Job } from './job-schema';
import { BatchMetrics } from './metrics';
import { RunBook } from './run-book';
import { finishTask, retriesOf, runGroup, runLimits } from './run-group';
import { endRun, isFinished, nextRunState } from './run-state';
import {
  cursorId, deleteCursorOp, deleteJobOp, deleteRunOp, deleteTaskOp, loadCursors, loadJobs, loadRuns, loadTasks, newRunId, putCursorOp,
  putJobOp, putRunOp, putTaskOp, runTask, scheduledRunId, type BatchTask, type RunTrigger, type StoredJob, type StoredRun,
} from './run-store';
import type { BatchService, PutJobResult, QueuedRun } from './service';

/** A round without offers runs this often, so deadlines, backoffs, gang timeouts and the queue stay current. */
const TICK_MS = 1000;
/** Offers nobody used come back after this long. */
const REFUSE_SECONDS = 1;
/** A kill is repeated (it is level-triggered) at most this often per task. */
const KILL_REPEAT_MS = 5000;
/** Offers are kept at hand this long before a cron tick, so its run launches on the tick, not an allocation later. */
export const HOLD_AHEAD_MS = 3000;
/** A gang's offers are held this long at most, then given back, and the run backs off. */
export const DEFAULT_GANG_TIMEOUT_MS = 60_000;
/** Marathon's reconciliation_interval: 10 minutes. */
export const DEFAULT_RECONCILE_MS = 600_000;

/** Where events go (`/v1/events`): an event type and its JSON. */
export type Publish = (eventType: string, payload: Record<string, unknown>) => void;

export interface BatchSchedulerOptions {
  log: Logger;
  now?: () => number;
  publish?: Publish;
  metrics?: BatchMetrics;
  /** The first retry's delay (10 s); each next doubles, up to 6 minutes. */
  retryDelayMs?: number;
  gangTimeoutMs?: number;
  reconcileIntervalMs?: number;
}

interface Leadership {
  framework: Framework;
  state: FrameworkState;
  signal: AbortSignal;
}

type Status = Pick<TaskStatus__Output, 'taskId' | 'state'> & Partial<Pick<TaskStatus__Output, 'message' | 'exitCode' | 'uuid' | 'agentId'>>;

export class BatchScheduler implements BatchService {
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #publish: Publish;
  readonly #metrics: BatchMetrics;
  readonly #retryDelaySeconds: number;
  readonly #gangTimeoutMs: number;
  readonly #reconcileMs: number;
  #lead?: Leadership;
  #jobs = new Map<string, StoredJob>();
  /** Every run, active and finished (history), and the tasks of active runs and of finished ones until they end. */
  #book = new RunBook();
  #cron: CronClock;
  /** Offers kept at hand: for a gang that waits for room, or for a cron tick about to come. */
  #held = new Map<string, Offer__Output>();
  /** Status updates to acknowledge once their state is stored. */
  #acks: { agentId: string; taskId: string; uuid: string }[] = [];
  #dirty = new Set<string>();
  #killedAt = new Map<string, number>();
  #waiting: Waiting[] = [];
  #suppressed = false;
  /** Rounds (each with the offers gathered), cron steps and changes, one at a time. */
  readonly #rounds = new Rounds<Offer__Output>((offers) => this.#runRound(offers), (err, offers) => {
    this.#log.warn(`scheduling round failed: ${String(err)}`);
    this.#lead?.framework.decline([...offers, ...this.#held.values()].map((o) => o.id), { refuseSeconds: REFUSE_SECONDS });
    this.#held.clear();
  });

  constructor(options: BatchSchedulerOptions) {
    this.#log = options.log;
    this.#now = options.now ?? Date.now;
    this.#publish = options.publish ?? (() => {});
    this.#metrics = options.metrics ?? new BatchMetrics();
    this.#retryDelaySeconds = (options.retryDelayMs ?? 10_000) / 1000;
    this.#gangTimeoutMs = options.gangTimeoutMs ?? DEFAULT_GANG_TIMEOUT_MS;
    this.#reconcileMs = options.reconcileIntervalMs ?? DEFAULT_RECONCILE_MS;
    this.#cron = new CronClock({ now: this.#now, fire: () => this.#rounds.serial(() => this.#cronStep()).catch((err) => this.#log.warn(`cron step failed (retried on the next tick): ${String(err)}`)), prepare: () => this.#rounds.trigger([]) });
  }

  /** The runner's `lead`: load the state, reconcile what a previous leader launched, then run until the leadership ends. */
  readonly lead = async ({ framework, state, failover, signal }: LeaderContext): Promise<void> => {
    this.#jobs = await loadJobs(state);
    this.#book = new RunBook((await loadRuns(state)).values(), (await loadTasks(state)).values());
    const cursors = await loadCursors(state);
    this.#held.clear();
    this.#acks = [];
    this.#dirty.clear();
    this.#killedAt.clear();
    this.#lead = { framework, state, signal };
    this.#suppressed = false;
    this.#cron.load([...this.#jobs.values()].map((s) => s.job), cursors);
    signal.addEventListener('abort', () => {
      this.#lead = undefined;
      this.#cron.stop();
    });
    const live = this.#book.tasks().filter((t) => !hasEnded(t.state));
    if (failover && live.length) {
      const { statuses } = await framework.reconcileTasks(live.map((t) => ({ taskId: t.taskId, agentId: t.agentId ?? '' })));
      for (const s of statuses.values()) this.#apply(s);
    } else {
      // A new framework id: the master removed the old framework, and its tasks with it.
      for (const t of live) this.#apply({ taskId: t.taskId, state: 'TASK_LOST', message: 'the framework was registered anew' });
    }
    framework.on('update', (s) => {
      this.#apply(s);
      this.#rounds.trigger([]);
    });
    framework.on('offers', (offers) => this.#rounds.trigger(offers));
    framework.on('rescind', (id) => this.#held.delete(id));
    framework.revive();
    const timer = setInterval(() => this.#rounds.trigger([]), TICK_MS);
    const reconciling = setInterval(() => void this.#reconcileLive(framework), this.#reconcileMs);
    signal.addEventListener('abort', () => {
      clearInterval(timer);
      clearInterval(reconciling);
    });
    this.#log.info(`leading: ${this.#jobs.size} jobs, ${this.#book.active().length} active runs, ${live.length} live tasks`);
    // Ticks missed while no one led: at most one catch-up run per schedule, within its startingDeadlineSeconds.
    await this.#rounds.serial(() => this.#cronStep()).catch((err) => this.#log.warn(`cron step failed (retried on the next tick): ${String(err)}`));
    this.#rounds.trigger([]);
  };

  async #reconcileLive(framework: Framework): Promise<void> {
    const live = this.#book.tasks().filter((t) => !hasEnded(t.state));
    if (!live.length) return;
    try {
      const { statuses } = await framework.reconcileTasks(live.map((t) => ({ taskId: t.taskId, agentId: t.agentId ?? '' })));
      for (const s of statuses.values()) this.#apply(s);
      this.#rounds.trigger([]);
    } catch (err) {
      this.#log.warn(`reconciliation with the master failed (retried in ${this.#reconcileMs / 1000} s): ${String(err)}`);
    }
  }

  // ── BatchService: reads ────────────────────────────────────────────────

  leading(): boolean {
    return this.#lead !== undefined;
  }

  jobs(): StoredJob[] {
    return [...this.#jobs.values()].sort((a, b) => (a.job.id < b.job.id ? -1 : 1));
  }

  job(id: string): StoredJob | undefined {
    return this.#jobs.get(id);
  }

  activeRuns(jobId: string): StoredRun[] {
    return this.#book.jobRuns(jobId).filter((r) => !isFinished(r)).sort(newestFirst);
  }

  finishedRuns(jobId: string): StoredRun[] {
    return this.#book.jobRuns(jobId).filter((r) => isFinished(r)).sort(newestFirst);
  }

  run(jobId: string, runId: string): StoredRun | undefined {
    const r = this.#book.run(runId);
    return r?.jobId === jobId ? r : undefined;
  }

  runTasks(runId: string): BatchTask[] {
    return this.#book.runTasks(runId);
  }

  queue(): QueuedRun[] {
    const byRun = new Map<string, Waiting[]>();
    for (const w of this.#waiting) byRun.set(w.version, [...(byRun.get(w.version) ?? []), w]);
    return [...byRun].flatMap(([runId, waiting]) => {
      const run = this.#book.run(runId);
      return run && !isFinished(run) ? [{ jobId: run.jobId, runId, waiting, ...(run.gang ? { gang: run.gang } : {}) }] : [];
    });
  }

  dependencyStatus(jobId: string): { due: true } | { due: false; why: string } {
    const s = this.#jobs.get(jobId);
    if (!s) throw new NotFoundError(`Job '${jobId}' does not exist`);
    return isDue(dagJob(s.job), (id) => this.#history(id));
  }

  // ── BatchService: changes ──────────────────────────────────────────────

  putJob(job: Job, mode: 'create' | 'replace'): Promise<PutJobResult> {
    return this.#rounds.serial(async () => {
      const lead = this.#leading();
      const previous = this.#jobs.get(job.id);
      if (mode === 'create' && previous) throw new FailedPreconditionError(`Job '${job.id}' already exists: update it with PUT /v1/jobs/${job.id}`);
      if (mode === 'replace' && !previous) throw new NotFoundError(`Job '${job.id}' does not exist`);
      // A job without parents can close no cycle and name no unknown parent: 10,000 of them need no look at the others.
      if (job.dependencies.length) {
        const others = [...this.#jobs.values()].filter((s) => s.job.id !== job.id).map((s) => dagJob(s.job));
        const errors = dependencyErrors(dagJob(job), others);
        if (errors.length) return { errors };
      }
      const now = this.#now();
      const stored: StoredJob = { job, createdAt: previous?.createdAt ?? now, updatedAt: now };
      const changed = this.#cron.changes(previous?.job, job, now);
      await writeAll(lead.state, [putJobOp(stored), ...changed.put.map((c) => putCursorOp(job.id, c.scheduleId, c.tick)), ...changed.removed.map((sid) => deleteCursorOp(job.id, sid))]);
      this.#jobs.set(job.id, stored);
      this.#cron.set(job, changed);
      this.#publish(previous ? 'job_updated' : 'job_created', { jobId: job.id });
      return { job: stored };
    });
  }

  deleteJob(id: string, stopCurrentJobRuns: boolean): Promise<StoredJob> {
    return this.#rounds.serial(async () => {
      const lead = this.#leading();
      const s = this.#jobs.get(id);
      if (!s) throw new NotFoundError(`Job '${id}' does not exist`);
      const children = childrenOf(id, [...this.#jobs.values()].map((j) => dagJob(j.job)));
      if (children.length) throw new FailedPreconditionError(`Job '${id}' is a dependency of ${children.join(', ')}: remove the dependency from them first`);
      const active = this.activeRuns(id);
      if (active.length && !stopCurrentJobRuns) {
        throw new FailedPreconditionError(`Job '${id}' has ${active.length} active run(s) (${active.map((r) => r.id).join(', ')}): stop them first, or delete with ?stopCurrentJobRuns=true`);
      }
      const now = this.#now();
      const stopped = active.map((r) => endRun(r, 'stopped', now) as StoredRun);
      const history = this.finishedRuns(id).filter((r) => !this.#book.hasLiveTasks(r.id));
      await writeAll(lead.state, [
        deleteJobOp(id),
        ...s.job.schedules.map((sc) => deleteCursorOp(id, sc.id)),
        ...stopped.map(putRunOp),
        ...history.map(deleteRunOp),
      ]);
      this.#jobs.delete(id);
      this.#cron.remove(id);
      for (const r of stopped) this.#setRun(r);
      for (const r of history) this.#book.deleteRun(r.id);
      this.#publish('job_deleted', { jobId: id });
      this.#rounds.trigger([]);
      return s;
    });
  }

  /**
   * Not queued behind the rounds: a new run touches nothing a round holds,
   * and is in the next round once stored. So many starts at once are stored
   * together (the stores batch concurrent writes) instead of one per round.
   */
  async startRun(jobId: string): Promise<StoredRun> {
    const lead = this.#leading();
    const s = this.#jobs.get(jobId);
    if (!s) throw new NotFoundError(`Job '${jobId}' does not exist`);
    const run = newRun(s.job, 'api', this.#now());
    await writeAll(lead.state, [putRunOp(run)]);
    this.#setRun(run);
    this.#rounds.trigger([]);
    return run;
  }

  stopRun(jobId: string, runId: string): Promise<StoredRun> {
    return this.#rounds.serial(async () => {
      const lead = this.#leading();
      const run = this.run(jobId, runId);
      if (!run) throw new NotFoundError(`Job '${jobId}' has no run '${runId}'`);
      if (isFinished(run)) return run;
      const stopped = endRun(run, 'stopped', this.#now()) as StoredRun;
      await writeAll(lead.state, [putRunOp(stopped)]);
      this.#setRun(stopped);
      this.#rounds.trigger([]);
      return stopped;
    });
  }

  // ── cron ───────────────────────────────────────────────────────────────

  /**
   * Every schedule whose tick has come: at most one run per schedule (the
   * latest missed tick, within startingDeadlineSeconds), under its
   * concurrency policy. Each schedule's run, cursor and replaced runs are
   * written together; schedules are packed into few transactions so that
   * hundreds firing in one second are stored in a few writes.
   */
  async #cronStep(): Promise<void> {
    const lead = this.#lead;
    if (!lead) return;
    const now = this.#now();
    const decisions = this.#cron.due(now).flatMap((d) => {
      const job = this.#jobs.get(d.jobId)?.job;
      if (!job) return [];
      return [{ ...d, act: d.kind === 'due' ? this.#onTick(job, d.scheduleId, d.tick, now) : { ops: [], runs: [], created: false } }];
    });
    if (!decisions.length) return;
    await writeGroups(lead.state, decisions.map((d) => [putCursorOp(d.jobId, d.scheduleId, d.tick), ...d.act.ops]));
    for (const d of decisions) {
      this.#cron.advance(cursorId(d.jobId, d.scheduleId), d.tick);
      for (const r of d.act.runs) this.#setRun(r);
      if (d.skipped) this.#metrics.skippedTicks.inc(d.skipped);
      if (d.act.created) this.#metrics.tickToRecord.observe((now - d.tick) / 1000);
      if (d.message) this.#log.warn(`job ${d.jobId} schedule ${d.scheduleId}: ${d.message}`);
      if (d.act.note) this.#publish('job_run_skipped', { jobId: d.jobId, scheduleId: d.scheduleId, tick: new Date(d.tick).toISOString(), reason: d.act.note });
    }
    this.#rounds.trigger([]);
  }

  /** What a schedule's due tick does under its concurrency policy: the runs to store (new, replaced) and their ops. */
  #onTick(job: Job, scheduleId: string, tick: number, now: number): { ops: StateOp[]; runs: StoredRun[]; created: boolean; note?: string } {
    const policy = job.schedules.find((s) => s.id === scheduleId)?.concurrencyPolicy ?? 'ALLOW';
    const active = this.activeRuns(job.id);
    const id = scheduledRunId(job.id, scheduleId, tick);
    if (this.#book.run(id)) return { ops: [], runs: [], created: false };
    if (policy === 'FORBID' && active.length) {
      this.#metrics.skippedTicks.inc();
      return { ops: [], runs: [], created: false, note: `concurrencyPolicy FORBID: run ${active.map((r) => r.id).join(', ')} is active` };
    }
    const replaced = policy === 'REPLACE' ? active.map((r) => endRun(r, 'replaced', now) as StoredRun) : [];
    const run: StoredRun = { ...newRun(job, 'schedule', now, id), scheduleId, tick };
    return { ops: [...replaced.map(putRunOp), putRunOp(run)], runs: [...replaced, run], created: true };
  }

  // ── status updates ─────────────────────────────────────────────────────

  /** A status update applied to the task's record; acknowledged once stored (an unknown task's at once: not ours to keep). */
  #apply(s: Status): void {
    const ack = s.uuid ? { agentId: s.agentId ?? '', taskId: s.taskId, uuid: s.uuid } : undefined;
    const r = this.#book.task(s.taskId);
    if (!r) {
      if (ack) this.#lead?.framework.acknowledge(ack);
      return;
    }
    if (ack) this.#acks.push(ack);
    if (hasEnded(r.state) && r.state === s.state) return;
    const now = this.#now();
    const next: BatchTask = {
      ...r,
      state: s.state,
      updatedAt: r.state === s.state ? r.updatedAt : now,
      ...(s.state === 'TASK_RUNNING' && r.startedAt === undefined ? { startedAt: now } : {}),
      ...(s.exitCode !== undefined && s.exitCode !== null ? { exitCode: s.exitCode } : {}),
      ...(s.message ? { message: s.message.slice(0, 500) } : {}),
    };
    this.#book.setTask(next);
    if (hasEnded(s.state)) this.#killedAt.delete(s.taskId);
    if (r.state !== s.state) this.#publish('job_task_status', { jobId: r.group, runId: r.version, taskId: r.taskId, index: r.instance, attempt: r.attempt, status: s.state, ...(next.exitCode !== undefined ? { exitCode: next.exitCode } : {}) });
    this.#dirty.add(s.taskId);
  }

  // ── rounds ─────────────────────────────────────────────────────────────

  #leading(): Leadership {
    if (!this.#lead) throw new UnavailableError('this instance does not lead (yet): try again');
    return this.#lead;
  }



  async #runRound(fresh: Offer__Output[]): Promise<void> {
    const lead = this.#lead;
    if (!lead || lead.signal.aborted) return;
    await this.#storeDirty(lead);
    const now = this.#now();
    const offers = [...this.#held.values(), ...fresh];
    this.#held.clear();
    const groups = this.#groups(now);
    const plan = reconcile({ groups, tasks: this.#book.tasks(), offers, now });
    this.#waiting = plan.waiting;

    const launches = plan.launches.map((l) => ({
      offerId: l.offerId,
      tasks: l.tasks.map((t, i) => {
        const record = l.records[i]!;
        const run = this.#book.run(record.version)!;
        return { record: record as BatchTask, info: finishTask(run, t, record.instance, record.attempt) };
      }),
    }));
    const launched = launches.flatMap((l) => l.tasks.map((t) => t.record));
    for (const r of launched) this.#book.setTask(r);

    const runs = this.#advanceRuns(groups, plan.waiting, now);
    const children = this.#dueChildren(runs.changed, now);
    const archive = this.#archivable(runs.changed);
    const prune = this.#pruneHistory(archive.runs);
    const pruned = new Set(prune.map((r) => r.id));
    const kept = archive.runs.filter((r) => !pruned.has(r.id)); // a deleted job's run goes as soon as it is archived
    try {
      // The runs' changes and the children they start in one transaction (when they fit), then the tasks to launch: all before any launch.
      await writeGroups(lead.state, [[...runs.changed.map(putRunOp), ...children.map(putRunOp)]]);
      await writeAll(lead.state, [...launched.map(putTaskOp), ...kept.map(putRunOp), ...archive.tasks.map(deleteTaskOp), ...prune.map(deleteRunOp)]);
    } catch (err) {
      for (const r of launched) this.#book.deleteTask(r.taskId); // never launched: not there
      throw err;
    }
    const before = new Map(runs.changed.map((r) => [r.id, this.#book.run(r.id)?.state]));
    for (const r of [...runs.changed, ...children, ...archive.runs]) this.#setRun(r);
    for (const r of runs.changed) if (before.get(r.id) !== r.state) this.#onRunState(r);
    for (const id of archive.tasks) this.#book.deleteTask(id);
    for (const r of prune) this.#book.deleteRun(r.id);

    for (const l of launches) lead.framework.launch([l.offerId], l.tasks.map((t) => t.info));
    for (const r of runs.firstLaunch) if (r.tick !== undefined) this.#metrics.tickToLaunch.observe((now - r.tick) / 1000);
    for (const k of plan.kills) this.#kill(lead.framework, k.taskId, k.agentId ?? '', k.reason, now);
    this.#handOffers(lead.framework, plan.unused, offers, runs.holding, now);
    this.#wantOffers(lead.framework, plan.waiting.length > 0 || launched.length > 0 || this.#cron.soon(now, HOLD_AHEAD_MS));
    this.#metrics.observeRuns(this.#book.active());
  }

  /** Stores the task states received since the last round, then acknowledges them. */
  async #storeDirty(lead: Leadership): Promise<void> {
    if (this.#dirty.size) {
      const ids = [...this.#dirty];
      this.#dirty.clear();
      try {
        await writeAll(lead.state, ids.flatMap((id) => this.#book.task(id) ?? []).map(putTaskOp));
      } catch (err) {
        for (const id of ids) this.#dirty.add(id); // not stored, so not acknowledged: the next round tries again
        throw err;
      }
    }
    const acks = this.#acks;
    this.#acks = [];
    for (const a of acks) lead.framework.acknowledge(a);
  }

  /** The reconciler's groups: every active run, but a gang run backing off after a timeout (with nothing live). */
  #groups(now: number): TaskGroup[] {
    return this.#book.active()
      .filter((r) => !(r.gang?.retryAt !== undefined && r.gang.retryAt > now && !this.#book.hasLiveTasks(r.id)))
      .map((r) => runGroup(r, this.#retryDelaySeconds));
  }

  /**
   * Each active run's next state from its tasks and the clock, and a gang's
   * bookkeeping: offers held while it waits, given back at the timeout,
   * after which it backs off (and fails once its retries are spent).
   */
  #advanceRuns(groups: readonly TaskGroup[], waiting: readonly Waiting[], now: number): { changed: StoredRun[]; firstLaunch: StoredRun[]; holding: boolean } {
    const changed: StoredRun[] = [];
    const firstLaunch: StoredRun[] = [];
    let holding = false;
    const inPlay = new Set(groups.map((g) => g.version));
    for (const run of this.#book.active()) {
      let next = nextRunState(run, this.runTasks(run.id), runLimits(run.job), now) as StoredRun;
      if (run.job.gang && !isFinished(next) && inPlay.has(run.id)) {
        const gang = this.#gangStep(run, waiting.filter((w) => w.version === run.id), now);
        if (gang) next = { ...next, ...gang };
        holding ||= !isFinished(next) && next.gang?.holdingSince !== undefined;
      }
      if (next.startedAt !== undefined && run.startedAt === undefined) firstLaunch.push(next);
      if (!sameRun(next, run)) changed.push(next);
    }
    return { changed, firstLaunch, holding };
  }

  /** A gang run's change this round, if any: start holding, time out (and back off or fail), or stop holding once placed. */
  #gangStep(run: StoredRun, waiting: readonly Waiting[], now: number): Partial<StoredRun> | undefined {
    const gang = run.gang ?? { timeouts: 0 };
    const short = waiting.some((w) => Object.keys(w.reasons).some((k) => k.startsWith('gang:')));
    if (!short) return gang.holdingSince !== undefined ? { gang: { timeouts: gang.timeouts } } : undefined;
    if (gang.holdingSince === undefined) return { gang: { timeouts: gang.timeouts, holdingSince: now } };
    if (now - gang.holdingSince < this.#gangTimeoutMs) return undefined;
    const timeouts = gang.timeouts + 1;
    this.#log.info(`job ${run.jobId} run ${run.id}: gang timed out (${timeouts}): offers given back`);
    if (timeouts > retriesOf(run.job)) return { ...endRun(run, 'gang timeout', now), gang: { timeouts } };
    return { gang: { timeouts, retryAt: now + backoffSeconds({ ...BATCH_BACKOFF, initialSeconds: this.#retryDelaySeconds }, timeouts) * 1000 } };
  }

  #onRunState(run: StoredRun): void {
    this.#publish('job_run_status', { jobId: run.jobId, runId: run.id, status: run.state, ...(run.reason ? { reason: run.reason } : {}) });
    if (isFinished(run)) {
      this.#metrics.finished.inc({ status: run.state });
      this.#log.info(`job ${run.jobId} run ${run.id}: ${run.state}${run.reason ? ` (${run.reason})` : ''}`);
    }
  }

  /**
   * The DAG children due now: a job with parents whose every parent has
   * succeeded since its own last run started. `changed` joins the history
   * first, so children of a parent finishing this round are found, and are
   * stored with it.
   */
  #dueChildren(changed: readonly StoredRun[], now: number): StoredRun[] {
    const finished = changed.filter((r) => isFinished(r) && !isFinished(this.#book.run(r.id) ?? r));
    if (!finished.length) return [];
    // Candidates: the children of a parent that just succeeded, and a job whose own run just ended (a parent may have succeeded meanwhile).
    const dag = [...this.#jobs.values()].map((s) => dagJob(s.job));
    const candidates = new Set(finished.flatMap((r) => (r.state === 'SUCCESS' ? childrenOf(r.jobId, dag) : [])));
    for (const r of finished) candidates.add(r.jobId);
    const runsOf = this.#overlay(changed);
    const out: StoredRun[] = [];
    for (const id of [...candidates].sort()) {
      const job = this.#jobs.get(id)?.job;
      if (!job?.dependencies.length || !isDue(dagJob(job), (j) => historyOf(runsOf(j))).due) continue;
      const parents = job.dependencies.flatMap((d) => latest(runsOf(d.id), 'SUCCESS')?.id ?? []);
      out.push({ ...newRun(job, 'dependency', now), parents });
    }
    return out;
  }

  /** A job's runs as they will be once `changed` is stored. */
  #overlay(changed: readonly StoredRun[]): (jobId: string) => StoredRun[] {
    const next = new Map(changed.map((r) => [r.id, r]));
    return (jobId) => this.#book.jobRuns(jobId).map((r) => next.get(r.id) ?? r);
  }

  /** Finished runs whose tasks have all ended: their tasks go into the run's history, their records out of the store. */
  #archivable(changed: readonly StoredRun[]): { runs: StoredRun[]; tasks: string[] } {
    const next = new Map(changed.map((r) => [r.id, r]));
    const candidates = new Map([...this.#book.unarchived(), ...changed].map((r) => [r.id, next.get(r.id) ?? r]));
    const runs: StoredRun[] = [];
    const tasks: string[] = [];
    for (const run of candidates.values()) {
      if (!isFinished(run) || run.tasks || this.#book.hasLiveTasks(run.id)) continue;
      const own = this.#book.runTasks(run.id);
      runs.push({ ...run, tasks: own.map(runTask) });
      tasks.push(...own.map((t) => t.taskId));
    }
    return { runs, tasks };
  }

  /**
   * Of the jobs whose runs were just archived: finished runs beyond the
   * job's historyLimits, oldest first, and every run of a deleted job. The
   * latest run and the latest success of a job are always kept: the DAG
   * reads them.
   */
  #pruneHistory(archived: readonly StoredRun[]): StoredRun[] {
    const runsOf = this.#overlay(archived);
    const out: StoredRun[] = [];
    for (const jobId of new Set(archived.map((r) => r.jobId))) {
      const list = runsOf(jobId).filter((r) => isFinished(r) && r.tasks);
      const job = this.#jobs.get(jobId)?.job;
      if (!job) {
        out.push(...list);
        continue;
      }
      const all = runsOf(jobId);
      const keep = new Set([latest(all)?.id, latest(all, 'SUCCESS')?.id]);
      for (const state of ['SUCCESS', 'FAILED'] as const) {
        const limit = state === 'SUCCESS' ? job.historyLimits.successful : job.historyLimits.failed;
        out.push(...list.filter((r) => r.state === state).sort(newestFirst).slice(limit).filter((r) => !keep.has(r.id)));
      }
    }
    return out;
  }

  /** Unused offers are kept while a gang waits or a tick is about to come, else declined. */
  #handOffers(framework: Framework, unused: readonly string[], offers: readonly Offer__Output[], gangHolding: boolean, now: number): void {
    if (!unused.length) return;
    if (gangHolding || this.#cron.soon(now, HOLD_AHEAD_MS)) {
      const byId = new Map(offers.map((o) => [o.id, o]));
      for (const id of unused) {
        const o = byId.get(id);
        if (o) this.#held.set(id, o);
      }
      return;
    }
    framework.decline([...unused], { refuseSeconds: REFUSE_SECONDS });
  }

  #wantOffers(framework: Framework, want: boolean): void {
    if (want === !this.#suppressed) return;
    this.#suppressed = !want;
    if (want) framework.revive();
    else framework.suppress();
  }

  #kill(framework: Framework, taskId: string, agentId: string, reason: string, now: number): void {
    if (now - (this.#killedAt.get(taskId) ?? -Infinity) < KILL_REPEAT_MS) return;
    this.#killedAt.set(taskId, now);
    this.#log.info(`killing ${taskId}: ${reason}`);
    framework.kill(taskId, agentId);
  }

  #history(id: string): DagHistory {
    return historyOf(this.#book.jobRuns(id));
  }

  #setRun(run: StoredRun): void {
    const before = this.#book.run(run.id);
    this.#book.setRun(run);
    if (!before) {
      this.#metrics.started.inc({ trigger: run.trigger });
      this.#publish('job_run_started', { jobId: run.jobId, runId: run.id, trigger: run.trigger, ...(run.tick !== undefined ? { tick: new Date(run.tick).toISOString() } : {}) });
    }
  }
}

function newRun(job: Job, trigger: RunTrigger, now: number, id = newRunId(now)): StoredRun {
  return { id, jobId: job.id, createdAt: now, state: 'INITIAL', trigger, job };
}

function dagJob(job: Job): DagJob {
  return { id: job.id, dependencies: job.dependencies.map((d) => d.id) };
}

/** Whether a round changed nothing of a run worth storing (cheaper than comparing the whole record and its job). */
function sameRun(a: StoredRun, b: StoredRun): boolean {
  return a.state === b.state && a.startedAt === b.startedAt && a.finishedAt === b.finishedAt && a.reason === b.reason
    && a.gang?.holdingSince === b.gang?.holdingSince && a.gang?.timeouts === b.gang?.timeouts && a.gang?.retryAt === b.gang?.retryAt;
}

const newestFirst = (a: StoredRun, b: StoredRun) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1);

/** The newest of a job's runs (of `state`, when given). */
function latest(runs: readonly StoredRun[], state?: StoredRun['state']): StoredRun | undefined {
  let best: StoredRun | undefined;
  for (const r of runs) if ((!state || r.state === state) && (!best || newestFirst(r, best) < 0)) best = r;
  return best;
}

/** What the DAG reads of a job's runs. */
function historyOf(runs: readonly StoredRun[]): DagHistory {
  let lastSuccessAt: number | undefined;
  let lastStartAt: number | undefined;
  let active = false;
  for (const r of runs) {
    lastStartAt = Math.max(lastStartAt ?? -Infinity, r.createdAt);
    if (r.state === 'SUCCESS') lastSuccessAt = Math.max(lastSuccessAt ?? -Infinity, r.finishedAt ?? r.createdAt);
    active ||= !isFinished(r);
  }
  return { ...(lastSuccessAt !== undefined ? { lastSuccessAt } : {}), ...(lastStartAt !== undefined ? { lastStartAt } : {}), active };
}
