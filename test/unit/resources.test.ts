import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as res from '../../lib/resources';

test('add, subtract and contains, with ports', () => {
  const agent = res.make({ cpus: 4, mem: 1024, ports: [{ begin: 31000, end: 31009 }] });
  const task = res.make({ cpus: 1.5, mem: 256, ports: [{ begin: 31002, end: 31003 }] });
  const left = res.subtract(agent, task);
  assert.deepEqual(left, { cpus: 2.5, mem: 768, disk: 0, gpus: 0, ports: [{ begin: 31000, end: 31001 }, { begin: 31004, end: 31009 }] });
  assert.ok(res.contains(agent, task));
  assert.ok(!res.contains(left, task), 'ports 31002-31003 are gone');
  assert.deepEqual(res.add(left, task), agent);
});

test('floating point: 0.1 + 0.2 cpus fit in 0.3, and subtracting back gives exactly 0', () => {
  const three = res.make({ cpus: 0.3 });
  const sum = res.add(res.make({ cpus: 0.1 }), res.make({ cpus: 0.2 }));
  assert.ok(res.contains(three, sum));
  assert.equal(res.subtract(three, sum).cpus, 0);
});

test('shortfall names each missing resource', () => {
  const have = res.make({ cpus: 2, mem: 100, ports: [{ begin: 1, end: 2 }] });
  const want = res.make({ cpus: 4, mem: 50, ports: [{ begin: 3, end: 3 }] });
  assert.deepEqual(res.shortfall(have, want), ['needs 4 cpus, 2 available', 'needs ports 3, available 1-2']);
  assert.deepEqual(res.shortfall(want, res.make({ cpus: 1 })), []);
});

const parseCases: { name: string; input: string; want?: Partial<res.Resources>; error?: RegExp }[] = [
  { name: 'all kinds', input: 'cpus:4;mem:2048;disk:10;gpus:1;ports:[31000-31005,32000]', want: { cpus: 4, mem: 2048, disk: 10, gpus: 1, ports: [{ begin: 31000, end: 31005 }, { begin: 32000, end: 32000 }] } },
  { name: 'spaces and empty parts', input: ' cpus : 0.5 ;; ', want: { cpus: 0.5 } },
  { name: 'unknown name', input: 'bananas:3', error: /unknown resource "bananas"/ },
  { name: 'negative', input: 'cpus:-1', error: /cpus must be a non-negative number/ },
  { name: 'not a number', input: 'mem:lots', error: /mem must be a non-negative number; got "lots"/ },
  { name: 'no value', input: 'cpus', error: /has no value/ },
  { name: 'ports without brackets', input: 'ports:31000-32000', error: /in brackets/ },
  { name: 'inverted range', input: 'ports:[5-1]', error: /bad port range "5-1"/ },
];
for (const tc of parseCases) {
  test(`parse: ${tc.name}`, () => {
    if (tc.error) assert.throws(() => res.parse(tc.input), tc.error);
    else assert.deepEqual(res.parse(tc.input), tc.want);
  });
}

test('wire round trip, and invalid wire resources are refused', () => {
  const r = res.make({ cpus: 2, mem: 64, ports: [{ begin: 10, end: 20 }] });
  assert.deepEqual(res.fromProto(res.toProto(r)), r);
  assert.throws(() => res.fromProto([{ name: 'cpus', scalar: -1 }]), /must not be negative/);
  assert.throws(() => res.fromProto([{ name: 'mem', scalar: Number.NaN }]), /finite/);
  assert.throws(() => res.fromProto([{ name: 'ports', ranges: [{ begin: 9, end: 3 }] }]), /inverted/);
  assert.throws(() => res.fromProto([{ name: 'unicorns', scalar: 1 }]), /unknown resource/);
});

// ─── port ranges: compared as ranges, never expanded ──────────────────────

const r = (begin: number, end = begin): res.PortRange => ({ begin, end });

