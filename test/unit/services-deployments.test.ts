import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  advance,
  cancelDeployment,
  cannotProceed,
  capacity,
  deploymentJson,
  observeTasks,
  planDeployment,
  settled,
  type DeployedApp,
  type Deployment,
  type DeploymentEvent,
  type DesiredCount,
  type Observed,
} from '../../frameworks/services/deployments';
import type { TaskGroup, Waiting } from '../../frameworks/foundation';
import { Sim, service } from './reconciler-harness';

const T0 = 1_000_000;

function app(over: Partial<DeployedApp> & { minHealth?: number; maxOver?: number } = {}): DeployedApp {
  const { minHealth = 1, maxOver = 1, ...rest } = over;
  return { id: '/web', version: 'v1', instances: 3, dependencies: [], upgradeStrategy: { minimumHealthCapacity: minHealth, maximumOverCapacity: maxOver }, ...rest };
}

function plan(current: DeployedApp[], target: DeployedApp[], over: Partial<Parameters<typeof planDeployment>[2]> = {}): Deployment {
  const r = planDeployment(current, target, { id: 'd1', now: T0, ...over });
  assert.equal(r.kind, 'planned', JSON.stringify(r));
  return (r as { deployment: Deployment }).deployment;
}

interface FakeTask { app: string; version: string; healthyAt: number; killing: boolean }

/**
 * A world of counts: tasks start at once, turn healthy `healthyAfterMs`
 * after starting (never, for a version in `bad`), and a kill is reported at
 * the next tick (the task is alive, not healthy, until then). Each tick:
 * kills reported, observe, advance (the deployment stored as JSON), apply
 * the desired counts, check the capacity invariants.
 */
class World {
  now = T0;
  tasks: FakeTask[] = [];
  readonly bad = new Set<string>();
  readonly events: DeploymentEvent[] = [];
  readonly history: { now: number; observed: Observed; desired: DesiredCount[] }[] = [];
  /** Instance n of a launch turns healthy `healthyAfterMs(n)` after it starts. */
  healthyAfterMs: (n: number) => number = () => 30_000;
  /** Run after each tick's counts are applied, before the clock moves. */
  check: () => void = () => {};
  private launched = 0;

  constructor(running: DeployedApp[]) {
    for (const a of running) for (let i = 0; i < a.instances; i++) this.tasks.push({ app: a.id, version: a.version, healthyAt: T0, killing: false });
  }

  healthy(t: FakeTask): boolean {
    return !t.killing && !this.bad.has(t.version) && this.now >= t.healthyAt;
  }

  observe(): Observed {
    const out: Observed = {};
    for (const t of this.tasks) {
      const v = ((out[t.app] ??= {})[t.version] ??= { alive: 0, healthy: 0 });
      v.alive++;
      if (this.healthy(t)) v.healthy++;
    }
    return out;
  }

  count(app: string, version: string, healthy = false): number {
    return this.tasks.filter((t) => t.app === app && t.version === version && (!healthy || this.healthy(t))).length;
  }

  /** What a reconciler would do with `desired`: launch the missing, kill the excess (unhealthy, then youngest, first). */
  apply(desired: DesiredCount[], affected: string[]): void {
    for (const app of affected) {
      const versions = new Set(this.tasks.filter((t) => t.app === app).map((t) => t.version));
      for (const v of versions) if (!desired.some((d) => d.app === app && d.version === v)) desired = [...desired, { app, version: v, count: 0 }];
    }
    for (const d of desired) {
      const mine = this.tasks.filter((t) => t.app === d.app && t.version === d.version && !t.killing);
      for (let i = mine.length; i < d.count; i++) this.tasks.push({ app: d.app, version: d.version, healthyAt: this.now + this.healthyAfterMs(this.launched++), killing: false });
      const order = [...mine].sort((a, b) => Number(this.healthy(a)) - Number(this.healthy(b)) || b.healthyAt - a.healthyAt);
      for (const t of order.slice(0, Math.max(0, mine.length - d.count))) t.killing = true;
    }
  }

