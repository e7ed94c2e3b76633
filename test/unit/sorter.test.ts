/**
 * Sorters: one contract suite run against every implementation, then what
 * only DRF promises (order by weighted dominant share) and what only the
 * random sorter promises (seeded, weighted, allocation-blind).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  AllocationUnderflowError,
  DrfSorter,
  DuplicateClientError,
  InvalidRoleError,
  InvalidWeightError,
  RandomSorter,
  seededRng,
  UnknownClientError,
} from '../../master/allocator';
import type { Quantities, Sorter } from '../../master/allocator';

const q = (p: Partial<Quantities>): Quantities => ({ cpus: 0, mem: 0, disk: 0, gpus: 0, ...p });
const TOTAL = q({ cpus: 100, mem: 1000, disk: 1000, gpus: 10 });

const implementations: { name: string; make: (hierarchical?: boolean) => Sorter }[] = [
  { name: 'drf', make: (hierarchical = true) => new DrfSorter({ hierarchical }) },
  { name: 'random', make: (hierarchical = true) => new RandomSorter(seededRng(42), { hierarchical }) },
];

function sorterWith(make: (h?: boolean) => Sorter, clients: string[]): Sorter {
  const s = make();
  s.setTotal(TOTAL);
  for (const c of clients) s.add(c);
  return s;
}

const sortedCopy = (xs: readonly string[]) => [...xs].sort();

for (const { name, make } of implementations) {
  describe(`Sorter contract: ${name}`, () => {
    it('orders every added client exactly once', () => {
      const clients = ['a', 'b', 'c/x', 'c/y', 'd/e/f'];
      const s = sorterWith(make, clients);
      assert.deepEqual(sortedCopy(s.sort()), sortedCopy(clients));
      for (const c of clients) assert.equal(s.contains(c), true);
      assert.equal(s.contains('c'), false, 'an inner role is not a client');
    });

    it('orders 300 clients each once, across three levels', () => {
      const clients = Array.from({ length: 300 }, (_, i) => `r${i % 3}/s${i % 7}/fw-${i}`);
      const s = sorterWith(make, clients);
      clients.forEach((c, i) => s.allocated(c, q({ cpus: i % 11, mem: (i * 7) % 13 })));
      const order = s.sort();
      assert.equal(order.length, 300);
      assert.deepEqual(sortedCopy(order), sortedCopy(clients));
    });

    it('rejects adding a client twice', () => {
      const s = sorterWith(make, ['a']);
      assert.throws(() => s.add('a'), DuplicateClientError);
    });

    it('forgets a removed client, and refuses unknown ones', () => {
      const s = sorterWith(make, ['a', 'b']);
      s.remove('a');
      assert.deepEqual(s.sort(), ['b']);
      assert.equal(s.contains('a'), false);
      assert.throws(() => s.remove('a'), UnknownClientError);
      assert.throws(() => s.allocated('a', q({ cpus: 1 })), UnknownClientError);
      assert.throws(() => s.activate('nope'), UnknownClientError);
      s.add('a'); // and may come back
      assert.deepEqual(sortedCopy(s.sort()), ['a', 'b']);
    });

    it('leaves inactive clients out of the order but keeps their allocation', () => {
      const s = sorterWith(make, ['eng/ml', 'eng/web']);
      s.add('ops', { active: false });
      s.allocated('eng/ml', q({ cpus: 10 }));
      s.deactivate('eng/ml');
      s.deactivate('eng/ml'); // idempotent
      assert.deepEqual(sortedCopy(s.sort()), ['eng/web']);
      assert.equal(s.first(() => true), 'eng/web');
      // eng = ml 10 cpus (inactive, still held) + web 0
      assert.deepEqual(s.allocation('eng'), q({ cpus: 10 }));
      s.activate('eng/ml');
      s.activate('ops');
      s.activate('ops'); // idempotent
      assert.deepEqual(sortedCopy(s.sort()), ['eng/ml', 'eng/web', 'ops']);
    });

    it('accounts allocations on the client and every ancestor', () => {
      const s = sorterWith(make, ['eng/ml', 'eng/web', 'ops']);
      s.allocated('eng/ml', q({ cpus: 10, mem: 100 }));
      s.allocated('eng/ml', q({ cpus: 5 }));
      s.allocated('eng/web', q({ cpus: 20, gpus: 1 }));
      s.unallocated('eng/ml', q({ cpus: 3 }));
      // ml = 10 + 5 - 3 = 12 cpus, 100 mem; eng = ml + web = 32 cpus, 100 mem, 1 gpu
      assert.deepEqual(s.allocation('eng/ml'), q({ cpus: 12, mem: 100 }));
      assert.deepEqual(s.allocation('eng'), q({ cpus: 32, mem: 100, gpus: 1 }));
      assert.deepEqual(s.allocation('ops'), q({}));
      // shares of TOTAL (100 cpus, 1000 mem, 10 gpus): ml = max(12/100, 100/1000) = 0.12;
      // eng = max(32/100, 100/1000, 1/10) = 0.32
      assert.equal(s.share('eng/ml'), 0.12);
      assert.equal(s.share('eng'), 0.32);
      s.remove('eng/ml');
      assert.deepEqual(s.allocation('eng'), q({ cpus: 20, gpus: 1 }), 'a removed client stops counting');
      assert.deepEqual(s.allocation('nobody/here'), q({}));
    });

    it('refuses to take back more than a client holds, changing nothing', () => {
      const s = sorterWith(make, ['a']);
      s.allocated('a', q({ cpus: 2 }));
      assert.throws(() => s.unallocated('a', q({ cpus: 3 })), AllocationUnderflowError);
      assert.deepEqual(s.allocation('a'), q({ cpus: 2 }));
      // 0.1 + 0.2 allocated and 0.3 returned is zero, not float noise
      s.allocated('a', q({ mem: 0.1 }));
      s.allocated('a', q({ mem: 0.2 }));
      s.unallocated('a', q({ mem: 0.3 }));
      assert.equal(s.allocation('a').mem, 0);
    });

    it('orders a client that is also a parent of clients', () => {
      const s = sorterWith(make, ['eng', 'eng/ml']);
      s.allocated('eng', q({ cpus: 30 }));
      s.allocated('eng/ml', q({ cpus: 10 }));
      assert.deepEqual(sortedCopy(s.sort()), ['eng', 'eng/ml']);
      // eng's subtree = its own 30 + ml's 10
      assert.deepEqual(s.allocation('eng'), q({ cpus: 40 }));
      s.remove('eng/ml');
      assert.deepEqual(s.sort(), ['eng']);
      assert.deepEqual(s.allocation('eng'), q({ cpus: 30 }));
      s.add('eng/ml');
      s.remove('eng');
      assert.deepEqual(s.sort(), ['eng/ml']);
      assert.deepEqual(s.allocation('eng'), q({}));
    });

    it('first() returns an accepted client, asking about each active client at most once', () => {
      const clients = ['a/1', 'a/2', 'b/1', 'b/2', 'c'];
      const s = sorterWith(make, clients);
      s.deactivate('b/2');
      const asked: string[] = [];
      assert.equal(
        s.first((c) => {
          asked.push(c);
          return false;
        }),
        undefined,
      );
      assert.deepEqual(sortedCopy(asked), ['a/1', 'a/2', 'b/1', 'c'], 'every active client once, none inactive');
      assert.equal(s.first((c) => c === 'b/1'), 'b/1');
      assert.equal(sorterWith(make, []).first(() => true), undefined);
    });

    const badPaths: { name: string; path: string }[] = [
      { name: 'empty', path: '' },
      { name: 'leading slash', path: '/a' },
      { name: 'trailing slash', path: 'a/' },
      { name: 'double slash', path: 'a//b' },
      { name: 'reserved "."', path: 'a/./b' },
      { name: 'reserved ".."', path: 'a/..' },
    ];
    for (const { name: why, path } of badPaths) {
      it(`rejects role path "${path}" (${why})`, () => {
        const s = sorterWith(make, []);
        assert.throws(() => s.add(path), InvalidRoleError);
        assert.throws(() => s.setWeight(path, 2), InvalidRoleError);
      });
    }

    it('treats client names in a flat sorter as opaque', () => {
      const s = make(false);
      s.add('fw/with/slashes');
      s.add('fw');
      assert.deepEqual(sortedCopy(s.sort()), ['fw', 'fw/with/slashes']);
      s.allocated('fw/with/slashes', q({ cpus: 1 }));
      assert.deepEqual(s.allocation('fw'), q({}));
    });

    for (const weight of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      it(`rejects weight ${weight}`, () => {
        assert.throws(() => sorterWith(make, ['a']).setWeight('a', weight), InvalidWeightError);
      });
    }

    it('keeps order and accounting consistent under random operations (property)', () => {
      fc.assert(
        fc.property(fc.array(opArb, { maxLength: 60, size: 'max' }), fc.array(fc.constantFrom(...UNIVERSE), { maxLength: 3 }), (ops, acceptable) => {
          const s = make();
          s.setTotal(TOTAL);
          const model = new Model();
          for (const op of ops) applyOp(op, s, model);
          assert.deepEqual(sortedCopy(s.sort()), sortedCopy(model.activeClients()));
          for (const path of [...UNIVERSE, 'a', 'c']) assert.deepEqual(s.allocation(path), model.subtree(path));
          const want = new Set(acceptable);
          const got = s.first((c) => want.has(c));
          const anyActive = model.activeClients().some((c) => want.has(c));
          if (anyActive) assert.ok(got !== undefined && want.has(got));
          else assert.equal(got, undefined);
        }),
        { numRuns: 150 },
      );
    });
  });
}

describe('DRF sorter', () => {
  /** Every active client in the order first() visits them (first() walks the heaps; sort() sorts copies). */
  const walk = (s: Sorter) => {
    const asked: string[] = [];
    s.first((c) => (asked.push(c), false));
    return asked;
  };
  const drf = (clients: string[], allocations: Record<string, Partial<Quantities>>, total = TOTAL) => {
    const s = new DrfSorter();
    s.setTotal(total);
    for (const c of clients) s.add(c);
    for (const [c, a] of Object.entries(allocations)) s.allocated(c, q(a));
    return s;
  };

  const assertOrder = (s: Sorter, want: string[]) => {
    assert.deepEqual(s.sort(), want);
    assert.deepEqual(walk(s), want);
  };

  const cases: { name: string; clients: string[]; alloc: Record<string, Partial<Quantities>>; weights?: Record<string, number>; want: string[] }[] = [
    {
      name: 'smallest dominant share first',
      clients: ['a', 'b', 'c'],
      // a = 20/100 cpu = 0.2; b = 300/1000 mem = 0.3; c = max(10/100, 50/1000) = 0.1
      alloc: { a: { cpus: 20 }, b: { mem: 300 }, c: { cpus: 10, mem: 50 } },
      want: ['c', 'a', 'b'],
    },
    {
      name: 'the dominant resource is whichever kind is scarcest for the client',
      clients: ['cpu-heavy', 'gpu-light'],
      // cpu-heavy = max(50/100, 0) = 0.5; gpu-light = max(1/100, 6/10 gpus) = 0.6
      alloc: { 'cpu-heavy': { cpus: 50 }, 'gpu-light': { cpus: 1, gpus: 6 } },
      want: ['cpu-heavy', 'gpu-light'],
    },
    {
      name: 'equal shares break ties by name',
      clients: ['zeta', 'alpha', 'mu'],
      alloc: { zeta: { cpus: 10 }, alpha: { mem: 100 }, mu: { disk: 100 } }, // all 0.1
      want: ['alpha', 'mu', 'zeta'],
    },
    {
      name: 'weights divide shares',
      clients: ['a', 'b'],
      // a: 0.4 / 2 = 0.2; b: 0.3 / 1 = 0.3
      alloc: { a: { cpus: 40 }, b: { cpus: 30 } },
      weights: { a: 2 },
      want: ['a', 'b'],
    },
    {
      name: 'hierarchy: siblings compete as subtrees, then within',
      clients: ['eng/ml', 'eng/web', 'ops'],
      // eng = 10 + 20 = 30 cpus = 0.3 > ops 0.25, so ops first although ml (0.1) is the smallest leaf
      alloc: { 'eng/ml': { cpus: 10 }, 'eng/web': { cpus: 20 }, ops: { cpus: 25 } },
      want: ['ops', 'eng/ml', 'eng/web'],
    },
    {
      name: 'hierarchy: a role weight applies to its whole subtree',
      clients: ['eng/ml', 'eng/web', 'ops'],
      // eng = 0.3 / 2 = 0.15 < ops 0.25
      alloc: { 'eng/ml': { cpus: 10 }, 'eng/web': { cpus: 20 }, ops: { cpus: 25 } },
      weights: { eng: 2 },
      want: ['eng/ml', 'eng/web', 'ops'],
    },
    {
      name: "a client with child roles competes with them through its own share ('.' leaf)",
      clients: ['eng', 'eng/ml', 'ops'],
      // eng subtree = 30 + 10 = 0.4 > ops 0.35; inside eng: ml 0.1 < eng's own 0.3
      alloc: { eng: { cpus: 30 }, 'eng/ml': { cpus: 10 }, ops: { cpus: 35 } },
      want: ['ops', 'eng/ml', 'eng'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const s = drf(c.clients, c.alloc);
      for (const [path, w] of Object.entries(c.weights ?? {})) s.setWeight(path, w);
      assert.deepEqual(s.sort(), c.want);
      assert.deepEqual(walk(s), c.want);
    });
  }

  it("a subtree's allocation and share are the sums of its children's", () => {
    const s = drf(['eng/ml', 'eng/web', 'ops'], { 'eng/ml': { cpus: 10, mem: 50 }, 'eng/web': { cpus: 20, mem: 100 }, ops: { cpus: 25 } });
    // eng = (10 + 20) cpus, (50 + 100) mem; shares all cpu-dominant: 0.1 + 0.2 = 0.3
    assert.deepEqual(s.allocation('eng'), q({ cpus: 30, mem: 150 }));
    assert.equal(s.share('eng/ml'), 0.1);
    assert.equal(s.share('eng/web'), 0.2);
    assert.equal(s.share('eng'), 0.3);
  });

  it('re-orders incrementally as allocations change', () => {
    const s = drf(['a', 'b', 'c'], {});
    assertOrder(s, ['a', 'b', 'c']); // all 0: by name
    s.allocated('a', q({ cpus: 10 })); // a 0.1
    assertOrder(s, ['b', 'c', 'a']);
    s.allocated('b', q({ cpus: 20 })); // b 0.2
    assertOrder(s, ['c', 'a', 'b']);
    s.unallocated('b', q({ cpus: 20 })); // b back to 0
    assertOrder(s, ['b', 'c', 'a']);
    s.setWeight('a', 100); // a 0.1 / 100 = 0.001 > 0
    assertOrder(s, ['b', 'c', 'a']);
    s.unallocated('a', q({ cpus: 10 }));
    assertOrder(s, ['a', 'b', 'c']);
  });

  it('re-keys everything when the total changes', () => {
    const s = drf(['a', 'b'], { a: { cpus: 5 }, b: { mem: 50 } }, q({ cpus: 10, mem: 100 }));
    assertOrder(s, ['a', 'b']); // a 5/10 = 0.5, b 50/100 = 0.5: tie, by name
    s.setTotal(q({ cpus: 20, mem: 100 })); // a 0.25, b 0.5
    assertOrder(s, ['a', 'b']);
    s.setTotal(q({ cpus: 10, mem: 200 })); // a 0.5, b 0.25
    assertOrder(s, ['b', 'a']);
    s.setTotal(q({})); // no resources at all: every share 0, by name
    assertOrder(s, ['a', 'b']);
  });

  it('DRF paper example: A ⟨1 cpu, 4 GB⟩ and B ⟨3 cpus, 1 GB⟩ on 9 cpus, 18 GB get 3 and 2 tasks', () => {
    // Ghodsi et al. 2011, §4: A's dominant resource is memory (4/18 per task), B's is CPU (3/9 per task).
    // A: 3 tasks = 3 cpus, 12 GB -> 12/18 = 2/3; B: 2 tasks = 6 cpus, 2 GB -> 6/9 = 2/3; 9 cpus used.
    const demand: Record<string, Quantities> = { A: q({ cpus: 1, mem: 4096 }), B: q({ cpus: 3, mem: 1024 }) };
    const total = q({ cpus: 9, mem: 18432 });
    const s = new DrfSorter({ hierarchical: false });
    s.setTotal(total);
    s.add('A');
    s.add('B');
    let free = { ...total };
    const fits = (c: string) => demand[c]!.cpus <= free.cpus && demand[c]!.mem <= free.mem;
    const tasks: Record<string, number> = { A: 0, B: 0 };
    const launched: string[] = [];
    for (let next = s.first(fits); next !== undefined; next = s.first(fits)) {
      const d = demand[next]!;
      s.allocated(next, d);
      free = { ...free, cpus: free.cpus - d.cpus, mem: free.mem - d.mem };
      tasks[next]!++;
      launched.push(next);
    }
    assert.deepEqual(tasks, { A: 3, B: 2 });
    // A (tie at 0, by name), B (B 1/3 > A 2/9), A (2/9 < 1/3), B (4/9 > 1/3), A (4/9 < 2/3)
    assert.deepEqual(launched, ['A', 'B', 'A', 'B', 'A']);
    assert.equal(s.share('A'), 2 / 3);
    assert.equal(s.share('B'), 2 / 3);
  });

  it('keeps a wide flat heap in (share, name) order through add, remove, activate and allocate (property)', () => {
    const wideOp = fc.record({
      kind: fc.constantFrom('add', 'remove', 'activate', 'deactivate', 'allocate', 'unallocate'),
      client: fc.nat(39),
      cpus: fc.nat(20),
      mem: fc.nat(200),
    });
    fc.assert(
      fc.property(fc.array(wideOp, { minLength: 20, maxLength: 200, size: 'max' }), (ops) => {
        const s = new DrfSorter({ hierarchical: false });
        s.setTotal(TOTAL);
        const model = new Map<string, { active: boolean; cpus: number; mem: number }>();
        for (const op of ops) {
          const name = `fw-${op.client}`;
          const c = model.get(name);
          if (op.kind === 'add' && !c) {
            s.add(name);
            model.set(name, { active: true, cpus: 0, mem: 0 });
          } else if (op.kind === 'remove' && c) {
            s.remove(name);
            model.delete(name);
          } else if ((op.kind === 'activate' || op.kind === 'deactivate') && c) {
            s[op.kind](name);
            c.active = op.kind === 'activate';
          } else if (op.kind === 'allocate' && c) {
            s.allocated(name, q({ cpus: op.cpus, mem: op.mem }));
            c.cpus += op.cpus;
            c.mem += op.mem;
          } else if (op.kind === 'unallocate' && c) {
            s.unallocated(name, q({ cpus: c.cpus, mem: 0 }));
            c.cpus = 0;
          }
        }
        const key = (c: { cpus: number; mem: number }) => Math.max(c.cpus / TOTAL.cpus, c.mem / TOTAL.mem);
        const want = [...model]
          .filter(([, c]) => c.active)
          .sort(([an, a], [bn, b]) => key(a) - key(b) || (an < bn ? -1 : 1))
          .map(([name]) => name);
        assert.deepEqual(s.sort(), want);
        // first() walks the heap itself (sort() sorts a copy), so a broken heap shows here
        const asked: string[] = [];
        s.first((c) => (asked.push(c), false));
        assert.deepEqual(asked, want);
      }),
      { numRuns: 200 },
    );
  });

  it('first(accept) asks clients in sort() order, skipping rejected ones, in a wide flat heap (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ cpus: fc.nat(20), mem: fc.nat(200) }), { minLength: 1, maxLength: 60, size: 'max' }),
        fc.array(fc.boolean(), { maxLength: 60, size: 'max' }),
        (allocs, accepts) => {
          const s = new DrfSorter({ hierarchical: false });
          s.setTotal(TOTAL);
          allocs.forEach((a, i) => {
            s.add(`fw-${i}`);
            s.allocated(`fw-${i}`, q(a));
          });
          const takes = (c: string) => accepts[Number(c.slice(3))] ?? false;
          const asked: string[] = [];
          const got = s.first((c) => {
            asked.push(c);
            return takes(c);
          });
          const order = s.sort();
          const want = order.find(takes);
          assert.equal(got, want);
          // every client before the winner was asked, in order, and nobody after it
          assert.deepEqual(asked, want === undefined ? order : order.slice(0, order.indexOf(want) + 1));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('first(accept) is sort().find(accept), and sort() matches a by-hand reference order (property)', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60, size: 'max' }), fc.array(fc.constantFrom(...UNIVERSE), { maxLength: 4 }), (ops, acceptable) => {
        const s = new DrfSorter();
        s.setTotal(TOTAL);
        const model = new Model();
        for (const op of ops) applyOp(op, s, model);
        const order = s.sort();
        assert.deepEqual(order, model.drfOrder(TOTAL));
        const want = new Set(acceptable);
        assert.equal(
          s.first((c) => want.has(c)),
          order.find((c) => want.has(c)),
        );
      }),
      { numRuns: 300 },
    );
  });
});

