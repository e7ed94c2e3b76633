/**
 * Health checks through a real master and agent: a task serving HTTP on its
 * assigned port is reported healthy; once its server is gone it is reported
 * unhealthy and, after the configured failures in a row, killed. A COMMAND
 * check flips health both ways without killing. With two checks, the task is
 * unhealthy while the second fails though the first passes. A malformed
 * check is refused at ACCEPT with TASK_ERROR.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Cluster, task, waitFor, type TestScheduler } from '../harness';
import type { Offer__Output, TaskStatus__Output } from '../../lib/proto';

/** The first port of an offer's ports resource. */
function firstPort(o: Offer__Output): number {
  const r = o.resources.find((x) => x.name === 'ports')!.ranges[0]!;
  return Number(r.begin);
}

/** Accepts the next offer with the task `make(port)` builds; declines the rest. */
async function launchWithPort(fw: TestScheduler, make: (port: number) => object): Promise<void> {
  const offer = await waitFor('an offer', () => fw.outstanding()[0]);
  for (const o of fw.outstanding().slice(1)) fw.send({ decline: { offerIds: [o.id], filters: { refuseSeconds: 0 } } });
  fw.send({ accept: { offerIds: [offer.id], operations: [{ launch: { taskInfos: [make(firstPort(offer))] } }], filters: { refuseSeconds: 0 } } });
}

/** The sandbox directory, from the STARTING update's message (`sandbox DIR`). */
async function sandboxOf(fw: TestScheduler, id: string): Promise<string> {
  const s = await waitFor(`${id} STARTING`, () => fw.updates(id).find((u) => u.state === 'TASK_STARTING'));
  return /^sandbox (\S+)/.exec(s.message)![1]!;
}

