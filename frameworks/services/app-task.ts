/**
 * An app as the reconciler wants it (a TaskGroup), and the finishing of each
 * TaskInfo the reconciler cut: Marathon's environment (which needs the host
 * and the host ports only known once placed) and the app's health checks.
 */
import type { HealthCheck, TaskInfo } from '../sdk/index';
import type { TaskGroup } from '../foundation/index';
import { toSdkConstraint } from './app-constraints';
import { appEnvironment } from './app-env';
import type { App, HealthCheckSpec } from './app-schema';

/** The shell command line of `cmd`, or of `args` quoted for sh. */
export function appCommand(app: Pick<App, 'cmd' | 'args'>): string {
  if (app.cmd) return app.cmd;
  return (app.args ?? []).map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(' ');
}

/** The app's reconciler group at `version`. */
export function appGroup(app: App, version: string): TaskGroup {
  const unreachable = app.unreachableStrategy === 'disabled'
    ? { inactiveAfterSeconds: 1e9, expungeAfterSeconds: 1e9 }
    : app.unreachableStrategy;
  return {
    id: app.id,
    version,
    count: app.instances,
    restart: 'service',
    resources: { cpus: app.cpus, mem: app.mem, disk: app.disk, gpus: app.gpus, ports: hostPortsWanted(app) },
    task: { command: appCommand(app), ...(app.taskKillGracePeriodSeconds ? { killGraceSeconds: app.taskKillGracePeriodSeconds } : {}) },
    ...(app.role ? { role: app.role } : {}),
    ...offerRoles(app),
    constraints: app.constraints.map(toSdkConstraint),
    backoff: { initialSeconds: app.backoffSeconds, factor: app.backoffFactor, maxSeconds: app.maxLaunchDelaySeconds },
    killSelection: app.killSelection,
    unreachable,
  };
}

/** requirePorts: the port definitions' numbers are the host ports; otherwise any that many. */
function hostPortsWanted(app: App): number | number[] {
  return app.requirePorts ? app.portDefinitions.map((p) => p.port) : app.portDefinitions.length;
}

/**
 * acceptedResourceRoles as the offers' roles the group takes. `*` is
 * unreserved resources, and Mezzanine's master reserves none: every offer's
 * resources are unreserved, so a list with `*` takes any offer (the app's
 * `role` still applies). Without `*`, the named roles stand for resources set
 * aside for them: offers allocated to one of those roles.
 */
function offerRoles(app: App): { roles?: string[] } {
  const accepted = app.acceptedResourceRoles;
  return accepted && !accepted.includes('*') ? { roles: accepted } : {};
}

/** The host ports pack gave the task, in order (the reconciler put them in PORT0, PORT1 …). */
export function hostPorts(task: TaskInfo): number[] {
  const env = task.command?.environment ?? {};
  const out: number[] = [];
  for (let i = 0; env[`PORT${i}`] !== undefined; i++) out.push(Number(env[`PORT${i}`]));
  return out;
}

/** `task` with Marathon's environment, the app's user and all its health checks. */
export function finishTask(app: App, version: string, task: TaskInfo, host: string): TaskInfo {
  const env = { ...(task.command?.environment ?? {}), ...appEnvironment(app, { taskId: task.taskId ?? '', version }, host, hostPorts(task)) };
  const command = { ...task.command, environment: env, ...(app.user ? { user: app.user } : {}) };
  return { ...task, command, ...(app.healthChecks.length ? { healthChecks: app.healthChecks.map(healthCheck) } : {}) };
}

/**
 * Marathon's health check as the agent's. Marathon's own (HTTP, HTTPS, TCP)
 * and Mesos' (MESOS_*) are all run by the agent on 127.0.0.1 beside the
 * task: scheduler-side checks would not scale with the number of tasks.
 */
export function healthCheck(h: HealthCheckSpec): HealthCheck {
  const port = h.port !== undefined ? { port: h.port } : { port: 0, portIndex: h.portIndex ?? 0 };
  const timing = {
    delaySeconds: h.delaySeconds,
    intervalSeconds: h.intervalSeconds,
    timeoutSeconds: h.timeoutSeconds,
    gracePeriodSeconds: h.gracePeriodSeconds,
    consecutiveFailures: Math.max(1, h.maxConsecutiveFailures),
    killOnFailure: h.maxConsecutiveFailures > 0,
  };
  switch (h.protocol) {
    case 'COMMAND':
      return { type: 'COMMAND', command: { value: h.command?.value ?? 'true', shell: true }, ...timing };
    case 'HTTP':
    case 'MESOS_HTTP':
      return { type: 'HTTP', http: { ...port, path: h.path ?? '/' }, ...timing };
    case 'HTTPS':
    case 'MESOS_HTTPS':
      return { type: 'HTTP', http: { ...port, path: h.path ?? '/', scheme: 'https' }, ...timing };
    default:
      return { type: 'TCP', tcp: port, ...timing };
  }
}
