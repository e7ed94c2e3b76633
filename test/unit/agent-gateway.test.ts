/**
 * A real Agent against a fake master (an in-process AgentGateway server that
 * the test speaks for): registration, tasks, at-least-once status updates
 * across reconnects, kills, shutdown.
 */
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Agent } from '../../agent/index';
import { bearerMetadata as bearer } from '../../lib/auth';
import { mezzProto, type AgentFilesClient, type ReadFileResponse__Output, type TaskStatus__Output } from '../../lib/proto';
import { FakeMaster, groupMembers, killGroups, tempDir, testLogger, waitFor, type FakeAgentStream } from '../fixtures/agent-harness';

const FW = { id: 'fw-1', name: 'test', roles: ['*'] };
/** What the fake master issues at registration, and presents to the agent's files service. */
const FILES_TOKEN = 'files-token-of-the-fake-master';
let master: FakeMaster;
let agent: Agent;
let workDir: string;
const pgids = new Set<number>();

before(async () => {
  master = await new FakeMaster().start();
  workDir = await tempDir();
  agent = new Agent({
    masters: [master.address],
    port: 0,
    bindHost: '127.0.0.1',
    workDir,
    resources: { cpus: 2, mem: 1024, disk: 1000, gpus: 0 },
    attributes: [{ name: 'rack', text: 'r1' }],
    pingIntervalMs: 200,
    statusRetryMs: 300,
    killGraceMs: 1000,
    backoff: { initialMs: 20, maxMs: 200 },
    logger: testLogger('agent'),
  });
  // Every process group the agent starts is killed in `after`, whatever the tests did.
  agent.on('status', () => { for (const t of agent.tasks()) if (t.pid) pgids.add(t.pid); });
  await agent.start();
});
after(async () => {
  killGroups(pgids);
  await agent?.stop();
  master?.stop();
  await rm(workDir, { recursive: true, force: true });
});

/** A task's updates in the order first received, each uuid once (retries removed). */
function updatesOf(s: FakeAgentStream, taskId: string): TaskStatus__Output[] {
  const seen = new Set<string>();
  return s.statuses().filter((u) => u.taskId === taskId && !seen.has(u.uuid) && seen.add(u.uuid));
}

function waitState(s: FakeAgentStream, taskId: string, state: string, timeoutMs?: number): Promise<TaskStatus__Output> {
  return s.waitFor(`task ${taskId} to reach ${state}`, () => updatesOf(s, taskId).find((u) => u.state === state), timeoutMs);
}

async function register(n: number, agentId = 'agent-1'): Promise<FakeAgentStream> {
  const s = await master.stream(n);
  s.send({ registered: { agentId, pingIntervalSeconds: 0.2, masterId: 'fake', filesToken: FILES_TOKEN } });
  await waitFor('the agent to register', () => agent.connected && agent.agentId === agentId);
  return s;
}

/** agent.json already holds an earlier id, so wait for `id` to be written over it. */
function savedIdBecomes(id: string): Promise<unknown> {
  return waitFor(`agent.json to name ${id}`, async () =>
    JSON.parse(await readFile(join(workDir, 'agent.json'), 'utf8').catch(() => '{}')).agentId === id);
}

function run(s: FakeAgentStream, ...tasks: { taskId: string; command?: { value: string } }[]): void {
  s.send({ runTasks: { framework: FW, tasks } });
}

