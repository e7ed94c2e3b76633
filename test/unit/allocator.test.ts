/**
 * allocate(): who gets each agent. Hand-checkable cases first, then
 * properties over random snapshots (fast-check), run with both sorters.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import * as res from '../../lib/resources';
import type { Resources } from '../../lib/resources';
import {
  allocate,
  DeclineFilters,
  dominantShare,
  InvalidRoleError,
  InvalidSnapshotError,
  InvalidWeightError,
  seededRng,
} from '../../master/allocator';
import type { AllocateOptions, AllocatorAgent, AllocatorFramework, AllocatorSnapshot, Proposal } from '../../master/allocator';

// ---------------------------------------------------------------------------
// Fixture builders.

const fixtures = {
  agent(id: string, free: Partial<Resources> = { cpus: 4, mem: 4096 }, total: Partial<Resources> = free): AllocatorAgent {
    return { id, free: res.make(free), total: res.make(total) };
  },
  framework(
    id: string,
    opts: { roles?: string[]; gpuCapable?: boolean; suppressed?: string[]; allocated?: Record<string, Partial<Resources>> } = {},
  ): AllocatorFramework {
    return {
      id,
      roles: opts.roles ?? ['*'],
      gpuCapable: opts.gpuCapable ?? false,
      suppressedRoles: new Set(opts.suppressed ?? []),
      allocated: new Map(Object.entries(opts.allocated ?? {}).map(([role, r]) => [role, res.make(r)])),
    };
  },
  /**
   * `total` defaults to the sum of the agents' totals plus everything frameworks hold.
   * `filters` (framework -> agent -> expiry) are expired at `now` (default 1000, as `opts()`), as the master does.
   */
  snapshot(s: {
    agents: AllocatorAgent[];
    frameworks: AllocatorFramework[];
    weights?: Record<string, number>;
    filters?: Record<string, Record<string, number>>;
    now?: number;
    total?: Partial<Resources>;
  }): AllocatorSnapshot & { filters: DeclineFilters } {
    let total = res.empty();
    for (const a of s.agents) total = res.add(total, a.total);
    for (const f of s.frameworks) for (const r of f.allocated.values()) total = res.add(total, r);
    const filters = new DeclineFilters();
    for (const [fw, byAgent] of Object.entries(s.filters ?? {})) for (const [agent, until] of Object.entries(byAgent)) filters.add(fw, agent, until);
    filters.expire(s.now ?? 1000);
    return {
      agents: s.agents,
      frameworks: s.frameworks,
      weights: new Map(Object.entries(s.weights ?? {})),
      filters,
      total: s.total ? res.make(s.total) : total,
    };
  },
  agents(n: number, free: Partial<Resources> = { cpus: 1, mem: 1024 }): AllocatorAgent[] {
    return Array.from({ length: n }, (_, i) => fixtures.agent(`agent-${i}`, free));
  },
};

const opts = (o: Partial<AllocateOptions> = {}): AllocateOptions => ({ now: 1000, rng: seededRng(1), ...o });

/** frameworkId -> number of agents proposed to it. */
function counts(proposals: readonly Proposal[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of proposals) out[p.frameworkId] = (out[p.frameworkId] ?? 0) + 1;
  return out;
}

const owner = (proposals: readonly Proposal[], agentId: string) => proposals.find((p) => p.agentId === agentId)?.frameworkId;

// ---------------------------------------------------------------------------

