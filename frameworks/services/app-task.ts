/**
 * An app as the reconciler wants it (a TaskGroup), and the finishing of each
 * TaskInfo the reconciler cut: Marathon's environment (which needs the host
 * and the host ports only known once placed), the app's health checks and its
 * `check`; and a check's result as Marathon shows it (`checkResult`).
 */
import type { CheckInfo, CheckStatusInfo__Output, CommandInfo, HealthCheck, TaskInfo } from '../sdk/index';
import type { TaskGroup } from '../foundation/index';
import { toSdkConstraint } from './app-constraints';
import { appEnvironment } from './app-env';
import type { App, CheckSpec, HealthCheckSpec } from './app-schema';

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

/** Ended attempts kept per instance at least (they give the next attempt number), and at most (a bound on the records a crash loop keeps). */
const ENDED_KEPT = { min: 3, max: 64 };

/**
 * How many of an instance's ended attempts to keep so that the reconciler,
 * which counts failures in a row from them, sees the delay reach
 * `maxLaunchDelaySeconds`: n failures give `backoffSeconds · backoffFactor^(n-1)`.
 * Marathon's defaults (1 s × 1.15 up to 300 s) need 42.
 */
export function endedAttemptsToKeep(app: Pick<App, 'backoffSeconds' | 'backoffFactor' | 'maxLaunchDelaySeconds'> | undefined): number {
  if (!app || app.backoffSeconds <= 0 || app.backoffFactor <= 1 || app.maxLaunchDelaySeconds <= app.backoffSeconds) return ENDED_KEPT.min;
  const toCap = 1 + Math.ceil(Math.log(app.maxLaunchDelaySeconds / app.backoffSeconds) / Math.log(app.backoffFactor));
  return Math.min(ENDED_KEPT.max, Math.max(ENDED_KEPT.min, toCap));
}

/**
 * Whether a task unreachable since `since` is expunged at `now` under its
 * app's unreachableStrategy: as in Marathon, it is killed should it ever come back.
 */
export function expunged(app: Pick<App, 'unreachableStrategy'> | undefined, since: number, now: number): boolean {
  if (!app || app.unreachableStrategy === 'disabled') return false;
  return now - since >= app.unreachableStrategy.expungeAfterSeconds * 1000;
}

/** The host ports pack gave the task, in order (the reconciler put them in PORT0, PORT1 …). */
export function hostPorts(task: TaskInfo): number[] {
  const env = task.command?.environment ?? {};
  const out: number[] = [];
  for (let i = 0; env[`PORT${i}`] !== undefined; i++) out.push(Number(env[`PORT${i}`]));
  return out;
}

/** `task` with Marathon's environment, the app's user, all its health checks and its check. */
export function finishTask(app: App, version: string, task: TaskInfo, host: string): TaskInfo {
  const env = { ...(task.command?.environment ?? {}), ...appEnvironment(app, { taskId: task.taskId ?? '', version }, host, hostPorts(task)) };
  const command = { ...task.command, environment: env, ...(app.user ? { user: app.user } : {}) };
  return {
    ...task,
    command,
    ...(app.healthChecks.length ? { healthChecks: app.healthChecks.map(healthCheck) } : {}),
    ...(app.check ? { check: appCheck(app.check) } : {}),
  };
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

/** A fixed port, or else `portIndex` into the task's ports (0 unless given). */
function portRef(r: { port?: number; portIndex?: number }): { port: number; portIndex?: number } {
  return r.port !== undefined ? { port: r.port } : { port: 0, portIndex: r.portIndex ?? 0 };
}

/** A Mesos command, `{shell}` run by sh, `{argv}` as is. */
function mesosCommand(c: { shell: string } | { argv: string[] }): CommandInfo {
  return 'shell' in c ? { value: c.shell, shell: true } : { value: c.argv[0]!, shell: false, arguments: c.argv.slice(1) };
}

/**
 * Marathon's app `check` as the agent's CheckInfo, run beside the task on
 * 127.0.0.1 like the health checks; its results are only shown (`checkResult`).
 */
export function appCheck(c: CheckSpec): CheckInfo {
  const timing = { delaySeconds: c.delaySeconds, intervalSeconds: c.intervalSeconds, timeoutSeconds: c.timeoutSeconds };
  if (c.http) return { type: 'HTTP', http: { ...portRef(c.http), path: c.http.path ?? '/', ...(c.http.scheme === 'HTTPS' ? { scheme: 'https' } : {}) }, ...timing };
  if (c.tcp) return { type: 'TCP', tcp: portRef(c.tcp), ...timing };
  return { type: 'COMMAND', command: mesosCommand(c.exec!.command), ...timing };
}

/** Marathon's `checkResult` of a task: one of these, its value absent when the check could not complete. */
export type CheckResult = { http: { statusCode?: number } } | { tcp: { succeeded?: boolean } } | { command: { exitCode?: number } };

/** The agent's check status as Marathon's `checkResult`. */
export function checkResult(s: CheckStatusInfo__Output): CheckResult {
  switch (s.type) {
    case 'HTTP': return { http: s.http?.statusCode !== undefined ? { statusCode: s.http.statusCode } : {} };
    case 'TCP': return { tcp: s.tcp?.succeeded !== undefined ? { succeeded: s.tcp.succeeded } : {} };
    default: return { command: s.command?.exitCode !== undefined ? { exitCode: s.command.exitCode } : {} };
  }
}