  /** One tick at `now`, then the clock moves by `stepMs`. */
  tick(d: Deployment, stepMs = 10_000): ReturnType<typeof advance> {
    this.tasks = this.tasks.filter((t) => !t.killing);
    const observed = this.observe();
    const r = advance(JSON.parse(JSON.stringify(d)) as Deployment, observed, this.now);
    this.events.push(...r.events);
    this.history.push({ now: this.now, observed, desired: r.desired });
    const driving = r.rollback ?? r.deployment;
    this.apply(r.desired, driving.affectedApps);
    this.check();
    this.now += stepMs;
    return r;
  }

  /** Ticks until the deployment (or its rollback) ends; at most `max` ticks. */
  run(d: Deployment, max = 500): { final: Deployment; rollback?: Deployment } {
    let current = d;
    let failed: Deployment | undefined;
    for (let i = 0; i < max; i++) {
      const r = this.tick(current);
      if (r.rollback) failed = r.deployment;
      current = r.rollback ?? r.deployment;
      if (current.status.state !== 'running' && current.status.state !== 'rolling back') return failed ? { final: failed, rollback: current } : { final: current };
    }
    throw new Error(`deployment did not end within ${max} ticks`);
  }
}

function of(desired: DesiredCount[], version: string, id = '/web'): number | undefined {
  return desired.find((d) => d.app === id && d.version === version)?.count;
}

