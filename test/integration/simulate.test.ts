/**
 * Simulated agents against a real master: 50 agents in this process, each
 * with its own stream over real gRPC, register, run a framework's tasks
 * (RUNNING, then FINISHED after their duration), and re-register with their
 * running tasks after the master restarts on the same data directory.
 * `mezz-agent --simulate` runs the same agents as a process.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { startSimulatedAgents, type SimulatedAgents } from '../../agent/simulated';
import type { ListAgentsResponse__Output } from '../../lib/proto/generated/mezzanine/v1/ListAgentsResponse';
import type { ListTasksResponse__Output } from '../../lib/proto/generated/mezzanine/v1/ListTasksResponse';
import { Cluster, op, ROOT, task, waitFor, type Proc, type TestScheduler, quiet } from '../harness';

const COUNT = 50;

describe('simulated agents', () => {
  const cluster = new Cluster();
  const dataDir = path.join(cluster.dir, 'master-data');
  let master: Proc;
  let sim: SimulatedAgents;

  const agents = async (m: Proc) => (await op<object, ListAgentsResponse__Output>(cluster.operator(m.address), 'listAgents', {})).agents;
  /** The agents of `sim` only: the --simulate test registers agents of its own on the same master. */
  const simAgents = async (m: Proc) => {
    const ours = new Set(sim.agents.map((a) => a.id));
    return (await agents(m)).filter((a) => ours.has(a.id));
  };
  const running = async (m: Proc, frameworkId: string) =>
    (await op<object, ListTasksResponse__Output>(cluster.operator(m.address), 'listTasks', { state: 'TASK_RUNNING' })).tasks.filter((t) => t.frameworkId === frameworkId);
  const states = (fw: TestScheduler, id: string) => fw.updates(id).filter((s) => s.uuid).map((s) => s.state);

  /**
   * A framework with one short task (0.3 s) and one that runs until killed on
   * every agent, made once by whichever test needs it first, so each runs alone.
   */
  let launched: Promise<TestScheduler> | undefined;
  const withTasks = () => (launched ??= (async () => {
    await sim.waitRegistered({ timeoutMs: 30_000 });
    const fw = cluster.scheduler(master.address);
    await fw.subscribe({ name: 'sim-test', failoverTimeout: 600 });
    fw.autoAck();
    const placed = new Set<string>();
    await waitFor('an offer from every agent', () => {
      for (const offer of fw.outstanding()) {
        if (placed.has(offer.agentId)) {
          fw.send({ decline: { offerIds: [offer.id], filters: { refuseSeconds: 3600 } } });
          continue;
        }
        placed.add(offer.agentId);
        const i = placed.size - 1;
        fw.send({
          accept: {
            offerIds: [offer.id],
            operations: [{ launch: { taskInfos: [
              { ...task(`short-${i}`, 'true', { cpus: 0.5, mem: 64 }), labels: { 'sim.duration': '0.3s' } },
              task(`long-${i}`, 'sleep 3600', { cpus: 0.5, mem: 64 }),
            ] } }],
            filters: { refuseSeconds: 3600 },
          },
        });
      }
      return placed.size === COUNT;
    });
    await waitFor('every short task FINISHED and every long one RUNNING', () =>
      Array.from({ length: COUNT }, (_, i) => i).every((i) => states(fw, `short-${i}`).includes('TASK_FINISHED') && states(fw, `long-${i}`).includes('TASK_RUNNING')));
    return fw;
  })());

  before(async () => {
    master = await cluster.startMaster({ dataDir, args: ['--agent-reregister-timeout', '60'] });
    sim = await startSimulatedAgents({
      masters: [master.address], count: COUNT, taskDurationMs: 0, resources: { cpus: 2, mem: 1024 },
      pingIntervalMs: 500, statusRetryMs: 500, logger: quiet as never,
    });
  });
  after(async () => {
    await sim?.stop();
    await cluster.teardown();
  });

  test(`${COUNT} simulated agents register, each with its own id, resources and attributes`, async () => {
    await sim.waitRegistered({ timeoutMs: 30_000 });
    const listed = await waitFor(`${COUNT} agents ACTIVE`, async () => {
      const a = await simAgents(master);
      return a.filter((x) => x.state === 'ACTIVE').length === COUNT ? a : undefined;
    });
    assert.equal(new Set(listed.map((a) => a.id)).size, COUNT);
    assert.deepEqual(new Set(listed.map((a) => a.id)), new Set(sim.agents.map((a) => a.id)));
    const first = listed.find((a) => a.hostname === 'sim-0')!;
    assert.equal(first.resources!.cpus, 2);
    assert.equal(first.resources!.mem, 1024);
    assert.deepEqual(first.attributes.map((x) => [x.name, x.text]), [['sim', 'true'], ['index', '0']]);
  });

  test('a framework sees its tasks RUNNING, then FINISHED after their duration', async () => {
    const fw = await withTasks();
    for (let i = 0; i < COUNT; i++) {
      assert.deepEqual(states(fw, `short-${i}`), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED'], `short-${i}`);
      assert.deepEqual(states(fw, `long-${i}`), ['TASK_STARTING', 'TASK_RUNNING'], `long-${i}`);
    }
    // Acknowledged terminal updates are forgotten; running tasks stay.
    await waitFor('finished tasks forgotten by their agents', () => sim.taskCount() === COUNT);
    const live = await running(master, fw.frameworkId);
    assert.equal(live.length, COUNT);
  });

  test(`after a master restart on the same data directory, all ${COUNT} re-register with their running tasks`, async () => {
    const fw = await withTasks();
    // Its long tasks run; the short ones may still be remembered by their agents until acknowledged.
    await waitFor('finished tasks forgotten by their agents', () => sim.taskCount() === COUNT);
    const before = new Map((await running(master, fw.frameworkId)).map((t) => [t.id, t.agentId]));
    assert.equal(before.size, COUNT);
    const ids = new Set(sim.agents.map((a) => a.id));
    const oldMaster = sim.agents[0]!.masterId;
    await master.stop();
    await waitFor('the agents to notice', () => sim.registered() === 0);
    master = await cluster.startMaster({ dataDir, port: master.port, args: ['--agent-reregister-timeout', '60'] });
    await sim.waitRegistered({ timeoutMs: 30_000 });
    assert.ok(sim.agents.every((a) => a.masterId && a.masterId !== oldMaster), 'every agent registered with the new master');
    assert.deepEqual(new Set(sim.agents.map((a) => a.id)), ids, 'agents keep their ids');
    const listed = await waitFor(`${COUNT} agents ACTIVE after the restart`, async () => {
      const a = await simAgents(master);
      return a.filter((x) => x.state === 'ACTIVE').length === COUNT ? a : undefined;
    });
    assert.ok(listed.every((a) => a.tasks === 1), JSON.stringify(listed.map((a) => a.tasks)));
    const after = new Map((await running(master, fw.frameworkId)).map((t) => [t.id, t.agentId]));
    assert.deepEqual(after, before, 'the same tasks run on the same agents');
  });

  test('mezz-agent --simulate runs simulated agents as a process', async () => {
    const child = spawn(process.execPath, [
      path.join(ROOT, 'bin', 'mezz-agent.mjs'), '--simulate', '5', '--master', master.address, '--hostname', 'proc', '--attributes', 'rack:r9',
      '--task-duration', '0',
    ], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MEZZ_LOG_LEVEL: 'warn' } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      await waitFor(`the process to report 5 agents registered (output: ${out})`, () => /simulated agents registered: 5/.test(out));
      const listed = (await agents(master)).filter((a) => a.hostname.startsWith('proc-'));
      assert.equal(listed.length, 5);
      assert.ok(listed.every((a) => a.state === 'ACTIVE' && a.attributes.some((x) => x.name === 'rack' && x.text === 'r9')));
    } finally {
      process.kill(-child.pid!, 'SIGTERM');
      let code: number | null | undefined;
      void exited.then((c) => (code = c));
      await waitFor(`the simulating process to exit (output: ${out})`, () => code !== undefined, 15_000)
        .catch((err: Error) => { process.kill(-child.pid!, 'SIGKILL'); throw err; });
      assert.equal(code, 0, out);
    }
  });
});
