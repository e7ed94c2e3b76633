/**
 * Explicit reconciliation until answered: what a framework does on start
 * for every task its own state says is not finished.
 *
 *   RECONCILE(unanswered) ──▶ master ──▶ 'update' per task it knows (or TASK_LOST / TASK_UNKNOWN)
 *        ▲                                      │
 *        └── backoff, or at once on 'subscribed' ┘ until all answered or the timeout
 *
 * The master gives no answer for a task whose agent is re-registering after
 * a master failover (it cannot yet say), and a RECONCILE queued over a
 * reconnect may meet a master that lost it: so ask again until answered.
 */
import { parseDuration } from '../../lib/duration';
import { type BackoffOptions, backoffDelay } from '../../lib/backoff';
import { MAX_IDS_PER_CALL } from '../../lib/limits';
import type { TaskStatus__Output } from '../../lib/proto';

/** A task to reconcile: its id, and its agent when known. */
export interface ReconcileTask {
  taskId: string;
  agentId?: string;
}

/** What the helper needs from a Framework: its RECONCILE call and the events that answer it. */
export interface Reconcilable {
  reconcile(tasks: ReconcileTask[]): void;
  on(event: 'update', fn: (s: TaskStatus__Output) => void): unknown;
  on(event: 'subscribed', fn: () => void): unknown;
  off(event: 'update', fn: (s: TaskStatus__Output) => void): unknown;
  off(event: 'subscribed', fn: () => void): unknown;
}

export interface ReconcileOptions {
  /** How long to keep asking, e.g. '30s' or seconds. Default '30s'. */
  timeout?: string | number;
  /** Delays between re-sends. Default 500 ms doubling to 5 s, jittered. */
  backoff?: BackoffOptions;
  /** Source of jitter in [0, 1). Default Math.random. */
  random?: () => number;
}

export interface ReconcileResult {
  /** The latest update for each answered task. */
  statuses: Map<string, TaskStatus__Output>;
  /** Tasks with no update before the timeout, in the order given. */
  unanswered: string[];
}

/**
 * Sends RECONCILE for `tasks`, again for those not answered yet, until each
 * has an 'update' or `timeout` passed. Never rejects for an unanswered task;
 * rejects with FrameworkClosedError if the framework is closed meanwhile.
 */
export function reconcileTasks(fw: Reconcilable, tasks: readonly ReconcileTask[], opts: ReconcileOptions = {}): Promise<ReconcileResult> {
  const timeoutMs = parseDuration(opts.timeout ?? '30s') * 1000;
  const backoff = { initialMs: 500, maxMs: 5000, ...opts.backoff };
  const random = opts.random ?? Math.random;
  const pending = new Map(tasks.map((t) => [t.taskId, t]));
  const statuses = new Map<string, TaskStatus__Output>();
  const result = (): ReconcileResult => ({ statuses, unanswered: tasks.map((t) => t.taskId).filter((id) => !statuses.has(id)) });
  if (!pending.size) return Promise.resolve(result());

  return new Promise((resolve, reject) => {
    let attempt = 0;
    let resend: NodeJS.Timeout | undefined;
    const finish = (err?: unknown) => {
      clearTimeout(resend);
      clearTimeout(deadline);
      fw.off('update', onUpdate);
      fw.off('subscribed', onSubscribed);
      if (err) reject(err);
      else resolve(result());
    };
    const ask = () => {
      clearTimeout(resend);
      try {
        const left = [...pending.values()];
        for (let i = 0; i < left.length; i += MAX_IDS_PER_CALL) fw.reconcile(left.slice(i, i + MAX_IDS_PER_CALL));
      } catch (err) {
        return finish(err); // closed
      }
      resend = setTimeout(ask, backoffDelay(attempt++, random, backoff));
    };
    const onUpdate = (s: TaskStatus__Output) => {
      if (!pending.has(s.taskId) && !statuses.has(s.taskId)) return;
      statuses.set(s.taskId, s);
      pending.delete(s.taskId);
      if (!pending.size) finish();
    };
    // A new subscription may be a new master that never saw our RECONCILE: ask it at once.
    const onSubscribed = () => {
      attempt = 0;
      ask();
    };
    const deadline = setTimeout(() => finish(), timeoutMs);
    fw.on('update', onUpdate);
    fw.on('subscribed', onSubscribed);
    ask();
  });
}
