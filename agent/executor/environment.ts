/**
 * A task's environment: a clean one, not the agent's. The task gets HOME,
 * USER and LOGNAME of the user it runs as (HOME from the agent when no user
 * is given) and PATH from the agent, then its command's own variables, then
 * the Mezzanine variables, which it cannot override.
 *
 * On a host with GPUs, a task sees only the GPUs the master assigned it, as
 * nvidia-docker does: CUDA_VISIBLE_DEVICES lists their indexes and
 * NVIDIA_VISIBLE_DEVICES their uuids; a task without GPUs gets an empty
 * CUDA_VISIBLE_DEVICES (CUDA then sees none) and NVIDIA_VISIBLE_DEVICES=none.
 */
import type { TaskInfo__Output } from '../../lib/proto';
import { fromProto, gpuIdsOf, InvalidResourceError, portList, taskPortsProblem } from '../../lib/resources';

export interface TaskEnvironmentInput {
  task: TaskInfo__Output;
  frameworkId: string;
  agentId: string;
  sandbox: string;
  /** Where HOME and PATH come from (the agent's environment). */
  base?: NodeJS.ProcessEnv;
  /** The user the task runs as (agent/users.ts): its HOME, USER and LOGNAME. */
  user?: { name: string; home: string };
  /** The host's GPUs (index and uuid), for the GPU variables; none: no GPU variables. */
  gpus?: readonly { index: number; uuid: string }[];
}

/**
 * Reserved: the executor puts here the cgroup files the task wrapper joins
 * before it starts the command (it unsets the variable for the command). A
 * task's own value is always replaced, so a task cannot make the wrapper
 * write to files of its choosing.
 */
export const CGROUP_PROCS_VAR = 'MEZZ_CGROUP_PROCS';

/**
 * Reserved: the executor puts here `UID:GID` of the user the wrapper starts
 * the command as (it unsets the variable for the command). A task's own
 * value is always replaced: a task naming `0:0` must not become root.
 */
export const RUN_AS_VAR = 'MEZZ_RUN_AS';

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * Builds the environment. Each port of the task's port ranges, in order,
 * becomes PORT0, PORT1, …; PORTS lists them comma-separated and PORT
 * repeats PORT0 (Marathon's names, so Marathon apps run unchanged).
 * Throws InvalidResourceError when the task's resources are malformed or
 * hold more than MAX_TASK_PORTS ports (the master refuses such tasks first).
 */
export function taskEnvironment(input: TaskEnvironmentInput): Record<string, string> {
  const base = input.base ?? process.env;
  const env: Record<string, string> = {};
  if (input.user) Object.assign(env, { HOME: input.user.home, USER: input.user.name, LOGNAME: input.user.name });
  else if (base.HOME) env.HOME = base.HOME;
  env.PATH = base.PATH || DEFAULT_PATH;
  Object.assign(env, input.task.command?.environment ?? {});
  env.MEZZ_TASK_ID = input.task.taskId;
  env.MEZZ_FRAMEWORK_ID = input.frameworkId;
  env.MEZZ_AGENT_ID = input.agentId;
  env.MEZZ_SANDBOX = input.sandbox;
  env[CGROUP_PROCS_VAR] = '';
  env[RUN_AS_VAR] = '';
  const resources = fromProto(input.task.resources ?? []);
  if (input.gpus?.length) Object.assign(env, gpuVariables(gpuIdsOf(resources), input.gpus));
  // Refused before the list is built, so its length never follows a range's width.
  const tooMany = taskPortsProblem(resources);
  if (tooMany) throw new InvalidResourceError(`the task ${tooMany}`);
  const ports = portList(resources.ports);
  ports.forEach((p, i) => { env[`PORT${i}`] = String(p); });
  if (ports.length) {
    env.PORT = String(ports[0]);
    env.PORTS = ports.join(',');
  }
  return env;
}

/**
 * CUDA_VISIBLE_DEVICES (indexes, in index order) and NVIDIA_VISIBLE_DEVICES
 * (uuids) for a task given GPUs `ids` on a host with `hostGpus`. Ids the host
 * does not have are left out (task-validate refuses such tasks first).
 */
export function gpuVariables(ids: readonly string[], hostGpus: readonly { index: number; uuid: string }[]): Record<string, string> {
  const wanted = new Set(ids);
  const mine = hostGpus.filter((g) => wanted.has(g.uuid)).sort((a, b) => a.index - b.index);
  return {
    CUDA_VISIBLE_DEVICES: mine.map((g) => String(g.index)).join(','),
    NVIDIA_VISIBLE_DEVICES: mine.length ? mine.map((g) => g.uuid).join(',') : 'none',
  };
}
