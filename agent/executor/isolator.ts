/**
 * The isolator contract: what puts one task's processes under resource
 * limits. The cgroups executor (executor-cgroups.ts) asks an isolator for a
 * task's cgroups before it launches the task, has the wrapper join them, and
 * asks them after the task ends whether a limit ended it.
 *
 *   Isolator.prepare(name, limits) ─► TaskCgroups { paths, procsFiles }
 *        wrapper: echo $$ > each procs file, then exec the command
 *   kill ─► signal() / killAll()        exit ─► limitation() ─► destroy()
 *
 * Two implementations, one per cgroup version: isolator-cgroups-v1.ts (one
 * hierarchy per controller) and isolator-cgroups-v2.ts (the unified
 * hierarchy). isolator-detect.ts picks the one the host allows.
 */
import { Reason } from '../task-status';
import type { Limitation } from './executor';

/** `--isolation`: auto (cgroups where the host allows, else process groups), cgroups (required), none. */
export type IsolationMode = 'auto' | 'cgroups' | 'none';
export const ISOLATION_MODES: readonly IsolationMode[] = ['auto', 'cgroups', 'none'];

/** What one task may use, from its TaskInfo resources. */
export interface TaskLimits {
  /** CPU share; 0: no quota (the lowest weight). */
  cpus: number;
  /** Megabytes of memory (swap included where the host can limit it); 0: no limit. */
  memMb: number;
}

/** CFS period, microseconds; a task's quota is `cpus × CPU_PERIOD_US` per period. */
export const CPU_PERIOD_US = 100_000;
/** The kernel refuses quotas below 1 ms. */
export const MIN_CPU_QUOTA_US = 1_000;
/** Default `--pids-max`: processes and threads one task may have at once. */
export const DEFAULT_PIDS_MAX = 4096;

export interface Isolator {
  /** What is enforced, as reported to the master: `cgroups/cpu`, `cgroups/mem`, `cgroups/pids`. */
  readonly isolation: readonly string[];
  /** For logs: `cgroup v1, tasks under /sys/fs/cgroup/<controller>/mezzanine/3f2a…`. */
  readonly description: string;
  /** This agent's parents of task cgroups (one per v1 hierarchy, one in v2). */
  readonly parents: readonly string[];

  /**
   * Creates the cgroups of one launch, named `name` (unique among this
   * agent's live tasks; letters, digits and `._@-` only), and writes its
   * limits. Throws CgroupError naming the file that could not be made or
   * written; nothing is left behind then.
   */
  prepare(name: string, limits: TaskLimits): Promise<TaskCgroups>;
}

/** The cgroups of one task. Every method is safe to call after the processes are gone. */
export interface TaskCgroups {
  /** Controller (cpu, cpuacct, memory, pids; `unified` in v2) → the task's cgroup directory. */
  readonly paths: Readonly<Record<string, string>>;
  /** The `cgroup.procs` files a process writes its pid to, to join every cgroup of the task. */
  readonly procsFiles: readonly string[];

  /** Processes inside now (from every cgroup of the task). */
  pids(): Promise<number[]>;
  /** Sends `signal` to every process inside; resolves how many were signalled. */
  signal(signal: NodeJS.Signals): Promise<number>;
  /**
   * SIGKILLs every process inside, again and again, until none is left
   * (the pids limit bounds a fork loop) or `timeoutMs` passes; resolves
   * true once empty. Catches processes that left the task's process group.
   */
  killAll(timeoutMs: number): Promise<boolean>;
  /** The limit that ended (or is ending) the task — the OOM killer acted in its memory cgroup — if any. */
  limitation(): Promise<Limitation | undefined>;
  /** CPU time used by the task's processes so far, in seconds (undefined without CPU accounting). */
  cpuSeconds(): Promise<number | undefined>;
  /**
   * Removes the cgroups, which must be empty: retries briefly while the
   * kernel finishes with exiting processes. Never throws; resolves false
   * (and the paths that remain are logged by the caller) when some remain.
   */
  destroy(): Promise<boolean>;
}

/** `task exceeded its memory limit of 64 MB; the OOM killer ended it`. */
export function memoryLimitation(memMb: number): Limitation {
  return {
    resource: 'mem', reason: Reason.CONTAINER_LIMITATION_MEMORY,
    message: `task exceeded its memory limit of ${memMb} MB; the OOM killer ended it (ask for more mem, or use less)`,
  };
}
