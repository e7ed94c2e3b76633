/**
 * TASK_KILLING through real processes, as Mesos sends it: only to a
 * framework that declares TASK_KILLING_STATE. For any other, the master
 * acknowledges the agent's KILLING on the framework's behalf, so the agent
 * does not resend it for the whole kill grace, and reconciliation answers
 * RUNNING until the task's end arrives.
 *
 * The task traps SIGTERM and holds until the test writes a release file,
 * so what is seen during the kill grace is read with no race.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, task, waitFor } from '../harness';

let cluster: Cluster | undefined;
afterEach(async () => {
  await cluster?.teardown();
  cluster = undefined;
});

/** Whether the agent's status journal (agent/README.md) holds `taskId`'s KILLING update and its acknowledgement. */
function killingAcknowledged(workDir: string, taskId: string): boolean {
  const lines = readFileSync(path.join(workDir, 'meta', 'updates.log'), 'utf8').split('\n').flatMap((l) => {
    try {
      return [JSON.parse(l) as { update?: { taskId: string; state: string; uuid: string }; ack?: { uuid: string } }];
    } catch {
      return []; // the line being appended
    }
  });
  const uuid = lines.find((l) => l.update?.taskId === taskId && l.update.state === 'TASK_KILLING')?.update!.uuid;
  return !!uuid && lines.some((l) => l.ack?.uuid === uuid);
}

/**
 * Kills a task with a 60 s grace that holds on SIGTERM until released, as a
 * framework declaring `capabilities`; returns the states of the updates it
 * was sent (each once) and the state a reconciliation during the grace answered.
 */
async function killHeldTask(capabilities: string[]): Promise<{ states: string[]; reconciled: string }> {
  const c = (cluster = new Cluster());
  const master = await c.startMaster();
  const workDir = path.join(c.dir, 'agent');
  await c.startAgent(master.address, { workDir });
  const fw = c.scheduler(master.address);
  await fw.subscribe({ name: 'killer', capabilities });
  fw.autoAck();
  const trapped = path.join(c.dir, 'trapped');
  const release = path.join(c.dir, 'release');
  const held = {
    ...task('held', `trap 'while [ ! -e ${release} ]; do sleep 0.05; done; exit 0' TERM; touch ${trapped}; while :; do sleep 0.1; done`),
    killGraceSeconds: 60,
  };
  await fw.launchEach([held]);
  const running = await waitFor('held RUNNING', () => fw.updates('held').find((u) => u.state === 'TASK_RUNNING'));
  await waitFor('the task to trap SIGTERM', () => existsSync(trapped));

  fw.send({ kill: { taskId: 'held', agentId: running.agentId } });
  // By the framework when it sees the KILLING, else by the master for it: either way the agent stops resending it.
  await waitFor('the agent to journal the KILLING update as acknowledged', () => killingAcknowledged(workDir, 'held'));
  const from = fw.events.length;
  fw.send({ reconcile: { tasks: [{ taskId: 'held', agentId: running.agentId }] } });
  const answer = await fw.waitEvent('the reconciliation answer', (e) => e.update?.status?.reason === 'REASON_RECONCILIATION', from);

  writeFileSync(release, '');
  await waitFor('held KILLED', () => fw.updates('held').some((u) => u.state === 'TASK_KILLED'));
  const sent = fw.updates('held').filter((u) => u.uuid);
  return { states: [...new Set(sent.map((u) => u.state as string))], reconciled: answer.update!.status!.state as string };
}

test('a framework without TASK_KILLING_STATE sees RUNNING then KILLED, never KILLING, and the kill completes', async () => {
  const { states, reconciled } = await killHeldTask([]);
  assert.deepEqual(states, ['TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLED']);
  assert.equal(reconciled, 'TASK_RUNNING');
});

test('a framework with TASK_KILLING_STATE sees KILLING between RUNNING and KILLED', async () => {
  const { states, reconciled } = await killHeldTask(['TASK_KILLING_STATE']);
  assert.deepEqual(states, ['TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_KILLED']);
  assert.equal(reconciled, 'TASK_KILLING');
});
