import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BATCH_BACKOFF, SERVICE_BACKOFF, backoffSeconds, reconcile, taskIdOf, ReconcileInputError } from '../../frameworks/foundation';
import { Sim, batch, service } from './reconciler-harness';

const three = [{ name: 'a1', cpus: 4, mem: 4096 }, { name: 'a2', cpus: 4, mem: 4096 }, { name: 'a3', cpus: 4, mem: 4096 }];

describe('reconciler: placement', () => {
  it('UNIQUE hostname over 3 agents: one per agent, the 4th instance waits with its reason counted per offer', () => {
    const sim = new Sim(three, [service({ count: 4, constraints: [['hostname', 'UNIQUE']] })]);
    const plan = sim.round();
    assert.deepEqual(plan.launches.map((l) => l.agentId), ['agent-a1', 'agent-a2', 'agent-a3']);
    // Each agent still has 3 cpus free, but each already runs one: all 3 offers refuse instance 3.
    assert.deepEqual(plan.waiting, [{ group: '/web', version: 'v1', instance: 3, reasons: { 'constraint hostname:UNIQUE': 3 } }]);
    sim.startAll();
    const again = sim.round();
    assert.equal(again.launches.length, 0);
    assert.deepEqual(again.waiting[0]?.reasons, { 'constraint hostname:UNIQUE': 3 });
  });

  it('GROUP_BY rack spreads evenly: 6 instances over 3 racks, 2 each', () => {
    const racks = ['r1', 'r1', 'r2', 'r2', 'r3', 'r3'].map((rack, i) => ({ name: `a${i}`, cpus: 8, mem: 8192, attrs: { rack } }));
    const sim = new Sim(racks, [service({ count: 6, constraints: [['rack', 'GROUP_BY', '3']] })]);
    const plan = sim.round();
    const perRack = new Map<string, number>();
    for (const r of plan.launches.flatMap((l) => l.records)) {
      const rack = r.attributes!.find((a) => a.name === 'rack')!.text!;
      perRack.set(rack, (perRack.get(rack) ?? 0) + 1);
    }
    assert.deepEqual(Object.fromEntries(perRack), { r1: 2, r2: 2, r3: 2 });
    assert.deepEqual(plan.waiting, []);
  });

  it('not enough cpus: every instance waits with `cpus` counted once per offer', () => {
    const small = three.map((a) => ({ ...a, cpus: 1 }));
    const plan = new Sim(small, [service({ count: 2, resources: { cpus: 2, mem: 128 } })]).round();
    assert.equal(plan.launches.length, 0);
    assert.deepEqual(plan.waiting.map((w) => w.reasons), [{ cpus: 3 }, { cpus: 3 }]);
    assert.deepEqual(plan.unused.length, 3);
  });

  it('an offer may fail several checks; each is counted, and no offers at all says so', () => {
    const g = service({ resources: { cpus: 8, mem: 9000, ports: 2 }, role: 'prod' });
    const plan = new Sim([{ name: 'a1', cpus: 1, mem: 512 }], [g]).round();
    assert.deepEqual(plan.waiting[0]?.reasons, { role: 1, cpus: 1, mem: 1, ports: 1 });
    assert.deepEqual(reconcile({ groups: [g], tasks: [], offers: [], now: 0 }).waiting[0]?.reasons, { 'no offers': 1 });
  });

  it('exact ports: each instance gets exactly them; an offer without them, or whose ports a task holds, is refused with `ports`', () => {
    const agents = [{ name: 'a1', cpus: 4, mem: 4096, ports: [8000, 8100] as [number, number] }, { name: 'a2', cpus: 4, mem: 4096, ports: [31000, 31999] as [number, number] }];
    const sim = new Sim(agents, [service({ count: 2, resources: { cpus: 1, mem: 128, ports: [8080, 8001] } })]);
    const plan = sim.round();
    assert.deepEqual(plan.launches.map((l) => l.agentId), ['agent-a1']);
    const env = plan.launches[0]!.tasks[0]!.command?.environment;
    assert.deepEqual([env?.PORT0, env?.PORT1, env?.PORTS], ['8080', '8001', '8080,8001']);
    // a1 still has cpus and ports 8000-8100, but not 8080 and 8001 any more; a2 never had them.
    assert.deepEqual(plan.waiting, [{ group: '/web', version: 'v1', instance: 1, reasons: { ports: 2 } }]);
    sim.startAll();
    assert.deepEqual(sim.round().waiting[0]?.reasons, { ports: 2 });
  });

  it('exact ports named twice are refused as bad input', () => {
    const g = service({ resources: { cpus: 1, ports: [8080, 8080] } });
    assert.throws(() => reconcile({ groups: [g], tasks: [], offers: [], now: 0 }), (e: Error) => e instanceof ReconcileInputError && /groups\[0\]\.resources\.ports/.test(e.message));
  });

  it('roles: only offers allocated to one of them are used (`*` for an offer with none); the rest refused with `role`', () => {
    const agents = [{ name: 'a1', cpus: 1, mem: 512, role: 'prod' }, { name: 'a2', cpus: 4, mem: 4096, role: 'dev' }, { name: 'a3', cpus: 4, mem: 4096, role: '' }];
    const plan = new Sim(agents, [service({ count: 2, roles: ['prod'] })]).round();
    assert.deepEqual(plan.launches.map((l) => l.agentId), ['agent-a1']);
    assert.deepEqual(plan.waiting[0]?.reasons, { cpus: 1, role: 2 });
    const unreserved = new Sim(agents, [service({ count: 2, roles: ['*', 'prod'] })]).round();
    assert.deepEqual(unreserved.launches.map((l) => l.agentId), ['agent-a1', 'agent-a3']);
    // `role` and `roles` together: an offer must pass both.
    const both = new Sim(agents, [service({ count: 1, role: 'dev', roles: ['prod'] })]).round();
    assert.deepEqual(both.waiting[0]?.reasons, { role: 3 });
  });

  it('launches carry deterministic ids, assigned ports in the env, and consume the offer', () => {
    const sim = new Sim([{ name: 'a1', cpus: 2, mem: 1024, ports: [31000, 31009] }], [service({ count: 3, resources: { cpus: 1, mem: 128, ports: 1 } })]);
    const plan = sim.round();
    const tasks = plan.launches[0]!.tasks;
    assert.deepEqual(tasks.map((t) => t.taskId), ['web.v1.0.1', 'web.v1.1.1']); // 2 cpus: the third waits
    assert.deepEqual(tasks.map((t) => t.command?.environment?.PORT0), ['31000', '31001']);
    assert.deepEqual(plan.waiting.map((w) => w.reasons), [{ cpus: 1 }]);
    assert.equal(taskIdOf('/web/api', '2026-11-28T11:00:00.000Z', 0, 1), 'web_api.2026-11-28T11:00:00_000Z.0.1');
  });
});

