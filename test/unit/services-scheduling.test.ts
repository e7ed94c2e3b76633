/**
 * The services scheduler's pure pieces: an app as the reconciler's group,
 * the TaskInfo finished with Marathon's environment and health check, and
 * service port assignment.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseApp, type App } from '../../frameworks/services';
import { appCommand, appGroup, endedAttemptsToKeep, expunged, finishTask, healthCheck } from '../../frameworks/services/app-task';
import { backoffSeconds } from '../../frameworks/foundation/reconciler/history';
import { assignServicePorts, configChanged, SERVICE_PORT_MIN } from '../../frameworks/services/app-store';
import { LimitExceededError } from '../../lib/errors';

function app(body: Record<string, unknown>): App {
  const r = parseApp({ cmd: 'sleep 100', ...body });
  if (r.errors) throw new Error(JSON.stringify(r.errors));
  return r.app;
}

test('an app becomes a service group: count, resources, ports, constraints, backoff, kill selection, unreachable', () => {
  const g = appGroup(app({
    id: '/shop/web', instances: 3, cpus: 0.5, mem: 64, portDefinitions: [{ port: 0 }, { port: 0 }],
    constraints: [['hostname', 'UNIQUE']], backoffSeconds: 2, backoffFactor: 3, maxLaunchDelaySeconds: 60, killSelection: 'OLDEST_FIRST',
  }), 'v1');
  assert.equal(g.id, '/shop/web');
  assert.equal(g.version, 'v1');
  assert.equal(g.count, 3);
  assert.equal(g.restart, 'service');
  assert.deepEqual(g.resources, { cpus: 0.5, mem: 64, disk: 0, gpus: 0, ports: 2 });
  assert.equal(g.constraints!.length, 1);
  assert.deepEqual(g.backoff, { initialSeconds: 2, factor: 3, maxSeconds: 60 });
  assert.equal(g.killSelection, 'OLDEST_FIRST');
  assert.deepEqual(g.unreachable, { inactiveAfterSeconds: 0, expungeAfterSeconds: 0 }, "Marathon's default: replace at once");
});

test('requirePorts: the group asks for exactly the port definitions\' numbers, in order; otherwise only how many', () => {
  const body = { id: '/web', portDefinitions: [{ port: 8080 }, { port: 9090, name: 'admin' }] };
  assert.deepEqual(appGroup(app({ ...body, requirePorts: true }), 'v1').resources.ports, [8080, 9090]);
  assert.equal(appGroup(app(body), 'v1').resources.ports, 2);
  assert.equal(appGroup(app({ id: '/web', portDefinitions: [] }), 'v1').resources.ports, 0);
});

test('role and acceptedResourceRoles: the role as is; accepted roles only when they leave out *, since every offer is unreserved', () => {
  const prod = appGroup(app({ id: '/web', role: 'prod', acceptedResourceRoles: ['prod'] }), 'v1');
  assert.equal(prod.role, 'prod');
  assert.deepEqual(prod.roles, ['prod']);
  const any = appGroup(app({ id: '/web', role: 'prod', acceptedResourceRoles: ['*', 'prod'] }), 'v1');
  assert.equal(any.roles, undefined);
  const plain = appGroup(app({ id: '/web' }), 'v1');
  assert.deepEqual([plain.role, plain.roles], [undefined, undefined]);
  assert.deepEqual(appGroup(app({ id: '/web', acceptedResourceRoles: ['slave_public'] }), 'v1').roles, ['slave_public']);
});

test("an instance keeps the ended attempts its crash loop's delay needs to reach its cap, 3 to 64", () => {
  const backoff = (a: App) => ({ initialSeconds: a.backoffSeconds, factor: a.backoffFactor, maxSeconds: a.maxLaunchDelaySeconds });
  for (const [body, keep] of [
    [{ backoffSeconds: 1, backoffFactor: 2, maxLaunchDelaySeconds: 8 }, 4], // 1, 2, 4, 8
    [{}, 42], // Marathon's 1 s × 1.15 up to 300 s
    [{ backoffSeconds: 1, backoffFactor: 1, maxLaunchDelaySeconds: 300 }, 3], // no growth: the minimum
    [{ backoffSeconds: 10, backoffFactor: 2, maxLaunchDelaySeconds: 5 }, 3], // capped from the start
    [{ backoffSeconds: 1, backoffFactor: 1.01, maxLaunchDelaySeconds: 3600 }, 64], // bounded
  ] as const) {
    const a = app({ id: '/crash', ...body });
    const n = endedAttemptsToKeep(a);
    assert.equal(n, keep, JSON.stringify(body));
    if (n < 64 && a.backoffFactor > 1 && a.maxLaunchDelaySeconds > a.backoffSeconds) {
      assert.equal(backoffSeconds(backoff(a), n), a.maxLaunchDelaySeconds, 'n failures in a row reach the cap');
      assert.ok(backoffSeconds(backoff(a), n - 1) < a.maxLaunchDelaySeconds, 'and n - 1 do not');
    }
  }
  assert.equal(endedAttemptsToKeep(undefined), 3, 'an app removed');
});

test('an unreachable task is expunged once unreachable for expungeAfterSeconds, never when the strategy is disabled', () => {
  const a = app({ id: '/p', unreachableStrategy: { inactiveAfterSeconds: 1, expungeAfterSeconds: 30 } });
  assert.equal(expunged(a, 1000, 30_999), false);
  assert.equal(expunged(a, 1000, 31_000), true);
  assert.equal(expunged(app({ id: '/p' }), 1000, 1000), true, "Marathon's default 0/0: expunged at once");
  assert.equal(expunged(app({ id: '/p', unreachableStrategy: 'disabled' }), 0, 1e12), false);
  assert.equal(expunged(undefined, 0, 1e12), false, 'an app removed: its tasks are killed anyway');
});

test('args become one shell line, each argument quoted', () => {
  assert.equal(appCommand({ args: ['echo', "it's", '$HOME'] }), `'echo' 'it'\\''s' '$HOME'`);
  assert.equal(appCommand({ cmd: 'sleep 1' }), 'sleep 1');
});

test("a launched task gets Marathon's environment with its host ports, and the app's health check", () => {
  const a = app({ id: '/web', portDefinitions: [{ port: 10000, name: 'http' }], env: { MODE: 'x' }, healthChecks: [{ protocol: 'HTTP', portIndex: 0 }] });
  const task = finishTask(a, 'v1', { taskId: 'web.v1.0.1', command: { value: 'run', environment: { PORT0: '31005', PORT: '31005', PORTS: '31005' } } }, 'h1');
  const env = task.command!.environment!;
  assert.equal(env.PORT0, '31005');
  assert.equal(env.PORT_HTTP, '31005');
  assert.equal(env.HOST, 'h1');
  assert.equal(env.MARATHON_APP_ID, '/web');
  assert.equal(env.MESOS_TASK_ID, 'web.v1.0.1');
  assert.equal(env.MODE, 'x');
  assert.equal(task.command!.value, 'run');
  assert.deepEqual(task.healthChecks, [{
    type: 'HTTP', http: { port: 0, portIndex: 0, path: '/' },
    delaySeconds: 15, intervalSeconds: 60, timeoutSeconds: 20, gracePeriodSeconds: 300, consecutiveFailures: 3, killOnFailure: true,
  }], "Marathon's defaults");
  assert.equal(task.healthCheck, undefined);
});

test('a launched task carries every health check of its app, HTTPS and MESOS_HTTPS as HTTPS GETs', () => {
  const a = app({
    id: '/web', portDefinitions: [{ port: 10000 }, { port: 10001 }],
    healthChecks: [{ protocol: 'HTTP' }, { protocol: 'HTTPS', portIndex: 1, path: '/health' }, { protocol: 'MESOS_HTTPS' }, { protocol: 'TCP', portIndex: 1 }],
  });
  const task = finishTask(a, 'v1', { taskId: 'web.v1.0.1', command: { value: 'run', environment: { PORT0: '31005', PORT1: '31006' } } }, 'h1');
  assert.deepEqual(task.healthChecks!.map((h) => [h.type, h.http ?? h.tcp]), [
    ['HTTP', { port: 0, portIndex: 0, path: '/' }],
    ['HTTP', { port: 0, portIndex: 1, path: '/health', scheme: 'https' }],
    ['HTTP', { port: 0, portIndex: 0, path: '/', scheme: 'https' }],
    ['TCP', { port: 0, portIndex: 1 }],
  ]);
  assert.equal(finishTask(app({ id: '/none' }), 'v1', { taskId: 'none.v1.0.1', command: { value: 'run' } }, 'h1').healthChecks, undefined);
});

test('health checks: TCP and MESOS_TCP by port, COMMAND by shell, a fixed port kept, 0 failures never kills', () => {
  const base = app({ id: '/t', healthChecks: [{ protocol: 'TCP' }] }).healthChecks[0]!;
  assert.deepEqual(healthCheck(base).tcp, { port: 0, portIndex: 0 });
  assert.deepEqual(healthCheck({ ...base, protocol: 'MESOS_TCP', port: 8080, portIndex: undefined }).tcp, { port: 8080 });
  const cmd = healthCheck({ ...base, protocol: 'COMMAND', command: { value: 'test -f ok' }, maxConsecutiveFailures: 0 });
  assert.equal(cmd.type, 'COMMAND');
  assert.deepEqual(cmd.command, { value: 'test -f ok', shell: true });
  assert.equal(cmd.killOnFailure, false);
  assert.equal(healthCheck({ ...base, protocol: 'MESOS_HTTP', path: '/ready' }).http!.path, '/ready');
});

test('service ports: port 0 gets the lowest free from 10000, cluster-wide; an update keeps its ports', () => {
  const others = [{ app: app({ id: '/a', portDefinitions: [{ port: SERVICE_PORT_MIN }, { port: 10002 }] }), version: 'v', configVersion: 'v' }];
  const b = assignServicePorts(app({ id: '/b', portDefinitions: [{ port: 0 }, { port: 0 }] }), others);
  assert.deepEqual(b.portDefinitions.map((p) => p.port), [10001, 10003]);
  const again = assignServicePorts(app({ id: '/b', portDefinitions: [{ port: 0 }, { port: 0 }] }), [...others, { app: b, version: 'v', configVersion: 'v' }], b);
  assert.deepEqual(again.portDefinitions.map((p) => p.port), [10001, 10003]);
  assert.deepEqual(assignServicePorts(app({ id: '/c', portDefinitions: [{ port: 80 }] }), others).portDefinitions.map((p) => p.port), [80]);
});

test('service ports run out with a clear error', () => {
  const ports = Array.from({ length: 10001 }, (_, i) => ({ port: SERVICE_PORT_MIN + i }));
  const full = ports.map((p, i) => ({ app: { ...app({ id: `/f${i}` }), portDefinitions: [{ ...p, protocol: 'tcp' as const, labels: {} }] }, version: 'v', configVersion: 'v' }));
  assert.throws(() => assignServicePorts(app({ id: '/late' }), full), (e: Error) => e instanceof LimitExceededError && /no free service port/.test(e.message));
});

test('only a change beyond instances is a new config version', () => {
  const a = app({ id: '/web', instances: 1 });
  assert.equal(configChanged(a, { ...a, instances: 5 }), false);
  assert.equal(configChanged(a, { ...a, cmd: 'sleep 2' }), true);
});
