/**
 * The leader's cron clock: every enabled schedule with its cursor (the last
 * tick acted on) and its next tick, and one timer that wakes at the earliest
 * next tick — `fire` then asks the scheduler to act on what is due — and
 * HOLD_AHEAD before it — `prepare`, so offers are at hand on the tick.
 *
 * The clock decides nothing durable: `due` says which ticks to act on (by
 * cron.ts's dueTick: the latest missed tick only, within the schedule's
 * startingDeadlineSeconds), the scheduler stores the runs with the cursors,
 * then calls `advance`. A step that failed leaves its schedules due, and the
 * timer tries again a second later.
 */
import { dueTick, nextTicks, parseSchedule, type CronSchedule } from './cron';
import type { Job, Schedule } from './job-schema';
import { cursorId } from './run-store';

/** How long before a tick `prepare` is called. */
const PREPARE_AHEAD_MS = 2000;
/** A failed step is tried again after this long. */
const RETRY_MS = 1000;
/** The timer never sleeps longer than this (a far tick, a clock that jumped). */
const MAX_SLEEP_MS = 60_000;

interface Entry {
  jobId: string;
  schedule: Schedule;
  cron: CronSchedule;
  cursor: number;
  /** The first tick after the cursor; null when none comes. */
  next: number | null;
}

/** A schedule's tick to act on: run it (`due`), or only move the cursor past it (`late`, with why). */
export interface DueSchedule {
  jobId: string;
  scheduleId: string;
  tick: number;
  kind: 'due' | 'late';
  /** Older missed ticks that do not run. */
  skipped: number;
  message?: string;
}

/** What a job's change does to its cursors: schedules that start counting from now, and those gone. */
export interface CursorChanges {
  put: { scheduleId: string; tick: number }[];
  removed: string[];
}

export interface CronClockOptions {
  now: () => number;
  /** Called when a tick has come; the clock waits for it before sleeping again. */
  fire: () => Promise<unknown>;
  /** Called about PREPARE_AHEAD_MS before a tick. */
  prepare: () => void;
}

export class CronClock {
  #entries = new Map<string, Entry>();
  #timer?: NodeJS.Timeout;
  #busy = false;
  #stopped = true;
  #prepared = -1;

  constructor(private readonly opts: CronClockOptions) {}

  /** Every enabled schedule of `jobs`, from its stored cursor (from now when it has none), and starts the timer. */
  load(jobs: readonly Job[], cursors: ReadonlyMap<string, number>): void {
    this.#entries.clear();
    this.#stopped = false;
    const now = this.opts.now();
    for (const job of jobs) this.#add(job, (sid) => cursors.get(cursorId(job.id, sid)) ?? now);
    this.#arm();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  /**
   * The cursors a job's change writes: a new schedule, one whose cron or
   * zone changed, or one enabled again starts from `now` (no catch-up of
   * ticks from before it was asked for); a removed one's cursor goes.
   */
  changes(previous: Job | undefined, job: Job, now: number): CursorChanges {
    const old = new Map((previous?.schedules ?? []).map((s) => [s.id, s]));
    const put = job.schedules
      .filter((s) => {
        const o = old.get(s.id);
        return !o || o.cron !== s.cron || o.timezone !== s.timezone || (!o.enabled && s.enabled);
      })
      .map((s) => ({ scheduleId: s.id, tick: now }));
    const kept = new Set(job.schedules.map((s) => s.id));
    return { put, removed: [...old.keys()].filter((id) => !kept.has(id)) };
  }

  /** A job stored with `changes`: its schedules replace those it had. */
  set(job: Job, changes: CursorChanges): void {
    const fresh = new Map(changes.put.map((c) => [c.scheduleId, c.tick]));
    const kept = new Map([...this.#entries.values()].filter((e) => e.jobId === job.id).map((e) => [e.schedule.id, e.cursor]));
    this.remove(job.id);
    this.#add(job, (sid) => fresh.get(sid) ?? kept.get(sid) ?? this.opts.now());
    this.#arm();
  }

  remove(jobId: string): void {
    for (const [id, e] of this.#entries) if (e.jobId === jobId) this.#entries.delete(id);
  }

  /** The ticks to act on at `now`, one per schedule at most. */
  due(now: number): DueSchedule[] {
    const out: DueSchedule[] = [];
    for (const e of this.#entries.values()) {
      if (e.next === null || e.next > now) continue;
      const d = dueTick(e.cron, e.cursor, now, e.schedule.startingDeadlineSeconds);
      if (d.due) out.push({ jobId: e.jobId, scheduleId: e.schedule.id, tick: d.tick, kind: 'due', skipped: d.skipped, ...(d.skipped ? { message: `${d.skipped} older missed tick(s) skipped: one catch-up run at most` } : {}) });
      else if (d.reason === 'too-late') out.push({ jobId: e.jobId, scheduleId: e.schedule.id, tick: d.tick, kind: 'late', skipped: d.skipped, message: d.message });
      else e.next = d.next;
    }
    return out;
  }

  /** A schedule acted on `tick` (stored): its next tick is the first after both the tick and now. */
  advance(id: string, tick: number): void {
    const e = this.#entries.get(id);
    if (!e) return;
    e.cursor = tick;
    e.next = nextTicks(e.cron, Math.max(tick, this.opts.now()), 1)[0] ?? null;
  }

  /** Whether a tick comes within `ms` of `now` (or is overdue). */
  soon(now: number, ms: number): boolean {
    const first = this.#first();
    return first !== null && first <= now + ms;
  }

  #add(job: Job, cursorOf: (scheduleId: string) => number): void {
    for (const schedule of job.schedules) {
      if (!schedule.enabled) continue;
      const parsed = parseSchedule(schedule.cron, schedule.timezone);
      if (!parsed.schedule) continue; // refused when the job was stored; a stored one always parses
      const cursor = cursorOf(schedule.id);
      this.#entries.set(cursorId(job.id, schedule.id), { jobId: job.id, schedule, cron: parsed.schedule, cursor, next: nextTicks(parsed.schedule, cursor, 1)[0] ?? null });
    }
  }

  #first(): number | null {
    let first: number | null = null;
    for (const e of this.#entries.values()) if (e.next !== null && (first === null || e.next < first)) first = e.next;
    return first;
  }

  #arm(delayOverride?: number): void {
    clearTimeout(this.#timer);
    if (this.#stopped || this.#busy) return;
    const first = this.#first();
    if (first === null) return;
    const now = this.opts.now();
    const wakeAt = this.#prepared !== first && first - PREPARE_AHEAD_MS > now ? first - PREPARE_AHEAD_MS : first;
    const delay = delayOverride ?? Math.min(MAX_SLEEP_MS, Math.max(0, wakeAt - now));
    this.#timer = setTimeout(() => void this.#wake(), delay);
    this.#timer.unref?.();
  }

  async #wake(): Promise<void> {
    const first = this.#first();
    const now = this.opts.now();
    if (first === null || this.#stopped) return;
    if (first > now) {
      if (first - now <= PREPARE_AHEAD_MS + 50 && this.#prepared !== first) {
        this.#prepared = first;
        this.opts.prepare();
      }
      return this.#arm();
    }
    this.#busy = true;
    try {
      await this.opts.fire();
    } finally {
      this.#busy = false;
    }
    // Still due means the step failed (or acted on nothing): try again shortly, not in a tight loop.
    const again = this.#first();
    this.#arm(again !== null && again <= this.opts.now() ? RETRY_MS : undefined);
  }
}