describe('services deployments: rolling update under the capacity rules', () => {
  it('3→3 with minimumHealthCapacity 1, maximumOverCapacity 1: starts 3 new, then kills 3 old', () => {
    const old = app();
    const world = new World([old]);
    const d = plan([old], [app({ version: 'v2' })]);
    assert.deepEqual(d.steps, [{ actions: [{ action: 'RestartApplication', app: '/web' }] }]);
    // minHealthy = ⌈3·1⌉ = 3, maxAlive = 3 + ⌊3·1⌋ = 6: all 3 new fit beside the 3 old.
    const first = world.tick(d);
    assert.deepEqual(first.desired, [{ app: '/web', version: 'v2', count: 3 }, { app: '/web', version: 'v1', count: 3 }]);
    const { final } = world.run(first.deployment);
    assert.equal(final.status.state, 'succeeded');
    // No old instance was asked away before all 3 new were healthy (they turn healthy together after 30 s).
    const firstKill = world.history.findIndex((h) => (of(h.desired, 'v1') ?? 0) < 3);
    assert.ok(world.history.slice(0, firstKill).every((h) => of(h.desired, 'v2') === 3));
    assert.equal(world.count('/web', 'v2', true), 3);
    assert.equal(world.count('/web', 'v1'), 0);
  });

  it('minimumHealthCapacity 0.5, maximumOverCapacity 0: kills 1 old first, then replaces one at a time', () => {
    const old = app({ minHealth: 0.5, maxOver: 0 });
    const world = new World([old]);
    const d = plan([old], [app({ version: 'v2', minHealth: 0.5, maxOver: 0 })]);
    // minHealthy = ⌈3·0.5⌉ = 2, maxAlive = 3 + ⌊3·0⌋ = 3: one old must go before any new may start.
    const first = world.tick(d);
    assert.deepEqual(first.desired, [{ app: '/web', version: 'v2', count: 0 }, { app: '/web', version: 'v1', count: 2 }]);
    const second = world.tick(first.deployment);
    assert.deepEqual(second.desired, [{ app: '/web', version: 'v2', count: 1 }, { app: '/web', version: 'v1', count: 2 }]);
    assert.equal(world.run(second.deployment).final.status.state, 'succeeded');
  });

  it("the README's worked example, tick by tick: 3 instances, 0.5 / 0.2", () => {
    const s = { minHealth: 0.5, maxOver: 0.2 };
    const world = new World([app(s)]);
    world.healthyAfterMs = () => 1; // healthy by the next tick
    let d = plan([app(s)], [app({ ...s, version: 'v2' })]);
    for (let i = 0; i < 7; i++) d = world.tick(d).deployment;
    const rows = world.history.map(({ observed, desired }) => {
      const o = observed['/web'] ?? {};
      return `${o.v1?.alive ?? 0}·${o.v2?.alive ?? 0}·${o.v2?.healthy ?? 0} → old ${of(desired, 'v1') ?? '-'} new ${of(desired, 'v2')}`;
    });
    assert.deepEqual(rows, [
      '3·0·0 → old 2 new 0',
      '2·0·0 → old 2 new 1',
      '2·1·1 → old 1 new 1',
      '1·1·1 → old 1 new 2',
      '1·2·2 → old 0 new 2',
      '0·2·2 → old - new 3',
      '0·3·3 → old - new 3',
    ]);
    assert.equal(d.status.state, 'succeeded');
  });

  const strategies = [
    { minHealth: 1, maxOver: 1, instances: 3 },
    { minHealth: 1, maxOver: 0, instances: 3 },
    { minHealth: 0.5, maxOver: 0, instances: 3 },
    { minHealth: 0.5, maxOver: 0.2, instances: 3 },
    { minHealth: 0, maxOver: 0, instances: 4 },
    { minHealth: 0.6, maxOver: 0.4, instances: 5 },
    { minHealth: 1, maxOver: 0.2, instances: 10 },
    { minHealth: 0.5, maxOver: 0.5, instances: 5, from: 2 },
    { minHealth: 1, maxOver: 0, instances: 2, from: 4 },
  ];
  for (const s of strategies) {
    it(`never fewer healthy than the minimum, never more alive than the maximum: ${JSON.stringify(s)}`, () => {
      const old = app({ ...s, instances: s.from ?? s.instances });
      const world = new World([old]);
      const next = app({ ...s, version: 'v2' });
      const { minHealthy, maxAlive } = capacity(next, true);
      // Instances turn healthy at staggered times (30 to 70 s after they start), so kills and starts interleave.
      world.healthyAfterMs = (n) => 30_000 + ((n * 7) % 5) * 10_000;
      // Scaling down while updating (from 4), the old may exceed the new maximum at first: they may only fall.
      let ceiling = Math.max(maxAlive, s.from ?? 0);
      // Scaling up while updating (from 2), fewer than the minimum may be healthy at first: they may only rise to it.
      let floor = old.instances; // all old instances start healthy
      world.check = () => {
        const alive = world.tasks.length;
        const healthy = world.tasks.filter((t) => world.healthy(t)).length;
        assert.ok(alive <= ceiling, `alive ${alive} > max ${ceiling} at ${world.now}`);
        ceiling = Math.max(maxAlive, alive);
        assert.ok(healthy >= Math.min(minHealthy, floor), `healthy ${healthy} < min ${minHealthy} at ${world.now}`);
        floor = Math.max(floor, healthy);
      };
      const { final } = world.run(plan([old], [next]));
      assert.equal(final.status.state, 'succeeded');
      assert.equal(world.count('/web', 'v2'), s.instances);
    });
  }
});

