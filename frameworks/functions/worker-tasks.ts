/**
 * Workers as Mezzanine tasks, for one leadership: the pool's launch and stop
 * decisions carried out through offers, kills and status updates, and a
 * worker's runtime watched until it answers.
 *
 *   want(launch) ─ a round with offers: the reconciler places it (cpus ▸ mem ▸ ports …, reasons when it cannot)
 *     ─▶ fw.launch(node runtime.mjs, PORT0, MEZZ_FN_*) ─ poll GET /health until it names the worker ─▶ onUp(worker)
 *   stop(worker) ─▶ fw.kill (repeated until it ends) ─▶ TASK_KILLED ─▶ onGone(worker, reason)
 *   any end of its task ─▶ onGone(worker, 'memory' | its message)
 *   a task of this framework that no worker owns (a previous leader's) ─▶ killed
 *
 * Nothing here is stored: a new leader kills the workers of the last one
 * (their runtimes hold code it did not send) and starts its own.
 * A worker that dies before it ever answered delays its `onGone` by a
 * backoff (250 ms doubling to 30 s, per kind), so a broken runtime or node
 * is not relaunched in a tight loop.
 */
import { randomBytes } from 'node:crypto';
import type { Framework, Offer__Output, TaskInfo, TaskStatus__Output } from '../sdk/index';
import { hasEnded, reconcile, type TaskGroup, type TaskRecord } from '../foundation/index';
import type { Logger } from '../../lib/log';
import { waitHealthy } from './worker-client';

/** The agent's reason for a task the OOM killer ended (agent/task-status.ts). */
const MEMORY_REASON = 'REASON_CONTAINER_LIMITATION_MEMORY';
/** How long a launched worker may take to answer /health before it is killed. */
const START_DEADLINE_MS = 60_000;
/** A kill is repeated at most this often until the task ends. */
const KILL_REPEAT_MS = 5_000;
const REFUSE_SECONDS = 1;
const BACKOFF_FIRST_MS = 250;
const BACKOFF_MAX_MS = 30_000;

/** One worker to run: the pool's Launch, with what its task needs. */
export interface WorkerLaunch {
  workerId: string;
  /** The pool's kind key, `nodejs:256`. */
  kind: string;
  runtime: 'nodejs' | 'command';
  memoryMb: number;
  concurrency: number;
}

export interface WorkerTasksOptions {
  framework: Framework;
  log: Logger;
  signal: AbortSignal;
  now: () => number;
  /** The shell command that starts a worker's runtime (`exec node …/runtime.mjs`). */
  command: string;
  cpus: number;
  onUp(workerId: string): void;
  onGone(workerId: string, reason: string): void;
}

interface Task {
  launch: WorkerLaunch;
  /** MEZZ_FN_SECRET: the worker's /init and /run answer only a caller that knows it. */
  secret: string;
  record?: TaskRecord;
  address?: string;
  up: boolean;
  stopping: boolean;
  killedAt?: number;
  /** Ends the /health polling once the task has ended: a stranger may answer on its port for as long. */
  probing?: AbortController;
}

export class WorkerTasks {
  readonly #o: WorkerTasksOptions;
  readonly #tasks = new Map<string, Task>();
  readonly #byTaskId = new Map<string, string>();
  /** Deaths before answering, in a row, per kind: the backoff's exponent. */
  readonly #failures = new Map<string, number>();
  #suppressed = false;

  constructor(options: WorkerTasksOptions) {
    this.#o = options;
  }

  /** A worker to launch on the next offers that fit it. */
  want(launch: WorkerLaunch): void {
    const first = !this.#hasUnplaced();
    this.#tasks.set(launch.workerId, { launch, secret: randomBytes(16).toString('hex'), up: false, stopping: false });
    // Revive even when not suppressed: it lifts the refuse filters of declined offers, so the room comes now, not in a second.
    if (first) {
      this.#suppressed = false;
      this.#o.framework.revive();
    }
  }

  /** Where a worker's runtime answers (`host:port`) once launched, and the secret it wants. */
  endpoint(workerId: string): { address: string; secret: string } | undefined {
    const t = this.#tasks.get(workerId);
    return t?.address ? { address: t.address, secret: t.secret } : undefined;
  }

  /** Its task id once launched. */
  taskId(workerId: string): string | undefined {
    return this.#tasks.get(workerId)?.record?.taskId;
  }

  /** Stops a worker: killed if launched, forgotten (and reported gone) if not. */
  stop(workerId: string): void {
    const t = this.#tasks.get(workerId);
    if (!t || t.stopping) return;
    t.stopping = true;
    if (t.record) this.#kill(t);
    else this.#gone(workerId, 'stopped before it was launched');
  }

