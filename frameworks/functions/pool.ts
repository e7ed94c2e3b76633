/**
 * The worker pool: who runs which invocation, as a deterministic state
 * machine. Events go in (an invocation, a worker up / initialised / gone, a
 * run finished, a clock tick), decisions come out (dispatch, init, launch,
 * stop, fail). No I/O and no clock of its own: every event carries `now`, so
 * a whole burst can be replayed in a unit test.
 *
 *   launch ─▶ launching ─ workerUp ─▶ stem ─ specialised on a call (cold 'pool') ─┐
 *                 │ (launched for a function)                                      ▼
 *                 └─ workerUp, its queue waits (cold 'none') ─────────────▶ initialising ─ workerInitialised ─▶ ready
 *   ready ─ idle past idleMs (beyond minWarm), an older version, its function deleted ─▶ stop
 *   a run that timed out ─▶ stop ('recycle after timeout'); every stop ─▶ draining ─ workerGone ─▶ out of the pool
 *
 * Rules (issue 13, "Workers" and "Scaling"):
 * - Invocations queue per function version, FIFO, up to the function's queue
 *   limit; beyond it `invoke` answers `rejected` with the seconds the queue
 *   needs to drain (the caller's 429 Retry-After). Held, never failed, while
 *   workers start.
 * - Scale out when queued work exceeds the free slots coming: workers already
 *   starting for the version count `concurrency - inflight` each. New workers
 *   come from the stem pool first (no process start), else from nothing; a
 *   function never holds more than `maxWorkers` (every version, draining
 *   included). Stems count toward no function until specialised.
 * - A worker serves one version for life (a second /init is refused by the
 *   runtime), so a worker of an older version is stopped once it is idle and
 *   its version's queue is empty, and `remove` stops every worker of the
 *   function: a re-created function never runs on a worker warmed for the
 *   old code.
 * - Each kind keeps `stemTargets[kind]` stems (up or launching) while some
 *   function of that kind is defined (none on an idle cluster), refilled at
 *   once; a worker launched for a function whose queue emptied before it came
 *   up joins the stems instead of being wasted.
 */

/** A function version, the unit a worker is initialised with. */
export interface FnRef {
  name: string;
  version: number;
}

/** What the pool needs of a function version. */
export interface FnSpec extends FnRef {
  /** The stem pool it draws from ('nodejs' | 'command', or a finer key such as 'nodejs:512' when memory differs). */
  kind: string;
  /** Runs in flight per worker (OpenWhisk's concurrency limit). */
  concurrency: number;
  maxWorkers: number;
  /** Workers kept initialised even when idle (latest version only). */
  minWarm: number;
  /** How long a worker may sit idle before it is stopped (scale to zero). */
  idleMs: number;
  /** Invocations held per version before `invoke` rejects; the pool's default when absent. */
  queueLimit?: number;
}

export type WorkerState = 'launching' | 'stem' | 'initialising' | 'ready' | 'draining';
export type ColdSource = 'warm' | 'pool' | 'none';
export type StopReason = 'idle' | 'recycle after timeout' | 'recycle after failure' | 'old version' | 'function deleted';

export interface Worker {
  id: string;
  state: WorkerState;
  kind: string;
  /** Its function version: reserved at launch or specialisation, never changed after init. */
  fn?: FnRef;
  inflight: number;
  /** Runs it may hold now: the function's concurrency, at most what it was launched with. */
  concurrency: number;
  /** MEZZ_FN_CONCURRENCY it was launched with: a stem can serve no more than that. */
  launchedConcurrency: number;
  /** When it last had nothing in flight (ms). */
  idleSince: number;
  /** When it was launched (ms). */
  startedAt: number;
  /** Set once it is draining: why it will be stopped. */
  stopReason?: StopReason;
  /** The stop decision went out; waiting for workerGone. */
  stopSent: boolean;
  /** Activation id → when it was dispatched (ms). */
  running: Map<string, number>;
}

export interface Dispatch {
  activationId: string;
  workerId: string;
  fn: FnRef;
  /** warm: a ready worker; pool: a stem to init first; none: a worker launched from nothing, to init first. */
  cold: ColdSource;
  /** Time spent queued (OpenWhisk's waitTime annotation). */
  waitMs: number;
}

