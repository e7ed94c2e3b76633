/**
 * The master's accept validation commits GPUs: a task that counts GPUs gets
 * concrete ones, the lowest-index free GPUs of the offer, and its TaskInfo
 * carries their ids; tasks of one accept never share a GPU.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as res from '../../lib/resources';
import type { Operation__Output, Resource__Output, TaskInfo__Output } from '../../lib/proto';
import { validateAccept } from '../../master/validation';
import type { OfferRecord } from '../../master/state';

const [G0, G1, G2] = ['GPU-0', 'GPU-1', 'GPU-2'];

function offer(resources: res.Resources): OfferRecord {
  return { id: 'o-1', frameworkId: 'fw-1', agentId: 'a-1', role: '*', resources, createdAt: 0 };
}

function gpuTask(id: string, gpus: number, ids: string[] = []): TaskInfo__Output {
  const resources: Resource__Output[] = [
    { name: 'cpus', scalar: 1, ranges: [], set: [], role: '' },
    { name: 'mem', scalar: 32, ranges: [], set: [], role: '' },
  ];
  if (gpus || ids.length) resources.push({ name: 'gpus', scalar: gpus, ranges: [], set: ids, role: '' });
  return {
    taskId: id, name: id, agentId: '', resources, labels: {}, killGraceSeconds: 0,
    command: { value: 'true', shell: true, arguments: [], environment: {} },
  } as unknown as TaskInfo__Output;
}

function accept(o: OfferRecord, tasks: TaskInfo__Output[]) {
  return validateAccept({
    frameworkId: 'fw-1', offerIds: [o.id], operations: [{ launch: { taskInfos: tasks } } as unknown as Operation__Output],
    findOffer: (id) => (id === o.id ? o : undefined), taskIdInUse: () => false,
  });
}

const wireIds = (t: TaskInfo__Output) => t.resources.find((r) => r.name === 'gpus')?.set;

describe('accept validation assigns GPUs', () => {
  const threeGpus = () => offer(res.make({ cpus: 8, mem: 1024, gpuIds: [G0, G1, G2] }));

  it('gives a task counting GPUs the lowest free ones, in its TaskInfo and its resources', () => {
    const v = accept(threeGpus(), [gpuTask('t1', 2)]);
    const t = v.tasks[0]!;
    assert.deepEqual(t.reasons, []);
    assert.deepEqual(wireIds(t.task), [G0, G1]);
    assert.equal(t.task.resources.find((r) => r.name === 'gpus')!.scalar, 2);
    assert.deepEqual(t.resources.gpuIds, [G0, G1]);
  });

  it('never gives two tasks of one accept the same GPU', () => {
    const v = accept(threeGpus(), [gpuTask('t1', 1), gpuTask('t2', 1), gpuTask('t3', 1)]);
    assert.deepEqual(v.tasks.map((t) => wireIds(t.task)), [[G0], [G1], [G2]]);
  });

  it('keeps GPUs a task names, and picks around them', () => {
    const v = accept(threeGpus(), [gpuTask('named', 1, [G1]), gpuTask('any', 2)]);
    assert.deepEqual(v.tasks.map((t) => wireIds(t.task)), [[G1], [G0, G2]]);
  });

  it('offers list free GPUs lowest first, so a later task gets what is left', () => {
    // G0 is in use: the offer holds G1 and G2.
    const free = res.subtract(res.make({ cpus: 8, mem: 1024, gpuIds: [G0, G1, G2] }), res.make({ gpuIds: [G0] }));
    const v = accept(offer(free), [gpuTask('t', 1)]);
    assert.deepEqual(wireIds(v.tasks[0]!.task), [G1]);
  });

  const refused: { name: string; tasks: TaskInfo__Output[]; want: RegExp }[] = [
    { name: 'more GPUs than are free', tasks: [gpuTask('t1', 2), gpuTask('t2', 2)], want: /t2 does not fit.*needs 2 gpus, 1 available/ },
    { name: 'a GPU that is not free', tasks: [gpuTask('t1', 1, [G0]), gpuTask('t2', 1, [G0])], want: /needs GPU GPU-0, available GPU-1, GPU-2/ },
    { name: 'a fraction of a GPU', tasks: [gpuTask('t1', 0.5)], want: /asks for 0.5 gpus; GPUs are whole devices/ },
  ];
  for (const c of refused) {
    it(`refuses ${c.name}`, () => {
      const v = accept(threeGpus(), c.tasks);
      const reasons = v.tasks.flatMap((t) => t.reasons).join(' | ');
      assert.match(reasons, c.want);
    });
  }

  it('leaves tasks alone on an agent whose GPUs have no ids', () => {
    const v = accept(offer(res.make({ cpus: 8, mem: 1024, gpus: 2 })), [gpuTask('t', 1)]);
    assert.deepEqual(v.tasks[0]!.reasons, []);
    assert.deepEqual(wireIds(v.tasks[0]!.task), []);
  });

  it('leaves tasks without GPUs alone', () => {
    const t = gpuTask('cpu-only', 0);
    const v = accept(threeGpus(), [t]);
    assert.equal(v.tasks[0]!.task, t);
  });
});
