/**
 * The worker pool driven through its events by a small simulated driver:
 * decisions are carried out (launches come up, inits finish, runs end, stops
 * end in workerGone) when the test says so, and invariants are checked after
 * every event.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WorkerPool, type Decisions, type Dispatch, type FnSpec, type PoolOptions, type StopReason } from '../../frameworks/functions/pool';

const spec = (over: Partial<FnSpec> = {}): FnSpec =>
  ({ name: 'hello', version: 1, kind: 'nodejs', concurrency: 1, maxWorkers: 8, minWarm: 0, idleMs: 600_000, ...over });

/** Carries out the pool's decisions and remembers them. */
class Sim {
  readonly pool: WorkerPool;
  now = 0;
  readonly launching = new Set<string>();
  /** Workers whose /init was sent and has not answered. */
  readonly initialising = new Set<string>();
  /** Activation → worker, dispatched and not finished. */
  readonly running = new Map<string, string>();
  readonly stopping = new Map<string, StopReason>();
  readonly dispatched: Dispatch[] = [];
  readonly failed: string[] = [];
  readonly rejected: { activationId: string; retryAfterSeconds: number }[] = [];
  readonly specs = new Map<string, FnSpec>();
  /** The version each worker was initialised with, and the function's generation (bumped when deleted): it must never serve another. */
  readonly workerFn = new Map<string, string>();
  readonly generation = new Map<string, number>();
  readonly deleted = new Set<string>();

  constructor(options: PoolOptions = {}) {
    this.pool = new WorkerPool(options);
  }

  define(s: FnSpec): Decisions {
    this.specs.set(s.name, s);
    return this.apply(this.pool.define(s, this.now));
  }
  invoke(name: string, activationId: string): Decisions {
    const s = this.specs.get(name)!;
    return this.apply(this.pool.invoke({ name, version: s.version }, activationId, this.now));
  }
  remove(name: string): Decisions {
    this.generation.set(name, (this.generation.get(name) ?? 0) + 1);
    const d = this.apply(this.pool.remove(name, this.now));
    for (const f of d.fail) this.deleted.add(f.activationId);
    return d;
  }
  up(id: string): Decisions {
    this.launching.delete(id);
    return this.apply(this.pool.workerUp(id, this.now));
  }
  initialised(id: string): Decisions {
    this.initialising.delete(id);
    return this.apply(this.pool.workerInitialised(id, this.now));
  }
  finish(activationId: string, outcome: 'answered' | 'timeout' = 'answered'): Decisions {
    const id = this.running.get(activationId)!;
    this.running.delete(activationId);
    return this.apply(this.pool.runFinished(id, activationId, this.now, outcome));
  }
  gone(id: string, reason = 'stopped'): Decisions {
    this.launching.delete(id);
    this.initialising.delete(id);
    this.stopping.delete(id);
    for (const [aid, w] of this.running) if (w === id) this.running.delete(aid);
    return this.apply(this.pool.workerGone(id, reason, this.now));
  }
  tick(ms: number): Decisions {
    this.now += ms;
    return this.apply(this.pool.tick(this.now));
  }

  /** Runs that may finish now: their worker's init answered. */
  finishable(): string[] {
    return [...this.running].filter(([, w]) => !this.initialising.has(w)).map(([aid]) => aid);
  }

  /** Everything started comes up, inits, finishes and stops, until quiet. */
  settle(): void {
    for (let guard = 0; guard < 10_000; guard++) {
      const next = [...this.launching][0] ?? [...this.initialising][0];
      if (next && this.launching.has(next)) this.up(next);
      else if (next) this.initialised(next);
      else if (this.finishable().length > 0) this.finish(this.finishable()[0]!);
      else if (this.stopping.size > 0) this.gone([...this.stopping.keys()][0]!);
      else return;
    }
    assert.fail('the pool never settled');
  }