/** Initialise a worker without a call (minWarm). */
export interface Init {
  workerId: string;
  fn: FnRef;
}

export interface Launch {
  workerId: string;
  kind: string;
  /** MEZZ_FN_CONCURRENCY for the process. */
  concurrency: number;
  /** Reserved for this version; absent for a stem. */
  forFn?: FnRef;
}

export interface Stop {
  workerId: string;
  reason: StopReason;
}

/** An accepted invocation that will not run: its function was deleted while queued, or its worker went. */
export interface Fail {
  activationId: string;
  cause: 'function deleted' | 'worker gone';
  /** The worker's reason for going (workerGone's `reason`). */
  detail?: string;
}

export interface Rejected {
  activationId: string;
  /** Whole seconds until the queue is expected to have drained (Retry-After). */
  retryAfterSeconds: number;
}

/** What the caller must do now; every event answers one. */
export interface Decisions {
  dispatch: Dispatch[];
  init: Init[];
  launch: Launch[];
  stop: Stop[];
  fail: Fail[];
  /** Set by `invoke` only: the queue is full, answer 429. */
  rejected?: Rejected;
}

export interface PoolOptions {
  /** Stems kept per kind; kinds absent here keep none. Default {nodejs: 2, command: 2}. */
  stemTargets?: Record<string, number>;
  /** MEZZ_FN_CONCURRENCY a stem is launched with: a ceiling, the function's own limit applies once specialised. Default 100. */
  stemConcurrency?: number;
  /** Queue limit for a function without its own. Default 100. */
  queueLimit?: number;
  /** Run time assumed before a version has finished any run, for Retry-After. Default 1000 ms. */
  assumedRunMs?: number;
  /** Worker ids, from a sequence number (1, 2, …); they must be unique. Default `w<seq>`. */
  workerId?: (seq: number) => string;
}

interface Queued {
  activationId: string;
  queuedAt: number;
}

const fnKey = (fn: FnRef): string => `${fn.name}@${fn.version}`;
const sameFn = (a: FnRef | undefined, b: FnRef): boolean => a !== undefined && a.name === b.name && a.version === b.version;
/** Weight of the newest run in the average run time used for Retry-After. */
const RUN_TIME_WEIGHT = 0.2;

/**
 * The pool's state and its rules. Every method is an event and returns the
 * decisions it leads to; the caller carries them out and reports back with
 * the next events. Events about a worker or activation the pool no longer
 * holds are ignored (a late answer after a worker went), so replays are safe.
 * Throws only for a broken contract: an invocation of a version never defined.
 *
 * Cost: an event plans only the versions it touched and those with calls
 * queued, through indexes by version and by stem kind, so a warm call does
 * not scan every worker (200 functions × 5 workers: 6 ms per invoke + finish
 * when each event scanned them all, 5 µs with the indexes).
 */
export class WorkerPool {
  private readonly specs = new Map<string, FnSpec>();
  private readonly latest = new Map<string, number>();
  /** Non-empty queues only, by version key. */
  private readonly queues = new Map<string, Queued[]>();
  private readonly pool = new Map<string, Worker>();
  /** Workers holding a version (any state), by version key. */
  private readonly byFn = new Map<string, Set<Worker>>();
  /** Workers holding any version of a function: what maxWorkers bounds. */
  private readonly heldByName = new Map<string, number>();
  /** Stems, up or launching, by kind. */
  private readonly stems = new Map<string, Set<Worker>>();
  /** Activation ids queued or running: a repeated invoke (a retry after failover) is not queued twice. */
  private readonly live = new Set<string>();
  private readonly runMs = new Map<string, number>();
  /** Defined versions per kind: a kind's stems are kept only while some function of that kind exists. */
  private readonly kindUse = new Map<string, number>();
  private readonly stemTargets: Record<string, number>;
  private readonly stemConcurrency: number;
  private readonly queueLimit: number;
  private readonly assumedRunMs: number;
  private readonly workerId: (seq: number) => string;
  private seq = 0;
  private out: Decisions = emptyDecisions();
  /** Version keys the current event changed: planned besides the queued ones. */
  private touched = new Set<string>();