describe('reconciler: services', () => {
  it('crash loop: delays 1, 1.15, 1.3225 … s capped at 300 s, exact on the injected clock', () => {
    const sim = new Sim(three.slice(0, 1), [service()]);
    const delays: number[] = [];
    for (let n = 1; n <= 45; n++) {
      const [id] = sim.launchedIds(sim.round());
      assert.ok(id, `attempt ${n} launched`);
      assert.equal(id, `web.v1.0.${n}`);
      sim.report(id, 'TASK_RUNNING');
      sim.now += 100;
      sim.report(id, 'TASK_FAILED');
      const ended = sim.now;
      const wait = sim.round();
      assert.equal(wait.launches.length, 0);
      const until = wait.waiting[0]!.backoffUntil!;
      assert.deepEqual(wait.waiting[0]!.reasons, { backoff: 1 });
      const delay = backoffSeconds(SERVICE_BACKOFF, n);
      assert.equal(until, ended + delay * 1000, `attempt ${n}`);
      delays.push(delay);
      sim.now = until - 1; // one ms early: still waiting
      assert.equal(sim.round().launches.length, 0);
      sim.now = until;
    }
    // 1 · 1.15^(n-1): 1, 1.15, 1.3225, 1.520875 (to floating point).
    [1, 1.15, 1.3225, 1.520875].forEach((want, i) => assert.ok(Math.abs(delays[i]! - want) < 1e-12, `delay ${i + 1}: ${delays[i]}`));
    // 1.15^40 ≈ 267.9, 1.15^41 ≈ 308.1: the 42nd delay is the first capped.
    assert.ok(delays[40]! < 300);
    assert.deepEqual(delays.slice(41), [300, 300, 300, 300]);
  });

  it('a task that ran longer than the cap before failing starts the delay afresh', () => {
    const sim = new Sim(three.slice(0, 1), [service()]);
    const [first] = sim.launchedIds(sim.round());
    sim.report(first!, 'TASK_FAILED');
    sim.now += 1000;
    const [second] = sim.launchedIds(sim.round());
    sim.report(second!, 'TASK_RUNNING');
    sim.now += 300_000;
    sim.report(second!, 'TASK_FAILED');
    assert.equal(sim.round().waiting[0]!.backoffUntil, sim.now + 1000);
  });

  it('LOST is replaced once, never twice, and without backoff', () => {
    const sim = new Sim(three, [service()]);
    const [first] = sim.launchedIds(sim.round());
    sim.report(first!, 'TASK_RUNNING');
    sim.report(first!, 'TASK_LOST');
    assert.deepEqual(sim.launchedIds(sim.round()), ['web.v1.0.2']);
    assert.deepEqual(sim.launchedIds(sim.round()), []); // pending, not reported yet
    sim.startAll();
    const plan = sim.round();
    assert.deepEqual([plan.launches, plan.kills, plan.waiting], [[], [], []]);
  });

  it('a pending launch is not launched again before its update; after the launch timeout it is killed and replaced', () => {
    const sim = new Sim(three, [service({ count: 2 })]);
    assert.equal(sim.launchedIds(sim.round()).length, 2);
    sim.now += 299_999;
    const pending = sim.round();
    assert.deepEqual([pending.launches, pending.kills], [[], []]);
    assert.equal(pending.summaries[0]!.active, 2);
    sim.now += 1;
    const timedOut = sim.round();
    assert.deepEqual(timedOut.kills.map((k) => [k.taskId, k.reason]), [['web.v1.0.1', 'launch timed out'], ['web.v1.1.1', 'launch timed out']]);
    assert.deepEqual(sim.launchedIds(timedOut), ['web.v1.0.2', 'web.v1.1.2']);
  });

  it('scale down kills YOUNGEST_FIRST, or OLDEST_FIRST when asked', () => {
    for (const [selection, want] of [['YOUNGEST_FIRST', ['web.v1.2.1', 'web.v1.1.1']], ['OLDEST_FIRST', ['web.v1.0.1', 'web.v1.1.1']]] as const) {
      const sim = new Sim(three, [service({ count: 3, killSelection: selection })]);
      sim.round();
      // Started one second apart: instance 0 is the oldest, instance 2 the youngest.
      for (const r of sim.tasks()) {
        sim.now += 1000;
        sim.report(r.taskId, 'TASK_RUNNING');
      }
      sim.groups = [service({ count: 1, killSelection: selection })];
      const plan = sim.round();
      assert.deepEqual(plan.kills.map((k) => k.taskId), want, selection);
      assert.ok(plan.kills.every((k) => k.reason === 'scale down'));
      assert.equal(sim.live().length, 1);
      assert.deepEqual(sim.round().kills, [], `${selection}: killed once`);
    }
  });

  it('scale down takes tasks not yet running before running ones', () => {
    const sim = new Sim(three, [service({ count: 2 })]);
    const [a] = sim.launchedIds(sim.round());
    sim.report(a!, 'TASK_RUNNING');
    sim.groups = [service({ count: 1 })];
    assert.deepEqual(sim.round().kills.map((k) => k.taskId), ['web.v1.1.1']);
  });

  it('unreachable: counted until inactiveAfterSeconds, replaced after, killed at expunge; a returning duplicate is killed', () => {
    const unreachable = { inactiveAfterSeconds: 60, expungeAfterSeconds: 600 };
    const sim = new Sim(three, [service({ unreachable })]);
    const [first] = sim.launchedIds(sim.round());
    sim.report(first!, 'TASK_RUNNING');
    sim.report(first!, 'TASK_UNREACHABLE');
    sim.now += 59_999;
    assert.deepEqual(sim.launchedIds(sim.round()), []);
    sim.now += 1;
    assert.deepEqual(sim.launchedIds(sim.round()), ['web.v1.0.2']);
    sim.report('web.v1.0.2', 'TASK_RUNNING');
    sim.report(first!, 'TASK_RUNNING'); // the agent came back
    assert.deepEqual(sim.round().kills.map((k) => [k.taskId, k.reason]), [['web.v1.0.2', 'duplicate instance']]);

    const lost = new Sim(three, [service({ unreachable })]);
    const [t] = lost.launchedIds(lost.round());
    lost.report(t!, 'TASK_UNREACHABLE');
    lost.now += 600_000;
    assert.deepEqual(lost.round().kills.map((k) => [k.taskId, k.reason]), [['web.v1.0.1', 'unreachable expunged']]);
  });

  it('maxOverCapacity 0: a singleton is not replaced while its unreachable task may still run, then is at expunge', () => {
    const g = service({ maxOverCapacity: 0, unreachable: { inactiveAfterSeconds: 0, expungeAfterSeconds: 600 } });
    const sim = new Sim(three, [g]);
    const [first] = sim.launchedIds(sim.round());
    sim.report(first!, 'TASK_RUNNING');
    sim.report(first!, 'TASK_UNREACHABLE');
    sim.now += 599_999;
    const held = sim.round();
    assert.deepEqual([held.launches, held.waiting.map((w) => w.reasons)], [[], [{ 'max over-capacity': 1 }]]);
    sim.now += 1;
    const expunged = sim.round(); // the kill ends it (in the harness, at once) ...
    assert.deepEqual(expunged.kills.map((k) => k.reason), ['unreachable expunged']);
    assert.deepEqual(sim.launchedIds(sim.round()), ['web.v1.0.2']); // ... and the next round replaces it
    // Without the bound the replacement goes at once (inactiveAfterSeconds 0).
    const free = new Sim(three, [{ ...g, maxOverCapacity: undefined }]);
    free.round();
    free.report('web.v1.0.1', 'TASK_UNREACHABLE');
    assert.deepEqual(free.launchedIds(free.round()), ['web.v1.0.2']);
  });

  it('versions are first-class: keep N of A and M of B, kill versions nobody asks for', () => {
    const sim = new Sim(three, [service({ version: 'A', count: 2 })]);
    sim.round();
    sim.startAll();
    sim.groups = [service({ version: 'A', count: 1 }), service({ version: 'B', count: 1 })];
    const plan = sim.round();
    assert.deepEqual(plan.kills.map((k) => k.reason), ['scale down']);
    assert.deepEqual(sim.launchedIds(plan), ['web.B.0.1']);
    sim.groups = [service({ version: 'B', count: 1 })];
    assert.deepEqual(sim.round().kills.map((k) => [k.taskId, k.reason]), [['web.A.0.1', 'not desired']]);
  });
});