  apply(d: Decisions): Decisions {
    for (const l of d.launch) this.launching.add(l.workerId);
    for (const i of d.init) {
      this.initialising.add(i.workerId);
      this.bind(i.workerId, i.fn);
    }
    for (const x of d.dispatch) {
      assert.ok(!this.dispatched.some((y) => y.activationId === x.activationId), `${x.activationId} dispatched twice`);
      assert.ok(!this.stopping.has(x.workerId), `${x.activationId} sent to ${x.workerId}, which is being stopped`);
      this.bind(x.workerId, x.fn);
      this.dispatched.push(x);
      this.running.set(x.activationId, x.workerId);
      if (x.cold !== 'warm') this.initialising.add(x.workerId);
    }
    for (const s of d.stop) this.stopping.set(s.workerId, s.reason);
    for (const f of d.fail) this.failed.push(f.activationId);
    if (d.rejected) this.rejected.push(d.rejected);
    this.checkInvariants();
    return d;
  }

  bind(workerId: string, ref: { name: string; version: number }): void {
    const fn = `${ref.name}@${ref.version}#${this.generation.get(ref.name) ?? 0}`;
    assert.equal(this.workerFn.get(workerId) ?? fn, fn, `${workerId} serves ${fn} after ${this.workerFn.get(workerId)}`);
    this.workerFn.set(workerId, fn);
  }

  checkInvariants(): void {
    const held = new Map<string, number>();
    for (const w of this.pool.workers()) {
      assert.ok(w.inflight <= w.concurrency, `${w.id} runs ${w.inflight} > concurrency ${w.concurrency}`);
      assert.equal(w.inflight, w.running.size);
      if (w.fn) held.set(w.fn.name, (held.get(w.fn.name) ?? 0) + 1);
    }
    for (const [name, n] of held) assert.ok(n <= this.specs.get(name)!.maxWorkers, `${name} holds ${n} workers > maxWorkers`);
  }

  workersOf(name: string): string[] {
    return this.pool.workers().filter((w) => w.fn?.name === name).map((w) => w.id);
  }
}

test('a burst of 200 from zero, concurrency 1, maxWorkers 8: at most 8 workers, each call dispatched once, in order', () => {
  const sim = new Sim({ stemTargets: { nodejs: 2 } });
  sim.define(spec({ queueLimit: 200 }));
  sim.settle(); // the two stems are up
  const ids = Array.from({ length: 200 }, (_, i) => `a${i}`);
  for (const id of ids) sim.invoke('hello', id);
  // 2 stems specialised at once, 6 launched from nothing (8 − 2), 192 held
  assert.deepEqual(sim.dispatched.map((d) => d.cold), ['pool', 'pool']);
  assert.equal(sim.pool.queued({ name: 'hello', version: 1 }), 198);
  sim.settle();
  assert.deepEqual(sim.dispatched.map((d) => d.activationId), ids, 'every call once, first in first out');
  assert.deepEqual(sim.rejected, []);
  assert.deepEqual(sim.failed, []);
  assert.equal(new Set(sim.dispatched.map((d) => d.workerId)).size, 8, 'eight workers served them all');
  const cold = (c: string) => sim.dispatched.filter((d) => d.cold === c).length;
  assert.deepEqual([cold('pool'), cold('none'), cold('warm')], [2, 6, 192]);
  assert.equal(sim.pool.workers().filter((w) => w.state === 'stem').length, 2, 'the stem pool refilled');
});

test('a call during a cold start is held and goes to the starting worker, never failed', () => {
  const sim = new Sim({ stemTargets: {} });
  sim.define(spec({ maxWorkers: 1 }));
  const d = sim.invoke('hello', 'a1');
  assert.equal(d.launch.length, 1);
  sim.invoke('hello', 'a2');
  assert.equal(sim.launching.size, 1, 'maxWorkers 1: one launch only');
  const w = [...sim.launching][0]!;
  assert.deepEqual(sim.up(w).dispatch.map((x) => [x.activationId, x.cold]), [['a1', 'none']]);
  assert.deepEqual(sim.initialised(w).dispatch, [], 'a2 waits for a1: concurrency 1');
  assert.deepEqual(sim.finish('a1').dispatch.map((x) => [x.activationId, x.workerId, x.cold]), [['a2', w, 'warm']]);
});