describe('allocate', () => {
  it('proposes every agent, whole, to the only framework', () => {
    const agents = [
      fixtures.agent('a1', { cpus: 4, mem: 2048, disk: 100, ports: [{ begin: 31000, end: 31005 }] }),
      fixtures.agent('a2', { cpus: 0.5, mem: 64 }),
    ];
    const proposals = allocate(fixtures.snapshot({ agents, frameworks: [fixtures.framework('fw')] }), opts());
    assert.equal(proposals.length, 2);
    for (const agent of agents) {
      const p = proposals.find((x) => x.agentId === agent.id)!;
      assert.deepEqual(p, { frameworkId: 'fw', agentId: agent.id, role: '*', resources: agent.free });
    }
  });

  it('gives nothing when there are no frameworks or no agents', () => {
    assert.deepEqual(allocate(fixtures.snapshot({ agents: fixtures.agents(3), frameworks: [] }), opts()), []);
    assert.deepEqual(allocate(fixtures.snapshot({ agents: [], frameworks: [fixtures.framework('fw')] }), opts()), []);
  });

  const minCases: { name: string; free: Partial<Resources>; min?: { cpus: number; mem: number }; offered: boolean }[] = [
    { name: 'cpus 0.01 alone suffices', free: { cpus: 0.01 }, offered: true },
    { name: 'mem 32 alone suffices', free: { mem: 32 }, offered: true },
    { name: 'below both (0.005 cpus, 31 MB) is not offered', free: { cpus: 0.005, mem: 31, disk: 1000 }, offered: false },
    { name: 'nothing at all is not offered', free: {}, min: { cpus: 0, mem: 0 }, offered: false },
    { name: 'a custom minimum applies', free: { cpus: 1, mem: 512 }, min: { cpus: 2, mem: 1024 }, offered: false },
  ];
  for (const c of minCases) {
    it(`minimum allocatable: ${c.name}`, () => {
      const snapshot = fixtures.snapshot({ agents: [fixtures.agent('a', c.free)], frameworks: [fixtures.framework('fw')], total: { cpus: 10, mem: 1024 } });
      assert.equal(allocate(snapshot, opts({ minAllocatable: c.min })).length, c.offered ? 1 : 0);
    });
  }

  it('offers each agent to the framework with the smallest dominant share (Mesos UnreservedDRF steps)', () => {
    // total = 10 cpus, 7680 mem (agent x holds the 4 cpus, 4096 mem still free)
    // f1 holds 2 cpus, 1024 mem: share max(0.2, 0.133) = 0.2
    // f2 holds 4 cpus, 2560 mem: share max(0.4, 0.333) = 0.4
    // f3 holds nothing: 0 -> f3 gets x
    const frameworks = [
      fixtures.framework('f1', { roles: ['role1'], allocated: { role1: { cpus: 2, mem: 1024 } } }),
      fixtures.framework('f2', { roles: ['role2'], allocated: { role2: { cpus: 4, mem: 2560 } } }),
      fixtures.framework('f3', { roles: ['role1'] }),
    ];
    const snapshot = fixtures.snapshot({ agents: [fixtures.agent('x', { cpus: 4, mem: 4096 })], frameworks });
    // role1 = f1 + f3 = 0.2 < role2 = 0.4; inside role1 f3 (0) < f1 (0.2)
    assert.deepEqual(allocate(snapshot, opts()), [{ frameworkId: 'f3', agentId: 'x', role: 'role1', resources: snapshot.agents[0]!.free }]);
  });

  it('counts each proposal before the next agent, so shares converge within a round', () => {
    // 4 identical agents, 2 empty frameworks in one role: alternate, 2 each, whatever the visit order
    const snapshot = fixtures.snapshot({ agents: fixtures.agents(4), frameworks: [fixtures.framework('a'), fixtures.framework('b')] });
    for (const seed of [1, 2, 3]) assert.deepEqual(counts(allocate(snapshot, opts({ rng: seededRng(seed) }))), { a: 2, b: 2 });
  });

  it('weights 1 and 3 split identical agents 1 : 3', () => {
    // 256 agents of 1 cpu: keys are n1/256 and (n3/256)/3, exact in binary, so ties are real ties
    // (broken by name, light < heavy's role name order below). After every 4 agents: light 1, heavy 3.
    const frameworks = [fixtures.framework('fw-light', { roles: ['light'] }), fixtures.framework('fw-heavy', { roles: ['heavy'] })];
    const snapshot = fixtures.snapshot({ agents: fixtures.agents(256), frameworks, weights: { light: 1, heavy: 3 } });
    assert.deepEqual(counts(allocate(snapshot, opts())), { 'fw-light': 64, 'fw-heavy': 192 });
  });

  it('orders roles hierarchically: a subtree competes with its total share', () => {
    // total 100 cpus, 1000 mem (snapshot.total), two free agents of 10 cpus
    // eng/ml 10 (0.1) + eng/web 20 (0.2) = eng 0.3; ops 25 (0.25)
    // agent 1: ops (0.25 < 0.3) -> ops 35 (0.35); agent 2: eng (0.3 < 0.35) -> ml (0.1 < 0.2)
    // flat DRF would have given both to ml
    const frameworks = [
      fixtures.framework('f-ml', { roles: ['eng/ml'], allocated: { 'eng/ml': { cpus: 10 } } }),
      fixtures.framework('f-web', { roles: ['eng/web'], allocated: { 'eng/web': { cpus: 20 } } }),
      fixtures.framework('f-ops', { roles: ['ops'], allocated: { ops: { cpus: 25 } } }),
    ];
    const snapshot = fixtures.snapshot({ agents: fixtures.agents(2, { cpus: 10, mem: 10 }), frameworks, total: { cpus: 100, mem: 1000 } });
    for (const seed of [1, 2]) assert.deepEqual(counts(allocate(snapshot, opts({ rng: seededRng(seed) }))), { 'f-ops': 1, 'f-ml': 1 });
  });

  it('treats a framework in several roles as a client of each', () => {
    // total 100 cpus. multi holds 40 cpus in 'a', nothing in 'b'; solo holds 10 in 'a'.
    // role a = 0.5, role b = 0 -> b first: multi gets the agent for role b
    const frameworks = [
      fixtures.framework('multi', { roles: ['a', 'b'], allocated: { a: { cpus: 40 } } }),
      fixtures.framework('solo', { roles: ['a'], allocated: { a: { cpus: 10 } } }),
    ];
    const snapshot = fixtures.snapshot({ agents: [fixtures.agent('x', { cpus: 1, mem: 1 })], frameworks, total: { cpus: 100, mem: 100 } });
    assert.deepEqual(
      allocate(snapshot, opts()).map((p) => [p.frameworkId, p.role]),
      [['multi', 'b']],
    );
  });

  it("counts what a framework holds in a role it left towards that role's share", () => {
    // old left role 'x' but still holds 50 cpus there; x = 0.5 > y = 0.2, so y's framework gets the agent
    const frameworks = [
      fixtures.framework('old', { roles: ['z'], suppressed: ['z'], allocated: { x: { cpus: 50 } } }),
      fixtures.framework('in-x', { roles: ['x'] }),
      fixtures.framework('in-y', { roles: ['y'], allocated: { y: { cpus: 20 } } }),
    ];
    const snapshot = fixtures.snapshot({ agents: [fixtures.agent('a', { cpus: 1, mem: 1 })], frameworks, total: { cpus: 100, mem: 100 } });
    assert.equal(owner(allocate(snapshot, opts()), 'a'), 'in-y');
  });

  describe('filters', () => {
    // 'low' holds nothing and would get the agent; it declined 'x' until t = 100
    const snapshotAt = (now: number) =>
      fixtures.snapshot({
        agents: [fixtures.agent('x'), fixtures.agent('y')],
        frameworks: [fixtures.framework('low'), fixtures.framework('high', { allocated: { '*': { cpus: 8 } } })],
        filters: { low: { x: 100 } },
        now,
      });
    it('keeps a filtered agent from that framework before expiry, offering it to the next', () => {
      const p = allocate(snapshotAt(50), opts({ now: 50 }));
      assert.equal(owner(p, 'x'), 'high');
      assert.equal(owner(p, 'y'), 'low', 'the filter is per agent');
    });
    it('offers it again once the filter has expired (expiry <= now)', () => {
      // One snapshot through time, as the master keeps it: expire(now), then allocate.
      const one = fixtures.snapshot({
        agents: [fixtures.agent('x')],
        frameworks: [fixtures.framework('low'), fixtures.framework('high', { allocated: { '*': { cpus: 8 } } })],
        filters: { low: { x: 100 } },
        now: 0,
      });
      const at = (now: number) => (one.filters.expire(now), owner(allocate(one, opts({ now })), 'x'));
      assert.equal(at(50), 'high');
      assert.equal(at(99.999), 'high', '100 > 99.999: still filtered');
      assert.equal(at(100), 'low', '100 > 100 is false: expired');
      assert.equal(at(150), 'low');
    });
    it('refuses filters that were not expired at now', () => {
      assert.throws(() => allocate(snapshotAt(50), opts({ now: 100 })), InvalidSnapshotError);
    });
    it('reads filters of frameworks past the first 32 (more than one word per agent)', () => {
      // 40 frameworks holding nothing, in id order; all but fw-37 declined x.
      const ids = Array.from({ length: 40 }, (_, i) => `fw-${String(i).padStart(2, '0')}`);
      const filters = Object.fromEntries(ids.filter((id) => id !== 'fw-37').map((id) => [id, { x: 2000 }]));
      const snapshot = fixtures.snapshot({ agents: [fixtures.agent('x')], frameworks: ids.map((id) => fixtures.framework(id)), filters });
      assert.equal(owner(allocate(snapshot, opts()), 'x'), 'fw-37');
    });
    it('gives the agent to nobody when every framework filtered it', () => {
      const snapshot = fixtures.snapshot({
        agents: [fixtures.agent('x')],
        frameworks: [fixtures.framework('a'), fixtures.framework('b')],
        filters: { a: { x: 2000 }, b: { x: 2000 } },
      });
      assert.deepEqual(allocate(snapshot, opts({ now: 1000 })), []);
    });
  });

  describe('suppression', () => {
    it('gives a suppressed role nothing, and the others everything', () => {
      const snapshot = fixtures.snapshot({
        agents: fixtures.agents(5),
        frameworks: [fixtures.framework('quiet', { suppressed: ['*'] }), fixtures.framework('busy', { allocated: { '*': { cpus: 100 } } })],
      });
      assert.deepEqual(counts(allocate(snapshot, opts())), { busy: 5 });
    });
    it('suppresses per role: a framework still gets offers for its other roles', () => {
      const snapshot = fixtures.snapshot({
        agents: fixtures.agents(3),
        frameworks: [fixtures.framework('fw', { roles: ['a', 'b'], suppressed: ['a'] })],
      });
      const p = allocate(snapshot, opts());
      assert.equal(p.length, 3);
      assert.ok(p.every((x) => x.role === 'b'));
    });
    it('proposes nothing when every role is suppressed', () => {
      const snapshot = fixtures.snapshot({ agents: fixtures.agents(3), frameworks: [fixtures.framework('fw', { suppressed: ['*'] })] });
      assert.deepEqual(allocate(snapshot, opts()), []);
    });
  });

  describe('GPUs', () => {
    const gpuAgent = fixtures.agent('gpu', { cpus: 4, mem: 4096, gpus: 1 });
    // All GPUs busy: free has none, but the agent still has GPUs, so it stays for GPU frameworks.
    const busyGpuAgent = fixtures.agent('gpu-busy', { cpus: 4, mem: 4096 }, { cpus: 8, mem: 8192, gpus: 2 });
    const cpuAgent = fixtures.agent('cpu', { cpus: 4, mem: 4096 });

    it('offers GPU agents only to GPU-capable frameworks', () => {
      // plain has the smaller share (0) but is not GPU-capable
      const frameworks = [fixtures.framework('plain'), fixtures.framework('gpu-fw', { gpuCapable: true, allocated: { '*': { cpus: 50 } } })];
      const p = allocate(fixtures.snapshot({ agents: [gpuAgent, busyGpuAgent], frameworks }), opts());
      assert.deepEqual(counts(p), { 'gpu-fw': 2 });
    });
    it('leaves GPU agents unoffered when no framework is GPU-capable', () => {
      const p = allocate(fixtures.snapshot({ agents: [gpuAgent, cpuAgent], frameworks: [fixtures.framework('plain')] }), opts());
      assert.deepEqual(p.map((x) => x.agentId), ['cpu']);
    });
    it('offers non-GPU agents to anyone, GPU-capable or not', () => {
      const frameworks = [fixtures.framework('gpu-fw', { gpuCapable: true }), fixtures.framework('plain', { allocated: { '*': { cpus: 1 } } })];
      // gpu-fw has share 0 < plain: it gets the CPU agent
      assert.equal(owner(allocate(fixtures.snapshot({ agents: [cpuAgent], frameworks }), opts()), 'cpu'), 'gpu-fw');
    });
  });

  describe('the random sorter', () => {
    it('proposes each agent once, replayably', () => {
      const snapshot = fixtures.snapshot({ agents: fixtures.agents(50), frameworks: ['a', 'b', 'c'].map((id) => fixtures.framework(id)) });
      const run = (seed: number) => allocate(snapshot, { now: 1000, rng: seededRng(seed), sorter: 'random' });
      assert.deepEqual(run(5), run(5));
      assert.equal(new Set(run(5).map((p) => p.agentId)).size, 50);
    });
    it('ignores shares, where DRF does not', () => {
      // rich holds 1000 cpus and 100000 mem, poor nothing; 50 agents of 1 cpu, 1024 mem.
      // total = 1050 cpus, 151200 mem: rich = 1000/1050 = 0.95; poor after all 50 agents =
      // max(50/1050, 51200/151200) = 0.34 < 0.95, so DRF gives poor all 50; random gives each about half
      const frameworks = [fixtures.framework('rich', { allocated: { '*': { cpus: 1000, mem: 100000 } } }), fixtures.framework('poor')];
      const snapshot = fixtures.snapshot({ agents: fixtures.agents(50), frameworks });
      assert.deepEqual(counts(allocate(snapshot, opts())), { poor: 50 });
      const random = counts(allocate(snapshot, opts({ sorter: 'random' })));
      assert.ok(random.rich! > 10 && random.poor! > 10, JSON.stringify(random));
    });
  });

  describe('invalid snapshots', () => {
    it('rejects a framework listed twice', () => {
      const s = fixtures.snapshot({ agents: fixtures.agents(1), frameworks: [fixtures.framework('x'), fixtures.framework('x')] });
      assert.throws(() => allocate(s, opts()), InvalidSnapshotError);
    });
    it('rejects malformed role paths', () => {
      const s = fixtures.snapshot({ agents: fixtures.agents(1), frameworks: [fixtures.framework('x', { roles: ['eng//ml'] })] });
      assert.throws(() => allocate(s, opts()), InvalidRoleError);
    });
    it('rejects non-positive weights', () => {
      const s = fixtures.snapshot({ agents: fixtures.agents(1), frameworks: [fixtures.framework('x')], weights: { '*': 0 } });
      assert.throws(() => allocate(s, opts()), InvalidWeightError);
    });
  });

  it('does not modify the snapshot', () => {
    const snapshot = fixtures.snapshot({
      agents: fixtures.agents(20, { cpus: 2, mem: 512, ports: [{ begin: 1, end: 9 }] }),
      frameworks: [fixtures.framework('a', { allocated: { '*': { cpus: 3 } } }), fixtures.framework('b', { roles: ['x/y'] })],
      filters: { a: { 'agent-3': 5000 } },
      weights: { x: 2 },
    });
    // The filters as plain data: what they hold and the bits the walk reads.
    const plain = (s: typeof snapshot) => ({
      ...s,
      filters: { entries: [...s.filters.entries()], bits: s.agents.map((a) => Array.from(s.filters.declinedBy(a.id) ?? [])) },
    });
    const before = structuredClone(plain(snapshot));
    allocate(snapshot, opts());
    allocate(snapshot, opts({ sorter: 'random' }));
    assert.deepEqual(plain(snapshot), before);
  });

  it('handles 2,000 agents × 200 frameworks in several roles', () => {
    const frameworks = Array.from({ length: 200 }, (_, i) =>
      fixtures.framework(`fw-${i}`, { roles: [`team-${i % 5}/svc-${i % 3}`], allocated: { [`team-${i % 5}/svc-${i % 3}`]: { cpus: i % 17 } } }),
    );
    const snapshot = fixtures.snapshot({ agents: fixtures.agents(2000, { cpus: 8, mem: 2048 }), frameworks });
    const p = allocate(snapshot, opts());
    assert.equal(p.length, 2000);
    assert.equal(new Set(p.map((x) => x.agentId)).size, 2000);
  });
});