describe('reconciler: batch', () => {
  it('runs to completion: finished instances are not relaunched, failed ones retried with 10 s doubling up to maxRetries', () => {
    const sim = new Sim(three, [batch({ count: 2, maxRetries: 1 })]);
    assert.deepEqual(sim.launchedIds(sim.round()), ['job-run-1.v1.0.1', 'job-run-1.v1.1.1']);
    sim.report('job-run-1.v1.0.1', 'TASK_FINISHED');
    sim.report('job-run-1.v1.1.1', 'TASK_FAILED');
    const wait = sim.round();
    assert.deepEqual(wait.waiting.map((w) => [w.instance, w.backoffUntil]), [[1, sim.now + BATCH_BACKOFF.initialSeconds * 1000]]);
    sim.now += 10_000;
    assert.deepEqual(sim.launchedIds(sim.round()), ['job-run-1.v1.1.2']);
    sim.report('job-run-1.v1.1.2', 'TASK_FAILED');
    const done = sim.round();
    assert.deepEqual([done.launches, done.waiting], [[], []]);
    assert.deepEqual(done.summaries, [{ group: 'job-run-1', version: 'v1', active: 0, succeeded: 1, failed: 1 }]);
  });

  it('retries back off 10, 20, 40 … s, capped at 6 minutes; LOST retries at once and does not count', () => {
    assert.deepEqual([1, 2, 3, 6, 7].map((n) => backoffSeconds(BATCH_BACKOFF, n)), [10, 20, 40, 320, 360]);
    const sim = new Sim(three, [batch({ maxRetries: 0 })]);
    sim.round();
    sim.report('job-run-1.v1.0.1', 'TASK_LOST');
    assert.deepEqual(sim.launchedIds(sim.round()), ['job-run-1.v1.0.2']);
    sim.report('job-run-1.v1.0.2', 'TASK_FINISHED');
    assert.deepEqual(sim.round().summaries[0], { group: 'job-run-1', version: 'v1', active: 0, succeeded: 1, failed: 0 });
  });

  it('TASK_ERROR fails the instance at once: an invalid task is not retried', () => {
    const sim = new Sim(three, [batch({ maxRetries: 5 })]);
    sim.round();
    sim.report('job-run-1.v1.0.1', 'TASK_ERROR');
    const plan = sim.round();
    assert.deepEqual([plan.launches, plan.waiting, plan.summaries[0]!.failed], [[], [], 1]);
  });
});