test('a stem is specialised on the first call (cold pool) and counts toward maxWorkers only then', () => {
  const sim = new Sim({ stemTargets: { nodejs: 2 } });
  sim.define(spec({ maxWorkers: 1 }));
  sim.settle();
  const d = sim.invoke('hello', 'a1');
  assert.equal(d.dispatch[0]!.cold, 'pool');
  assert.deepEqual(d.launch.map((l) => [l.kind, l.forFn]), [['nodejs', undefined]], 'the pool refills with a stem');
  sim.invoke('hello', 'a2');
  assert.equal(sim.pool.queued({ name: 'hello', version: 1 }), 1, 'one stem is still free, but maxWorkers 1 is reached');
  assert.equal(sim.workersOf('hello').length, 1);
});

test('scale to zero after the idle time; the next call is a cold start', () => {
  const sim = new Sim({ stemTargets: { nodejs: 1 } });
  sim.define(spec({ idleMs: 600_000 }));
  sim.settle();
  sim.invoke('hello', 'a1');
  sim.settle();
  const w = sim.workersOf('hello')[0]!;
  assert.deepEqual(sim.tick(599_999).stop, [], 'idle one ms short of 10 minutes');
  assert.deepEqual(sim.tick(1).stop, [{ workerId: w, reason: 'idle' }]);
  sim.settle();
  assert.deepEqual(sim.workersOf('hello'), [], 'no worker of the function left');
  assert.equal(sim.invoke('hello', 'a2').dispatch[0]!.cold, 'pool');
});

test('minWarm workers are initialised without a call and survive the idle time', () => {
  const sim = new Sim({ stemTargets: {} });
  const d = sim.define(spec({ minWarm: 2, idleMs: 1000 }));
  assert.equal(d.launch.filter((l) => l.forFn).length, 2);
  sim.settle();
  assert.equal(sim.pool.workers().filter((w) => w.state === 'ready').length, 2);
  for (const id of ['a1', 'a2', 'a3']) sim.invoke('hello', id);
  sim.settle();
  assert.equal(sim.dispatched.filter((x) => x.cold === 'warm').length, 2, 'two calls found warm workers');
  assert.equal(sim.tick(1000).stop.length, 1, 'three ready, two kept');
  sim.settle();
  assert.deepEqual(sim.tick(60_000).stop, []);
  assert.equal(sim.workersOf('hello').length, 2);
});

test('a new version: the old version\'s idle workers stop at once, busy ones when done; calls go to the new code', () => {
  const sim = new Sim({ stemTargets: {} });
  sim.define(spec({ maxWorkers: 4 }));
  sim.invoke('hello', 'a1');
  sim.invoke('hello', 'a2');
  sim.settle();
  sim.invoke('hello', 'a3'); // busy on a v1 worker
  const busy = sim.running.get('a3')!;
  const idle = sim.workersOf('hello').find((w) => w !== busy)!;
  assert.deepEqual(sim.define(spec({ version: 2, maxWorkers: 4 })).stop, [{ workerId: idle, reason: 'old version' }]);
  const d = sim.invoke('hello', 'b1');
  assert.notEqual(d.dispatch[0]?.workerId, busy);
  assert.deepEqual(sim.finish('a3').stop, [{ workerId: busy, reason: 'old version' }]);
  sim.settle();
  assert.deepEqual(sim.dispatched.filter((x) => x.fn.version === 2).map((x) => x.activationId), ['b1']);
  assert.ok(sim.pool.workers().every((w) => w.fn?.version !== 1));
});

test('a deleted function: queued calls fail, its workers stop; re-created, it never runs on them', () => {
  const sim = new Sim({ stemTargets: {} });
  sim.define(spec({ maxWorkers: 1 }));
  sim.invoke('hello', 'a1');
  sim.settle();
  const old = sim.workersOf('hello')[0]!;
  sim.invoke('hello', 'a2'); // running on the old worker
  sim.invoke('hello', 'a3'); // queued
  const d = sim.remove('hello');
  assert.deepEqual(d.fail, [{ activationId: 'a3', cause: 'function deleted' }]);
  assert.deepEqual(d.stop, [], 'a2 finishes first');
  sim.define(spec({ maxWorkers: 2 })); // re-created, same name and version number
  const again = sim.invoke('hello', 'b1');
  assert.equal(again.dispatch.length, 0);
  assert.equal(again.launch.length, 1, 'a fresh worker, the old one draining counts toward maxWorkers 2');
  assert.deepEqual(sim.finish('a2').stop, [{ workerId: old, reason: 'function deleted' }]);
  sim.settle();
  assert.notEqual(sim.dispatched.find((x) => x.activationId === 'b1')!.workerId, old);
});

