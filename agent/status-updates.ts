/**
 * The agent's half of at-least-once status updates. Every update stays in
 * its task's queue, in order, until the master acknowledges its uuid; the
 * queue is resent on every (re)registration and, for updates that have gone
 * unanswered, on retry ticks with exponential backoff (the retry interval,
 * doubling with each unanswered resend up to 64 × the interval, as Mesos'
 * status update manager does), so a master that is merely slow is not buried
 * under resends of a backlog. A stream that is down loses nothing: updates
 * wait here until one is up.
 *
 * With a `persist` hook (the agent's status checkpoint), an update is sent
 * only once a checkpoint that holds it is on disk, so an agent killed at
 * any moment never sent an update that it will not resend (with the same
 * uuid) after its restart. Writes of one task never overlap; updates made
 * while one is under way are covered together by the next.
 */
import type { TaskStatus } from '../lib/proto';

/** The backoff stops doubling at 2^6 = 64 retry intervals (about 2 minutes with the 2 s default). */
const MAX_DOUBLINGS = 6;

interface Pending {
  status: TaskStatus;
  /** ms since the epoch of the last send; 0 when never sent. */
  sentAt: number;
  /** Sends since the last (re)registration; each unanswered one doubles the wait before the next. */
  sends: number;
  /** On disk (or no persist hook): may be sent. */
  durable: boolean;
}

/**
 * Writes the checkpoint of task `key` as it stands when called (the queue's
 * `pending(key)` included). Failures are logged by the hook; the queue then
 * sends anyway, preferring availability to a crash-proof record.
 */
export type PersistStatus = (key: string) => Promise<void>;

/** Sends one update on the current stream; false when there is no registered stream. */
export type SendStatus = (status: TaskStatus) => boolean;

export class StatusUpdateQueue {
  /** Per task key, in the order the updates were made. Map order keeps tasks in first-update order. */
  private readonly queues = new Map<string, Pending[]>();
  /** Tasks with a checkpoint write under way; `again`: another is needed when it ends. */
  private readonly writing = new Map<string, { again: boolean; done: Promise<void> }>();

  constructor(
    private readonly send: SendStatus,
    private readonly retryMs: number,
    private readonly now: () => number = Date.now,
    private readonly persist?: PersistStatus,
  ) {}

  /** Queues an update for `key` and sends it at once if a stream is up (once persisted, with a persist hook). */
  add(key: string, status: TaskStatus): void {
    const p: Pending = { status, sentAt: 0, sends: 0, durable: !this.persist };
    let q = this.queues.get(key);
    if (!q) this.queues.set(key, (q = []));
    q.push(p);
    if (!this.persist) {
      if (this.send(status)) this.sent(p);
      return;
    }
    this.checkpoint(key);
  }

  /** Puts back updates read from a checkpoint (already on disk), unsent, to be resent on registration. */
  restore(key: string, statuses: readonly TaskStatus[]): void {
    if (!statuses.length) return;
    let q = this.queues.get(key);
    if (!q) this.queues.set(key, (q = []));
    for (const status of statuses) q.push({ status, sentAt: 0, sends: 0, durable: true });
  }

  /**
   * Writes task `key`'s checkpoint again (after an acknowledgement, or to
   * remove it once the task is forgotten: the hook decides), in turn with
   * the writes of its updates. Resolves when a write that started after
   * this call has ended.
   */
  checkpoint(key: string): Promise<void> {
    const persist = this.persist;
    if (!persist) return Promise.resolve();
    const busy = this.writing.get(key);
    if (busy) {
      busy.again = true;
      // The write after the one under way covers this call.
      return busy.done.then(() => this.writing.get(key)?.done);
    }
    const covered = (this.queues.get(key) ?? []).filter((p) => !p.durable);
    const state = { again: false, done: Promise.resolve() };
    state.done = persist(key).catch(() => undefined).then(() => {
      for (const p of covered) p.durable = true;
      this.writing.delete(key);
      this.sendDurable(key);
      if (state.again) void this.checkpoint(key);
    });
    this.writing.set(key, state);
    return state.done;
  }

  /**
   * Drops the update with this uuid. Returns the key of the task it
   * belonged to, or undefined for an unknown (e.g. duplicate) acknowledgement.
   */
  acknowledge(taskId: string, uuid: string): string | undefined {
    for (const [key, q] of this.queues) {
      const i = q.findIndex((p) => p.status.uuid === uuid && p.status.taskId === taskId);
      if (i < 0) continue;
      q.splice(i, 1);
      if (!q.length) this.queues.delete(key);
      return key;
    }
    return undefined;
  }

  /** Sends every unacknowledged update, each task's in order (after a (re)registration, which also resets the backoff). */
  resendAll(): void {
    for (const q of this.queues.values()) for (const p of q) p.sends = 0;
    this.sendWhere(() => true);
  }

  /** Resends the updates whose backoff has passed since their last send. */
  retry(): void {
    const now = this.now();
    this.sendWhere((p) => now - p.sentAt >= this.retryMs * 2 ** Math.min(Math.max(p.sends - 1, 0), MAX_DOUBLINGS));
  }

  /** Forgets the task's updates, acknowledged or not. */
  drop(key: string): void {
    this.queues.delete(key);
  }

  /** Resolves once no checkpoint write is under way (for a clean stop). */
  async settled(): Promise<void> {
    while (this.writing.size) await Promise.all([...this.writing.values()].map((w) => w.done));
  }

  clear(): void {
    this.queues.clear();
  }

  /** Unacknowledged updates of one task, or of all tasks, oldest first. */
  pending(key?: string): TaskStatus[] {
    if (key !== undefined) return (this.queues.get(key) ?? []).map((p) => p.status);
    return [...this.queues.values()].flatMap((q) => q.map((p) => p.status));
  }

  /** Sends a task's updates that became durable and were never sent, in order. */
  private sendDurable(key: string): void {
    for (const p of this.queues.get(key) ?? []) {
      if (!p.durable) return;
      if (p.sentAt) continue;
      if (!this.send(p.status)) return;
      this.sent(p);
    }
  }

  private sendWhere(pred: (p: Pending) => boolean): void {
    for (const q of this.queues.values()) {
      for (const p of q) {
        // A task's updates go in order: none after one not yet on disk.
        if (!p.durable) break;
        if (!pred(p)) continue;
        if (!this.send(p.status)) return;
        this.sent(p);
      }
    }
  }

  private sent(p: Pending): void {
    p.sentAt = this.now();
    p.sends++;
  }
}