describe('reconciler: parallelism and gangs', () => {
  it('parallelism: at most that many instances live at once; the rest wait with reason parallelism, each index once', () => {
    const sim = new Sim(three, [batch({ count: 5, parallelism: 2 })]);
    const first = sim.round();
    assert.deepEqual(sim.launchedIds(first), ['job-run-1.v1.0.1', 'job-run-1.v1.1.1']);
    assert.deepEqual(first.waiting.map((w) => [w.instance, w.reasons]), [[2, { parallelism: 1 }], [3, { parallelism: 1 }], [4, { parallelism: 1 }]]);
    sim.startAll();
    sim.report('job-run-1.v1.0.1', 'TASK_FINISHED');
    assert.deepEqual(sim.launchedIds(sim.round()), ['job-run-1.v1.2.1'], 'a finished slot goes to the next index');
    for (const id of ['job-run-1.v1.1.1', 'job-run-1.v1.2.1']) sim.report(id, 'TASK_FINISHED');
    assert.deepEqual(sim.launchedIds(sim.round()), ['job-run-1.v1.3.1', 'job-run-1.v1.4.1']);
  });

  it('a parallelism that is not a whole number ≥ 1 is refused as bad input', () => {
    assert.throws(() => reconcile({ groups: [batch({ parallelism: 0 })], tasks: [], offers: [], now: 0 }), /groups\[0\]\.parallelism: must be a whole number ≥ 1; got 0/);
  });

  it('a gang of 4 on room for 3 launches nothing and says why; with room for 4 all start in one round', () => {
    const small = [{ name: 'h1', cpus: 2, mem: 1024 }, { name: 'h2', cpus: 1, mem: 1024 }];
    const sim = new Sim(small, [batch({ count: 4, gang: true })]);
    const none = sim.round();
    assert.deepEqual(none.launches, []);
    assert.equal(none.waiting.length, 4);
    for (const w of none.waiting) assert.equal(w.reasons['gang: 3 of 4 placeable'], 1, JSON.stringify(w.reasons));
    assert.deepEqual(none.waiting.find((w) => w.instance === 3)?.reasons, { cpus: 2, 'gang: 3 of 4 placeable': 1 }, 'the one that did not fit says what it lacked');
    assert.deepEqual(none.unused.length, 2, 'the offers go back whole');
    sim.agents.push({ name: 'h3', cpus: 1, mem: 1024 });
    assert.equal(sim.launchedIds(sim.round()).length, 4);
  });

  it('without gang the same cluster starts 3 of 4 and the 4th waits', () => {
    const sim = new Sim([{ name: 'h1', cpus: 2, mem: 1024 }, { name: 'h2', cpus: 1, mem: 1024 }], [batch({ count: 4 })]);
    const plan = sim.round();
    assert.equal(sim.launchedIds(plan).length, 3);
    assert.deepEqual(plan.waiting.map((w) => w.reasons), [{ cpus: 2 }]);
  });
});

