/**
 * The agent's side of GPUs: detected GPUs are advertised by uuid in index
 * order, a task sees exactly the GPUs it was given (CUDA_VISIBLE_DEVICES by
 * index, NVIDIA_VISIBLE_DEVICES by uuid), and a task naming a GPU the agent
 * lacks is refused.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { gpuVariables, taskEnvironment } from '../../agent/executor/environment';
import { detectResources } from '../../agent/resources-detect';
import { taskProblems } from '../../agent/task-validate';
import type { TaskInfo__Output } from '../../lib/proto';
import { toProto } from '../../lib/resources';
import { FAKE_BIN, tempDir } from '../fixtures/agent-harness';

const HOST = [
  { index: 0, uuid: 'GPU-aaa' },
  { index: 1, uuid: 'GPU-bbb' },
  { index: 2, uuid: 'GPU-ccc' },
];

function task(gpuIds: string[], env: Record<string, string> = {}): TaskInfo__Output {
  return {
    taskId: 't', name: 't', agentId: 'a', labels: {}, killGraceSeconds: 0,
    resources: [
      { name: 'cpus', scalar: 1, ranges: [], set: [], role: '' },
      ...(gpuIds.length ? [{ name: 'gpus', scalar: gpuIds.length, ranges: [], set: gpuIds, role: '' }] : []),
    ],
    command: { value: 'true', shell: true, arguments: [], environment: env },
  } as unknown as TaskInfo__Output;
}

describe('gpuVariables', () => {
  const cases = [
    { name: 'one GPU', ids: ['GPU-bbb'], want: { CUDA_VISIBLE_DEVICES: '1', NVIDIA_VISIBLE_DEVICES: 'GPU-bbb' } },
    { name: 'two, listed in index order whatever the order given', ids: ['GPU-ccc', 'GPU-aaa'], want: { CUDA_VISIBLE_DEVICES: '0,2', NVIDIA_VISIBLE_DEVICES: 'GPU-aaa,GPU-ccc' } },
    { name: 'none: CUDA sees no device', ids: [], want: { CUDA_VISIBLE_DEVICES: '', NVIDIA_VISIBLE_DEVICES: 'none' } },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(gpuVariables(c.ids, HOST), c.want));
});

describe('taskEnvironment with GPUs', () => {
  it('gives the task its GPUs, which its own environment cannot override', () => {
    const env = taskEnvironment({
      task: task(['GPU-ccc'], { CUDA_VISIBLE_DEVICES: '0,1,2' }), frameworkId: 'f', agentId: 'a', sandbox: '/s', base: {}, gpus: HOST,
    });
    assert.equal(env.CUDA_VISIBLE_DEVICES, '2');
    assert.equal(env.NVIDIA_VISIBLE_DEVICES, 'GPU-ccc');
  });
  it('sets no GPU variable on a host without GPUs', () => {
    const env = taskEnvironment({ task: task([]), frameworkId: 'f', agentId: 'a', sandbox: '/s', base: {} });
    assert.equal(env.CUDA_VISIBLE_DEVICES, undefined);
  });
  it('replaces a task\'s own MEZZ_CGROUP_PROCS, which the wrapper would write to', () => {
    const env = taskEnvironment({ task: task([], { MEZZ_CGROUP_PROCS: '/etc/passwd' }), frameworkId: 'f', agentId: 'a', sandbox: '/s', base: {} });
    assert.equal(env.MEZZ_CGROUP_PROCS, '');
  });
});

describe('taskProblems with GPUs', () => {
  it('accepts GPUs the agent has', () => assert.deepEqual(taskProblems('f', task(['GPU-aaa']), HOST), []));
  it('refuses a GPU the agent does not have', () => {
    assert.match(taskProblems('f', task(['GPU-zzz']), HOST).join(), /names GPU GPU-zzz, which this agent does not have \(it has GPU-aaa, GPU-bbb, GPU-ccc\)/);
  });
});

describe('detected GPUs are advertised by uuid', () => {
  it('in index order, on the wire as the set of the gpus resource', async () => {
    const dir = await tempDir();
    const found = await detectResources({
      workDir: dir, overrides: { cpus: 1, mem: 1, disk: 1 }, env: { PATH: `${FAKE_BIN}:/usr/bin:/bin`, FAKE_NVIDIA_SMI_GPUS: '3' },
    });
    const uuids = found.gpus.map((g) => g.uuid);
    assert.equal(uuids.length, 3);
    assert.deepEqual(found.resources.gpuIds, uuids);
    assert.deepEqual(toProto(found.resources).find((r) => r.name === 'gpus')?.set, uuids);
  });
});
