/**
 * What the agent says about a task: the reason strings it uses and the
 * mapping from how a process ended to the task's final state. Pure.
 */
import type { CheckStatusInfo, TaskState } from '../lib/proto';
import type { TaskExit } from './executor/executor';

/** Machine-readable reasons in TaskStatus.reason. */
export const Reason = {
  /** STARTING: the sandbox exists, the command is about to start. */
  SANDBOX_READY: 'REASON_SANDBOX_READY',
  /** RUNNING: the command's process exists. */
  COMMAND_STARTED: 'REASON_COMMAND_STARTED',
  /** FINISHED or FAILED: the command exited by itself. */
  COMMAND_EXITED: 'REASON_COMMAND_EXITED',
  /** FAILED: the command was terminated by a signal the agent did not send. */
  COMMAND_SIGNALED: 'REASON_COMMAND_SIGNALED',
  /** KILLING or KILLED: a kill_task from the master. */
  TASK_KILLED: 'REASON_TASK_KILLED',
  /** KILLING or KILLED: the task's framework was shut down. */
  FRAMEWORK_REMOVED: 'REASON_FRAMEWORK_REMOVED',
  /** FAILED: the supervising wrapper died before it recorded how the command ended. */
  EXECUTOR_TERMINATED: 'REASON_EXECUTOR_TERMINATED',
  /** FAILED: the sandbox could not be made or the process could not be spawned. */
  LAUNCH_FAILED: 'REASON_LAUNCH_FAILED',
  /** ERROR: the TaskInfo is not something this agent can run. */
  TASK_INVALID: 'REASON_TASK_INVALID',
  /** LOST: the master named a task this agent does not know. */
  TASK_UNKNOWN: 'REASON_TASK_UNKNOWN',
  /** RUNNING: the task's health changed (`healthy`); KILLING or KILLED: its health check failed too often. */
  HEALTH_CHECK: 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED',
  /** RUNNING: the result of the task's (generalized) check changed (`check_status`). */
  CHECK: 'REASON_TASK_CHECK_STATUS_UPDATED',
  /** FAILED: a URI of the command could not be fetched into the sandbox. */
  FETCHER_FAILED: 'REASON_FETCHER_FAILED',
  /** RUNNING: the agent restarted and found the task's process still running. */
  AGENT_RECOVERED: 'REASON_AGENT_RECOVERED',
  /** FAILED: the task used more memory than its `mem` and the OOM killer ended it (cgroups isolation). */
  CONTAINER_LIMITATION_MEMORY: 'REASON_CONTAINER_LIMITATION_MEMORY',
  /** FAILED: the task's sandbox grew past its `disk` and the agent killed it (as Mesos' disk/du isolator). */
  CONTAINER_LIMITATION_DISK: 'REASON_CONTAINER_LIMITATION_DISK',
} as const;

export interface Outcome {
  state: TaskState;
  message: string;
  reason: string;
  exitCode?: number;
  /** The task's health, when a health check has reported one. */
  healthy?: boolean;
  /** The latest result of the task's check, once it has run. */
  checkStatus?: CheckStatusInfo;
}

function describe(exit: TaskExit): string {
  switch (exit.kind) {
    case 'exited': return `command exited with status ${exit.code}`;
    case 'signaled': return `terminated by signal ${exit.signal}`;
    case 'executor-terminated': return `task wrapper terminated by signal ${exit.signal} before the command's end was recorded`;
    case 'vanished': return 'the task wrapper ended while the agent was down and left no exit status';
  }
}

/**
 * The final state of a task whose process ended. `killedFor` is the reason
 * of the agent's own kill, if it sent one: whatever the exit, the task was
 * then KILLED. Otherwise a limit that ended the task (`exit.limitation`, e.g.
 * the OOM killer) makes it FAILED with the limitation's reason.
 */
export function outcomeOf(exit: TaskExit, killedFor?: string): Outcome {
  const message = describe(exit);
  const code = exit.kind === 'exited' ? { exitCode: exit.code } : {};
  if (killedFor) return { state: 'TASK_KILLED', reason: killedFor, message: `killed: ${message}`, ...code };
  if (exit.limitation) return { state: 'TASK_FAILED', reason: exit.limitation.reason, message: `${exit.limitation.message}; ${message}`, ...code };
  switch (exit.kind) {
    case 'exited':
      return exit.code === 0
        ? { state: 'TASK_FINISHED', reason: Reason.COMMAND_EXITED, message, ...code }
        : { state: 'TASK_FAILED', reason: Reason.COMMAND_EXITED, message, ...code };
    case 'signaled':
      return { state: 'TASK_FAILED', reason: Reason.COMMAND_SIGNALED, message };
    case 'executor-terminated':
    case 'vanished':
      return { state: 'TASK_FAILED', reason: Reason.EXECUTOR_TERMINATED, message };
  }
}