/** TASK_RUNNING updates that carry a change of health, each once. */
const healthUpdates = (fw: TestScheduler, id: string) => {
  const seen = new Set<string>();
  return fw.updates(id).filter((u) => u.state === 'TASK_RUNNING' && u.reason === 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED' && u.uuid && !seen.has(u.uuid) && seen.add(u.uuid));
};

// A task that serves GET /health on PORT0 until a file named `sick` appears in its sandbox,
// then kills its server and stays alive: only the health check can end it.
const SERVER = `node -e "require('http').createServer((q, s) => s.end('ok')).listen(+process.env.PORT0, '127.0.0.1')" & srv=$!; ` +
  'while [ ! -e sick ]; do sleep 0.1; done; kill $srv; wait $srv; exec sleep 600';

describe('health checks', () => {
  const c = new Cluster();
  let fw: TestScheduler;
  before(async () => {
    const master = await c.startMaster();
    await c.startAgent(master.address);
    fw = c.scheduler(master.address);
    await fw.subscribe({ name: 'health', failoverTimeout: 60, capabilities: ['TASK_KILLING_STATE'] });
    fw.autoAck();
  });
  after(() => c.teardown());

  test('HTTP: healthy while the server answers; unhealthy, then killed after 3 failures in a row once it is gone', async () => {
    await launchWithPort(fw, (port) => ({
      ...task('web', SERVER),
      resources: [{ name: 'cpus', scalar: 0.1 }, { name: 'mem', scalar: 32 }, { name: 'ports', ranges: [{ begin: port, end: port }] }],
      healthCheck: {
        type: 'HTTP', http: { portIndex: 0, path: '/health' },
        // Node starts in ~0.2 s: failures before then fall in the grace period.
        delaySeconds: 0, intervalSeconds: 0.3, timeoutSeconds: 1, gracePeriodSeconds: 20, consecutiveFailures: 3, killOnFailure: true,
      },
    }));
    const sandbox = await sandboxOf(fw, 'web');
    const healthy = await waitFor('web healthy', () => healthUpdates(fw, 'web').find((u) => u.healthy === true));
    assert.equal(healthy.state, 'TASK_RUNNING');
    assert.match(healthy.message, /^health check passed: GET http:\/\/127\.0\.0\.1:\d+\/health answered 200$/);

    writeFileSync(join(sandbox, 'sick'), '');
    const sick = await waitFor('web unhealthy', () => healthUpdates(fw, 'web').find((u) => u.healthy === false));
    assert.equal(sick.state, 'TASK_RUNNING');
    assert.match(sick.message, /^health check failed \(1 of 3 in a row\): GET http:\/\/127\.0\.0\.1:\d+\/health: connection refused/);

    const killed = await waitFor('web KILLED', () => fw.updates('web').find((u) => u.state === 'TASK_KILLED'));
    assert.equal(killed.reason, 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED');
    assert.equal(killed.healthy, false);
    assert.match(killed.message, /^3 consecutive health checks failed; last: GET .*connection refused.*; killed: /);
    // Health was reported on changes only: healthy once, unhealthy once.
    assert.deepEqual(healthUpdates(fw, 'web').map((u) => [u.state, u.healthy]), [['TASK_RUNNING', true], ['TASK_RUNNING', false]]);
    const states = distinctStates(fw.updates('web'));
    assert.deepEqual(states, ['TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_KILLED']);
  });

  test('COMMAND: runs in the sandbox and flips health both ways; without kill_on_failure the task lives on', async () => {
    fw.send({ revive: {} });
    await launchWithPort(fw, () => ({
      ...task('cmd', 'touch ready; exec sleep 600'),
      healthCheck: {
        type: 'COMMAND', command: { value: 'test -e ready && test "$MEZZ_TASK_ID" = cmd', shell: true },
        // A failure before `ready` exists falls in the grace period, which the first success ends.
        delaySeconds: 0, intervalSeconds: 0.2, timeoutSeconds: 2, gracePeriodSeconds: 30, consecutiveFailures: 1,
      },
    }));
    const sandbox = await sandboxOf(fw, 'cmd');
    await waitFor('cmd healthy', () => healthUpdates(fw, 'cmd').length === 1);
    rmSync(join(sandbox, 'ready'));
    await waitFor('cmd unhealthy', () => healthUpdates(fw, 'cmd').length === 2);
    writeFileSync(join(sandbox, 'ready'), '');
    await waitFor('cmd healthy again', () => healthUpdates(fw, 'cmd').length === 3);
    assert.deepEqual(healthUpdates(fw, 'cmd').map((u) => u.healthy), [true, false, true]);
    assert.match(healthUpdates(fw, 'cmd')[1]!.message, /^health check failed \(1 of 1 in a row\): command "test -e ready .*" exited with status 1$/);
    assert.equal(fw.updates('cmd').some((u) => u.state === 'TASK_KILLING'), false);
  });

  test('two checks: unhealthy while the second fails though the first passes; healthy once both pass', async () => {
    fw.send({ revive: {} });
    await launchWithPort(fw, (port) => ({
      ...task('two', SERVER),
      resources: [{ name: 'cpus', scalar: 0.1 }, { name: 'mem', scalar: 32 }, { name: 'ports', ranges: [{ begin: port, end: port }] }],
      healthCheck: { type: 'HTTP', http: { portIndex: 0, path: '/health' }, delaySeconds: 0, intervalSeconds: 0.3, timeoutSeconds: 1, gracePeriodSeconds: 20 },
      healthChecks: [{
        type: 'COMMAND', command: { value: 'test -e ready', shell: true },
        delaySeconds: 0, intervalSeconds: 0.2, timeoutSeconds: 2, gracePeriodSeconds: 0, consecutiveFailures: 1,
      }],
    }));
    const sandbox = await sandboxOf(fw, 'two');
    const sick = await waitFor('two unhealthy', () => healthUpdates(fw, 'two').find((u) => u.healthy === false));
    assert.equal(sick.message, 'health check 2 of 2 failed (1 of 1 in a row): command "test -e ready" exited with status 1');
    writeFileSync(join(sandbox, 'ready'), '');
    const well = await waitFor('two healthy', () => healthUpdates(fw, 'two').find((u) => u.healthy === true));
    assert.match(well.message, /^all 2 health checks passed; last: health check [12] of 2 passed: /);
    assert.deepEqual(healthUpdates(fw, 'two').map((u) => u.healthy), [false, true]);
    assert.equal(fw.updates('two').some((u) => u.state === 'TASK_KILLING'), false);
  });

  test('a malformed health check is refused at ACCEPT with TASK_ERROR saying what is wrong', async () => {
    fw.send({ revive: {} });
    const from = fw.events.length;
    await launchWithPort(fw, () => ({
      ...task('bad-check', 'sleep 600'),
      healthCheck: { type: 'HTTP', http: { portIndex: 0 }, intervalSeconds: 0.001, delaySeconds: 3e6 },
    }));
    const err = await waitFor('bad-check TASK_ERROR', () => fw.updates('bad-check').find((u) => u.state === 'TASK_ERROR'));
    assert.equal(err.reason, 'REASON_TASK_INVALID');
    assert.match(err.message, /task bad-check: health check interval_seconds 0.001 must be between 0.1 and 2147483 seconds/);
    assert.match(err.message, /health check delay_seconds 3000000 must be between 0 and 2147483 seconds \(timers cannot wait longer than 2\^31 ms\)/);
    assert.match(err.message, /task bad-check: the HTTP health check's port_index 0 is out of range: the task has 0 port\(s\); give it a ports resource/);
    await fw.waitEvent('the ERROR event', (e) => !!e.error, from);
  });
});

/** States in the order first seen, each once (retries and duplicates removed). */
function distinctStates(updates: TaskStatus__Output[]): string[] {
  const out: string[] = [];
  for (const u of updates) if (u.uuid && !out.includes(u.state)) out.push(u.state);
  return out;
}