describe('reconciler: contract', () => {
  it('is deterministic: the same input gives the same plan, whatever the order of the task records', () => {
    const sim = new Sim(three, [service({ count: 3, constraints: [['hostname', 'UNIQUE']] }), batch({ count: 2 })]);
    sim.round();
    sim.startAll();
    sim.report('web.v1.1.1', 'TASK_FAILED');
    sim.groups = [service({ count: 4, constraints: [['hostname', 'UNIQUE']] }), batch({ count: 2 })];
    const input = { groups: sim.groups, tasks: sim.tasks(), offers: sim.offers(), now: sim.now };
    const a = reconcile(input);
    assert.deepEqual(reconcile(structuredClone(input)), a);
    assert.deepEqual(reconcile({ ...input, tasks: [...input.tasks].reverse() }), a);
  });

  it('holds its invariants over 300 random rounds: no id launched twice, no agent over-committed, never more than count live, UNIQUE kept', () => {
    let seed = 42; // a fixed LCG, so a failure replays
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const agents = ['a1', 'a2', 'a3', 'a4'].map((name) => ({ name, cpus: 3, mem: 2048 }));
    const groupsFor = (web: number, api: number) => [
      service({ count: web, constraints: [['hostname', 'UNIQUE']] }),
      service({ id: '/api', count: api, resources: { cpus: 0.5, mem: 256 } }),
    ];
    const sim = new Sim(agents, groupsFor(3, 4)); // the harness throws if a task id is launched twice
    const ends = ['TASK_FAILED', 'TASK_LOST', 'TASK_FINISHED', 'TASK_KILLED'] as const;
    for (let round = 0; round < 300; round++) {
      sim.now += Math.floor(random() * 5000);
      if (random() < 0.1) sim.groups = groupsFor(Math.floor(random() * 6), Math.floor(random() * 8));
      for (const r of sim.live()) {
        const x = random();
        if (x < 0.3 && r.state === 'TASK_STAGING') sim.report(r.taskId, 'TASK_RUNNING');
        else if (x < 0.38) sim.report(r.taskId, ends[Math.floor(random() * ends.length)]!);
      }
      sim.round();
      for (const o of sim.offers()) for (const res of o.resources ?? []) assert.ok(Number(res.scalar ?? 0) >= -1e-9, `round ${round}: ${o.agentId} over-committed`);
      for (const g of sim.groups) {
        const live = sim.live().filter((r) => r.group === g.id);
        assert.ok(live.length <= g.count, `round ${round}: ${g.id} has ${live.length} live, count ${g.count}`);
        if (g.id === '/web') assert.equal(new Set(live.map((r) => r.hostname)).size, live.length, `round ${round}: UNIQUE broken`);
      }
    }
    assert.ok(sim.records.size > 100, `the run exercised replacements: ${sim.records.size} tasks launched`);
  });

  it('refuses a group asked for twice or a bad count, naming it', () => {
    assert.throws(() => reconcile({ groups: [service(), service()], tasks: [], offers: [], now: 0 }), (e: Error) => e instanceof ReconcileInputError && /groups\[1\]: group \/web version v1 is asked for twice/.test(e.message));
    assert.throws(() => reconcile({ groups: [service({ count: -1 })], tasks: [], offers: [], now: 0 }), /groups\[0\]\.count: must be a whole number ≥ 0; got -1/);
    assert.throws(() => reconcile({ groups: [service({ maxOverCapacity: 2 })], tasks: [], offers: [], now: 0 }), /groups\[0\]\.maxOverCapacity: must be between 0 and 1; got 2/);
  });
});
