/**
 * The master's accept validation checks every health check of a task
 * (`health_check` and `health_checks`): each entry's problems name it, and
 * more than MAX_TASK_HEALTH_CHECKS is refused, naming the limit. Its
 * generalized `check` is checked too, its problems named as the check's.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as res from '../../lib/resources';
import { MAX_TASK_HEALTH_CHECKS } from '../../lib/health-check-spec';
import type { CheckInfo, HealthCheck, Operation__Output, TaskInfo__Output } from '../../lib/proto';
import { validateAccept } from '../../master/validation';
import type { OfferRecord } from '../../master/state';

const offer: OfferRecord = {
  id: 'o-1', frameworkId: 'fw-1', agentId: 'a-1', role: '*', createdAt: 0,
  resources: res.make({ cpus: 4, mem: 1024, ports: [{ begin: 31000, end: 31009 }] }),
};

function task(checks: { healthCheck?: HealthCheck; healthChecks?: HealthCheck[]; check?: CheckInfo }): TaskInfo__Output {
  return {
    taskId: 't1', name: 't1', agentId: '', labels: {}, killGraceSeconds: 0,
    resources: [
      { name: 'cpus', scalar: 0.1, ranges: [], set: [], role: '' },
      { name: 'ports', scalar: 0, ranges: [{ begin: 31000, end: 31000 }], set: [], role: '' },
    ],
    command: { value: 'true', shell: true, arguments: [], environment: {} },
    healthCheck: null, healthChecks: [], check: null, ...checks,
  } as unknown as TaskInfo__Output;
}

function reasons(t: TaskInfo__Output): string[] {
  const v = validateAccept({
    frameworkId: 'fw-1', offerIds: [offer.id], operations: [{ launch: { taskInfos: [t] } } as unknown as Operation__Output],
    findOffer: (id) => (id === offer.id ? offer : undefined), taskIdInUse: () => false,
  });
  return v.tasks[0]!.reasons;
}

const tcp = (portIndex: number): HealthCheck => ({ type: 'TCP', tcp: { portIndex } });

describe('accept validation of a task\'s health checks', () => {
  it('accepts health_check with health_checks, up to the limit', () => {
    assert.deepEqual(reasons(task({ healthCheck: tcp(0), healthChecks: Array.from({ length: MAX_TASK_HEALTH_CHECKS - 1 }, () => tcp(0)) })), []);
    assert.deepEqual(reasons(task({ healthChecks: [tcp(0), { type: 'HTTP', http: { portIndex: 0, path: '/health', scheme: 'https' } }] })), []);
  });

  it('refuses more than the limit, naming it', () => {
    assert.deepEqual(reasons(task({ healthCheck: tcp(0), healthChecks: Array.from({ length: MAX_TASK_HEALTH_CHECKS }, () => tcp(0)) })),
      [`task t1: ${MAX_TASK_HEALTH_CHECKS + 1} health checks (health_check and health_checks together); the limit is ${MAX_TASK_HEALTH_CHECKS}`]);
  });

  it('names the entry of health_checks that is wrong', () => {
    assert.deepEqual(reasons(task({ healthChecks: [tcp(0), tcp(1), { type: 'HTTP', http: { portIndex: 0, scheme: 'gopher' } }] })), [
      'task t1: health_checks[1]: the TCP health check\'s port_index 1 is out of range: the task has 1 port(s) (31000)',
      'task t1: health_checks[2]: the HTTP health check\'s scheme "gopher" must be "http" or "https"',
    ]);
  });
});

describe('accept validation of a task\'s check', () => {
  it('accepts HTTP, TCP and COMMAND checks beside health checks', () => {
    assert.deepEqual(reasons(task({ healthCheck: tcp(0), check: { type: 'HTTP', http: { portIndex: 0, path: '/' }, intervalSeconds: 60 } })), []);
    assert.deepEqual(reasons(task({ check: { type: 'TCP', tcp: { port: 8080 } } })), []);
    assert.deepEqual(reasons(task({ check: { type: 'COMMAND', command: { value: 'true', shell: true } } })), []);
  });

  it('refuses a check that cannot run, saying what to change', () => {
    assert.deepEqual(reasons(task({ check: { type: 'HTTP', http: { portIndex: 2 }, timeoutSeconds: 0 } })), [
      'task t1: check: check timeout_seconds 0 must be between 0.1 and 2147483 seconds',
      'task t1: check: the HTTP check\'s port_index 2 is out of range: the task has 1 port(s) (31000)',
    ]);
    assert.deepEqual(reasons(task({ check: { type: 'COMMAND' } })), ['task t1: check: the COMMAND check has an empty command (set command.value)']);
  });
});
