/**
 * The function runner's scheduler: FunctionsService (what the /api/v1
 * gateway asks) over the worker pool (pool.ts, pure), the worker tasks
 * (worker-tasks.ts) and the store (function-store.ts), for one leadership
 * at a time.
 *
 *   invoke ─ async: PendingCall stored ─▶ pool.invoke ─▶ 429 when its queue is full
 *          ─▶ dispatch ─ cold: POST /init once per worker ─▶ POST /run (the function's timeout)
 *          ─▶ activation: classified, stored (with the pending call's delete, in one transaction), waiters answered
 *   pool decisions: launch / stop ─▶ worker tasks; init ─▶ /init; fail ─▶ the activation says why
 *   every second: pool.tick (scale to zero), kills repeated, metrics
 *   lead: load functions, activations, pending calls; each pending call runs again with its own activation id
 *
 * Every pool event's decisions are applied at once, in the same turn; the
 * HTTP exchanges with workers are the only waits, and each checks on its
 * return that its leadership still stands.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Framework, Offer__Output } from '../sdk/index';
import { Rounds, writeAll, type FrameworkState, type LeaderContext, type StateOp } from '../foundation/index';
import { FailedPreconditionError, LimitExceededError, NotFoundError, UnavailableError } from '../../lib/errors';
import type { Logger } from '../../lib/log';
import { activationRecord, capLogs, newActivationId, type Activation, type WorkerAnswer } from './activation';
import { runtimeOf, entryOf, type FunctionSpec } from './function-schema';
import {
  deleteActivationOp, deletePendingOp, deleteVersionOp, loadActivations, loadPending, loadVersions, putActivationOp, putPendingOp, putVersionOp,
  type PendingCall,
} from './function-store';
import { FunctionsMetrics } from './metrics';
import { WorkerPool, type Decisions, type Dispatch, type FnSpec } from './pool';
import type { FunctionsService, InvokeRequest, InvokeResult, WorkerView } from './service';
import { nextVersion, parseVersion, semver, type StoredVersion } from './versions';
import { call, type WorkerReply } from './worker-client';
import { WorkerTasks } from './worker-tasks';

/** The worker's runtime, run by the agent's `node`. */
export const RUNTIME_PATH = resolve(fileURLToPath(new URL('.', import.meta.url)), 'worker/runtime.mjs');
/** The memory (MB) whose workers the stem pool pre-starts: OpenWhisk's default. */
const STEM_MEMORY = 256;
/** After a run's connection broke, how long to wait for the task's end to say why (memory) before calling it an exit. */
const EXIT_GRACE_MS = 3_000;
/** Batched activation writes: a blocking call's record is stored within this long; an async one's at once. */
const FLUSH_MS = 200;
const TICK_MS = 1_000;

export interface FunctionsSchedulerOptions {
  log: Logger;
  metrics?: FunctionsMetrics;
  now?: () => number;
  /** Stems kept per kind (nodejs, command) at 256 MB. Default 2. */
  stems?: number;
  /** Invocations held per function version before 429. Default 1000. */
  queueLimit?: number;
  /** CPUs per worker task (a hard quota under cgroups: 0.1 makes Node's start take ~350 ms, 0.25 ~90 ms). Default 0.25. */
  workerCpus?: number;
  /** Finished activations kept (in memory and in the store), newest. Default 2000. */
  activationsKept?: number;
  /** The command that starts a worker (tests and benches may point it elsewhere). Default: this process's node on RUNTIME_PATH. */
  workerCommand?: string;
}

/** An invocation accepted and not finished. */
interface Call {
  pending: PendingCall;
  async: boolean;
  /** Absent only for a resumed call whose function was deleted meanwhile. */
  spec?: FunctionSpec;
  waiters: ((a: Activation | Error) => void)[];
  /** The run's connection broke: waiting for the worker's end to say why. */
  broken?: NodeJS.Timeout;
  /** The dispatch it is running under. */
  dispatch?: Dispatch;
  /** When its code started (init for a cold start). */
  start?: number;
  initMs?: number;
}

/** One leadership's moving parts. */
interface Term {
  framework: Framework;
  state: FrameworkState;
  signal: AbortSignal;
  pool: WorkerPool;
  tasks: WorkerTasks;
  calls: Map<string, Call>;
  /** Per worker, its /init: resolves to undefined when it succeeded, else the failed init's reply. */
  inits: Map<string, Promise<WorkerReply | undefined>>;
  /** Resumed async calls a full queue refused: offered to the pool again every tick. */
  deferred: PendingCall[];
}

