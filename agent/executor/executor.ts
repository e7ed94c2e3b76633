/**
 * The executor contract: how the agent starts, stops and hears about a
 * task's processes. The agent speaks only this interface, so that cgroup
 * isolation or re-attaching to tasks after an agent restart are new
 * implementations (or wrappers) of it, not edits to agent.ts.
 */
import type { TaskInfo__Output } from '../../lib/proto';

export interface LaunchSpec {
  /** Names the task in every later call and exit report; unique on this agent while it is tracked. */
  key: string;
  frameworkId: string;
  agentId: string;
  task: TaskInfo__Output;
  /** An existing, empty directory: the task's cwd and the home of stdout, stderr and exit_status. */
  sandbox: string;
  /** The complete environment of the task (see `taskEnvironment`). */
  environment: Record<string, string>;
  /**
   * The task's cgroups (controller → directory), set by the cgroups executor
   * once it has made them; recorded in the checkpoint so that accounting and
   * a restarted agent can find them. The wrapper joins them through
   * `MEZZ_CGROUP_PROCS` in `environment`.
   */
  cgroups?: Record<string, string>;
  /**
   * The user to start the command as (setpriv in the wrapper); absent: the
   * agent's own. stdout and stderr are then the user's, and it is recorded
   * in the checkpoint, so that a restarted agent runs health checks as it.
   */
  user?: { name: string; uid: number; gid: number; home: string };
}

/** A resource limit the task hit, which ended it (e.g. the OOM killer in its memory cgroup). */
export interface Limitation {
  /** The limited resource, as named in TaskInfo resources: `mem`. */
  resource: 'mem' | 'disk';
  /** The TaskStatus reason, e.g. REASON_CONTAINER_LIMITATION_MEMORY. */
  reason: string;
  /** For people: `task exceeded its memory limit of 64 MB; the OOM killer ended it`. */
  message: string;
}

export interface Launched {
  pid: number;
}

/** A task started by an earlier run of the agent, as its launch checkpoint records it. */
export interface ReattachSpec {
  key: string;
  frameworkId: string;
  taskId: string;
  pid: number;
  sandbox: string;
  /** The wrapper's start time in /proc when recorded: guards against a reused pid. */
  startTime?: number;
  /** Where the launch checkpoint lies, so that release() removes it. */
  checkpointPath: string;
}

/** How a task's process ended, and the limit it hit if one ended it. */
export type TaskExit = (
  /** The command exited with `code`. */
  | { kind: 'exited'; code: number }
  /** The command was terminated by `signal` (e.g. SIGTERM). */
  | { kind: 'signaled'; signal: string }
  /** The supervising process itself died (e.g. SIGKILL) before it could record the command's end. */
  | { kind: 'executor-terminated'; signal: string }
  /** A re-attached task's wrapper was gone, and left no record of the command's end. */
  | { kind: 'vanished' }
) & { limitation?: Limitation };

export type ExitListener = (key: string, exit: TaskExit) => void;

export interface Executor {
  /** Isolation mechanisms, as reported to the master, e.g. `posix/process-group`. */
  readonly isolation: readonly string[];

  /**
   * Starts the task's command in its sandbox and checkpoints it under
   * `<work-dir>/meta/`. Resolves once the process exists (pid known);
   * rejects with LaunchError carrying the OS error when it cannot be
   * started. Exactly one exit is reported for every launch that resolves,
   * and never before the launch has resolved.
   */
  launch(spec: LaunchSpec): Promise<Launched>;

  /**
   * Stops the task: SIGTERM to all of its processes now, SIGKILL to those
   * that remain after `graceMs`. Idempotent: a second call while the first
   * is under way changes nothing. Returns false when no such task runs.
   */
  kill(key: string, graceMs: number): boolean;

  /**
   * Adopts a task that an earlier run of the agent launched (after a
   * restart): from now on it is watched, killed and released like one this
   * executor started. Resolves true when its process is still the task's
   * and alive; false when it is gone. Either way exactly one exit is
   * reported, after this resolves: for a gone task, the one its wrapper
   * recorded in the sandbox. Optional: an executor without it cannot
   * recover tasks, and the agent reports them gone.
   */
  reattach?(spec: ReattachSpec): Promise<boolean>;

  /** Subscribes to task exits; returns the unsubscribe function. */
  onExit(listener: ExitListener): () => void;

  /** The agent is done with the task (its final update is acknowledged): drop its checkpoint. Idempotent. */
  release(key: string): Promise<void>;

  /**
   * Stops the executor's own timers and listeners. Tasks keep running: they
   * outlive the agent by design. A SIGKILL escalation still pending is lost.
   */
  close(): void;
}