  /** A round: the workers not yet launched placed on `offers`, the rest declined. */
  offers(offers: readonly Offer__Output[]): void {
    const { framework, now } = this.#o;
    if (this.#o.signal.aborted) return;
    const groups = [...this.#tasks.values()].filter((t) => !t.stopping).map((t) => this.#group(t));
    const tasks = [...this.#tasks.values()].flatMap((t) => (t.record ? [t.record] : []));
    const plan = reconcile({ groups, tasks, offers, now: now() });
    const byOffer = new Map(offers.map((o) => [o.id, o]));
    for (const l of plan.launches) {
      const host = byOffer.get(l.offerId)?.hostname ?? '127.0.0.1';
      const infos: TaskInfo[] = l.tasks.map((info, i) => {
        const record = l.records[i]!;
        const t = this.#tasks.get(record.group)!;
        const env: Record<string, string> = { ...(info.command?.environment ?? {}), MEZZ_FN_HOST: host };
        t.record = record;
        t.address = `${host}:${env.PORT0}`;
        this.#byTaskId.set(record.taskId, record.group);
        this.#probe(record.group, t);
        return { ...info, name: `fn worker ${record.group} (${t.launch.kind})`, command: { ...info.command, environment: env } };
      });
      framework.launch([l.offerId], infos);
    }
    if (plan.unused.length) framework.decline(plan.unused, { refuseSeconds: REFUSE_SECONDS });
    this.#wantOffers(this.#hasUnplaced());
  }

  /** A status update of one of this framework's tasks. */
  status(s: Pick<TaskStatus__Output, 'taskId' | 'state'> & Partial<Pick<TaskStatus__Output, 'agentId' | 'reason' | 'message'>>): void {
    const workerId = this.#byTaskId.get(s.taskId);
    const t = workerId === undefined ? undefined : this.#tasks.get(workerId);
    if (!t || !t.record || workerId === undefined) {
      // Not a worker of this leadership: a previous leader's, still running code this one never sent.
      if (!hasEnded(s.state)) this.#o.framework.kill(s.taskId, s.agentId ?? '');
      return;
    }
    t.record = { ...t.record, state: s.state, updatedAt: this.#o.now() };
    if (!hasEnded(s.state)) return;
    t.probing?.abort();
    this.#byTaskId.delete(s.taskId);
    const reason = s.reason === MEMORY_REASON ? 'memory' : `${s.state}${s.message ? `: ${s.message}` : ''}`;
    if (t.up || t.stopping) {
      this.#gone(workerId, reason);
      return;
    }
    const failures = (this.#failures.get(t.launch.kind) ?? 0) + 1;
    this.#failures.set(t.launch.kind, failures);
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** (failures - 1));
    this.#o.log.warn(`worker ${workerId} (${t.launch.kind}) ended before its runtime answered (${reason}); the pool hears of it in ${delay} ms`);
    t.stopping = true;
    const timer = setTimeout(() => this.#gone(workerId, reason), delay);
    this.#o.signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
  }

  /** Kills repeated for workers that have not ended yet. */
  tick(): void {
    const now = this.#o.now();
    for (const t of this.#tasks.values()) if (t.stopping && t.record && !hasEnded(t.record.state) && now - (t.killedAt ?? 0) >= KILL_REPEAT_MS) this.#kill(t);
  }

  #group(t: Task): TaskGroup {
    const { launch } = t;
    return {
      id: launch.workerId,
      version: 'worker',
      count: 1,
      restart: 'batch',
      maxRetries: 0,
      resources: { cpus: this.#o.cpus, mem: launch.memoryMb, disk: 0, gpus: 0, ports: 1 },
      task: {
        command: this.#o.command,
        env: { MEZZ_FN_KIND: launch.runtime, MEZZ_FN_CONCURRENCY: String(launch.concurrency), MEZZ_FN_WORKER_ID: launch.workerId, MEZZ_FN_SECRET: t.secret },
        labels: { 'mezz.fn.worker': launch.workerId, 'mezz.fn.kind': launch.kind },
      },
    };
  }

  /** Polls the worker's /health from its launch on (no need to wait for TASK_RUNNING): up as soon as it answers. */
  #probe(workerId: string, t: Task): void {
    const { signal } = this.#o;
    t.probing = new AbortController();
    void waitHealthy(t.address!, Date.now() + START_DEADLINE_MS, AbortSignal.any([signal, t.probing.signal]), { worker: workerId }).then((ok) => {
      if (signal.aborted || this.#tasks.get(workerId) !== t || t.stopping) return;
      if (ok) {
        t.up = true;
        this.#failures.delete(t.launch.kind);
        this.#o.onUp(workerId);
      } else {
        this.#o.log.warn(`worker ${workerId} did not answer on ${t.address} within ${START_DEADLINE_MS / 1000} s: killing it`);
        this.stop(workerId);
      }
    });
  }

  #kill(t: Task): void {
    t.killedAt = this.#o.now();
    this.#o.framework.kill(t.record!.taskId, t.record!.agentId ?? '');
  }

  #gone(workerId: string, reason: string): void {
    if (!this.#tasks.delete(workerId) || this.#o.signal.aborted) return;
    this.#o.onGone(workerId, reason);
  }

  /** Whether a worker still waits for offers. */
  #hasUnplaced(): boolean {
    for (const t of this.#tasks.values()) if (!t.record && !t.stopping) return true;
    return false;
  }

  #wantOffers(want: boolean): void {
    if (want === !this.#suppressed) return;
    this.#suppressed = !want;
    if (want) this.#o.framework.revive();
    else this.#o.framework.suppress();
  }
}
