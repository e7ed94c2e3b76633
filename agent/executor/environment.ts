/**
 * A task's environment: a clean one, not the agent's. The task gets HOME
 * and PATH from the agent, then its command's own variables, then the
 * Mezzanine variables, which it cannot override.
 */
import type { TaskInfo__Output } from '../../lib/proto';
import { fromProto } from '../../lib/resources';

export interface TaskEnvironmentInput {
  task: TaskInfo__Output;
  frameworkId: string;
  agentId: string;
  sandbox: string;
  /** Where HOME and PATH come from (the agent's environment). */
  base?: NodeJS.ProcessEnv;
}

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * Builds the environment. Each port of the task's port ranges, in order,
 * becomes PORT0, PORT1, …; PORTS lists them comma-separated and PORT
 * repeats PORT0 (Marathon's names, so Marathon apps run unchanged).
 * Throws InvalidResourceError when the task's resources are malformed.
 */
export function taskEnvironment(input: TaskEnvironmentInput): Record<string, string> {
  const base = input.base ?? process.env;
  const env: Record<string, string> = {};
  if (base.HOME) env.HOME = base.HOME;
  env.PATH = base.PATH || DEFAULT_PATH;
  Object.assign(env, input.task.command?.environment ?? {});
  env.MEZZ_TASK_ID = input.task.taskId;
  env.MEZZ_FRAMEWORK_ID = input.frameworkId;
  env.MEZZ_AGENT_ID = input.agentId;
  env.MEZZ_SANDBOX = input.sandbox;
  const ports: number[] = [];
  for (const r of fromProto(input.task.resources ?? []).ports) {
    for (let p = r.begin; p <= r.end; p++) ports.push(p);
  }
  ports.forEach((p, i) => { env[`PORT${i}`] = String(p); });
  if (ports.length) {
    env.PORT = String(ports[0]);
    env.PORTS = ports.join(',');
  }
  return env;
}