test('a run that timed out recycles its worker; the next call gets a fresh one', () => {
  const sim = new Sim({ stemTargets: { nodejs: 1 } });
  sim.define(spec());
  sim.settle();
  sim.invoke('hello', 'a1');
  sim.initialised(sim.running.get('a1')!);
  const w = sim.running.get('a1')!;
  assert.deepEqual(sim.finish('a1', 'timeout').stop, [{ workerId: w, reason: 'recycle after timeout' }]);
  const d = sim.invoke('hello', 'a2');
  assert.notEqual(d.dispatch[0]?.workerId, w);
});

test('a worker that dies fails what it was running; the pool replaces it', () => {
  const sim = new Sim({ stemTargets: {} });
  sim.define(spec({ maxWorkers: 1 }));
  sim.invoke('hello', 'a1');
  sim.invoke('hello', 'a2');
  const w = [...sim.launching][0]!;
  sim.up(w);
  const d = sim.gone(w, 'memory limit');
  assert.deepEqual(d.fail, [{ activationId: 'a1', cause: 'worker gone', detail: 'memory limit' }]);
  assert.equal(d.launch.length, 1, 'a2 is still held and gets a new worker');
  sim.settle();
  assert.deepEqual(sim.dispatched.map((x) => x.activationId), ['a1', 'a2']);
});

test('a full queue rejects with Retry-After from the expected drain time', () => {
  const sim = new Sim({ stemTargets: {} });
  sim.define(spec({ maxWorkers: 1, queueLimit: 3 }));
  for (const id of ['a1', 'a2', 'a3']) sim.invoke('hello', id);
  // nothing measured yet: 3 queued × 1000 ms assumed / 1 slot = 3 s
  assert.deepEqual(sim.invoke('hello', 'a4').rejected, { activationId: 'a4', retryAfterSeconds: 3 });
  sim.up([...sim.launching][0]!);
  sim.initialised(sim.running.get('a1')!);
  sim.now += 4000;
  sim.finish('a1'); // a run took 4 s; a2 runs, a3 queued
  sim.invoke('hello', 'a5');
  sim.invoke('hello', 'a6');
  // 3 queued × 4000 ms / (1 worker × concurrency 1) = 12 s
  assert.deepEqual(sim.invoke('hello', 'a7').rejected, { activationId: 'a7', retryAfterSeconds: 12 });
  assert.equal(sim.pool.queued({ name: 'hello', version: 1 }), 3, 'a rejected call is not held');
});

test('an activation id invoked twice (a retry after failover) is held once', () => {
  const sim = new Sim({ stemTargets: {} });
  sim.define(spec());
  sim.invoke('hello', 'a1');
  sim.invoke('hello', 'a1');
  assert.equal(sim.pool.queued({ name: 'hello', version: 1 }), 1);
});