const containCases: { name: string; outer: res.PortRange[]; inner: res.PortRange[]; want: boolean }[] = [
  { name: 'nothing asked', outer: [], inner: [], want: true },
  { name: 'asked of nothing', outer: [], inner: [r(1)], want: false },
  { name: 'inside one range', outer: [r(10, 20)], inner: [r(12, 15)], want: true },
  { name: 'exactly the range', outer: [r(10, 20)], inner: [r(10, 20)], want: true },
  { name: 'spans a gap', outer: [r(10, 12), r(14, 20)], inner: [r(11, 15)], want: false },
  { name: 'one in each range', outer: [r(10, 12), r(14, 20)], inner: [r(11), r(20)], want: true },
  { name: 'past the end', outer: [r(10, 20)], inner: [r(20, 21)], want: false },
  { name: 'before the start', outer: [r(10, 20)], inner: [r(9, 10)], want: false },
  { name: 'unsorted input is sorted first', outer: [r(30, 40), r(10, 20)], inner: [r(35), r(15)], want: true },
  { name: 'all ports', outer: [r(0, 65535)], inner: [r(0), r(65535)], want: true },
];
for (const tc of containCases) {
  test(`rangesContain: ${tc.name}`, () => assert.equal(res.rangesContain(tc.outer, tc.inner), tc.want));
}

const subtractCases: { name: string; from: res.PortRange[]; take: res.PortRange[]; want: res.PortRange[] }[] = [
  { name: 'nothing taken', from: [r(1, 5)], take: [], want: [r(1, 5)] },
  { name: 'a hole in the middle', from: [r(1, 10)], take: [r(4, 6)], want: [r(1, 3), r(7, 10)] },
  { name: 'both ends', from: [r(1, 10)], take: [r(1), r(10)], want: [r(2, 9)] },
  { name: 'the whole range', from: [r(1, 10)], take: [r(1, 10)], want: [] },
  { name: 'one take cuts two ranges', from: [r(1, 5), r(8, 12)], take: [r(4, 9)], want: [r(1, 3), r(10, 12)] },
  { name: 'takes outside', from: [r(5, 6)], take: [r(1, 2), r(9, 20)], want: [r(5, 6)] },
  { name: 'several holes', from: [r(0, 20)], take: [r(2), r(5, 6), r(19, 30)], want: [r(0, 1), r(3, 4), r(7, 18)] },
];
for (const tc of subtractCases) {
  test(`subtractRanges: ${tc.name}`, () => assert.deepEqual(res.subtractRanges(tc.from, tc.take), tc.want));
}

test('range operations cost the number of ranges, not their width or their product', () => {
  // 30,000 single ports taken from 30,000 others: a quadratic subtract would make 9e8 steps.
  const odd = Array.from({ length: 30_000 }, (_, i) => r(2 * i + 1));
  const even = Array.from({ length: 30_000 }, (_, i) => r(2 * i));
  const all = res.make({ ports: [r(0, 65535)] });
  const start = process.hrtime.bigint();
  const left = res.subtract(all, res.make({ ports: even }));
  assert.equal(left.ports.length, 30_000); // odd ports 1, 3, …, 59,997, then 59,999-65,535 in one range
  assert.ok(res.contains(left, res.make({ ports: odd })));
  assert.ok(!res.contains(res.make({ ports: odd }), res.make({ ports: even })));
  assert.equal(res.shortfall(res.make({ ports: odd }), res.make({ ports: even })).length, 1);
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  assert.ok(ms < 1000, `took ${ms} ms`);
});

test('a shortfall of ports names the ranges, and a long list is counted, not written out', () => {
  const many = res.make({ ports: Array.from({ length: 100 }, (_, i) => r(3 * i)) });
  const [msg] = res.shortfall(res.make({ ports: [r(1)] }), many);
  assert.match(msg!, /^needs ports 0,3,6,9,12,15,18,21,… and 92 more ranges, available 1$/);
});

test('portList lists ports without listing the ranges', () => {
  const ports = [r(10, 11), r(20, 1_000_000_000)]; // a bag never holds such a range, but the helper must not care
  assert.equal(res.portList(ports).length, res.MAX_TASK_PORTS);
  assert.deepEqual(res.portList(ports, 3), [10, 11, 20]);
});

