/**
 * What `mezz app deploy|scale|restart|rollback` and `mezz deployments` say of
 * deployments, from literal mezz-services answers: the rollout's progress
 * line, the deployments table, how a deployment ended (and its rollback),
 * the timeout and 409 messages, versions, and a change's query string.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type AppTasksJson, changeQuery, countsShown, definitionOf, type DeploymentJson, deploymentRow, deploymentsText, isFinished, lockedMessage,
  olderThan, outcome, progressLine, rolloutOf, stillRunning, versionsText, versionView, watchedApps,
} from '../../cli/rollout-view';

function deployment(over: Partial<DeploymentJson> = {}): DeploymentJson {
  return {
    id: 'd1', version: '2026-01-01T00:00:00.000Z', affectedApps: ['/web'],
    currentActions: [{ action: 'RestartApplication', app: '/web' }], currentStep: 1, totalSteps: 1, status: { state: 'running' }, ...over,
  };
}

const task = (version: string, state = 'TASK_RUNNING', alive?: boolean) =>
  ({ state, version, ...(alive !== undefined ? { healthCheckResults: [{ alive }] } : {}) });

describe('rolloutOf: old, new and healthy instances by the version the app moves to', () => {
  it('counts tasks at other versions as old, and new running ones as healthy when the app has no checks', () => {
    const app: AppTasksJson = { id: '/web', instances: 3, versionInfo: { lastConfigChangeAt: 'v2' }, tasks: [task('v1'), task('v1'), task('v2'), task('v2', 'TASK_STAGING')] };
    assert.deepEqual(rolloutOf(app), { app: '/web', old: 2, new: 2, healthy: 1, instances: 3 });
  });

  it('with health checks, a new instance is healthy only once every result is alive', () => {
    const app: AppTasksJson = {
      id: '/web', instances: 2, healthChecks: [{}], versionInfo: { lastConfigChangeAt: 'v2' },
      tasks: [task('v2', 'TASK_RUNNING', true), task('v2', 'TASK_RUNNING', false), task('v2')],
    };
    assert.deepEqual(rolloutOf(app), { app: '/web', old: 0, new: 3, healthy: 1, instances: 2 });
  });
});

describe('progressLine', () => {
  it('step N/M, state and each app\'s counts', () => {
    assert.equal(progressLine(deployment(), [{ app: '/web', old: 2, new: 1, healthy: 1, instances: 3 }]), 'step 1/1 running: /web 2 old, 1/3 new, 1 healthy');
  });

  it('says what blocks the deployment, and an app that is gone', () => {
    const d = deployment({ status: { state: 'running', blocked: ['cannot proceed: constraint hostname:UNIQUE ×3'] }, currentActions: [{ action: 'StopApplication', app: '/old' }] });
    assert.equal(progressLine(d, [{ app: '/old', gone: true }]), 'step 1/1 running: /old removed — blocked: cannot proceed: constraint hostname:UNIQUE ×3');
  });

  it('counts at most the apps watched, and says how many more there are', () => {
    const apps = ['/a', '/b', '/c', '/d', '/e'];
    const d = deployment({ affectedApps: apps, currentActions: apps.map((app) => ({ action: 'StartApplication', app })) });
    assert.deepEqual(watchedApps(d), ['/a', '/b', '/c']);
    const shown = watchedApps(d).map((app) => ({ app, old: 0, new: 1, healthy: 1, instances: 1 }));
    assert.match(progressLine(d, shown), /\/c 0 old, 1\/1 new, 1 healthy; \+2 more app\(s\)$/);
  });

  it('a finished deployment watches what it affected; one that failed shows no counts (they would be its rollback\'s)', () => {
    const failed = deployment({ currentActions: [], status: { state: 'failed', reason: 'no progress' } });
    assert.deepEqual(watchedApps(failed), ['/web']);
    assert.equal(isFinished(failed), true);
    assert.equal(countsShown(failed), false);
    assert.equal(progressLine(failed, []), 'step 1/1 failed');
    assert.equal(countsShown(deployment({ status: { state: 'succeeded' } })), true);
    assert.equal(countsShown(deployment({ status: { state: 'rolling back' } })), true);
    assert.equal(isFinished(deployment({ status: { state: 'rolling back' } })), false);
  });
});

describe('mezz deployments', () => {
  it('a row: id, apps, step, state, and what blocks it, why it failed or what it rolls back', () => {
    assert.deepEqual(deploymentRow(deployment({ affectedApps: ['/a', '/b'], currentStep: 1, totalSteps: 2 })), ['d1', '/a,/b', '1/2', 'running', '-']);
    assert.deepEqual(
      deploymentRow(deployment({ id: 'd1-rollback', rollbackOf: 'd1', status: { state: 'rolling back', blocked: ['cannot proceed: ports ×2'] } })),
      ['d1-rollback', '/web', '1/1', 'rolling back', 'rolls back d1; cannot proceed: ports ×2'],
    );
  });

  it('a table, or a sentence when none runs', () => {
    assert.equal(deploymentsText([]), 'no deployment is running');
    assert.equal(deploymentsText([deployment()]), 'ID   APPS   STEP   STATE     WHY\nd1   /web   1/1    running   -');
  });
});

describe('outcome: how a followed deployment ended', () => {
  const failed = deployment({ status: { state: 'failed', reason: '/web: no progress within 8 s' } });
  it('succeeded', () => {
    assert.deepEqual(outcome({ deployment: deployment({ status: { state: 'succeeded' } }) }), { ok: true, message: 'deployment d1 succeeded' });
  });

  it('failed, with the reason and what became of the rollback', () => {
    const rollback = (status: DeploymentJson['status']) => deployment({ id: 'd1-rollback', rollbackOf: 'd1', status });
    assert.deepEqual(outcome({ deployment: failed, rollback: rollback({ state: 'succeeded' }) }), {
      ok: false, message: 'deployment d1 failed: /web: no progress within 8 s; rolled back to the previous version (d1-rollback succeeded)',
    });
    assert.equal(outcome({ deployment: failed, rollback: rollback({ state: 'failed', reason: 'no progress' }) }).message,
      'deployment d1 failed: /web: no progress within 8 s; its rollback d1-rollback failed too: no progress');
    assert.equal(outcome({ deployment: failed, rollback: rollback({ state: 'cancelled' }) }).message,
      'deployment d1 failed: /web: no progress within 8 s; its rollback d1-rollback was cancelled');
    assert.equal(outcome({ deployment: failed }).message, 'deployment d1 failed: /web: no progress within 8 s; no rollback was started');
  });

  it('cancelled: rolled back, or in place', () => {
    const cancelled = deployment({ status: { state: 'cancelled' } });
    assert.equal(outcome({ deployment: cancelled, rollback: deployment({ id: 'd1-rollback', status: { state: 'succeeded' } }) }).message,
      'deployment d1 was cancelled; rolled back to the previous version (d1-rollback succeeded)');
    assert.match(outcome({ deployment: cancelled }).message, /^deployment d1 was cancelled in place .*: no rollback$/);
  });

  it('a rollback that failed is not rolled back again, and says only why', () => {
    const r = deployment({ id: 'd1-rollback', rollbackOf: 'd1', status: { state: 'failed', reason: 'no progress' } });
    assert.deepEqual(outcome({ deployment: r }), { ok: false, message: 'deployment d1-rollback failed: no progress' });
  });
});

describe('messages', () => {
  it('--wait ran out: the deployment keeps running, and how to watch and cancel it', () => {
    assert.equal(stillRunning(deployment({ currentStep: 1, totalSteps: 2 }), '15m'),
      "deployment d1 is still running after 15m (step 1/2); it keeps running: watch it with 'mezz deployments watch d1', cancel it with 'mezz deployments rm d1'");
  });

  it('409: the app, the deployments that hold it, and --force', () => {
    assert.equal(lockedMessage('/web', [{ id: 'd1' }]), "app /web is locked by deployment d1; use --force to supersede it, or wait for it ('mezz deployments')");
    assert.match(lockedMessage('/web', [{ id: 'd1' }, { id: 'd2' }]), /locked by deployments d1, d2;/);
    assert.match(lockedMessage('/web', undefined), /locked by a running deployment;/);
  });
});

describe('versions', () => {
  it('the table marks the current version; args are shown as a command', () => {
    const list = [versionView({ version: 'v2', instances: 3, cmd: 'sleep 601' }, 'v2'), versionView({ version: 'v1', args: ['sleep', '600'] }, 'v2')];
    assert.deepEqual(list[1], { version: 'v1', current: false, instances: 0, cmd: 'sleep 600' });
    assert.equal(versionsText(list), 'VERSION   CURRENT   INSTANCES   COMMAND\nv2        *         3           sleep 601\nv1                  0           sleep 600');
  });

  it('olderThan: the versions after the current one in the newest-first list, or those before it in time when it is not listed', () => {
    assert.deepEqual(olderThan(['v4', 'v3', 'v2', 'v1'], 'v3'), ['v2', 'v1']);
    assert.deepEqual(olderThan(['2026-03', '2026-01'], '2026-02'), ['2026-01']);
    assert.deepEqual(olderThan(['v1'], 'v1'), []);
  });

  it('definitionOf ignores the version fields, so a restart (same definition, new version) is no rollback target', () => {
    assert.equal(definitionOf({ id: '/web', cmd: 'x', version: 'v1' }), definitionOf({ id: '/web', cmd: 'x', version: 'v2', versionInfo: {} }));
    assert.notEqual(definitionOf({ id: '/web', cmd: 'x' }), definitionOf({ id: '/web', cmd: 'y' }));
  });
});

describe('changeQuery', () => {
  it('force and the deadline in whole seconds (rounded up, at least 1), beside what the command adds', () => {
    assert.equal(changeQuery({}), '');
    assert.equal(changeQuery({ force: true, deadline: 7.2 }, { partialUpdate: 'false' }), '?partialUpdate=false&force=true&deadlineSeconds=8');
    assert.equal(changeQuery({ deadline: 0.001 }), '?deadlineSeconds=1');
  });
});
