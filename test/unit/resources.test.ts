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
