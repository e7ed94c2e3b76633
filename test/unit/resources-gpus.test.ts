/**
 * GPU ids in the resource bag: counted by `gpus`, named by `gpuIds`, on the
 * wire as the `set` of the gpus resource. Ids are short stand-ins for
 * nvidia-smi uuids (GPU-…); an agent lists them in index order.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as res from '../../lib/resources';

const A = 'GPU-a';
const B = 'GPU-b';
const C = 'GPU-c';
/** A 3-GPU agent: indexes 0, 1, 2 are A, B, C. */
const agent = () => res.make({ cpus: 8, mem: 1024, gpus: 3, gpuIds: [A, B, C] });

describe('GPU ids: make, add, subtract', () => {
  const cases: { name: string; got: () => res.Resources; want: Partial<res.Resources> }[] = [
    { name: 'ids without a count count themselves', got: () => res.make({ gpuIds: [A, B] }), want: { gpus: 2, gpuIds: [A, B] } },
    { name: 'repeated ids are one GPU', got: () => res.make({ gpuIds: [A, A, B] }), want: { gpus: 2, gpuIds: [A, B] } },
    { name: 'a bag without ids has no gpuIds key', got: () => res.make({ gpus: 2 }), want: { gpus: 2 } },
    { name: 'subtracting named GPUs removes those ids', got: () => res.subtract(agent(), res.make({ gpuIds: [B] })), want: { gpus: 2, gpuIds: [A, C] } },
    // An unnamed GPU comes out of the lowest index, as the master assigns: 3 − 1 = [B, C].
    { name: 'subtracting a count takes the lowest ids', got: () => res.subtract(agent(), res.make({ gpus: 1 })), want: { gpus: 2, gpuIds: [B, C] } },
    // Named C plus one more (the lowest free, A): left [B].
    { name: 'named and counted together', got: () => res.subtract(agent(), res.make({ gpus: 2, gpuIds: [C] })), want: { gpus: 1, gpuIds: [B] } },
    { name: 'all of them', got: () => res.subtract(agent(), res.make({ gpus: 3 })), want: { gpus: 0 } },
    // total − used: the free bag keeps the agent's index order, whatever order tasks ended in.
    { name: 'adding back keeps index order of the first bag', got: () => res.add(res.make({ gpuIds: [A, C] }), res.make({ gpuIds: [B] })), want: { gpus: 3, gpuIds: [A, C, B] } },
    { name: 'free = total − used is in index order', got: () => res.subtract(agent(), res.add(res.make({ gpuIds: [C] }), res.make({ gpuIds: [A] }))), want: { gpus: 1, gpuIds: [B] } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = c.got();
      assert.equal(got.gpus, c.want.gpus);
      assert.deepEqual(got.gpuIds, c.want.gpuIds);
      assert.ok(!got.gpuIds || got.gpuIds.length <= got.gpus, 'never more ids than GPUs');
    });
  }

  it('bags without GPUs are unchanged by the new field (deep-equal to plain literals)', () => {
    assert.deepEqual(res.add(res.make({ cpus: 1 }), res.make({ mem: 2 })), { cpus: 1, mem: 2, disk: 0, gpus: 0, ports: [] });
    assert.deepEqual(res.subtract(res.make({ cpus: 2 }), res.make({ cpus: 1 })), { cpus: 1, mem: 0, disk: 0, gpus: 0, ports: [] });
  });

  it('clone copies the ids', () => {
    const a = agent();
    const b = res.clone(a);
    b.gpuIds!.push('GPU-x');
    assert.deepEqual(a.gpuIds, [A, B, C]);
  });
});