  constructor(options: PoolOptions = {}) {
    this.stemTargets = options.stemTargets ?? { nodejs: 2, command: 2 };
    this.stemConcurrency = options.stemConcurrency ?? 100;
    this.queueLimit = options.queueLimit ?? 100;
    this.assumedRunMs = options.assumedRunMs ?? 1000;
    this.workerId = options.workerId ?? ((seq) => `w${seq}`);
  }

  /** A function version exists (deployed, or the pool rebuilt after a failover); the highest version is the latest. Also the first call: it fills the stem pool. */
  define(spec: FnSpec, now: number): Decisions {
    this.begin();
    if (!this.specs.has(fnKey(spec))) this.kindUse.set(spec.kind, (this.kindUse.get(spec.kind) ?? 0) + 1);
    this.specs.set(fnKey(spec), { ...spec });
    if (spec.version >= (this.latest.get(spec.name) ?? 0)) this.latest.set(spec.name, spec.version);
    for (const key of this.byFn.keys()) if (key.startsWith(`${spec.name}@`)) this.touched.add(key); // older versions may stop now
    this.touched.add(fnKey(spec));
    return this.plan(now);
  }

  /** A function is deleted: its queued invocations fail, its workers stop (those running finish first). */
  remove(name: string, now: number): Decisions {
    this.begin();
    for (const [key, spec] of this.specs) {
      if (spec.name !== name) continue;
      for (const q of this.queues.get(key) ?? []) {
        this.live.delete(q.activationId);
        this.out.fail.push({ activationId: q.activationId, cause: 'function deleted' });
      }
      this.queues.delete(key);
      this.specs.delete(key);
      const use = (this.kindUse.get(spec.kind) ?? 1) - 1;
      if (use > 0) this.kindUse.set(spec.kind, use);
      else this.kindUse.delete(spec.kind);
      this.runMs.delete(key);
    }
    this.latest.delete(name);
    for (const [key, ws] of this.byFn) {
      if (!key.startsWith(`${name}@`)) continue;
      this.touched.add(key);
      for (const w of [...ws]) {
        if (w.state === 'launching') this.change(w, () => (w.fn = undefined)); // comes up as a stem
        else this.drain(w, 'function deleted');
      }
    }
    return this.plan(now);
  }

  /** An invocation arrives: it is dispatched now, or held until a worker is free, or rejected when the queue is full. */
  invoke(fn: FnRef, activationId: string, now: number): Decisions {
    this.begin();
    const key = fnKey(fn);
    const spec = this.specs.get(key);
    if (!spec) throw new Error(`invoke ${key}: no such function version in the pool (define it first)`);
    if (this.live.has(activationId)) return this.out;
    const queued = this.queued(fn);
    if (queued >= (spec.queueLimit ?? this.queueLimit)) {
      this.out.rejected = { activationId, retryAfterSeconds: this.drainSeconds(spec, queued) };
      return this.out;
    }
    if (queued === 0) this.queues.set(key, []);
    this.queues.get(key)!.push({ activationId, queuedAt: now });
    this.live.add(activationId);
    return this.plan(now);
  }

  /** A launched worker's runtime answers (GET /health: stem). */
  workerUp(id: string, now: number): Decisions {
    this.begin();
    const w = this.pool.get(id);
    if (w?.state === 'launching') this.comeUp(w, now);
    return this.plan(now);
  }

  /** A worker's /init succeeded. */
  workerInitialised(id: string, now: number): Decisions {
    this.begin();
    const w = this.pool.get(id);
    if (w?.state === 'initialising') {
      this.change(w, () => (w.state = 'ready'));
      if (w.inflight === 0) w.idleSince = now;
    }
    return this.plan(now);
  }

  /** A run ended with an answer, or timed out, or broke the worker (a failed init, a lost connection): such a worker is stopped, never reused. */
  runFinished(id: string, activationId: string, now: number, outcome: 'answered' | 'timeout' | 'broken' = 'answered'): Decisions {
    this.begin();
    const w = this.pool.get(id);
    const startedAt = w?.running.get(activationId);
    if (w && startedAt !== undefined) {
      w.running.delete(activationId);
      w.inflight--;
      this.live.delete(activationId);
      if (w.fn) {
        this.recordRunTime(w.fn, now - startedAt);
        this.touched.add(fnKey(w.fn));
      }
      if (w.inflight === 0) w.idleSince = now;
      if (outcome !== 'answered') this.stopNow(w, outcome === 'timeout' ? 'recycle after timeout' : 'recycle after failure');
    }
    return this.plan(now);
  }