describe('random sorter', () => {
  it('replays the same orders from the same seed', () => {
    const run = (seed: number) => {
      const s = new RandomSorter(seededRng(seed));
      for (const c of ['a', 'b', 'c/x', 'c/y', 'd']) s.add(c);
      return Array.from({ length: 10 }, () => s.sort().join(','));
    };
    assert.deepEqual(run(7), run(7));
    assert.notDeepEqual(run(7), run(8));
  });

  it('draws a fresh order each time, whatever the allocations', () => {
    const s = new RandomSorter(seededRng(1), { hierarchical: false });
    s.setTotal(TOTAL);
    for (const c of ['a', 'b', 'c', 'd']) s.add(c);
    s.allocated('a', q({ cpus: 99 })); // DRF would put a last every time
    const firsts = new Map<string, number>();
    for (let i = 0; i < 400; i++) {
      const c = s.first(() => true)!;
      firsts.set(c, (firsts.get(c) ?? 0) + 1);
    }
    // 4 clients, uniform: each ~100 of 400
    for (const c of ['a', 'b', 'c', 'd']) assert.ok(firsts.get(c)! > 60, `${c} first ${firsts.get(c)} times`);
  });

  it('puts heavier roles first more often, in proportion to weight', () => {
    const s = new RandomSorter(seededRng(3));
    s.add('heavy');
    s.add('light');
    s.setWeight('heavy', 9);
    let heavyFirst = 0;
    for (let i = 0; i < 1000; i++) if (s.sort()[0] === 'heavy') heavyFirst++;
    // P(heavy first) = 9 / (9 + 1) = 0.9, so ~900 of 1000
    assert.ok(heavyFirst > 850 && heavyFirst < 950, `heavy first ${heavyFirst} of 1000`);
  });
});