describe('services deployments: "cannot proceed", the condition', () => {
  const target = app({ version: 'v2', minHealth: 1, maxOver: 0 });
  const held = { 'constraint hostname:UNIQUE': 3 };
  const cases: { name: string; view: Parameters<typeof cannotProceed>[1]; target?: DeployedApp; blocked: boolean }[] = [
    { name: 'UNIQUE refused everywhere, all old kept', view: { target: { alive: 0, healthy: 0, waiting: [held] }, oldAlive: 3 }, blocked: true },
    { name: 'a fixed port in use', view: { target: { alive: 0, healthy: 0, waiting: [{ ports: 3, cpus: 1 }] }, oldAlive: 3 }, blocked: true },
    { name: 'backing off: time may cure it', view: { target: { alive: 0, healthy: 0, waiting: [{ ...held, backoff: 1 }] }, oldAlive: 3 }, blocked: false },
    { name: 'no offers at all: an agent may come', view: { target: { alive: 0, healthy: 0, waiting: [{ 'no offers': 1 }] }, oldAlive: 3 }, blocked: false },
    { name: 'only cpus short', view: { target: { alive: 0, healthy: 0, waiting: [{ cpus: 3 }] }, oldAlive: 3 }, blocked: false },
    { name: 'a new instance on its way', view: { target: { alive: 1, healthy: 0, waiting: [held] }, oldAlive: 3 }, blocked: false },
    { name: 'an old one may go first (minimumHealthCapacity 0.5)', target: app({ version: 'v2', minHealth: 0.5, maxOver: 0 }), view: { target: { alive: 0, healthy: 0, waiting: [held] }, oldAlive: 3 }, blocked: false },
    { name: 'no old instance holds anything', view: { target: { alive: 0, healthy: 0, waiting: [held] }, oldAlive: 0 }, blocked: false },
  ];
  for (const c of cases) {
    it(`${c.blocked ? 'blocked' : 'not blocked'}: ${c.name}`, () => {
      assert.equal(cannotProceed(c.target ?? target, c.view) !== undefined, c.blocked);
    });
  }
});

describe('services deployments: scale and stop', () => {
  it('a scale down kills the excess and succeeds; a stop leaves nothing', () => {
    const world = new World([app()]);
    const d = plan([app()], [app({ instances: 1 })]);
    assert.deepEqual(d.steps, [{ actions: [{ action: 'ScaleApplication', app: '/web' }] }]);
    assert.equal(world.run(d).final.status.state, 'succeeded');
    assert.equal(world.count('/web', 'v1', true), 1);
    const stop = plan([app({ instances: 1 })], [], { id: 'd2', remove: ['/web'] });
    assert.equal(world.run(stop).final.status.state, 'succeeded');
    assert.equal(world.tasks.length, 0);
  });
});

describe('services deployments: deadline and rollback', () => {
  it('a new version that never becomes healthy fails exactly at the 600 s deadline and rolls back to the old one', () => {
    const old = app();
    const world = new World([old]);
    world.bad.add('v2');
    let d = plan([old], [app({ version: 'v2' })]);
    let r = world.tick(d);
    while (r.status.state === 'running') {
      d = r.deployment;
      r = world.tick(d);
    }
    // Progress (healthy new instances, old ones gone) never grew from the first tick at T0: it fails at T0 + 600 s, not a tick earlier.
    assert.equal(world.history.at(-1)?.now, T0 + 600_000);
    assert.equal(advance(d, world.observe(), T0 + 599_999).status.state, 'running');
    assert.deepEqual(r.status, { state: 'failed', reason: '/web: no progress within 600 s (0 of 3 instance(s) of version v2 healthy, 3 old alive)' });
    assert.deepEqual(
      world.events.filter((e) => e.deploymentId === 'd1').map((e) => e.eventType),
      ['deployment_info', 'deployment_step_failure', 'deployment_failed', 'deployment_rollback'],
    );
    const rollback = r.rollback!;
    assert.equal(rollback.id, 'd1-rollback');
    assert.equal(rollback.rollbackOf, 'd1');
    assert.deepEqual(rollback.status, { state: 'rolling back' });
    assert.deepEqual(rollback.steps, [{ actions: [{ action: 'RestartApplication', app: '/web' }] }]);
    // The rollback's first counts, the same tick: the 3 old stay (healthy), the 3 bad new go.
    assert.deepEqual(r.desired, [{ app: '/web', version: 'v1', count: 3 }, { app: '/web', version: 'v2', count: 0 }]);
    assert.equal(world.run(rollback).final.status.state, 'succeeded');
    assert.equal(world.count('/web', 'v1', true), 3);
    assert.equal(world.count('/web', 'v2'), 0);
  });

  it('the deadline is per request, then per app, then 10 minutes', () => {
    const old = app();
    const failsAt = (d: Deployment): number => {
      const world = new World([old]);
      world.bad.add('v2');
      let r = world.tick(d);
      while (r.status.state === 'running') r = world.tick(r.deployment, 1_000);
      return (world.history.at(-1)?.now ?? 0) - T0;
    };
    assert.equal(failsAt(plan([old], [app({ version: 'v2', deadlineSeconds: 120 })], { deadlineSeconds: 30 })), 30_000);
    assert.equal(failsAt(plan([old], [app({ version: 'v2', deadlineSeconds: 120 })])), 120_000);
  });

  it('a failed rollback is not rolled back again', () => {
    const old = app();
    const world = new World([old]);
    world.bad.add('v1');
    world.bad.add('v2');
    const { final, rollback } = world.run(plan([old], [app({ version: 'v2' })]));
    assert.equal(final.status.state, 'failed');
    assert.equal(rollback?.status.state, 'failed');
    assert.equal(world.events.filter((e) => e.eventType === 'deployment_rollback').length, 1);
  });

  it('a new app that never becomes healthy is removed by its rollback', () => {
    const world = new World([]);
    world.bad.add('v1');
    const { final, rollback } = world.run(plan([], [app()]));
    assert.equal(final.status.state, 'failed');
    assert.deepEqual(rollback?.steps, [{ actions: [{ action: 'StopApplication', app: '/web' }] }]);
    assert.equal(rollback?.status.state, 'succeeded');
    assert.equal(world.tasks.length, 0);
  });
});