  /** A worker's task ended (stopped, crashed, killed for memory, init failed): what it was running fails. */
  workerGone(id: string, reason: string, now: number): Decisions {
    this.begin();
    const w = this.pool.get(id);
    if (w) {
      for (const activationId of w.running.keys()) {
        this.live.delete(activationId);
        this.out.fail.push({ activationId, cause: 'worker gone', detail: reason });
      }
      if (w.fn) this.touched.add(fnKey(w.fn));
      this.unindex(w);
      this.pool.delete(id);
    }
    return this.plan(now);
  }

  /** The clock moved: idle workers past their function's idle time are stopped, beyond minWarm. */
  tick(now: number): Decisions {
    this.begin();
    for (const [key, spec] of this.specs) {
      this.touched.add(key);
      const ready = [...(this.byFn.get(key) ?? [])].filter((w) => w.state === 'ready');
      // Longest idle first; the newest idle ones are the minWarm kept.
      const idle = ready.filter((w) => w.inflight === 0 && now - w.idleSince >= spec.idleMs).sort((a, b) => a.idleSince - b.idleSince);
      const keep = this.isLatest(spec) ? spec.minWarm : 0;
      for (const w of idle.slice(0, Math.max(0, ready.length - keep))) this.stopNow(w, 'idle');
    }
    return this.plan(now);
  }

  /** The pool's workers, for views and metrics; do not mutate. */
  workers(): readonly Readonly<Worker>[] {
    return [...this.pool.values()];
  }

  /** Invocations held for a version. */
  queued(fn: FnRef): number {
    return this.queues.get(fnKey(fn))?.length ?? 0;
  }

  // ---- planning: after every event, in this order ----

  private plan(now: number): Decisions {
    for (const [key, queue] of this.queues) {
      const spec = this.specs.get(key)!;
      this.dispatchWarm(spec, queue, now);
      if (queue.length > 0) this.scaleOut(spec, queue, now);
      if (queue.length === 0) this.queues.delete(key);
    }
    const names = new Set<string>();
    for (const key of this.touched) {
      this.stopSurplus(key);
      names.add(key.slice(0, key.lastIndexOf('@')));
    }
    // By name: an older version's worker going can make room for the latest's minWarm.
    for (const name of names) {
      const spec = this.specs.get(fnKey({ name, version: this.latest.get(name) ?? 0 }));
      if (spec && spec.minWarm > 0) this.keepWarm(spec, now);
    }
    this.balanceStems(now);
    return this.out;
  }

  /** Ready workers take the queue's head; the busiest first, so the others go idle and can scale to zero. */
  private dispatchWarm(spec: FnSpec, queue: Queued[], now: number): void {
    const free = [...(this.byFn.get(fnKey(spec)) ?? [])]
      .filter((w) => w.state === 'ready' && w.inflight < w.concurrency)
      .sort((a, b) => b.inflight - a.inflight || a.startedAt - b.startedAt);
    for (const w of free) {
      while (queue.length > 0 && w.inflight < w.concurrency) this.run(w, queue.shift()!, 'warm', now);
    }
  }