const fnKey = (ns: string, name: string) => `${ns}/${name}`;

export class FunctionsScheduler implements FunctionsService {
  readonly #log: Logger;
  readonly #metrics: FunctionsMetrics;
  readonly #now: () => number;
  readonly #opts: Required<Omit<FunctionsSchedulerOptions, 'log' | 'metrics' | 'now'>>;
  #term?: Term;
  /** Every version of every function, oldest first, by `ns/name`. */
  #fns = new Map<string, StoredVersion[]>();
  /** The pool's version number for each stored version (unique per leadership, so a re-created function never matches an old worker). */
  #revOf = new Map<StoredVersion, number>();
  #byRev = new Map<number, StoredVersion>();
  #rev = 0;
  /** Finished activations, oldest first (Map keeps insertion order). */
  #acts = new Map<string, Activation>();
  #toStore: StateOp[] = [];
  #flushTimer?: NodeJS.Timeout;
  #flushing = false;
  readonly #rounds = new Rounds<Offer__Output>((offers) => {
    this.#term?.tasks.offers(offers);
    return Promise.resolve();
  }, (err) => this.#log.warn(`scheduling round failed: ${String(err)}`));

  constructor(options: FunctionsSchedulerOptions) {
    this.#log = options.log;
    this.#metrics = options.metrics ?? new FunctionsMetrics();
    this.#now = options.now ?? Date.now;
    this.#opts = {
      stems: options.stems ?? 2,
      queueLimit: options.queueLimit ?? 1000,
      workerCpus: options.workerCpus ?? 0.25,
      activationsKept: options.activationsKept ?? 2000,
      workerCommand: options.workerCommand ?? `exec '${process.execPath}' '${RUNTIME_PATH}'`,
    };
  }

  /** The runner's `lead`: load the state, start this leadership's pool, run again every pending async call. */
  readonly lead = async ({ framework, state, signal }: LeaderContext): Promise<void> => {
    const versions = await loadVersions(state);
    const activations = await loadActivations(state);
    const pending = await loadPending(state);
    const epoch = this.#now().toString(36);
    const term: Term = {
      framework, state, signal, calls: new Map(), inits: new Map(), deferred: [],
      pool: new WorkerPool({
        stemTargets: { [`nodejs:${STEM_MEMORY}`]: this.#opts.stems, [`command:${STEM_MEMORY}`]: this.#opts.stems },
        queueLimit: this.#opts.queueLimit,
        // Unique across leaderships: the master knows a previous leader's tasks until they are killed.
        workerId: (seq) => `fn-${epoch}-${seq}`,
      }),
      tasks: new WorkerTasks({
        framework, log: this.#log, signal, now: this.#now, command: this.#opts.workerCommand, cpus: this.#opts.workerCpus,
        // Called only once the term exists: a worker comes up or goes after a launch, never while it is built.
        onUp: (id) => this.#apply(term, term.pool.workerUp(id, this.#now())),
        onGone: (id, reason) => {
          term.inits.delete(id);
          this.#apply(term, term.pool.workerGone(id, reason, this.#now()));
        },
      }),
    };
    this.#fns = new Map();
    this.#revOf = new Map();
    this.#byRev = new Map();
    this.#acts = new Map(activations.map((a) => [a.activationId, a]));
    this.#toStore = [];
    this.#term = term;
    framework.on('update', (s) => term.tasks.status(s));
    framework.on('offers', (offers) => this.#rounds.trigger(offers));
    const timer = setInterval(() => {
      this.#apply(term, term.pool.tick(this.#now()));
      for (const p of term.deferred.splice(0)) this.#resume(term, p);
      term.tasks.tick();
      this.#metrics.observeWorkers(term.pool.workers());
    }, TICK_MS);
    signal.addEventListener('abort', () => {
      clearInterval(timer);
      clearTimeout(this.#flushTimer);
      this.#flushTimer = undefined; // else the next leadership would take it for a flush already scheduled
      if (this.#term === term) this.#term = undefined;
      const gone = new UnavailableError('this instance stopped leading before the invocation finished: look the activation up on the new leader');
      for (const c of term.calls.values()) for (const w of c.waiters) w(gone);
    }, { once: true });
    for (const v of versions) this.#define(term, v);
    framework.reconcile(); // implicit: every task the master holds for us; those of a previous leader are killed
    framework.revive();
    const resumed = pending.filter((p) => !this.#acts.has(p.activationId)); // else finished: its pending key outlived it
    for (const p of resumed) this.#resume(term, p);
    this.#log.info(`leading: ${this.#fns.size} functions, ${this.#acts.size} activations, ${resumed.length} async invocations resumed`);
  };

  /** An async call accepted by an earlier leader runs again, under its own activation id. */
  #resume(term: Term, p: PendingCall): void {
    const stored = this.#version(p.namespace, p.name, p.version);
    if (!stored) {
      this.#finish(term, { pending: p, async: true, waiters: [] }, { failure: 'internal', message: `The action ${p.namespace}/${p.name} (version ${p.version}) was deleted before this invocation ran.` }, []);
    } else if ('retryAfterSeconds' in this.#accept(term, p, stored, true)) {
      term.deferred.push(p);
    }
  }

  // ── FunctionsService: reads ────────────────────────────────────────────

  leading(): boolean {
    return this.#term !== undefined && !this.#term.signal.aborted;
  }

  functions(namespace: string): StoredVersion[] {
    return [...this.#fns.values()].map((vs) => vs[vs.length - 1]!).filter((v) => v.spec.namespace === namespace).sort((a, b) => (a.spec.name < b.spec.name ? -1 : 1));
  }

  function(namespace: string, name: string, version?: string): StoredVersion | undefined {
    const vs = this.#fns.get(fnKey(namespace, name));
    if (!vs) return undefined;
    if (version === undefined) return vs[vs.length - 1];
    const n = parseVersion(version);
    return vs.find((v) => v.version === n);
  }

  versions(namespace: string, name: string): StoredVersion[] {
    return [...(this.#fns.get(fnKey(namespace, name)) ?? [])].reverse();
  }

  workers(namespace: string, name: string): WorkerView[] {
    const term = this.#term;
    if (!term) return [];
    const key = fnKey(namespace, name);
    return term.pool.workers().filter((w) => w.fn?.name === key).map((w) => ({
      id: term.tasks.taskId(w.id) ?? w.id,
      state: w.state,
      version: semver(this.#byRev.get(w.fn!.version)?.version ?? 0),
      inflight: w.inflight,
      idleSince: w.idleSince,
    })).sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  activations(namespace: string, query: { name?: string; skip: number; limit: number; since?: number; upto?: number }): Activation[] {
    const out: Activation[] = [];
    let skip = query.skip;
    const all = [...this.#acts.values()];
    for (let i = all.length - 1; i >= 0 && out.length < query.limit; i--) {
      const a = all[i]!;
      if (a.namespace !== namespace || (query.name !== undefined && a.name !== query.name)) continue;
      if ((query.since !== undefined && a.start < query.since) || (query.upto !== undefined && a.start > query.upto)) continue;
      if (skip > 0) skip--;
      else out.push(a);
    }
    return out;
  }

  activation(namespace: string, activationId: string): Activation | undefined {
    const a = this.#acts.get(activationId);
    return a?.namespace === namespace ? a : undefined;
  }

  // ── FunctionsService: changes ──────────────────────────────────────────

  putFunction(spec: FunctionSpec, overwrite: boolean): Promise<StoredVersion> {
    return this.#rounds.serial(async () => {
      const term = this.#leading();
      const latest = this.function(spec.namespace, spec.name);
      if (latest && !overwrite) throw new FailedPreconditionError(`resource already exists: action ${spec.namespace}/${spec.name} (update it with ?overwrite=true)`);
      const stored: StoredVersion = { version: nextVersion(latest?.version), spec, updated: this.#now() };
      await writeAll(term.state, [putVersionOp(stored)]);
      this.#define(term, stored);
      return stored;
    });
  }

  deleteFunction(namespace: string, name: string): Promise<StoredVersion> {
    return this.#rounds.serial(async () => {
      const term = this.#leading();
      const vs = this.#fns.get(fnKey(namespace, name));
      if (!vs?.length) throw new NotFoundError(`The requested resource does not exist. (action ${namespace}/${name})`);
      await writeAll(term.state, vs.map((v) => deleteVersionOp(namespace, name, v.version)));
      this.#fns.delete(fnKey(namespace, name));
      this.#apply(term, term.pool.remove(fnKey(namespace, name), this.#now()));
      for (const v of vs) {
        this.#byRev.delete(this.#revOf.get(v)!);
        this.#revOf.delete(v);
      }
      return vs[vs.length - 1]!;
    });
  }

  async invoke(request: InvokeRequest, options: { blocking: boolean; waitMs: number }): Promise<InvokeResult> {
    const term = this.#leading();
    const stored = this.function(request.namespace, request.name, request.version);
    if (!stored) throw new NotFoundError(`The requested resource does not exist. (action ${request.namespace}/${request.name}${request.version ? ` version ${request.version}` : ''})`);
    const defaults = Object.fromEntries(stored.spec.parameters.filter((p) => !p.init).map((p) => [p.key, p.value]));
    const pending: PendingCall = {
      activationId: newActivationId(), namespace: request.namespace, name: request.name, version: stored.version,
      params: { ...defaults, ...request.params }, subject: request.subject, acceptedAt: this.#now(),
    };
    // Stored before the 202: from here the call runs at least once, under this leader or the next.
    if (!options.blocking) await writeAll(term.state, [putPendingOp(pending)]);
    if (term !== this.#term) throw new UnavailableError('this instance stopped leading: the invocation is stored and runs on the new leader');
    const accepted = this.#accept(term, pending, stored, !options.blocking);
    if ('retryAfterSeconds' in accepted) {
      if (!options.blocking) await writeAll(term.state, [deletePendingOp(pending.activationId)]).catch(() => {});
      this.#metrics.rejected.inc();
      const err = new LimitExceededError(`Too many requests in the queue of action ${request.namespace}/${request.name}: try again in ${accepted.retryAfterSeconds} s.`);
      throw Object.assign(err, { retryAfterSeconds: accepted.retryAfterSeconds });
    }
    if (!options.blocking) return { activationId: pending.activationId, pending: true };
    const outcome = await new Promise<Activation | Error | undefined>((done) => {
      const timer = setTimeout(() => done(undefined), options.waitMs);
      accepted.waiters.push((a) => {
        clearTimeout(timer);
        done(a);
      });
    });
    if (outcome instanceof Error) throw outcome;
    return outcome ? { activation: outcome } : { activationId: pending.activationId, pending: true };
  }

  // ── the pool's decisions ───────────────────────────────────────────────

  #leading(): Term {
    const term = this.#term;
    if (!term || term.signal.aborted) throw new UnavailableError('this instance does not lead (yet): try again');
    return term;
  }

  #version(ns: string, name: string, version: number): StoredVersion | undefined {
    return this.#fns.get(fnKey(ns, name))?.find((v) => v.version === version);
  }

  #define(term: Term, stored: StoredVersion): void {
    const key = fnKey(stored.spec.namespace, stored.spec.name);
    this.#fns.set(key, [...(this.#fns.get(key) ?? []), stored]);
    const rev = ++this.#rev;
    this.#revOf.set(stored, rev);
    this.#byRev.set(rev, stored);
    this.#apply(term, term.pool.define(poolSpec(key, rev, stored.spec), this.#now()));
  }

  /** Queues a call of `stored` in the pool; answers the call, or the seconds to wait when its queue is full. */
  #accept(term: Term, pending: PendingCall, stored: StoredVersion, async: boolean): Call | { retryAfterSeconds: number } {
    const c: Call = { pending, async, spec: stored.spec, waiters: [] };
    term.calls.set(pending.activationId, c);
    const d = term.pool.invoke({ name: fnKey(pending.namespace, pending.name), version: this.#revOf.get(stored)! }, pending.activationId, this.#now());
    if (d.rejected) {
      term.calls.delete(pending.activationId);
      return { retryAfterSeconds: d.rejected.retryAfterSeconds };
    }
    this.#apply(term, d);
    return c;
  }

  #apply(term: Term, d: Decisions): void {
    if (term.signal.aborted) return;
    for (const l of d.launch) {
      const [runtime, memory] = l.kind.split(':');
      term.tasks.want({ workerId: l.workerId, kind: l.kind, runtime: runtime === 'command' ? 'command' : 'nodejs', memoryMb: Number(memory), concurrency: l.concurrency });
    }
    for (const s of d.stop) {
      this.#log.debug(`stopping worker ${s.workerId}: ${s.reason}`);
      term.tasks.stop(s.workerId);
    }
    for (const i of d.init) {
      void this.#init(term, i.workerId, i.fn.version).then((failed) => {
        if (failed) term.tasks.stop(i.workerId);
        else this.#apply(term, term.pool.workerInitialised(i.workerId, this.#now()));
      });
    }
    for (const f of d.fail) {
      const c = term.calls.get(f.activationId);
      if (!c) continue;
      clearTimeout(c.broken);
      const answer: WorkerAnswer = f.cause === 'function deleted'
        ? { failure: 'internal', message: `The action ${c.pending.namespace}/${c.pending.name} was deleted before this invocation ran.` }
        : f.detail === 'memory' ? { failure: 'memory' } : { failure: 'exited' };
      this.#finish(term, c, answer, []);
    }
    for (const x of d.dispatch) void this.#run(term, x);
    if (d.launch.length || d.stop.length) this.#metrics.observeWorkers(term.pool.workers());
  }

  /** A worker's /init, once: later callers share the first one's outcome. */
  #init(term: Term, workerId: string, rev: number): Promise<WorkerReply | undefined> {
    let init = term.inits.get(workerId);
    if (!init) {
      const stored = this.#byRev.get(rev);
      const endpoint = term.tasks.endpoint(workerId);
      if (!stored || !endpoint) return Promise.resolve({ answer: { failure: 'internal', message: `worker ${workerId} has no function or address to initialise` }, logs: [] });
      const { spec } = stored;
      const env = Object.fromEntries(spec.parameters.filter((p) => p.init).map((p) => [p.key, typeof p.value === 'string' ? p.value : JSON.stringify(p.value)]));
      const body = { value: { name: spec.name, main: entryOf(spec), code: spec.exec.code, binary: spec.exec.binary, env } };
      init = call(endpoint.address, '/init', body, spec.limits.timeout, endpoint.secret).then((r) => ('status' in r.answer && r.answer.status === 200 ? undefined : r));
      term.inits.set(workerId, init);
    }
    return init;
  }

  /** One invocation on its worker: init first when cold, then run, then the activation. */
  async #run(term: Term, d: Dispatch): Promise<void> {
    const c = term.calls.get(d.activationId);
    if (!c) return;
    c.dispatch = d;
    const stored = this.#byRev.get(d.fn.version);
    const endpoint = term.tasks.endpoint(d.workerId);
    const start = this.#now();
    c.start = start;
    if (!stored || !endpoint || !c.spec) {
      this.#finish(term, c, { failure: 'internal', message: `worker ${d.workerId} is gone` }, []);
      this.#apply(term, term.pool.runFinished(d.workerId, d.activationId, this.#now(), 'broken'));
      return;
    }
    const spec = c.spec;
    if (d.cold !== 'warm') {
      const failedInit = await this.#init(term, d.workerId, d.fn.version);
      if (term.signal.aborted || term.calls.get(d.activationId) !== c) return;
      c.initMs = this.#now() - start;
      if (failedInit) {
        this.#finish(term, c, failedInit.answer, capLogs(failedInit.logs, spec.limits.logs * 1024 * 1024, this.#now()), 'init');
        this.#apply(term, term.pool.runFinished(d.workerId, d.activationId, this.#now(), 'broken'));
        return;
      }
      this.#apply(term, term.pool.workerInitialised(d.workerId, this.#now()));
    }
    const { pending } = c;
    const runStart = this.#now();
    this.#metrics.started(d.cold, (runStart - pending.acceptedAt) / 1000);
    const reply = await call(endpoint.address, '/run', {
      value: pending.params, namespace: pending.namespace, action_name: `/${pending.namespace}/${pending.name}`, action_version: `0.0.${pending.version}`,
      activation_id: pending.activationId, transaction_id: pending.activationId, deadline: String(runStart + spec.limits.timeout),
    }, spec.limits.timeout, endpoint.secret);
    if (term.signal.aborted || term.calls.get(d.activationId) !== c) return;
    this.#metrics.runDuration.observe((this.#now() - runStart) / 1000);
    const logs = capLogs(reply.logs, spec.limits.logs * 1024 * 1024, this.#now());
    if ('failure' in reply.answer && reply.answer.failure === 'exited') {
      // The connection broke: the worker died. Its task's end (the pool's fail decision) says why, memory or not.
      c.broken = setTimeout(() => {
        if (term.calls.get(d.activationId) !== c) return;
        this.#finish(term, c, { failure: 'exited' }, logs);
        this.#apply(term, term.pool.runFinished(d.workerId, d.activationId, this.#now(), 'broken'));
      }, EXIT_GRACE_MS);
      return;
    }
    const timedOut = 'failure' in reply.answer && reply.answer.failure === 'timeout';
    this.#finish(term, c, reply.answer, logs);
    this.#apply(term, term.pool.runFinished(d.workerId, d.activationId, this.#now(), timedOut ? 'timeout' : 'answered'));
  }

  /** The activation of a call: recorded, stored (with its pending key's delete), its waiters answered. */
  #finish(term: Term, c: Call, answer: WorkerAnswer, logs: string[], phase: 'run' | 'init' = 'run'): void {
    term.calls.delete(c.pending.activationId);
    const { pending, spec } = c;
    const end = this.#now();
    const limits = spec ? { ...spec.limits } : { timeout: 0, memory: 0, logs: 0, concurrency: 0 };
    const activation = activationRecord({
      activationId: pending.activationId, namespace: pending.namespace, name: pending.name, version: pending.version, subject: pending.subject,
      kind: spec?.exec.kind ?? 'unknown', limits, start: c.start ?? end, end, waitMs: c.dispatch?.waitMs ?? end - pending.acceptedAt,
      ...(c.initMs !== undefined ? { initMs: c.initMs } : {}), cold: c.dispatch?.cold ?? 'warm', answer, phase, logs,
    });
    this.#metrics.finished(activation.response.status);
    this.#acts.set(activation.activationId, activation);
    this.#toStore.push(putActivationOp(activation));
    if (c.async) this.#toStore.push(deletePendingOp(pending.activationId));
    while (this.#acts.size > this.#opts.activationsKept) {
      const oldest = this.#acts.keys().next().value as string;
      this.#acts.delete(oldest);
      this.#toStore.push(deleteActivationOp(oldest));
    }
    this.#scheduleFlush(term, c.async ? 0 : FLUSH_MS);
    for (const w of c.waiters) w(activation);
  }

  /** Activation writes, batched: one write in flight at a time, the next gathering what finished meanwhile. */
  #scheduleFlush(term: Term, delayMs: number): void {
    if (this.#flushTimer && delayMs > 0) return;
    clearTimeout(this.#flushTimer);
    this.#flushTimer = setTimeout(() => {
      this.#flushTimer = undefined;
      void this.#flush(term);
    }, delayMs);
  }

  async #flush(term: Term): Promise<void> {
    if (this.#flushing) return; // the write in flight loops over what came meanwhile
    this.#flushing = true;
    try {
      while (this.#toStore.length && !term.signal.aborted) {
        // The last change of each key only: a store's transaction writes a key once, and an activation may be put and evicted in one batch.
        const byKey = new Map<string, StateOp>();
        for (const o of this.#toStore) {
          byKey.delete(o.key);
          byKey.set(o.key, o);
        }
        const ops = [...byKey.values()];
        this.#toStore = [];
        try {
          await writeAll(term.state, ops);
        } catch (err) {
          if (term.signal.aborted) return;
          this.#log.warn(`storing ${ops.length} activation changes failed (retried): ${String(err)}`);
          this.#toStore = [...ops, ...this.#toStore];
          this.#scheduleFlush(term, FLUSH_MS);
          return;
        }
      }
    } finally {
      this.#flushing = false;
    }
  }
}

/** What the pool needs of a function version; stems are per runtime and memory (`nodejs:256`), so a worker's cgroup limit is its function's. */
function poolSpec(key: string, rev: number, spec: FunctionSpec): FnSpec {
  return {
    name: key,
    version: rev,
    kind: `${runtimeOf(spec.exec.kind)}:${spec.limits.memory}`,
    concurrency: spec.limits.concurrency,
    maxWorkers: spec.scaling.maxWorkers,
    minWarm: spec.scaling.minWarm,
    idleMs: spec.scaling.idleTimeout * 1000,
  };
}