describe('services deployments: planning', () => {
  const db = app({ id: '/db', instances: 1 });
  const web = app({ id: '/web', instances: 2, dependencies: ['/db'] });
  const api = app({ id: '/api', instances: 1, dependencies: ['/web'] });

  it('dependencies start in order: a dependent starts only when what it depends on is healthy', () => {
    const d = plan([], [api, web, db]);
    assert.deepEqual(d.steps.map((s) => s.actions), [
      [{ action: 'StartApplication', app: '/db' }],
      [{ action: 'StartApplication', app: '/web' }],
      [{ action: 'StartApplication', app: '/api' }],
    ]);
    const world = new World([]);
    world.check = () => {
      const desired = world.history.at(-1)?.desired ?? [];
      // Health as of this tick's observation: the tasks launched just now are not healthy yet.
      if ((of(desired, 'v1', '/web') ?? 0) > 0) assert.ok(world.count('/db', 'v1', true) >= 1, `/web asked for before /db was healthy at ${world.now}`);
      if ((of(desired, 'v1', '/api') ?? 0) > 0) assert.ok(world.count('/web', 'v1', true) >= 2, `/api asked for before /web was healthy at ${world.now}`);
    };
    const first = world.tick(d);
    assert.deepEqual(first.desired, [{ app: '/db', version: 'v1', count: 1 }]);
    assert.equal(world.run(first.deployment).final.status.state, 'succeeded');
    assert.equal(world.tasks.length, 4);
  });

  it('a dependency outside the deployment is already running: one step', () => {
    const d = plan([db], [web]);
    assert.deepEqual(d.steps, [{ actions: [{ action: 'StartApplication', app: '/web' }] }]);
  });

  it("GET /v2/deployments shows Marathon's shape: currentActions, currentStep of totalSteps", () => {
    const d = plan([], [api, web, db]);
    assert.deepEqual(
      { ...deploymentJson(d), version: undefined },
      { id: 'd1', version: undefined, affectedApps: ['/api', '/db', '/web'], affectedPods: [], steps: d.steps, currentActions: [{ action: 'StartApplication', app: '/db', readinessCheckResults: [] }], currentStep: 1, totalSteps: 3, status: { state: 'running' } },
    );
    const done = new World([]).run(d).final;
    assert.deepEqual([deploymentJson(done).currentActions, deploymentJson(done).currentStep], [[], 3]);
  });

  it('a cycle is refused, naming it', () => {
    const r = planDeployment([], [app({ id: '/a', dependencies: ['/b'] }), app({ id: '/b', dependencies: ['/c'] }), app({ id: '/c', dependencies: ['/a'] })], { id: 'd1', now: T0 });
    assert.deepEqual(r, { kind: 'invalid', message: 'dependency cycle: /a → /b → /c → /a' });
  });

  it('stops come first; a scale is ScaleApplication; an unchanged app is not affected', () => {
    const other = app({ id: '/other' });
    const d = plan([db, web, other], [app({ id: '/db', instances: 2 }), web], { remove: ['/other'] });
    assert.deepEqual(d.affectedApps, ['/db', '/other']);
    assert.deepEqual(d.steps.map((s) => s.actions), [[{ action: 'StopApplication', app: '/other' }], [{ action: 'ScaleApplication', app: '/db' }]]);
  });

  it('bad input is refused with what was wrong', () => {
    assert.deepEqual(planDeployment([], [], { id: 'd', now: T0, remove: ['/nope'] }), { kind: 'invalid', message: 'remove/0: app /nope does not exist' });
    assert.deepEqual(planDeployment([], [app(), app()], { id: 'd', now: T0 }), { kind: 'invalid', message: 'target/1: app /web given twice' });
  });

  it('two deployments on one app: 409 conflict unless force, which supersedes the first and keeps its last good version', () => {
    const first = plan([app()], [app({ version: 'v2' })]);
    const running = advance(first, {}, T0).deployment;
    const clash = planDeployment([app({ version: 'v2' })], [app({ version: 'v3' })], { id: 'd2', now: T0, running: [running] });
    assert.deepEqual(clash, {
      kind: 'conflict',
      message: "App is locked by one or more deployments. Override with the option '?force=true'. View details at '/v2/deployments/d1'.",
      deployments: [{ id: 'd1' }],
    });
    const forced = planDeployment([app({ version: 'v2' })], [app({ version: 'v3' })], { id: 'd2', now: T0, running: [running], force: true });
    assert.equal(forced.kind, 'planned');
    if (forced.kind !== 'planned') return;
    assert.deepEqual(forced.superseded, ['d1']);
    assert.equal(forced.deployment.original['/web']?.version, 'v1');
    // Another app is not locked by d1.
    assert.equal(planDeployment([], [app({ id: '/other' })], { id: 'd3', now: T0, running: [running] }).kind, 'planned');
  });
});

