/**
 * An app as the reconciler wants it (a TaskGroup), and the finishing of each
 * TaskInfo the reconciler cut: Marathon's environment (which needs the host
 * and the host ports only known once placed) and the app's health check.
 */
import type { TaskInfo } from '../sdk/index';
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
    resources: { cpus: app.cpus, mem: app.mem, disk: app.disk, gpus: app.gpus, ports: app.portDefinitions.length },
    task: { command: appCommand(app), ...(app.taskKillGracePeriodSeconds ? { killGraceSeconds: app.taskKillGracePeriodSeconds } : {}) },
    ...(app.role ? { role: app.role } : {}),
    constraints: app.constraints.map(toSdkConstraint),
    backoff: { initialSeconds: app.backoffSeconds, factor: app.backoffFactor, maxSeconds: app.maxLaunchDelaySeconds },
    killSelection: app.killSelection,
    unreachable,
  };
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

/** `task` with Marathon's environment, the app's user and its (first) health check. */
export function finishTask(app: App, version: string, task: TaskInfo, host: string): TaskInfo {
  const env = { ...(task.command?.environment ?? {}), ...appEnvironment(app, { taskId: task.taskId ?? '', version }, host, hostPorts(task)) };
  const command = { ...task.command, environment: env, ...(app.user ? { user: app.user } : {}) };
  const check = app.healthChecks[0];
  return { ...task, command, ...(check ? { healthCheck: healthCheck(check) } : {}) };
}

/**
 * Marathon's health check as the agent's (one per task, as Mesos'). HTTP and
 * MESOS_HTTP are both run by the agent on 127.0.0.1; HTTPS is not spoken by
 * the agent and is checked as TCP, which at least proves the port open.
 */
export function healthCheck(h: HealthCheckSpec): NonNullable<TaskInfo['healthCheck']> {
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
    default:
      return { type: 'TCP', tcp: port, ...timing };
  }
}