test('a task holds at most MAX_TASK_PORTS ports', () => {
  assert.equal(res.taskPortsProblem(res.make({ ports: [r(31000, 31000 + res.MAX_TASK_PORTS - 1)] })), undefined);
  assert.match(res.taskPortsProblem(res.make({ ports: [r(0, 65535)] }))!, /asks for 65536 ports \(0-65535\); a task may hold at most 4096/);
});

// ─── fromProto: what a framework or an agent sends is checked ─────────────

const wireCases: { name: string; input: Parameters<typeof res.fromProto>[0]; error: RegExp }[] = [
  { name: 'ports up to 2^40', input: [{ name: 'ports', ranges: [{ begin: 1, end: 1099511627776 }] }], error: /port range 1-1099511627776 is outside 0-65535/ },
  { name: 'ports up to 2^53', input: [{ name: 'ports', ranges: [{ begin: 0, end: 2 ** 53 }] }], error: /port range 0-9007199254740992 is outside 0-65535/ },
  { name: 'ports up to 60,000,000', input: [{ name: 'ports', ranges: [{ begin: 1, end: 60_000_000 }] }], error: /outside 0-65535/ },
  { name: 'a negative port', input: [{ name: 'ports', ranges: [{ begin: -5, end: 10 }] }], error: /port range -5-10 is outside 0-65535/ },
  { name: 'a fractional port', input: [{ name: 'ports', ranges: [{ begin: 1.5, end: 10 }] }], error: /not a range of whole numbers/ },
  { name: 'an inverted range', input: [{ name: 'ports', ranges: [{ begin: 9, end: 3 }] }], error: /port range 9-3 is inverted \(begin > end\)/ },
  { name: 'too many ranges', input: [{ name: 'ports', ranges: Array.from({ length: res.MAX_PORT_RANGES + 1 }, () => ({ begin: 1, end: 1 })) }], error: /ports has 65537 ranges; the limit is 65536/ },
  { name: '1e300 cpus', input: [{ name: 'cpus', scalar: 1e300 }], error: /resource cpus is 1e\+300; the limit is 1000000/ },
  { name: 'cpus summed past the limit', input: [{ name: 'cpus', scalar: 6e5 }, { name: 'cpus', scalar: 6e5 }], error: /resource cpus is 1200000; the limit is 1000000/ },
  { name: 'infinite mem', input: [{ name: 'mem', scalar: Infinity }], error: /mem is Infinity; it must be a finite number/ },
  { name: 'NaN disk', input: [{ name: 'disk', scalar: Number.NaN }], error: /disk is NaN; it must be a finite number/ },
  { name: 'negative gpus', input: [{ name: 'gpus', scalar: -1 }], error: /gpus is -1; it must not be negative/ },
  { name: 'a long unknown name is not echoed', input: [{ name: 'x'.repeat(100_000), scalar: 1 }], error: /^unknown resource "x{40}…" \(100000 characters\); known/ },
];
for (const tc of wireCases) {
  test(`fromProto refuses ${tc.name}`, () => {
    assert.throws(() => res.fromProto(tc.input), (err: unknown) => {
      assert.ok(err instanceof res.InvalidResourceError);
      assert.match(err.message, tc.error);
      assert.ok(err.message.length < 200, 'short');
      return true;
    });
  });
}

test('fromProto accepts the edges: port 0, port 65535, every limit exactly', () => {
  const got = res.fromProto([
    { name: 'ports', ranges: [{ begin: 0, end: 0 }, { begin: 65535, end: 65535 }] },
    { name: 'cpus', scalar: res.MAX_SCALAR.cpus }, { name: 'mem', scalar: res.MAX_SCALAR.mem }, { name: 'disk', scalar: res.MAX_SCALAR.disk },
  ]);
  assert.deepEqual(got.ports, [r(0), r(65535)]);
  assert.equal(got.cpus, 1e6);
});

test('parse applies the same limits as the wire', () => {
  assert.throws(() => res.parse('cpus:1e300'), /resource cpus is 1e\+300; the limit is 1000000/);
  assert.throws(() => res.parse('ports:[1-70000]'), /bad port range "1-70000" \(want BEGIN-END within 0-65535\)/);
});
