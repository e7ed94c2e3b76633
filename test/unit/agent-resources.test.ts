import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import { after, before, describe, it } from 'node:test';
import { parseAttributes } from '../../agent/attributes';
import { AttributeParseError } from '../../agent/errors';
import { detectGpus, parseNvidiaSmiQuery } from '../../agent/gpu-detect';
import { afterReserve, detectResources } from '../../agent/resources-detect';
import { FAKE_BIN, tempDir } from '../fixtures/agent-harness';

/** PATH with the fake nvidia-smi first; without it, only a directory that holds no nvidia-smi. */
const withFake = { ...process.env, PATH: `${FAKE_BIN}:/usr/bin:/bin` };
let emptyDir: string;
let workDir: string;

before(async () => {
  emptyDir = await tempDir();
  workDir = await tempDir();
});
after(async () => {
  await rm(emptyDir, { recursive: true, force: true });
  await rm(workDir, { recursive: true, force: true });
});

describe('afterReserve', () => {
  const cases = [
    // min(reserve, total/2) is kept back
    { name: 'big host keeps the full reserve', total: 16384, reserve: 1024, want: 15360 },
    { name: 'small host keeps half', total: 1000, reserve: 1024, want: 500 },
    { name: 'fractions floor', total: 2048.9, reserve: 1024, want: 1024 },
    { name: 'nothing stays nothing', total: 0, reserve: 5120, want: 0 },
  ];
  for (const c of cases) it(c.name, () => assert.equal(afterReserve(c.total, c.reserve), c.want));
});

describe('detectResources', () => {
  it('detects cpus, memory, disk and the default port range', async () => {
    const { resources: r } = await detectResources({ workDir, env: { PATH: emptyDir } });
    assert.equal(r.cpus, os.cpus().length);
    const totalMb = os.totalmem() / 2 ** 20;
    assert.equal(r.mem, Math.floor(totalMb - Math.min(1024, totalMb / 2)));
    assert.ok(r.disk > 0, `disk ${r.disk}`);
    assert.equal(r.gpus, 0);
    assert.deepEqual(r.ports, [{ begin: 31000, end: 32000 }]);
  });

  it('applies --resources overrides key by key', async () => {
    const { resources: r } = await detectResources({
      workDir, env: withFake, overrides: { cpus: 0.5, disk: 100, ports: [{ begin: 40000, end: 40009 }] },
    });
    assert.equal(r.cpus, 0.5);
    assert.equal(r.disk, 100);
    assert.deepEqual(r.ports, [{ begin: 40000, end: 40009 }]);
    assert.equal(r.gpus, 1, 'gpus not overridden: detected through the fake nvidia-smi');
    assert.ok(r.mem > 0);
  });

  it('an overridden gpu count wins and nvidia-smi is not run', async () => {
    const { resources: r, gpus } = await detectResources({ workDir, env: withFake, overrides: { gpus: 0 } });
    assert.equal(r.gpus, 0);
    assert.deepEqual(gpus, []);
  });
});

describe('detectGpus', () => {
  it('counts the GPUs of the captured H100 output', async () => {
    const gpus = await detectGpus({ env: withFake });
    assert.deepEqual(gpus, [
      { index: 0, uuid: 'GPU-d7514950-b4a4-3d91-f436-246e22bde4e4', name: 'NVIDIA H100 80GB HBM3', memoryMb: 81559 },
    ]);
  });

  it('counts one per line on a multi-GPU host', async () => {
    const gpus = await detectGpus({ env: { ...withFake, FAKE_NVIDIA_SMI_GPUS: '4' } });
    assert.deepEqual(gpus.map((g) => g.index), [0, 1, 2, 3]);
    assert.equal(new Set(gpus.map((g) => g.uuid)).size, 4);
  });

  it('finds 0 GPUs when nvidia-smi is not on the PATH', async () => {
    assert.deepEqual(await detectGpus({ env: { PATH: emptyDir } }), []);
  });

  it('finds 0 GPUs when nvidia-smi fails', async () => {
    assert.deepEqual(await detectGpus({ env: { ...withFake, FAKE_NVIDIA_SMI_FAIL: '1' } }), []);
  });
});

describe('parseNvidiaSmiQuery', () => {
  it('skips lines that are not GPUs', () => {
    const { gpus, skipped } = parseNvidiaSmiQuery('0, GPU-a, Tesla T4, 15360\nNo devices were found\n\n1, GPU-b, A100-SXM4-40GB, 40960\n');
    assert.deepEqual(gpus.map((g) => [g.index, g.uuid, g.name, g.memoryMb]), [[0, 'GPU-a', 'Tesla T4', 15360], [1, 'GPU-b', 'A100-SXM4-40GB', 40960]]);
    assert.deepEqual(skipped, ['No devices were found']);
  });
});

describe('parseAttributes', () => {
  const ok = [
    { name: 'two attributes', input: 'rack:r1;zone:a', want: [{ name: 'rack', text: 'r1' }, { name: 'zone', text: 'a' }] },
    { name: 'spaces and a trailing ;', input: ' rack : r1 ; ', want: [{ name: 'rack', text: 'r1' }] },
    { name: 'value with a colon', input: 'url:http://x', want: [{ name: 'url', text: 'http://x' }] },
    { name: 'empty', input: '', want: [] },
  ];
  for (const c of ok) it(c.name, () => assert.deepEqual(parseAttributes(c.input), c.want));

  const bad = [
    { name: 'no colon', input: 'rack', want: /attribute "rack" has no value/ },
    { name: 'empty name', input: ':r1', want: /attribute name "" .* is not valid/ },
    { name: 'empty value', input: 'rack:', want: /attribute rack has an empty value/ },
    { name: 'twice', input: 'rack:a;rack:b', want: /attribute rack is given twice/ },
  ];
  for (const c of bad) {
    it(`rejects ${c.name}`, () => assert.throws(() => parseAttributes(c.input), (e: Error) => e instanceof AttributeParseError && c.want.test(e.message)));
  }
});
