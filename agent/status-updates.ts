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
 * With a `persist` hook (the agent's status journal), an update is sent
 * only once it is on disk, so an agent killed at any moment never sent an
 * update that it will not resend (with the same uuid) after its restart.
 * The hook may answer many updates with one write (group commit); a
 * task's updates are still sent in the order they were made.
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
  /** Its last write failed: written again after the retry interval. */
  failed?: boolean;
}

/**
 * Makes one update of task `key` durable; resolves once it is on disk.
 * Called in the order updates are made, and must resolve a task's updates
 * in that order. A rejected update is not sent: the queue calls the hook
 * again for it (and for the task's later updates not yet durable, in
 * order) after the retry interval, until a write succeeds. An update is
 * never sent that the agent could not resend, under its uuid, after a crash.
 */
export type PersistStatus = (key: string, status: TaskStatus) => Promise<void>;

/** Sends one update on the current stream; false when there is no registered stream. */
export type SendStatus = (status: TaskStatus) => boolean;

export class StatusUpdateQueue {
  /** Per task key, in the order the updates were made. Map order keeps tasks in first-update order. */
  private readonly queues = new Map<string, Pending[]>();
  /** uuid → task key of every queued update: an acknowledgement finds its update without a scan. */
  private readonly keyOfUuid = new Map<string, string>();
  /** Persist calls not answered yet. */
  private readonly persisting = new Set<Promise<void>>();
  /** Per task key, the timer that writes its failed updates again. */
  private readonly persistRetries = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly send: SendStatus,
    private readonly retryMs: number,
    private readonly now: () => number = Date.now,
    private readonly persist?: PersistStatus,
  ) {}

  /** Queues an update for `key` and sends it at once if a stream is up (once persisted, with a persist hook). */
  add(key: string, status: TaskStatus): void {
    const p: Pending = { status, sentAt: 0, sends: 0, durable: !this.persist };
    this.queue(key, p);
    if (!this.persist) {
      if (this.send(status)) this.sent(p);
      return;
    }
    this.persistOne(key, p);
  }

  private persistOne(key: string, p: Pending): void {
    const done = this.persist!(key, p.status).then(
      () => {
        p.durable = true;
        p.failed = false;
        this.sendDurable(key);
      },
      () => {
        p.failed = true;
        this.retryPersistLater(key);
      },
    ).finally(() => this.persisting.delete(done));
    this.persisting.add(done);
  }

  /** Persists again, in order, every update of `key` whose write failed, after the retry interval. */
  private retryPersistLater(key: string): void {
    if (this.persistRetries.has(key)) return;
    const t = setTimeout(() => {
      this.persistRetries.delete(key);
      for (const p of this.queues.get(key) ?? []) if (p.failed) this.persistOne(key, p);
    }, this.retryMs);
    t.unref();
    this.persistRetries.set(key, t);
  }

  /** Puts back updates read from a checkpoint (already on disk), unsent, to be resent on registration. */
  restore(key: string, statuses: readonly TaskStatus[]): void {
    for (const status of statuses) this.queue(key, { status, sentAt: 0, sends: 0, durable: true });
  }

  /**
   * Drops the update with this uuid. Returns the key of the task it
   * belonged to, or undefined for an unknown (e.g. duplicate) acknowledgement.
   */
  acknowledge(taskId: string, uuid: string): string | undefined {
    const key = this.keyOfUuid.get(uuid);
    const q = key === undefined ? undefined : this.queues.get(key);
    const i = q ? q.findIndex((p) => p.status.uuid === uuid && p.status.taskId === taskId) : -1;
    if (i < 0) return undefined;
    q!.splice(i, 1);
    this.keyOfUuid.delete(uuid);
    if (!q!.length) this.queues.delete(key!);
    return key;
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
    for (const p of this.queues.get(key) ?? []) this.keyOfUuid.delete(p.status.uuid ?? '');
    this.queues.delete(key);
  }

  /** Resolves once every write under way has succeeded or failed (for a clean stop); retries are not waited for. */
  async settled(): Promise<void> {
    while (this.persisting.size) await Promise.all([...this.persisting]);
  }

  clear(): void {
    for (const t of this.persistRetries.values()) clearTimeout(t);
    this.persistRetries.clear();
    this.queues.clear();
    this.keyOfUuid.clear();
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

  private queue(key: string, p: Pending): void {
    let q = this.queues.get(key);
    if (!q) this.queues.set(key, (q = []));
    q.push(p);
    this.keyOfUuid.set(p.status.uuid ?? '', key);
  }

  private sent(p: Pending): void {
    p.sentAt = this.now();
    p.sends++;
  }
}