describe('Agent against a fake master', () => {
  let s0: FakeAgentStream;

  it('registers with its port, resources, attributes and isolation under an id it chose, and adopts the id it is given', async () => {
    s0 = await master.stream(0);
    const reg = s0.of('register')[0]!;
    // Chosen and saved before the first registration, so a retried registration names the same agent.
    assert.match(reg.info!.id, /^agent-[0-9a-f]{12}$/);
    assert.equal(JSON.parse(await readFile(join(workDir, 'agent.json'), 'utf8')).agentId, reg.info!.id);
    assert.equal(reg.info!.port, agent.port);
    assert.deepEqual(reg.info!.resources.map((r) => [r.name, r.scalar, r.ranges.map((x) => [Number(x.begin), Number(x.end)])]), [
      ['cpus', 2, []], ['mem', 1024, []], ['disk', 1000, []], ['ports', 0, [[31000, 32000]]],
    ]);
    assert.deepEqual(reg.info!.attributes, [{ name: 'rack', text: 'r1' }]);
    assert.deepEqual(reg.info!.isolation, ['posix/process-group']);
    assert.ok(reg.info!.version);
    assert.deepEqual(reg.tasks, []);

    s0 = await register(0);
    await savedIdBecomes('agent-1');
    await s0.waitFor('a ping', (s) => s.of('ping').length >= 2);
  });

  it('runs echo hi and reports STARTING, RUNNING, FINISHED with fresh uuids', async () => {
    run(s0, { taskId: 't1', command: { value: 'echo hi' } });
    await waitState(s0, 't1', 'TASK_FINISHED');
    const ups = updatesOf(s0, 't1');
    assert.deepEqual(ups.map((u) => u.state), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
    for (const u of ups) {
      assert.match(u.uuid, /^[0-9a-f-]{36}$/);
      assert.equal(u.agentId, 'agent-1');
      assert.equal(u.frameworkId, 'fw-1');
      assert.equal(u.source, 'SOURCE_EXECUTOR');
      assert.ok(u.timestamp > 1e9 && u.reason && u.message, JSON.stringify(u));
    }
    const fin = ups[2]!;
    assert.equal(fin.exitCode, 0);
    assert.equal(fin.message, 'command exited with status 0');
    assert.equal(fin.reason, 'REASON_COMMAND_EXITED');

    // Its sandbox is readable on the agent's own port.
    const files = new (mezzProto().AgentFiles)(`127.0.0.1:${agent.port}`, grpc.credentials.createInsecure()) as AgentFilesClient;
    const res = await new Promise<ReadFileResponse__Output>((resolve, reject) =>
      files.ReadFile({ taskId: 't1', path: 'stdout' }, bearer(FILES_TOKEN), (err, r) => (err ? reject(err) : resolve(r!))));
    files.close();
    assert.equal(res.data.toString(), 'hi\n');
  });

  it('retries unacknowledged updates, resends them after a reconnect, and stops once acknowledged', async () => {
    const [starting, running, finished] = updatesOf(s0, 't1');
    await s0.waitFor('the retry of the FINISHED update', (s) => s.statuses().filter((u) => u.uuid === finished!.uuid).length >= 2);
    s0.send({ acknowledge: { taskId: 't1', uuid: starting!.uuid } });
    s0.send({ acknowledge: { taskId: 't1', uuid: running!.uuid } });
    await waitFor('acks of STARTING and RUNNING', () => agent.pendingUpdates().length === 1);

    s0.drop();
    const s1 = await master.stream(1);
    const reg = s1.of('register')[0]!;
    assert.equal(reg.info!.id, 'agent-1', 're-registers with its saved id');
    assert.deepEqual(reg.tasks.map((t) => [t.frameworkId, t.task!.taskId, t.status!.state, t.status!.uuid]),
      [['fw-1', 't1', 'TASK_FINISHED', finished!.uuid]]);
    await register(1);
    await waitState(s1, 't1', 'TASK_FINISHED');
    assert.deepEqual(new Set(s1.statuses().map((u) => u.uuid)), new Set([finished!.uuid]), 'acknowledged updates are not resent');

    s1.send({ acknowledge: { taskId: 't1', uuid: finished!.uuid } });
    await waitFor('the queue to drain and t1 to be forgotten', () => agent.pendingUpdates().length === 0 && agent.tasks().length === 0);
    const sent = s1.statuses().length;
    const pings = s1.of('ping').length;
    // Pings every 200 ms, retries every 300 ms: three pings span a retry tick.
    await s1.waitFor('three more pings', (s) => s.of('ping').length >= pings + 3);
    assert.equal(s1.statuses().length, sent, 'no update resent after the acknowledgement');

    s1.drop();
    const s2 = await master.stream(2);
    assert.deepEqual(s2.of('register')[0]!.tasks, [], 'the forgotten task is not reported');
    s0 = await register(2);
  });

  it('kill_task sends KILLING, then KILLED once the whole process tree is gone', async () => {
    run(s0, { taskId: 'tree', command: { value: 'sleep 1000 & sleep 1000; wait' } });
    await waitState(s0, 'tree', 'TASK_RUNNING');
    const pid = agent.tasks().find((t) => t.taskId === 'tree')!.pid!;
    await waitFor('the tree to start', async () => (await groupMembers(pid)).length >= 4);
    s0.send({ killTask: { frameworkId: 'fw-1', taskId: 'tree' } });
    const killed = await waitState(s0, 'tree', 'TASK_KILLED');
    assert.deepEqual(updatesOf(s0, 'tree').map((u) => u.state), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_KILLED']);
    assert.equal(killed.reason, 'REASON_TASK_KILLED');
    await waitFor('no process of the group to remain', async () => (await groupMembers(pid)).length === 0, 2000);

    // A kill of a task that already ended resends its last status.
    const before = s0.statuses().filter((u) => u.uuid === killed.uuid).length;
    s0.send({ killTask: { frameworkId: 'fw-1', taskId: 'tree' } });
    await s0.waitFor('the resent KILLED', (s) => s.statuses().filter((u) => u.uuid === killed.uuid).length > before);
  });

  it('kill_task for an unknown task answers TASK_LOST', async () => {
    s0.send({ killTask: { frameworkId: 'fw-1', taskId: 'nope' } });
    const lost = await waitState(s0, 'nope', 'TASK_LOST');
    assert.equal(lost.message, 'task nope is not known on agent agent-1');
    assert.equal(lost.source, 'SOURCE_AGENT');
    assert.ok(lost.uuid);
  });

  it('fails only the invalid tasks of a group', async () => {
    run(s0, { taskId: 'bad/id', command: { value: 'true' } }, { taskId: 'nocmd' }, { taskId: 'fine', command: { value: 'exit 3' } });
    const bad = await waitState(s0, 'bad/id', 'TASK_ERROR');
    assert.match(bad.message, /task id "bad\/id" holds a slash/);
    assert.equal(bad.reason, 'REASON_TASK_INVALID');
    assert.match((await waitState(s0, 'nocmd', 'TASK_ERROR')).message, /no command/);
    const fine = await waitState(s0, 'fine', 'TASK_FAILED');
    assert.equal(fine.exitCode, 3);
    assert.equal(fine.message, 'command exited with status 3');
  });

  it('appends framework messages to the sandbox as base64 lines', async () => {
    s0.send({ frameworkMessage: { frameworkId: 'fw-1', taskId: 'fine', data: Buffer.from('ping') } });
    s0.send({ frameworkMessage: { frameworkId: 'fw-1', taskId: 'fine', data: Buffer.from([0, 255]) } });
    const sandbox = agent.tasks().find((t) => t.taskId === 'fine')!.sandbox!;
    const text = await waitFor('two messages', async () => {
      const t = await readFile(join(sandbox, 'messages'), 'utf8').catch(() => '');
      return t.split('\n').length === 3 && t;
    });
    assert.equal(text, 'cGluZw==\nAP8=\n');
  });

  it('shutdown_framework kills that framework\'s tasks', async () => {
    run(s0, { taskId: 'svc', command: { value: 'sleep 1000' } });
    await waitState(s0, 'svc', 'TASK_RUNNING');
    s0.send({ shutdownFramework: { frameworkId: 'fw-1' } });
    assert.equal((await waitState(s0, 'svc', 'TASK_KILLED')).reason, 'REASON_FRAMEWORK_REMOVED');
  });

  it('shutdown kills every task, forgets the id and registers anew under a new one', async () => {
    run(s0, { taskId: 'long', command: { value: 'sleep 1000' } });
    await waitState(s0, 'long', 'TASK_RUNNING');
    const pid = agent.tasks().find((t) => t.taskId === 'long')!.pid!;
    const n = master.streams.length;
    s0.send({ shutdown: { reason: 'agent removed' } });
    const s = await master.stream(n);
    assert.deepEqual(await groupMembers(pid), [], 'tasks are gone before the new registration');
    const reg = s.of('register')[0]!;
    assert.match(reg.info!.id, /^agent-[0-9a-f]{12}$/);
    assert.notEqual(reg.info!.id, 'agent-1', 'not the removed id');
    assert.deepEqual(reg.tasks, []);
    assert.equal(JSON.parse(await readFile(join(workDir, 'agent.json'), 'utf8')).agentId, reg.info!.id);
    assert.equal(updatesOf(s0, 'long').some((u) => u.state === 'TASK_KILLED'), false, 'nothing reported for the removed agent');
    s0 = await register(n, 'agent-2');
    await savedIdBecomes('agent-2');
  });

  it('after refused, retries; a master that never answers is given up after three ping intervals', async () => {
    const n = master.streams.length;
    s0.send({ refused: { reason: 'not the leader' } });
    const silent = await master.stream(n);
    assert.equal(silent.of('register')[0]!.info!.id, 'agent-2');
    // Nobody answers this registration: 3 × 200 ms + 1 s margin later the agent tries again.
    await master.stream(n + 1, 5000);
  });
});