describe('GPU ids: contains and shortfall', () => {
  const cases: { name: string; have: res.Resources; want: res.Resources; fits: boolean; lack?: RegExp }[] = [
    { name: 'a count that fits', have: agent(), want: res.make({ gpus: 2 }), fits: true },
    { name: 'a count too large', have: agent(), want: res.make({ gpus: 4 }), fits: false, lack: /needs 4 gpus, 3 available/ },
    { name: 'a named GPU that is free', have: agent(), want: res.make({ gpuIds: [B] }), fits: true },
    { name: 'a named GPU that is taken', have: res.make({ gpuIds: [A, C] }), want: res.make({ gpuIds: [B] }), fits: false, lack: /needs GPU GPU-b, available GPU-a, GPU-c/ },
    { name: 'named GPUs on an agent without ids', have: res.make({ gpus: 2 }), want: res.make({ gpuIds: [A] }), fits: false, lack: /available none/ },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.equal(res.contains(c.have, c.want), c.fits);
      const lack = res.shortfall(c.have, c.want);
      if (c.fits) assert.deepEqual(lack, []);
      else assert.match(lack.join('; '), c.lack!);
    });
  }
});

describe('GPU ids: pickGpuIds and withGpus', () => {
  it('names the lowest free GPUs for a count', () => {
    assert.deepEqual(res.pickGpuIds(agent(), res.make({ gpus: 2 })), [A, B]);
    assert.deepEqual(res.pickGpuIds(res.make({ gpuIds: [B, C] }), res.make({ gpus: 1 })), [B]);
  });
  it('keeps the ids a task names and adds the lowest others', () => {
    assert.deepEqual(res.pickGpuIds(agent(), res.make({ gpus: 2, gpuIds: [C] })), [C, A]);
  });
  it('is undefined when too few are named', () => {
    assert.equal(res.pickGpuIds(res.make({ gpuIds: [A] }), res.make({ gpus: 2 })), undefined);
    assert.equal(res.pickGpuIds(res.make({ gpus: 4 }), res.make({ gpus: 1 })), undefined);
  });
  it('withGpus names them without changing the count', () => {
    const t = res.withGpus(res.make({ cpus: 1, gpus: 2 }), [A, B]);
    assert.deepEqual([t.cpus, t.gpus, t.gpuIds], [1, 2, [A, B]]);
  });
});

describe('GPU ids on the wire', () => {
  it('round trip: the ids ride in the set of the gpus resource', () => {
    const wire = res.toProto(agent());
    assert.deepEqual(wire.find((r) => r.name === 'gpus'), { name: 'gpus', scalar: 3, set: [A, B, C], role: '*' });
    assert.deepEqual(res.fromProto(wire), agent());
  });
  it('a set without a scalar counts its ids', () => {
    assert.deepEqual(res.fromProto([{ name: 'gpus', set: [A, B] }]).gpus, 2);
  });
  it('a count larger than the set names some GPUs and asks for more', () => {
    const r = res.fromProto([{ name: 'gpus', scalar: 2, set: [A] }]);
    assert.deepEqual([r.gpus, r.gpuIds], [2, [A]]);
  });
  const refused: { name: string; wire: object[]; want: RegExp }[] = [
    { name: 'fewer GPUs counted than named', wire: [{ name: 'gpus', scalar: 1, set: [A, B] }], want: /gpus is 1 but names 2 GPU ids/ },
    { name: 'a GPU named twice', wire: [{ name: 'gpus', set: [A, A] }], want: /GPU "GPU-a" is named twice/ },
    { name: 'an empty id', wire: [{ name: 'gpus', set: [''] }], want: /GPU id is empty/ },
    { name: 'a set on another resource', wire: [{ name: 'cpus', scalar: 1, set: ['x'] }], want: /only gpus may name ids/ },
  ];
  for (const c of refused) {
    it(`refuses ${c.name}`, () => assert.throws(() => res.fromProto(c.wire as never), c.want));
  }
  it('format shows the ids', () => {
    assert.equal(res.format(res.make({ cpus: 1, gpuIds: [A, B] })), 'cpus:1 gpus:2[GPU-a,GPU-b]');
  });
});