/** Whether the walk would find `frameworkId`'s bit set for `agentId`: how allocate reads a filter. */
function filteredBit(filters: DeclineFilters, frameworkId: string, agentId: string): boolean {
  const slot = filters.slotOf(frameworkId);
  const bits = filters.declinedBy(agentId);
  if (slot < 0 || bits === undefined || slot >>> 5 >= bits.length) return false;
  return ((bits[slot >>> 5]! >>> (slot & 31)) & 1) === 1;
}

describe('DeclineFilters', () => {
  it('expires a filter when its expiry is <= now, not before', () => {
    const f = new DeclineFilters();
    f.add('fw', 'a', 100);
    f.add('fw', 'b', 200);
    assert.equal(f.expire(99.999), 0);
    assert.ok(filteredBit(f, 'fw', 'a'));
    assert.equal(f.nextExpiry(), 100);
    assert.equal(f.expire(100), 1, 'a: 100 <= 100');
    assert.equal(f.until('fw', 'a'), undefined);
    assert.ok(!filteredBit(f, 'fw', 'a'));
    assert.ok(filteredBit(f, 'fw', 'b'), 'b is not due until 200');
    assert.equal(f.size, 1);
    assert.equal(f.expire(1e9), 1);
    assert.equal(f.size, 0);
    assert.equal(f.nextExpiry(), Infinity);
    assert.equal(f.declinedBy('b'), undefined, 'an agent nobody filters has no bitset');
  });

  it('a later filter on the same pair replaces the earlier one; the old expiry does not drop it', () => {
    const f = new DeclineFilters();
    f.add('fw', 'a', 100);
    f.add('fw', 'a', 300);
    f.expire(150);
    assert.equal(f.until('fw', 'a'), 300);
    assert.ok(filteredBit(f, 'fw', 'a'));
    f.add('fw', 'a', 120); // shorter again: now it lapses at 120
    assert.equal(f.expire(299), 1);
    assert.equal(f.size, 0);
  });

  it('clearFramework (revive) drops only that framework, and its reused slot does not inherit bits', () => {
    const f = new DeclineFilters();
    f.add('one', 'a', 100);
    f.add('two', 'a', 100);
    f.clearFramework('one');
    assert.ok(!filteredBit(f, 'one', 'a'));
    assert.ok(filteredBit(f, 'two', 'a'));
    f.add('three', 'b', 100); // takes the slot 'one' had
    assert.ok(!filteredBit(f, 'three', 'a'), "a was filtered by 'one', not by 'three'");
    assert.ok(filteredBit(f, 'three', 'b'));
    assert.equal(f.expire(100), 2, "the queued 'one'/a entry is stale and skipped");
  });

  it('clearAgent drops the agent from every framework', () => {
    const f = new DeclineFilters();
    f.add('one', 'a', 100);
    f.add('two', 'a', 100);
    f.add('two', 'b', 100);
    f.clearAgent('a');
    assert.equal(f.declinedBy('a'), undefined);
    assert.deepEqual([...f.entries()], [['two', 'b', 100]]);
  });

  it('keeps a declined agent from that framework until expiry, and offers it again after (with allocate)', () => {
    // 'low' holds nothing, so it comes first whenever it may take the agent.
    const snapshot = fixtures.snapshot({
      agents: [fixtures.agent('x')],
      frameworks: [fixtures.framework('low'), fixtures.framework('high', { allocated: { '*': { cpus: 8 } } })],
      now: 0,
    });
    const round = (now: number) => (snapshot.filters.expire(now), owner(allocate(snapshot, opts({ now })), 'x'));
    assert.equal(round(0), 'low');
    snapshot.filters.add('low', 'x', 0 + 5); // declined for 5 s
    assert.equal(round(1), 'high');
    assert.equal(round(4.9), 'high');
    assert.equal(round(5), 'low');
  });

  it('matches a plain map of (framework, agent) -> expiry under any sequence of operations', () => {
    // 40 frameworks, so slots span two words and agents' bitsets are widened as slots are handed out.
    const frameworks = Array.from({ length: 40 }, (_, i) => `f${i}`);
    const agents = ['a0', 'a1', 'a2', 'a3'];
    const op = fc.oneof(
      fc.record({ kind: fc.constant('add' as const), fw: fc.constantFrom(...frameworks), agent: fc.constantFrom(...agents), until: fc.integer({ min: 0, max: 30 }) }),
      fc.record({ kind: fc.constant('expire' as const), now: fc.integer({ min: 0, max: 30 }) }),
      fc.record({ kind: fc.constant('clearFramework' as const), fw: fc.constantFrom(...frameworks) }),
      fc.record({ kind: fc.constant('clearAgent' as const), agent: fc.constantFrom(...agents) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const f = new DeclineFilters();
        const model = new Map<string, number>(); // `${fw} ${agent}` -> expiry
        for (const o of ops) {
          if (o.kind === 'add') {
            f.add(o.fw, o.agent, o.until);
            model.set(`${o.fw} ${o.agent}`, o.until);
          } else if (o.kind === 'expire') {
            const due = [...model].filter(([, until]) => until <= o.now).length;
            for (const [k, until] of model) if (until <= o.now) model.delete(k);
            assert.equal(f.expire(o.now), due);
            assert.ok(f.nextExpiry() > o.now, 'nothing due is left after expire');
          } else if (o.kind === 'clearFramework') {
            f.clearFramework(o.fw);
            for (const k of model.keys()) if (k.startsWith(`${o.fw} `)) model.delete(k);
          } else {
            f.clearAgent(o.agent);
            for (const k of model.keys()) if (k.endsWith(` ${o.agent}`)) model.delete(k);
          }
          assert.equal(f.size, model.size);
          for (const fw of frameworks) {
            for (const agent of agents) {
              const want = model.get(`${fw} ${agent}`);
              assert.equal(f.until(fw, agent), want, `${fw} ${agent}`);
              assert.equal(filteredBit(f, fw, agent), want !== undefined, `bit of ${fw} ${agent}`);
            }
          }
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('dominantShare', () => {
  const total = res.make({ cpus: 10, mem: 100, disk: 0, gpus: 4 });
  const cases: { name: string; alloc: Partial<Resources>; want: number }[] = [
    { name: 'nothing', alloc: {}, want: 0 },
    { name: 'cpu-dominant', alloc: { cpus: 5, mem: 10 }, want: 0.5 }, // max(5/10, 10/100)
    { name: 'gpu-dominant', alloc: { cpus: 1, gpus: 3 }, want: 0.75 }, // max(1/10, 3/4)
    { name: 'kinds the cluster lacks are ignored', alloc: { cpus: 1, disk: 500 }, want: 0.1 }, // disk total 0
  ];
  for (const c of cases) it(c.name, () => assert.equal(dominantShare(res.make(c.alloc), total), c.want));
});

// ---------------------------------------------------------------------------
// Properties over random snapshots.

const ROLES = ['*', 'eng', 'eng/ml', 'eng/web', 'ops'];

/** A random snapshot, with its filters also as plain data (framework -> agent -> expiry), for the oracle. */
const snapshotArb: fc.Arbitrary<{ snapshot: AllocatorSnapshot; now: number; filters: Record<string, Record<string, number>> }> = fc
  .record({
    agents: fc.array(
      fc.record({
        cpus: fc.constantFrom(0, 0.005, 1, 4),
        mem: fc.constantFrom(0, 16, 32, 1024),
        gpus: fc.constantFrom(0, 0, 0, 1),
        gpuBusy: fc.boolean(),
      }),
      { maxLength: 25, size: 'max' },
    ),
    frameworks: fc.array(
      fc.record({
        roles: fc.subarray(ROLES, { minLength: 1, maxLength: 3 }),
        suppressed: fc.subarray(ROLES, { maxLength: 2 }),
        gpuCapable: fc.boolean(),
        held: fc.nat(20),
        filterSeeds: fc.array(fc.tuple(fc.nat(24), fc.integer({ min: 900, max: 1100 })), { maxLength: 10 }),
      }),
      { maxLength: 8, size: 'max' },
    ),
    weights: fc.dictionary(fc.constantFrom(...ROLES), fc.integer({ min: 1, max: 5 })),
    now: fc.constantFrom(950, 1000, 1050),
  })
  .map(({ agents, frameworks, weights, now }) => {
    const agentList = agents.map((a, i) =>
      fixtures.agent(`a${i}`, { cpus: a.cpus, mem: a.mem, gpus: a.gpuBusy ? 0 : a.gpus }, { cpus: a.cpus + 1, mem: a.mem + 1, gpus: a.gpus }),
    );
    const filters: Record<string, Record<string, number>> = {};
    const fws = frameworks.map((f, i) => {
      const id = `f${i}`;
      filters[id] = Object.fromEntries(f.filterSeeds.map(([agent, until]) => [`a${agent}`, until]));
      return fixtures.framework(id, { roles: f.roles, suppressed: f.suppressed, gpuCapable: f.gpuCapable, allocated: { [f.roles[0]!]: { cpus: f.held, mem: f.held * 10 } } });
    });
    return { snapshot: fixtures.snapshot({ agents: agentList, frameworks: fws, weights, filters, now }), now, filters };
  });

/** Whether (framework, role) may take the agent, by the rules stated in the contract; filters read from plain data. */
function eligible(filters: Record<string, Record<string, number>>, fw: AllocatorFramework, role: string, agent: AllocatorAgent, now: number): boolean {
  if (!fw.roles.includes(role) || fw.suppressedRoles.has(role)) return false;
  if (agent.total.gpus > 0 && !fw.gpuCapable) return false;
  const until = filters[fw.id]?.[agent.id];
  return !(until !== undefined && until > now);
}

const allocatable = (a: AllocatorAgent) => a.free.cpus >= 0.01 || a.free.mem >= 32;

for (const sorter of ['drf', 'random'] as const) {
  describe(`allocate properties (${sorter} sorter)`, () => {
    it('proposes each agent at most once, whole, only to an eligible (framework, role); and every agent someone can take', () => {
      fc.assert(
        fc.property(snapshotArb, fc.nat(), ({ snapshot, now, filters }, seed) => {
          const proposals = allocate(snapshot, { now, rng: seededRng(seed), sorter });
          const agents = new Map(snapshot.agents.map((a) => [a.id, a]));
          const frameworks = new Map(snapshot.frameworks.map((f) => [f.id, f]));
          assert.equal(new Set(proposals.map((p) => p.agentId)).size, proposals.length, 'an agent proposed twice');
          for (const p of proposals) {
            const agent = agents.get(p.agentId)!;
            assert.deepEqual(p.resources, agent.free, 'a proposal is exactly the free resources');
            assert.ok(res.contains(agent.free, p.resources));
            assert.ok(allocatable(agent));
            assert.ok(eligible(filters, frameworks.get(p.frameworkId)!, p.role, agent, now), `${p.frameworkId}/${p.role} may not take ${p.agentId}`);
          }
          // Nothing limits how much one framework takes, so an agent is left out only if nobody may take it.
          const proposed = new Set(proposals.map((p) => p.agentId));
          for (const agent of snapshot.agents) {
            if (proposed.has(agent.id) || !allocatable(agent)) continue;
            const someone = snapshot.frameworks.some((f) => f.roles.some((r) => eligible(filters, f, r, agent, now)));
            assert.ok(!someone, `${agent.id} was left out although someone could take it`);
          }
        }),
        { numRuns: 200 },
      );
    });

    it('is deterministic: same snapshot, now and seed, same proposals', () => {
      fc.assert(
        fc.property(snapshotArb, fc.nat(), ({ snapshot, now }, seed) => {
          assert.deepEqual(allocate(snapshot, { now, rng: seededRng(seed), sorter }), allocate(snapshot, { now, rng: seededRng(seed), sorter }));
        }),
        { numRuns: 100 },
      );
    });
  });
}