// ---------------------------------------------------------------------------
// A by-hand model of the sorter contract, for the property tests.

const UNIVERSE: readonly string[] = ['a', 'b', 'a/x', 'a/y', 'a/x/p', 'c/z'];
const WEIGHT_PATHS: readonly string[] = ['a', 'b', 'a/x', 'c', 'c/z'];

type Op =
  | { kind: 'add' | 'remove' | 'activate' | 'deactivate'; client: string }
  | { kind: 'allocate'; client: string; amount: Quantities }
  | { kind: 'unallocate'; client: string; half: boolean }
  | { kind: 'weight'; path: string; weight: number };

const clientArb = fc.constantFrom(...UNIVERSE);
// Whole numbers keep sums exact, so the model's shares equal the sorter's bit for bit.
const amountArb = fc.record({ cpus: fc.nat(30), mem: fc.nat(300), disk: fc.nat(300), gpus: fc.nat(3) });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constantFrom('add' as const, 'remove' as const, 'activate' as const, 'deactivate' as const), client: clientArb }),
  fc.record({ kind: fc.constant('add' as const), client: clientArb }),
  fc.record({ kind: fc.constant('allocate' as const), client: clientArb, amount: amountArb }),
  fc.record({ kind: fc.constant('unallocate' as const), client: clientArb, half: fc.boolean() }),
  fc.record({ kind: fc.constant('weight' as const), path: fc.constantFrom(...WEIGHT_PATHS), weight: fc.integer({ min: 1, max: 4 }) }),
);

