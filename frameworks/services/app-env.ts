/**
 * The environment Marathon gives a task, so that existing commands
 * (`python3 -m http.server $PORT0`) run unchanged.
 *
 *   app + task id + host + host ports ──appEnvironment──▶ {HOST, PORT, PORT0, PORTS, PORT_HTTP,
 *                                                          MARATHON_APP_ID, MESOS_TASK_ID, …, app.env}
 *
 * As Marathon's TaskBuilder and EnvironmentHelper build it (task-environment-vars.md):
 * - `PORT0`…`PORT{n-1}`: the host ports, in port-definition order; `PORT` = `PORT0`;
 *   `PORTS` = all of them, comma-separated.
 * - `PORT_<port>` for each port definition: its declared port (or, for port 0, the host
 *   port itself) → the host port. `PORT_<NAME>` for each named one, upper-cased.
 * - `MARATHON_APP_ID`, `MARATHON_APP_VERSION`, `MARATHON_APP_RESOURCE_{CPUS,MEM,DISK,GPUS}`
 *   (numbers as Scala prints doubles: `128.0`), `MESOS_TASK_ID`, `HOST`.
 * - `MARATHON_APP_LABELS` (the label names, space-separated) and `MARATHON_APP_LABEL_<NAME>`,
 *   names upper-cased with runs of other characters made `_`; labels too long are left out.
 * - The app's own `env` last: it overrides all of the above, as in Marathon.
 * Pure.
 */
import type { App } from './app-schema';

/** Marathon leaves out labels whose variable would pass 512 characters. */
const MAX_ENV_VAR = 512;
const LABEL_PREFIX = 'MARATHON_APP_LABEL_';

/** What the environment needs of the task being launched. */
export interface TaskContext {
  /** The Mesos task id, given to the task as MESOS_TASK_ID. */
  taskId: string;
  /** The app version the task runs (an ISO timestamp, as Marathon's). */
  version: string;
}

/**
 * The task's environment. `hostPorts` are the agent ports given to the task,
 * one per port definition, in order (fewer are tolerated: only those given
 * appear).
 */
export function appEnvironment(
  app: Pick<App, 'id' | 'cpus' | 'mem' | 'disk' | 'gpus' | 'labels' | 'env' | 'portDefinitions'>,
  task: TaskContext,
  host: string,
  hostPorts: readonly number[],
): Record<string, string> {
  return {
    MESOS_TASK_ID: task.taskId,
    MARATHON_APP_ID: app.id,
    MARATHON_APP_VERSION: task.version,
    MARATHON_APP_RESOURCE_CPUS: double(app.cpus),
    MARATHON_APP_RESOURCE_MEM: double(app.mem),
    MARATHON_APP_RESOURCE_DISK: double(app.disk),
    MARATHON_APP_RESOURCE_GPUS: String(app.gpus),
    ...labelVariables(app.labels),
    ...portVariables(app.portDefinitions, hostPorts),
    HOST: host,
    ...app.env,
  };
}

/** PORT, PORT0…, PORTS, PORT_<port> and PORT_<NAME>, as EnvironmentHelper.portsEnv for host networking. */
export function portVariables(defs: App['portDefinitions'], hostPorts: readonly number[]): Record<string, string> {
  if (hostPorts.length === 0) return {};
  const env: Record<string, string> = {};
  hostPorts.forEach((p, i) => (env[`PORT${i}`] = String(p)));
  hostPorts.forEach((p, i) => {
    const declared = defs[i]?.port ?? 0;
    env[`PORT_${declared === 0 ? p : declared}`] = String(p);
  });
  hostPorts.forEach((p, i) => {
    const name = defs[i]?.name;
    if (name !== undefined) env[`PORT_${name.toUpperCase()}`] = String(p);
  });
  env.PORT = String(hostPorts[0]);
  env.PORTS = hostPorts.join(',');
  return env;
}

/** MARATHON_APP_LABELS and MARATHON_APP_LABEL_<NAME>, as EnvironmentHelper.labelsToEnvVars. */
export function labelVariables(labels: Readonly<Record<string, string>>): Record<string, string> {
  const names: string[] = [];
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(labels)) {
    if (key.length >= MAX_ENV_VAR - LABEL_PREFIX.length || value.length >= MAX_ENV_VAR) continue;
    const name = key.replace(/[^a-zA-Z0-9_]+/g, '_').toUpperCase();
    names.push(name);
    env[`${LABEL_PREFIX}${name}`] = value;
  }
  return { MARATHON_APP_LABELS: names.join(' '), ...env };
}

/** A number as Scala's Double.toString prints it for ordinary values: `1.0`, `0.5`, `128.0`. */
function double(n: number): string {
  return Number.isInteger(n) ? `${n}.0` : String(n);
}
