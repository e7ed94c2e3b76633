/**
 * Sandboxes through a real master and agent: a task's environment, reads
 * that cannot leave the sandbox (PERMISSION_DENIED through the master too),
 * logs capped by rotation, and finished sandboxes collected after the GC
 * delay.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Cluster, op, waitFor, type Proc, type TestScheduler } from '../harness';
import type { ReadFileResponse__Output } from '../../lib/proto';

describe('sandboxes', () => {
  const cluster = new Cluster();
  let master: Proc;
  let fw: TestScheduler;
  let workDir: string;

  before(async () => {
    master = await cluster.startMaster();
    workDir = path.join(cluster.dir, 'sb-agent');
    await cluster.startAgent(master.address, {
      name: 'sb-agent', workDir, resources: 'cpus:4;mem:4096;disk:1000;gpus:0;ports:[31000-31010]',
      args: ['--sandbox-gc-delay', '1s', '--log-max-size', '4KB', '--log-max-files', '1'],
    });
    fw = cluster.scheduler(master.address);
    await fw.subscribe({ name: 'sandbox-test', failoverTimeout: 60 });
    fw.autoAck();
  });
  after(() => cluster.teardown());

  async function launch(taskInfo: object): Promise<void> {
    await waitFor('an offer', () => {
      const offer = fw.outstanding()[0];
      if (!offer) return false;
      fw.send({ accept: { offerIds: [offer.id], operations: [{ launch: { taskInfos: [taskInfo as never] } }], filters: { refuseSeconds: 0 } } });
      return true;
    });
  }
  const shell = (id: string, cmd: string, extra: object = {}) => ({
    taskId: id, name: id, agentId: '', resources: [{ name: 'cpus', scalar: 0.1 }, { name: 'mem', scalar: 32 }], command: { value: cmd, shell: true }, ...extra,
  });
  const ended = (id: string, state = 'TASK_FINISHED') => fw.updates(id).some((s) => s.state === state);
  const read = (taskId: string, p: string) => op<object, ReadFileResponse__Output>(cluster.operator(master.address), 'readTaskFile', { taskId, path: p });
  const sandboxOf = (id: string): Promise<string> => waitFor(`${id}'s checkpoint`, () => {
    const f = path.join(workDir, 'meta', 'tasks', fw.frameworkId, `${id}.json`);
    return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as { sandbox: string }).sandbox : undefined;
  });

  test('a task sees MEZZ_TASK_ID, MEZZ_AGENT_ID, MEZZ_SANDBOX, PORT0…, PORTS and its own variables', async () => {
    const cmd = 'echo "task=$MEZZ_TASK_ID agent=$MEZZ_AGENT_ID fw=$MEZZ_FRAMEWORK_ID sandbox=$MEZZ_SANDBOX pwd=$(pwd) ports=$PORTS p0=$PORT0 p1=$PORT1 port=$PORT custom=$CUSTOM"';
    await launch(shell('env', cmd, {
      resources: [{ name: 'cpus', scalar: 0.1 }, { name: 'mem', scalar: 32 }, { name: 'ports', ranges: [{ begin: 31003, end: 31004 }] }],
      command: { value: cmd, shell: true, environment: { CUSTOM: 'from-taskinfo', MEZZ_TASK_ID: 'spoofed' } },
    }));
    await waitFor('env FINISHED', () => ended('env'));
    const out = (await read('env', 'stdout')).data.toString();
    const v = Object.fromEntries(out.trim().split(' ').map((kv) => kv.split('=') as [string, string]));
    assert.equal(v.task, 'env', 'Mezzanine variables win over the task\'s own');
    assert.equal(v.agent, fw.updates('env')[0]!.agentId);
    assert.equal(v.fw, fw.frameworkId);
    assert.equal(v.sandbox, v.pwd);
    assert.match(v.sandbox!, new RegExp(`^${workDir}/sandboxes/${fw.frameworkId}/env-[0-9a-f]{8}$`));
    assert.deepEqual([v.ports, v.p0, v.p1, v.port, v.custom], ['31003,31004', '31003', '31004', '31003', 'from-taskinfo']);
  });

  test('reads that leave the sandbox are PERMISSION_DENIED through the master: .., absolute, symlinks', async () => {
    await launch(shell('links', 'ln -s /etc/passwd leak && ln -s / root && echo inside > ok && ln -s ok alias'));
    await waitFor('links FINISHED', () => ended('links'));
    assert.equal((await read('links', 'alias')).data.toString(), 'inside\n', 'a symlink that stays inside is fine');
    const denied = (e: grpc.ServiceError, why: RegExp) => e.code === grpc.status.PERMISSION_DENIED && why.test(e.details);
    await assert.rejects(read('links', 'leak'), (e: grpc.ServiceError) => denied(e, /leak resolves outside the sandbox of task links \(through a symlink\)/));
    await assert.rejects(read('links', 'root/etc/passwd'), (e: grpc.ServiceError) => denied(e, /resolves outside/));
    await assert.rejects(read('links', '../../../../etc/passwd'), (e: grpc.ServiceError) => denied(e, /leaves the sandbox/));
    await assert.rejects(read('links', '/etc/passwd'), (e: grpc.ServiceError) => denied(e, /is absolute/));
  });

  test('a chatty task\'s stdout is rotated past --log-max-size, and its sandbox is collected after --sandbox-gc-delay', async () => {
    // ~20 KB of output, then it waits for a `stop` file.
    const line = 'x'.repeat(60);
    await launch(shell('chatty', `i=0; while [ $i -lt 300 ]; do echo "$i ${line}"; i=$((i+1)); done; while [ ! -e stop ]; do sleep 0.05; done`));
    const sandbox = await sandboxOf('chatty');
    // stdout.1 appears when the copy starts, before stdout is truncated: wait for both (rotation runs once a second).
    const size = (f: string) => (existsSync(path.join(sandbox, f)) ? statSync(path.join(sandbox, f)).size : -1);
    await waitFor('stdout to be rotated and under the cap', () => size('stdout.1') > 0 && size('stdout') <= 4096, 20_000)
      .catch((err: Error) => { throw new Error(`${err.message}: stdout ${size('stdout')} bytes, stdout.1 ${size('stdout.1')}`); });
    const rotated = (await read('chatty', 'stdout.1')).data.toString();
    assert.match(rotated, /^0 x+\n1 x+\n/, 'the rotated copy is readable through the master and starts at the first line');
    assert.ok(!existsSync(path.join(sandbox, 'stdout.2')), '--log-max-files 1 keeps one copy');

    writeFileSync(path.join(sandbox, 'stop'), '');
    await waitFor('chatty FINISHED', () => ended('chatty'));
    // Forgotten once acknowledged; then, past the delay (and the 5 s minimum age), collected.
    await waitFor(`${sandbox} to be collected`, () => !existsSync(sandbox), 30_000, 200);
    await assert.rejects(read('chatty', 'stdout'), (e: grpc.ServiceError) => e.code === grpc.status.NOT_FOUND);
  });
});
