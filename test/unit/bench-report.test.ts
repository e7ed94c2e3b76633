import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatTable, goalBound, meets, ofGoal, type BenchRow } from '../../bench/report';
import { fits, percentile } from '../../bench/scheduler-wire';
import type { Offer__Output } from '../../lib/proto';

const row = (value: number, goal?: string, extra: Partial<BenchRow> = {}): BenchRow => ({ name: 'x', value, unit: 'ms', goal, ...extra });

describe('meets', () => {
  const cases: { name: string; row: BenchRow; want: boolean }[] = [
    { name: 'no goal', row: row(5), want: true },
    { name: 'under a ≤ bound', row: row(19.9, '≤ 20 ms'), want: true },
    { name: 'on a ≤ bound', row: row(20, '≤ 20 ms'), want: true },
    { name: 'over a ≤ bound', row: row(20.1, '≤ 20 ms'), want: false },
    { name: 'over a ≥ bound with a thousands separator', row: row(2500, '≥ 2,000 tasks/s'), want: true },
    { name: 'under a ≥ bound', row: row(1999, '≥ 2,000 tasks/s'), want: false },
    { name: 'not measured (NaN) misses', row: row(NaN, '≤ 3 s'), want: false },
    { name: 'skipped is not a miss', row: row(NaN, '≤ 3 s', { skipped: 'etcd is not installed' }), want: true },
  ];
  for (const c of cases) it(c.name, () => assert.equal(meets(c.row), c.want));
});

describe('goalBound', () => {
  const cases = [
    { goal: '≤ 50 ms', want: { op: '≤', bound: 50 } },
    { goal: '≥ 2,000 tasks/s', want: { op: '≥', bound: 2000 } },
    { goal: '≤0.5 s', want: { op: '≤', bound: 0.5 } },
    { goal: 'fast', want: undefined },
    { goal: undefined, want: undefined },
  ];
  for (const c of cases) it(String(c.goal), () => assert.deepEqual(goalBound(c.goal), c.want));
});

describe('ofGoal', () => {
  const cases = [
    { name: 'under a ≤ goal', value: 1.14, goal: '≤ 2 s', want: '0.57× the goal' },
    { name: 'over a ≤ goal', value: 63.3, goal: '≤ 50 ms', want: '1.27× the goal' },
    { name: 'a ≥ goal with a thousands separator', value: 3000, goal: '≥ 2,000 tasks/s', want: '1.50× the goal' },
    { name: 'no bound to divide by', value: 3, goal: '≤ 0 ms', want: '' },
    { name: 'no goal', value: 3, goal: 'soon', want: '' },
  ];
  for (const c of cases) it(c.name, () => assert.equal(ofGoal(c.value, c.goal), c.want));
});

describe('formatTable', () => {
  it('marks each figure beside its goal, and skipped rows with their reason', () => {
    const table = formatTable([
      row(4.5, '≤ 20 ms', { name: 'latency' }),
      row(1500, '≥ 2,000 tasks/s', { name: 'launches', unit: 'tasks/s' }),
      row(NaN, '≤ 3 s', { name: 'failover', skipped: 'skipped: etcd is not installed' }),
    ]);
    const lines = table.split('\n');
    assert.match(lines[2]!, /^latency\s+4\.50 ms\s+≤ 20 ms\s+ok$/);
    assert.match(lines[3]!, /^launches\s+1500\.0 tasks\/s\s+≥ 2,000 tasks\/s\s+MISSED$/);
    assert.match(lines[4]!, /^failover\s+skipped\s+≤ 3 s\s+skipped: etcd is not installed$/);
  });
});

describe('percentile (nearest rank)', () => {
  // 1..100: p50 is the 50th value, p99 the 99th.
  const xs = Array.from({ length: 100 }, (_, i) => 100 - i);
  const cases = [
    { p: 50, want: 50 },
    { p: 99, want: 99 },
    { p: 100, want: 100 },
    { p: 0, want: 1 },
  ];
  for (const c of cases) it(`p${c.p}`, () => assert.equal(percentile(xs, c.p), c.want));
  it('of nothing is NaN', () => assert.ok(Number.isNaN(percentile([], 50))));
});

describe('fits', () => {
  const offer = (cpus: number, mem: number) =>
    ({ resources: [{ name: 'cpus', scalar: cpus }, { name: 'mem', scalar: mem }] }) as unknown as Offer__Output;
  const cases = [
    // 4 / 0.1 = 40 (despite 0.1's binary fraction), 4096 / 32 = 128 → 40
    { name: 'cpu bound', offer: offer(4, 4096), want: 40 },
    // 4 / 0.1 = 40, 100 / 32 = 3.1 → 3
    { name: 'mem bound', offer: offer(4, 100), want: 3 },
    { name: 'nothing fits', offer: offer(0.05, 4096), want: 0 },
  ];
  for (const c of cases) it(c.name, () => assert.equal(fits(c.offer, { cpus: 0.1, mem: 32 }), c.want));
});