  /**
   * More workers when the queue exceeds the slots on their way:
   * deficit = queued − Σ(concurrency − inflight) over the version's launching and initialising workers
   * − the kind's stems still launching (each will be specialised when it comes up).
   */
  private scaleOut(spec: FnSpec, queue: Queued[], now: number): void {
    let deficit = queue.length;
    for (const w of this.byFn.get(fnKey(spec)) ?? []) {
      if (w.state === 'launching') deficit -= spec.concurrency;
      else if (w.state === 'initialising') deficit -= w.concurrency - w.inflight;
    }
    let room = spec.maxWorkers - this.heldOf(spec.name);
    // Stems of the kind still starting are capacity on its way too: waiting for one costs no more than a launch, and wastes no worker.
    let coming = [...(this.stems.get(spec.kind) ?? [])].filter((w) => w.state === 'launching').length;
    while (deficit > 0 && room > 0 && queue.length > 0) {
      const stem = this.freeStem(spec.kind);
      if (stem) {
        this.specialise(stem, spec);
        this.run(stem, queue.shift()!, 'pool', now);
        deficit -= stem.concurrency;
      } else if (coming > 0) {
        coming--;
        deficit -= Math.min(spec.concurrency, this.stemConcurrency);
        continue;
      } else {
        this.launch(spec.kind, now, spec);
        deficit -= spec.concurrency;
      }
      room--;
    }
  }

  /** minWarm workers of the latest version exist (starting ones count): stems are specialised first. */
  private keepWarm(spec: FnSpec, now: number): void {
    let need = spec.minWarm - this.liveOf(spec).length;
    let room = spec.maxWorkers - this.heldOf(spec.name);
    for (; need > 0 && room > 0; need--, room--) {
      const stem = this.freeStem(spec.kind);
      if (stem) {
        this.specialise(stem, spec);
        this.out.init.push({ workerId: stem.id, fn: { name: spec.name, version: spec.version } });
      } else {
        this.launch(spec.kind, now, spec);
      }
    }
  }

  /** A version's draining workers with nothing left in flight, and its idle workers once it is no longer the latest. */
  private stopSurplus(key: string): void {
    for (const w of [...(this.byFn.get(key) ?? [])]) {
      if (w.state === 'draining' && !w.stopSent && w.inflight === 0) this.stopNow(w, w.stopReason!);
      else if (w.state === 'ready' && w.inflight === 0 && !this.isLatest(w.fn!) && this.queued(w.fn!) === 0) this.stopNow(w, 'old version');
    }
  }

  /** Each kind's stems (up or launching) back to its target (none while no function of the kind exists): the surplus up ones stop, the missing ones launch. */
  private balanceStems(now: number): void {
    for (const [kind, ws] of this.stems) {
      const up = [...ws].filter((w) => w.state === 'stem');
      for (const w of up.slice(0, Math.max(0, ws.size - this.stemTarget(kind)))) this.stopNow(w, 'idle');
    }
    for (const kind of this.kindUse.keys()) {
      for (let have = this.stems.get(kind)?.size ?? 0, target = this.stemTarget(kind); have < target; have++) this.launch(kind, now);
    }
  }

  private stemTarget(kind: string): number {
    return this.kindUse.has(kind) ? (this.stemTargets[kind] ?? 0) : 0;
  }

  // ---- transitions ----

  /** A worker launched for a version starts on its queue's head (cold 'none'), or warms for minWarm, or else joins the stems. */
  private comeUp(w: Worker, now: number): void {
    const spec = w.fn && this.specs.get(fnKey(w.fn));
    const queue = spec && this.queues.get(fnKey(spec));
    if (spec && queue && queue.length > 0) {
      this.specialise(w, spec);
      this.run(w, queue.shift()!, 'none', now);
    } else if (spec && this.isLatest(spec) && this.warmOf(spec) < spec.minWarm) {
      this.specialise(w, spec);
      this.out.init.push({ workerId: w.id, fn: { name: spec.name, version: spec.version } });
    } else {
      this.change(w, () => {
        w.fn = undefined;
        w.state = 'stem';
        w.concurrency = w.launchedConcurrency;
        w.idleSince = now;
      });
    }
  }

  private specialise(w: Worker, spec: FnSpec): void {
    this.change(w, () => {
      w.fn = { name: spec.name, version: spec.version };
      w.state = 'initialising';
      w.concurrency = Math.min(spec.concurrency, w.launchedConcurrency);
    });
  }

  private run(w: Worker, q: Queued, cold: ColdSource, now: number): void {
    w.running.set(q.activationId, now);
    w.inflight++;
    this.out.dispatch.push({ activationId: q.activationId, workerId: w.id, fn: { ...w.fn! }, cold, waitMs: now - q.queuedAt });
  }