describe('services deployments: cancel (DELETE /v2/deployments/{id})', () => {
  it('force cancels in place: no rollback, the apps at their target', () => {
    const world = new World([app()]);
    const d = world.tick(plan([app()], [app({ version: 'v2' })])).deployment;
    const r = cancelDeployment(d, { force: true, now: world.now });
    assert.equal(r.kind, 'cancelled');
    if (r.kind !== 'cancelled') return;
    assert.deepEqual(r.cancelled.status, { state: 'cancelled' });
    assert.deepEqual(settled(r.cancelled), [{ app: '/web', version: 'v2', count: 3 }]);
    const after = advance(r.cancelled, world.observe(), world.now);
    assert.deepEqual([after.events, after.desired], [[], [{ app: '/web', version: 'v2', count: 3 }]]);
    assert.equal(cancelDeployment(r.cancelled, { now: world.now }).kind, 'not running');
  });

  it('by default rolls back under the same rules', () => {
    const world = new World([app()]);
    const d = world.tick(plan([app()], [app({ version: 'v2' })])).deployment;
    const r = cancelDeployment(d, { now: world.now });
    assert.equal(r.kind, 'rolled back');
    if (r.kind !== 'rolled back') return;
    assert.equal(r.rollback.id, 'd1-rollback');
    assert.equal(r.rollback.target['/web']?.version, 'v1');
    assert.equal(world.run(r.rollback).final.status.state, 'succeeded');
    assert.equal(world.count('/web', 'v1', true), 3);
    assert.equal(world.count('/web', 'v2'), 0);
  });
});

