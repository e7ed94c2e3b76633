/**
 * The agent's half of at-least-once status updates. Every update stays in
 * its task's queue, in order, until the master acknowledges its uuid; the
 * queue is resent on every (re)registration and, for updates that have gone
 * unanswered for a retry interval, on every retry tick. A stream that is
 * down loses nothing: updates wait here until one is up.
 */
import type { TaskStatus } from '../lib/proto';

interface Pending {
  status: TaskStatus;
  /** ms since the epoch of the last send; 0 when never sent. */
  sentAt: number;
}

/** Sends one update on the current stream; false when there is no registered stream. */
export type SendStatus = (status: TaskStatus) => boolean;

export class StatusUpdateQueue {
  /** Per task key, in the order the updates were made. Map order keeps tasks in first-update order. */
  private readonly queues = new Map<string, Pending[]>();

  constructor(
    private readonly send: SendStatus,
    private readonly retryMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Queues an update for `key` and sends it at once if a stream is up. */
  add(key: string, status: TaskStatus): void {
    const p: Pending = { status, sentAt: 0 };
    let q = this.queues.get(key);
    if (!q) this.queues.set(key, (q = []));
    q.push(p);
    if (this.send(status)) p.sentAt = this.now();
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

  /** Sends every unacknowledged update, each task's in order (after a (re)registration). */
  resendAll(): void {
    this.sendWhere(() => true);
  }

  /** Resends the updates that have waited a full retry interval since their last send. */
  retry(): void {
    const due = this.now() - this.retryMs;
    this.sendWhere((p) => p.sentAt <= due);
  }

  /** Forgets the task's updates, acknowledged or not. */
  drop(key: string): void {
    this.queues.delete(key);
  }

  clear(): void {
    this.queues.clear();
  }

  /** Unacknowledged updates of one task, or of all tasks, oldest first. */
  pending(key?: string): TaskStatus[] {
    if (key !== undefined) return (this.queues.get(key) ?? []).map((p) => p.status);
    return [...this.queues.values()].flatMap((q) => q.map((p) => p.status));
  }

  private sendWhere(pred: (p: Pending) => boolean): void {
    for (const q of this.queues.values()) {
      for (const p of q) {
        if (!pred(p)) continue;
        if (!this.send(p.status)) return;
        p.sentAt = this.now();
      }
    }
  }
}