class Model {
  readonly clients = new Map<string, { active: boolean; alloc: Quantities }>();
  readonly weights = new Map<string, number>();

  activeClients(): string[] {
    return [...this.clients].filter(([, c]) => c.active).map(([name]) => name);
  }

  /** Sum over clients at or below `path`. */
  subtree(path: string): Quantities {
    const sum = q({});
    for (const [name, c] of this.clients) {
      if (name === path || name.startsWith(`${path}/`)) {
        sum.cpus += c.alloc.cpus;
        sum.mem += c.alloc.mem;
        sum.disk += c.alloc.disk;
        sum.gpus += c.alloc.gpus;
      }
    }
    return sum;
  }

  /**
   * Hierarchical DRF by definition: the children of a node are the distinct
   * next path segments of the clients below it, plus '.' (weight 1) for the
   * node's own client when it has clients below; each level is sorted by
   * (subtree share / weight, name) and expanded depth first.
   */
  drfOrder(total: Quantities): string[] {
    const share = (a: Quantities) =>
      Math.max(0, ...(['cpus', 'mem', 'disk', 'gpus'] as const).filter((k) => total[k] > 0).map((k) => a[k] / total[k]));
    const names = [...this.clients.keys()];
    const hasBelow = (path: string) => names.some((n) => n.startsWith(`${path}/`));
    const join = (prefix: string, seg: string) => (prefix === '' ? seg : `${prefix}/${seg}`);
    const order = (prefix: string): string[] => {
      const segments = new Set<string>();
      for (const n of names) {
        if (prefix === '') segments.add(n.split('/')[0]!);
        else if (n.startsWith(`${prefix}/`)) segments.add(n.slice(prefix.length + 1).split('/')[0]!);
      }
      const entries = [...segments].map((seg) => {
        const path = join(prefix, seg);
        return { name: seg, path, key: share(this.subtree(path)) / (this.weights.get(path) ?? 1) };
      });
      const own = prefix === '' ? undefined : this.clients.get(prefix);
      if (own) entries.push({ name: '.', path: prefix, key: share(own.alloc) });
      entries.sort((x, y) => (x.key !== y.key ? x.key - y.key : x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
      const out: string[] = [];
      for (const e of entries) {
        if (e.name === '.' || !hasBelow(e.path)) {
          if (this.clients.get(e.path)?.active) out.push(e.path);
        } else {
          out.push(...order(e.path));
        }
      }
      return out;
    };
    return order('');
  }
}

function applyOp(op: Op, s: Sorter, m: Model): void {
  if (op.kind === 'weight') {
    s.setWeight(op.path, op.weight);
    m.weights.set(op.path, op.weight);
    return;
  }
  const c = m.clients.get(op.client);
  switch (op.kind) {
    case 'add':
      if (c) return assert.throws(() => s.add(op.client), DuplicateClientError);
      s.add(op.client);
      m.clients.set(op.client, { active: true, alloc: q({}) });
      return;
    case 'remove':
      if (!c) return assert.throws(() => s.remove(op.client), UnknownClientError);
      s.remove(op.client);
      m.clients.delete(op.client);
      return;
    case 'activate':
    case 'deactivate':
      if (!c) return;
      s[op.kind](op.client);
      c.active = op.kind === 'activate';
      return;
    case 'allocate':
      if (!c) return;
      s.allocated(op.client, op.amount);
      for (const k of ['cpus', 'mem', 'disk', 'gpus'] as const) c.alloc[k] += op.amount[k];
      return;
    case 'unallocate': {
      if (!c) return;
      const back = q({});
      for (const k of ['cpus', 'mem', 'disk', 'gpus'] as const) back[k] = op.half ? Math.floor(c.alloc[k] / 2) : c.alloc[k];
      s.unallocated(op.client, back);
      for (const k of ['cpus', 'mem', 'disk', 'gpus'] as const) c.alloc[k] -= back[k];
      return;
    }
  }
}