  private launch(kind: string, now: number, forFn?: FnSpec): void {
    const id = this.workerId(++this.seq);
    const concurrency = forFn ? forFn.concurrency : this.stemConcurrency;
    const fn = forFn && { name: forFn.name, version: forFn.version };
    const w: Worker = { id, state: 'launching', kind, fn, inflight: 0, concurrency, launchedConcurrency: concurrency, idleSince: now, startedAt: now, stopSent: false, running: new Map() };
    this.pool.set(id, w);
    this.index(w);
    this.out.launch.push({ workerId: id, kind, concurrency, ...(fn && { forFn: { ...fn } }) });
  }

  /** Stop once nothing is in flight (stopSurplus); never dispatched to again. */
  private drain(w: Worker, reason: StopReason): void {
    if (w.state === 'draining') return;
    this.change(w, () => {
      w.state = 'draining';
      w.stopReason = reason;
    });
  }

  private stopNow(w: Worker, reason: StopReason): void {
    if (w.stopSent) return;
    this.change(w, () => {
      w.state = 'draining';
      w.stopReason = reason;
      w.stopSent = true;
    });
    this.out.stop.push({ workerId: w.id, reason });
  }

  // ---- indexes: every change of a worker's version or state goes through change() ----

  private change(w: Worker, mutate: () => void): void {
    this.unindex(w);
    mutate();
    this.index(w);
  }

  private index(w: Worker): void {
    if (w.fn) {
      const key = fnKey(w.fn);
      let ws = this.byFn.get(key);
      if (!ws) this.byFn.set(key, (ws = new Set()));
      ws.add(w);
      this.heldByName.set(w.fn.name, this.heldOf(w.fn.name) + 1);
    } else if (w.state === 'stem' || w.state === 'launching') {
      let ws = this.stems.get(w.kind);
      if (!ws) this.stems.set(w.kind, (ws = new Set()));
      ws.add(w);
    }
  }

  private unindex(w: Worker): void {
    if (w.fn) {
      const key = fnKey(w.fn);
      const ws = this.byFn.get(key);
      ws?.delete(w);
      if (ws?.size === 0) this.byFn.delete(key);
      const held = this.heldOf(w.fn.name) - 1;
      if (held > 0) this.heldByName.set(w.fn.name, held);
      else this.heldByName.delete(w.fn.name);
    } else {
      this.stems.get(w.kind)?.delete(w);
    }
  }

  // ---- views of the state ----

  private begin(): void {
    this.out = emptyDecisions();
    this.touched = new Set();
  }

  private isLatest(fn: FnRef): boolean {
    return this.latest.get(fn.name) === fn.version;
  }

  private heldOf(name: string): number {
    return this.heldByName.get(name) ?? 0;
  }

  /** The version's workers that are or will be warm (not draining). */
  private liveOf(fn: FnRef): Worker[] {
    return [...(this.byFn.get(fnKey(fn)) ?? [])].filter((w) => w.state !== 'draining');
  }

  private warmOf(fn: FnRef): number {
    return this.liveOf(fn).filter((w) => w.state === 'ready' || w.state === 'initialising').length;
  }

  /** The kind's longest-up stem. */
  private freeStem(kind: string): Worker | undefined {
    let oldest: Worker | undefined;
    for (const w of this.stems.get(kind) ?? []) if (w.state === 'stem' && (!oldest || w.startedAt < oldest.startedAt)) oldest = w;
    return oldest;
  }

  private recordRunTime(fn: FnRef, ms: number): void {
    const key = fnKey(fn);
    const avg = this.runMs.get(key);
    this.runMs.set(key, avg === undefined ? ms : avg + RUN_TIME_WEIGHT * (ms - avg));
  }

  /** Retry-After: the queue drains at maxWorkers × concurrency runs per average run time. */
  private drainSeconds(spec: FnSpec, queued: number): number {
    const runMs = this.runMs.get(fnKey(spec)) ?? this.assumedRunMs;
    const slots = Math.max(1, spec.maxWorkers * spec.concurrency);
    return Math.max(1, Math.ceil((queued * runMs) / slots / 1000));
  }
}

function emptyDecisions(): Decisions {
  return { dispatch: [], init: [], launch: [], stop: [], fail: [] };
}
