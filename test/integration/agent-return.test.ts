/**
 * Agents that come back: after being unreachable (tasks of partition-aware
 * frameworks resume, those of others are killed), after being removed
 * (--agent-removal-timeout: told to shut down, tasks GONE, registers anew),
 * and agents that never re-register after a master restart
 * (--agent-reregister-timeout). Markers written by the tasks say what
 * really ran.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { afterEach, describe, test } from 'node:test';
import type { ListTasksResponse__Output } from '../../lib/proto/generated/mezzanine/v1/ListTasksResponse';
import { Cluster, op, task, waitFor, type Proc, type TestScheduler } from '../harness';
import { size, stopsGrowing, ticking } from '../fixtures/markers';

let c: Cluster;
afterEach(() => c.teardown());

const tasks = async (m: Proc) => (await op<object, ListTasksResponse__Output>(c.operator(m.address), 'listTasks', {})).tasks;
const agents = async (m: Proc) =>
  (await op<object, { agents: { id: string; address: string; state: string }[] }>(c.operator(m.address), 'listAgents', {})).agents;
async function launchOne(fw: TestScheduler, id: string, cmd: string): Promise<string> {
  await fw.launchEach([task(id, cmd)]);
  const up = await fw.waitEvent(`${id} RUNNING`, (e) => e.update?.status?.taskId === id && e.update.status.state === 'TASK_RUNNING');
  return up.update!.status!.agentId;
}

describe('an agent that returns after being unreachable', () => {
  test('a framework that is not partition-aware was told LOST: the task is killed on return, and the master records that', async () => {
    c = new Cluster();
    const master = await c.startMaster({ args: ['--agent-ping-timeout', '1.5'] });
    const agent = await c.startAgent(master.address);
    const fw = c.scheduler(master.address);
    await fw.subscribe({ name: 'plain' });
    fw.autoAck();
    const marker = path.join(c.dir, 'plain');
    await launchOne(fw, 'p', ticking(marker));
    process.kill(agent.child.pid!, 'SIGSTOP');
    await fw.waitEvent('p LOST', (e) => e.update?.status?.taskId === 'p' && e.update.status.state === 'TASK_LOST');
    process.kill(agent.child.pid!, 'SIGCONT');
    await waitFor('p recorded KILLED', async () => (await tasks(master)).find((t) => t.id === 'p')?.state === 'TASK_KILLED');
    await stopsGrowing(marker);
  });

  test('a partition-aware framework was told UNREACHABLE: the task runs on, and is RUNNING again', async () => {
    c = new Cluster();
    const master = await c.startMaster({ args: ['--agent-ping-timeout', '1.5'] });
    const agent = await c.startAgent(master.address);
    const fw = c.scheduler(master.address);
    await fw.subscribe({ name: 'pa', capabilities: ['PARTITION_AWARE'] });
    fw.autoAck();
    const marker = path.join(c.dir, 'pa');
    await launchOne(fw, 'q', ticking(marker));
    process.kill(agent.child.pid!, 'SIGSTOP');
    const from = fw.events.length;
    await fw.waitEvent('q UNREACHABLE', (e) => e.update?.status?.taskId === 'q' && e.update.status.state === 'TASK_UNREACHABLE');
    process.kill(agent.child.pid!, 'SIGCONT');
    await fw.waitEvent('q RUNNING again', (e) => e.update?.status?.taskId === 'q' && e.update.status.state === 'TASK_RUNNING', from);
    assert.deepEqual((await tasks(master)).filter((t) => t.id === 'q').map((t) => t.state), ['TASK_RUNNING']);
    const s0 = size(marker);
    await waitFor('q still ticking', () => size(marker) > s0);
  });
});

describe('an agent that returns after it was removed', () => {
  test('past --agent-removal-timeout its tasks are GONE; on return it kills them and registers as a new agent', async () => {
    c = new Cluster();
    const master = await c.startMaster({ args: ['--agent-ping-timeout', '1.5', '--agent-removal-timeout', '1'] });
    const agent = await c.startAgent(master.address);
    const fw = c.scheduler(master.address);
    await fw.subscribe({ name: 'pa', capabilities: ['PARTITION_AWARE'] });
    fw.autoAck();
    const marker = path.join(c.dir, 'removed');
    const oldId = await launchOne(fw, 'r', ticking(marker));
    process.kill(agent.child.pid!, 'SIGSTOP');
    await fw.waitEvent('r GONE', (e) => e.update?.status?.taskId === 'r' && e.update.status.state === 'TASK_GONE', 0, 20_000);
    await fw.waitEvent('the agent FAILURE event', (e) => e.failure?.agentId === oldId);
    process.kill(agent.child.pid!, 'SIGCONT');
    await stopsGrowing(marker);
    const fresh = await waitFor('the agent back under a new id', async () =>
      (await agents(master)).find((a) => a.address.endsWith(`:${agent.port}`) && a.id !== oldId && a.state === 'ACTIVE'));
    assert.notEqual(fresh.id, oldId);
    assert.deepEqual((await agents(master)).filter((a) => a.id === oldId), []);
    assert.deepEqual((await tasks(master)).filter((t) => t.id === 'r').map((t) => t.state), ['TASK_GONE']);
  });
});

describe('agents that never re-register after a master restart', () => {
  test('after --agent-reregister-timeout they are unreachable and their tasks reported so', async () => {
    c = new Cluster();
    const dataDir = path.join(c.dir, 'registry');
    let master = await c.startMaster({ dataDir, args: ['--agent-reregister-timeout', '2'] });
    const port = master.port;
    const agent = await c.startAgent(master.address);
    const fw = c.scheduler(master.address);
    const id = await fw.subscribe({ name: 'pa', capabilities: ['PARTITION_AWARE'] });
    fw.autoAck();
    const agentId = await launchOne(fw, 'w', 'sleep 60');
    await agent.kill9();
    await master.kill9();
    master = await c.startMaster({ dataDir, port, args: ['--agent-reregister-timeout', '2'] });
    const again = c.scheduler(master.address);
    await again.subscribe({ name: 'pa', id, capabilities: ['PARTITION_AWARE'] });
    assert.equal((await agents(master)).find((a) => a.id === agentId)?.state, 'RECOVERING');
    await waitFor('the silent agent UNREACHABLE', async () => (await agents(master)).find((a) => a.id === agentId)?.state === 'UNREACHABLE', 15_000);
    // The master never learnt the task (its agent did not come back): reconciliation now answers UNKNOWN, not silence.
    const from = again.events.length;
    again.send({ reconcile: { tasks: [{ taskId: 'w', agentId }] } });
    const e = await again.waitEvent('an answer about w', (ev) => ev.update?.status?.taskId === 'w', from);
    assert.equal(e.update!.status!.state, 'TASK_UNKNOWN');
  });
});