test('seeded random events: nothing lost or dispatched twice, in order per version, within maxWorkers and concurrency', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const rng = mulberry32(seed);
    const pick = <T>(xs: T[]): T | undefined => xs[Math.floor(rng() * xs.length)];
    const sim = new Sim({ stemTargets: { nodejs: 1, command: 1 } });
    sim.define(spec({ name: 'f', concurrency: 1, maxWorkers: 3, queueLimit: 20, idleMs: 5000 }));
    sim.define(spec({ name: 'g', kind: 'command', concurrency: 3, maxWorkers: 2, minWarm: 1, queueLimit: 20, idleMs: 5000 }));
    const invoked = new Map<string, string[]>(); // name@version → activation ids in invoke order
    let n = 0;
    for (let step = 0; step < 3000; step++) {
      const r = rng();
      if (r < 0.3) {
        const name = pick(['f', 'g'])!;
        const id = `${seed}-${++n}`;
        const d = sim.invoke(name, id);
        if (!d.rejected) invoked.set(`${name}@${sim.specs.get(name)!.version}`, [...(invoked.get(`${name}@${sim.specs.get(name)!.version}`) ?? []), id]);
      } else if (r < 0.45) {
        const w = pick([...sim.launching]);
        if (w) sim.up(w);
      } else if (r < 0.6) {
        const w = pick([...sim.initialising]);
        if (w) sim.initialised(w);
      } else if (r < 0.85) {
        const a = pick(sim.finishable());
        if (a) sim.finish(a, rng() < 0.05 ? 'timeout' : 'answered');
      } else if (r < 0.88) {
        const w = pick(sim.pool.workers().map((x) => x.id));
        if (w) sim.gone(w, 'crashed');
      } else if (r < 0.95) {
        const w = pick([...sim.stopping.keys()]);
        if (w) sim.gone(w);
      } else if (r < 0.99) {
        sim.tick(Math.floor(rng() * 3000));
      } else if (r < 0.993) {
        const name = pick(['f', 'g'])!;
        sim.remove(name);
        sim.define(sim.specs.get(name)!); // re-created: the same name and version, new code
      } else {
        const name = pick(['f', 'g'])!;
        const s = sim.specs.get(name)!;
        sim.define({ ...s, version: s.version + 1 });
      }
    }
    sim.settle();
    const byKey = new Map<string, string[]>();
    for (const ids of invoked.values()) ids.splice(0, ids.length, ...ids.filter((a) => !sim.deleted.has(a)));
    for (const d of sim.dispatched) byKey.set(`${d.fn.name}@${d.fn.version}`, [...(byKey.get(`${d.fn.name}@${d.fn.version}`) ?? []), d.activationId]);
    assert.deepEqual(byKey, new Map([...invoked].filter(([, ids]) => ids.length > 0)), `seed ${seed}: every accepted call dispatched once, in order`);
    for (const [name, s] of sim.specs) assert.equal(sim.pool.queued(s), 0, `seed ${seed}: ${name} queue drained`);
    assert.ok(sim.failed.every((a) => sim.deleted.has(a) || sim.dispatched.some((d) => d.activationId === a)), 'only dispatched calls fail (their worker went), or deleted ones');
    const g = sim.specs.get('g')!;
    const warmG = sim.pool.workers().filter((w) => w.state === 'ready' && w.fn?.name === 'g' && w.fn.version === g.version);
    assert.ok(warmG.length >= g.minWarm, `seed ${seed}: g keeps minWarm ${g.minWarm} of its latest version warm, has ${warmG.length}`);
  }
});

/** A small seeded PRNG (mulberry32), so a failing seed replays exactly. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('stems are kept only for kinds some function uses: none on an idle pool, none left once the last function of the kind is removed', () => {
  const pool = new WorkerPool({ stemTargets: { 'nodejs:256': 2, 'command:256': 2 } });
  assert.deepEqual(pool.tick(0).launch, [], 'no function: no stems');
  const defined = pool.define({ ...spec(), kind: 'nodejs:256' }, 0);
  assert.deepEqual(defined.launch.map((l) => l.kind), ['nodejs:256', 'nodejs:256'], 'a nodejs function: its kind\'s stems, no command stems');
  for (const l of defined.launch) pool.workerUp(l.workerId, 1);
  const removed = pool.remove('hello', 2);
  assert.deepEqual(removed.launch, []);
  assert.deepEqual(removed.stop.map((s) => s.reason), ['idle', 'idle'], 'the last nodejs function gone: its stems stop');
});

test('a call that finds its kind\'s stems still starting waits for one instead of launching a worker from nothing', () => {
  const pool = new WorkerPool({ stemTargets: { 'nodejs:256': 2 } });
  const stems = pool.define({ ...spec(), kind: 'nodejs:256' }, 0).launch;
  assert.equal(stems.length, 2);
  const invoked = pool.invoke({ name: 'hello', version: 1 }, 'a1', 1);
  assert.deepEqual([invoked.launch, invoked.dispatch], [[], []], 'held for a starting stem: nothing launched for it');
  const up = pool.workerUp(stems[0]!.workerId, 50);
  assert.deepEqual(up.dispatch.map((d) => [d.activationId, d.workerId, d.cold, d.waitMs]), [['a1', stems[0]!.workerId, 'pool', 49]]);
  assert.deepEqual(up.launch.map((l) => l.kind), ['nodejs:256'], 'the stem taken is replaced');
});
