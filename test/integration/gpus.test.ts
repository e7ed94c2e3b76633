/**
 * GPUs through the whole offer loop, on an agent that finds two GPUs through
 * the fake nvidia-smi (test/fixtures/bin, FAKE_NVIDIA_SMI_GPUS=2): offers
 * name the free GPUs, two tasks asking one GPU each see different ones
 * (CUDA_VISIBLE_DEVICES by index, NVIDIA_VISIBLE_DEVICES by uuid), no offer
 * has a free GPU while both run, and a third task gets the GPU the first
 * one gave back.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Cluster, op, waitFor, ROOT, type Proc, type TestScheduler } from '../harness';
import type { Offer__Output, ReadFileResponse__Output } from '../../lib/proto';

const UUIDS = ['GPU-d7514950-b4a4-3d91-f436-000000000000', 'GPU-d7514950-b4a4-3d91-f436-000000000001'];

describe('GPUs', () => {
  const cluster = new Cluster();
  let master: Proc;
  let fw: TestScheduler;
  let workDir: string;

  before(async () => {
    master = await cluster.startMaster();
    workDir = path.join(cluster.dir, 'gpu-agent');
    await cluster.startAgent(master.address, {
      name: 'gpu-agent', workDir,
      // No gpus key: the agent asks nvidia-smi, which is the fake one.
      resources: 'cpus:4;mem:4096;disk:1000;ports:[31000-31010]',
      env: { PATH: `${path.join(ROOT, 'test', 'fixtures', 'bin')}:${process.env.PATH}`, FAKE_NVIDIA_SMI_GPUS: '2' },
    });
    fw = cluster.scheduler(master.address);
    await fw.subscribe({ name: 'gpu-test', failoverTimeout: 60, capabilities: ['GPU_RESOURCES'] });
    fw.autoAck();
  });
  after(() => cluster.teardown());

  const gpusOf = (o: Offer__Output) => o.resources.find((r) => r.name === 'gpus');
  const freeGpus = (o: Offer__Output) => gpusOf(o)?.set ?? [];

  function gpuTask(id: string) {
    return {
      taskId: id, name: id, agentId: '',
      resources: [{ name: 'cpus', scalar: 0.1 }, { name: 'mem', scalar: 32 }, { name: 'gpus', scalar: 1 }],
      // Runs until the test drops a `stop` file into its sandbox (its cwd).
      command: { value: 'echo "cuda=$CUDA_VISIBLE_DEVICES nvidia=$NVIDIA_VISIBLE_DEVICES"; while [ ! -e stop ]; do sleep 0.05; done', shell: true },
    };
  }

  function sandboxOf(id: string): string {
    return (JSON.parse(readFileSync(path.join(workDir, 'meta', 'tasks', fw.frameworkId, `${id}.json`), 'utf8')) as { sandbox: string }).sandbox;
  }

  async function gpuView(id: string): Promise<{ cuda: string; nvidia: string }> {
    const client = cluster.operator(master.address);
    return waitFor(`${id} to print its GPUs`, async () => {
      const out = await op<object, ReadFileResponse__Output>(client, 'readTaskFile', { taskId: id, path: 'stdout' });
      const m = /cuda=(\S*) nvidia=(\S*)/.exec(out.data.toString());
      return m ? { cuda: m[1]!, nvidia: m[2]! } : undefined;
    });
  }

  const running = (id: string) => fw.updates(id).some((s) => s.state === 'TASK_RUNNING');

  test('two one-GPU tasks get different GPUs, and a third waits for one to be given back', async () => {
    // 1. The offer names both GPUs, in index order.
    const offer = await waitFor('an offer with 2 GPUs', () => fw.outstanding().find((o) => freeGpus(o).length === 2));
    assert.deepEqual(freeGpus(offer), UUIDS);
    assert.equal(gpusOf(offer)!.scalar, 2);
    fw.send({ accept: { offerIds: [offer.id], operations: [{ launch: { taskInfos: [gpuTask('g1'), gpuTask('g2')] } }], filters: { refuseSeconds: 0 } } });
    await waitFor('g1 and g2 RUNNING', () => running('g1') && running('g2'));

    // 2. Each sees one GPU, not the same one; index and uuid agree.
    const [v1, v2] = [await gpuView('g1'), await gpuView('g2')];
    assert.deepEqual([v1.cuda, v2.cuda].sort(), ['0', '1']);
    assert.equal(v1.nvidia, UUIDS[Number(v1.cuda)]);
    assert.equal(v2.nvidia, UUIDS[Number(v2.cuda)]);

    // 3. While both run, offers come (cpus and mem are left) but hold no GPU, and a GPU task does not fit.
    const seen: Offer__Output[] = [];
    let refused = '';
    await waitFor('3 offers while both GPU tasks run', () => {
      for (const o of fw.outstanding()) {
        seen.push(o);
        if (!refused) {
          const from = fw.events.length;
          fw.send({ accept: { offerIds: [o.id], operations: [{ launch: { taskInfos: [gpuTask('g3-early')] } }], filters: { refuseSeconds: 0 } } });
          void fw.waitEvent('the refusal', (e) => e.error?.call === 'ACCEPT', from).then((e) => { refused = e.error!.message; });
        } else {
          fw.send({ decline: { offerIds: [o.id], filters: { refuseSeconds: 0 } } });
        }
      }
      return seen.length >= 3 && refused;
    });
    assert.deepEqual(seen.filter((o) => gpusOf(o)), [], 'no offer may hold a GPU while both are in use');
    assert.match(refused, /g3-early does not fit.*needs 1 gpus, 0 available/);

    // 4. g1 finishes: its GPU comes back in an offer, and g3 runs on it.
    writeFileSync(path.join(sandboxOf('g1'), 'stop'), '');
    await waitFor('g1 FINISHED', () => fw.updates('g1').some((s) => s.state === 'TASK_FINISHED'));
    const back = await waitFor('an offer with the GPU g1 gave back', () => {
      for (const o of fw.outstanding()) {
        if (freeGpus(o).length) return o;
        fw.send({ decline: { offerIds: [o.id], filters: { refuseSeconds: 0 } } });
      }
      return undefined;
    });
    assert.deepEqual(freeGpus(back), [v1.nvidia]);
    fw.send({ accept: { offerIds: [back.id], operations: [{ launch: { taskInfos: [gpuTask('g3')] } }], filters: { refuseSeconds: 0 } } });
    await waitFor('g3 RUNNING', () => running('g3'));
    assert.deepEqual(await gpuView('g3'), v1);

    for (const id of ['g2', 'g3']) writeFileSync(path.join(sandboxOf(id), 'stop'), '');
    await waitFor('g2 and g3 FINISHED', () => ['g2', 'g3'].every((id) => fw.updates(id).some((s) => s.state === 'TASK_FINISHED')));
  });
});