describe('services deployments: "cannot proceed", with the real reconciler', () => {
  const agents = ['a1', 'a2', 'a3'].map((name) => ({ name, cpus: 4, mem: 4096 }));
  const unique = [['hostname', 'UNIQUE']];

  // No health checks: running is healthy.
  const observe = (sim: Sim, waiting: Waiting[]): Observed => observeTasks(sim.tasks(), waiting, (t) => t.state === 'TASK_RUNNING');

  const groups = (desired: DesiredCount[]): TaskGroup[] => desired.map((d) => service({ id: d.app, version: d.version, count: d.count, constraints: unique }));

  function running(minHealth: number): { sim: Sim; d: Deployment } {
    const sim = new Sim(agents, [service({ count: 3, constraints: unique })]);
    sim.round();
    sim.startAll();
    const d = plan([app({ minHealth, maxOver: 0 })], [app({ version: 'v2', minHealth, maxOver: 0 })]);
    return { sim, d };
  }

  it('UNIQUE hostname, every agent busy, minimumHealthCapacity 1: reported at the first refusal, not at the deadline', () => {
    const { sim, d } = running(1);
    // maxAlive is bumped from 3 to 4 (Marathon's rule for min = max), so one v2 is asked for; UNIQUE refuses it on all 3 agents.
    const first = advance(d, observe(sim, []), sim.now);
    assert.deepEqual(first.desired, [{ app: '/web', version: 'v2', count: 1 }, { app: '/web', version: 'v1', count: 3 }]);
    sim.groups = groups(first.desired);
    const plan1 = sim.round();
    assert.deepEqual(plan1.waiting.map((w) => w.reasons), [{ 'constraint hostname:UNIQUE': 3 }]);
    const second = advance(first.deployment, observe(sim, plan1.waiting), sim.now);
    const why =
      'cannot proceed: /web version v2 cannot place 1 instance(s) (offers refused: constraint hostname:UNIQUE ×3), ' +
      'and minimumHealthCapacity 1 keeps all 3 old instance(s) until a new one is healthy (3 healthy needed, 0 new healthy); ' +
      'add an agent, free the port, or lower upgradeStrategy.minimumHealthCapacity';
    assert.deepEqual(second.status, { state: 'running', blocked: [why] });
    assert.deepEqual(second.events.map((e) => [e.eventType, e.message]), [['deployment_blocked', why]]);
    // Said once: the next tick, still blocked, sends no event.
    assert.deepEqual(advance(second.deployment, observe(sim, sim.round().waiting), sim.now).events, []);

    // A fourth agent joins: the new instance is placed, the block clears, and the update completes.
    sim.agents.push({ name: 'a4', cpus: 4, mem: 4096 });
    let r = second;
    for (let i = 0; i < 20 && r.status.state === 'running'; i++) {
      const p = sim.round();
      sim.startAll();
      r = advance(r.deployment, observe(sim, p.waiting), sim.now);
      if (i === 0) assert.deepEqual(r.status, { state: 'running' });
      sim.groups = groups(r.desired);
    }
    assert.equal(r.status.state, 'succeeded');
    assert.deepEqual(sim.live().map((t) => t.version), ['v2', 'v2', 'v2']);
  });

  it('the same cluster with minimumHealthCapacity 0.5 is not blocked: an old instance goes first', () => {
    const { sim, d } = running(0.5);
    let r = advance(d, observe(sim, []), sim.now);
    for (let i = 0; i < 20 && r.status.state === 'running'; i++) {
      assert.equal('blocked' in r.status, false);
      sim.groups = groups(r.desired);
      const p = sim.round();
      sim.startAll();
      r = advance(r.deployment, observe(sim, p.waiting), sim.now);
    }
    assert.equal(r.status.state, 'succeeded');
  });
});
