/**
 * The cgroups executor: another executor (the process-group one) with each
 * task in cgroups of its own, limited to its `cpus`, `mem` and a number of
 * processes. It wraps rather than edits the inner executor, which still
 * spawns, signals and watches the task's wrapper.
 *
 *   launch ─► Isolator.prepare (cgroups + limits) ─► inner.launch, the wrapper
 *             joining them (MEZZ_CGROUP_PROCS) before the command starts
 *   kill   ─► inner.kill (the process group) + SIGTERM to what left the group,
 *             SIGKILL to everything in the cgroups after the grace
 *   every oomPollMs: a task the OOM killer hit is ended whole (v1 kills one process only)
 *   inner exit ─► (killing: wait for the grace) ─► SIGKILL what remains in the
 *             cgroups ─► read the limitation ─► remove the cgroups ─► report the exit
 *
 * So a task's exit is reported once none of its processes is left, even
 * those that left its process group (setsid), and a task the OOM killer
 * ended carries the memory limitation, which makes it TASK_FAILED with
 * REASON_CONTAINER_LIMITATION_MEMORY.
 */
import { rmdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { errorMessage } from '../../lib/errors';
import type { Logger } from '../../lib/log';
import { fromProto } from '../../lib/resources';
import { LaunchError } from '../errors';
import { cgroupName, removeStaleCgroups } from './cgroups';
import { readCheckpoints } from './checkpoint';
import { CGROUP_PROCS_VAR } from './environment';
import type { ExitListener, Executor, Launched, LaunchSpec, Limitation, ReattachSpec, TaskExit } from './executor';
import { PosixExecutor } from './executor-posix';
import type { IsolationMode, Isolator, TaskCgroups, TaskLimits } from './isolator';
import { AGENT_LEAF } from './isolator-cgroups-v2';
import { detectIsolator } from './isolator-detect';

/** SIGKILL rounds after a task's end get this long to empty its cgroups. */
const KILL_TIMEOUT_MS = 5000;

export interface CgroupsExecutorOptions {
  logger: Logger;
  /** Where launch checkpoints are (their cgroups are kept by the sweep). */
  workDir?: string;
  /** How often cgroups that no task owns any more are swept. Default 5 min. */
  sweepMs?: number;
  /** How often running tasks' OOM counts are read. Default 1000 ms. */
  oomPollMs?: number;
}

/** An isolator that can also take over cgroups an earlier run of the agent made. */
type AdoptingIsolator = Isolator & { adopt?(paths: Record<string, string>, limits: TaskLimits): TaskCgroups };

interface Tracked {
  key: string;
  taskId: string;
  cg: TaskCgroups;
  /** The wrapper's pid, which leads the task's process group. */
  pgid?: number;
  /** Settles when launch (or reattach) is done: no exit is reported before it. */
  launched: Promise<void>;
  killing: boolean;
  /** ms since the epoch when a kill's grace ends. */
  graceEnds?: number;
  killTimer?: NodeJS.Timeout;
  limitation?: Limitation;
}

export class CgroupsExecutor implements Executor {
  readonly isolation: readonly string[];
  /** Present when the inner executor can re-attach (agent restarts). */
  readonly reattach?: (spec: ReattachSpec) => Promise<boolean>;
  private readonly tracked = new Map<string, Tracked>();
  private readonly listeners = new Set<ExitListener>();
  private readonly log: Logger;
  private readonly oomTimer: NodeJS.Timeout;
  private readonly sweepTimer: NodeJS.Timeout;
  private polling = false;
  /** Stray cgroups already reported, so each is said once. */
  private readonly reported = new Set<string>();

  constructor(
    private readonly inner: Executor,
    private readonly isolator: AdoptingIsolator,
    private readonly opts: CgroupsExecutorOptions,
  ) {
    this.log = opts.logger;
    this.isolation = [...isolator.isolation];
    inner.onExit((key, exit) => void this.innerExited(key, exit));
    if (inner.reattach) this.reattach = (spec) => this.reattachTask(spec);
    this.oomTimer = setInterval(() => void this.pollOom(), opts.oomPollMs ?? 1000);
    this.oomTimer.unref();
    this.sweepTimer = setInterval(() => void this.sweep(), opts.sweepMs ?? 5 * 60_000);
    this.sweepTimer.unref();
  }

  /**
   * Removes empty cgroups under this agent's parents that no tracked task
   * and no launch checkpoint owns: left by an agent that died between making
   * a cgroup and checkpointing it, or by `--recover cleanup`. Those younger
   * than `minAgeMs` are spared (a launch may be setting one up). Never throws.
   */
  async sweep(minAgeMs = 60_000): Promise<void> {
    try {
      const keep = new Set([...this.tracked.values()].flatMap((t) => Object.values(t.cg.paths)));
      if (this.opts.workDir) {
        for (const cp of await readCheckpoints(this.opts.workDir)) for (const d of Object.values(cp.cgroups ?? {})) keep.add(d);
      }
      const { removed, busy } = await removeStaleCgroups(this.isolator.parents, keep, minAgeMs);
      if (removed.length) this.log.info(`removed ${removed.length} empty cgroup(s) that no task owns`);
      const strays = busy.filter((d) => basename(d) !== AGENT_LEAF && !this.reported.has(d));
      for (const d of strays) this.reported.add(d);
      if (strays.length) this.log.warn(`cgroups ${strays.join(', ')} hold processes that no task of this agent owns; leaving them`);
    } catch (err) {
      this.log.warn(`cgroup sweep failed: ${errorMessage(err)}`);
    }
  }

  /** The cgroups of a task this executor watches (for accounting and tests). */
  cgroupsOf(key: string): TaskCgroups | undefined {
    return this.tracked.get(key)?.cg;
  }

  async launch(spec: LaunchSpec): Promise<Launched> {
    if (this.tracked.has(spec.key)) throw new LaunchError(`task ${spec.task.taskId} is already running`);
    const limits = limitsOf(spec.task.resources ?? []);
    let cg: TaskCgroups;
    try {
      cg = await this.isolator.prepare(cgroupName(basename(spec.sandbox)), limits);
    } catch (err) {
      throw new LaunchError(`cannot isolate task ${spec.task.taskId}: ${errorMessage(err)}`, { cause: err });
    }
    let done!: () => void;
    const t: Tracked = {
      key: spec.key, taskId: spec.task.taskId, cg, killing: false, launched: new Promise((r) => { done = r; }),
    };
    this.tracked.set(spec.key, t);
    try {
      const out = await this.inner.launch({
        ...spec,
        environment: { ...spec.environment, [CGROUP_PROCS_VAR]: cg.procsFiles.join(':') },
        cgroups: { ...cg.paths },
      });
      t.pgid = out.pid;
      return out;
    } catch (err) {
      this.tracked.delete(spec.key);
      await cg.destroy();
      throw err;
    } finally {
      done();
    }
  }

  private async reattachTask(spec: ReattachSpec): Promise<boolean> {
    // The launch checkpoint says where the task's cgroups are.
    const cp = await readFile(spec.checkpointPath, 'utf8').then((t) => JSON.parse(t) as {
      cgroups?: Record<string, string>; task?: { resources?: [] };
    }, () => undefined);
    let done: (() => void) | undefined;
    if (cp?.cgroups && this.isolator.adopt) {
      const cg = this.isolator.adopt(cp.cgroups, limitsOf(cp.task?.resources ?? []));
      this.tracked.set(spec.key, {
        key: spec.key, taskId: spec.taskId, cg, pgid: spec.pid, killing: false, launched: new Promise((r) => { done = r; }),
      });
    }
    try {
      return await this.inner.reattach!(spec);
    } finally {
      done?.();
    }
  }

  kill(key: string, graceMs: number): boolean {
    const signalled = this.inner.kill(key, graceMs);
    const t = this.tracked.get(key);
    if (!t) return signalled;
    if (t.killing) return true;
    t.killing = true;
    t.graceEnds = Date.now() + graceMs;
    // The inner executor signals the process group; this reaches what left it.
    void this.signalEscaped(t, 'SIGTERM');
    t.killTimer = setTimeout(() => void t.cg.killAll(KILL_TIMEOUT_MS), graceMs);
    return true;
  }

  onExit(listener: ExitListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  release(key: string): Promise<void> {
    return this.inner.release(key);
  }

  close(): void {
    clearInterval(this.oomTimer);
    clearInterval(this.sweepTimer);
    for (const t of this.tracked.values()) clearTimeout(t.killTimer);
    this.listeners.clear();
    this.inner.close();
    // The agent's parents go if no task is left in them (tasks outlive the agent, so often they stay).
    for (const p of this.isolator.parents) {
      try {
        rmdirSync(p);
      } catch {
        /* tasks still run there */
      }
    }
  }

  /** Signals the task's processes outside its process group (they left it with setsid or setpgid). */
  private async signalEscaped(t: Tracked, signal: NodeJS.Signals): Promise<void> {
    for (const pid of await t.cg.pids()) {
      if (t.pgid !== undefined && (await processGroup(pid)) === t.pgid) continue;
      try {
        process.kill(pid, signal);
      } catch {
        /* gone */
      }
    }
  }

  /** A task the OOM killer hit is over: v1 killed one process, the rest go now. */
  private async pollOom(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      for (const t of [...this.tracked.values()]) {
        // Without a process yet (its launch waits to spawn) nothing in it can have been OOM-killed.
        if (t.killing || t.pgid === undefined) continue;
        const limitation = await t.cg.limitation().catch(() => undefined);
        if (!limitation || t.killing) continue;
        t.limitation = limitation;
        t.killing = true;
        this.log.info(`task ${t.taskId}: ${limitation.message}; ending what is left of it`);
        void t.cg.killAll(KILL_TIMEOUT_MS);
      }
    } finally {
      this.polling = false;
    }
  }

  private async innerExited(key: string, exit: TaskExit): Promise<void> {
    const t = this.tracked.get(key);
    if (!t) return this.emit(key, exit);
    await t.launched;
    if (t.killing && t.graceEnds !== undefined) {
      // Processes that left the group get the rest of their grace, as the group does.
      while (Date.now() < t.graceEnds && (await t.cg.pids()).length) await sleep(50);
    }
    if (!(await t.cg.killAll(KILL_TIMEOUT_MS))) {
      this.log.warn(`task ${t.taskId}: processes ${(await t.cg.pids()).join(', ')} survived SIGKILL for ${KILL_TIMEOUT_MS} ms; leaving them`);
    }
    clearTimeout(t.killTimer);
    const limitation = t.limitation ?? (await t.cg.limitation().catch(() => undefined));
    this.tracked.delete(key);
    if (!(await t.cg.destroy())) {
      this.log.warn(`task ${t.taskId}: cannot remove its cgroups ${Object.values(t.cg.paths).join(', ')}; remove them by hand (rmdir) once empty`);
    }
    this.emit(key, limitation ? { ...exit, limitation } : exit);
  }

  private emit(key: string, exit: TaskExit): void {
    for (const l of this.listeners) {
      try {
        l(key, exit);
      } catch (e) {
        this.log.error(`exit listener failed: ${errorMessage(e)}`);
      }
    }
  }
}

/** A task's cgroup limits from its TaskInfo resources (malformed ones were refused before launch). */
function limitsOf(resources: Parameters<typeof fromProto>[0]): TaskLimits {
  try {
    const r = fromProto(resources);
    return { cpus: r.cpus, memMb: r.mem };
  } catch {
    return { cpus: 0, memMb: 0 };
  }
}

/** The process group of `pid`, from /proc (field 5 of stat); undefined when it is gone. */
async function processGroup(pid: number): Promise<number | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (!stat) return undefined;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[2]);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface CreateExecutorOptions {
  workDir: string;
  logger: Logger;
  /** `--isolation`; default auto. */
  isolation?: IsolationMode;
  /** `--pids-max`: pids.max of each task's cgroup. */
  pidsMax: number;
}

/**
 * The agent's executor: the process-group executor, inside cgroups where
 * the host allows (see isolator-detect.ts). Throws IsolationUnavailableError
 * when `isolation` is `cgroups` and the host cannot limit tasks.
 */
export async function createExecutor(opts: CreateExecutorOptions): Promise<Executor> {
  const posix = new PosixExecutor({ workDir: opts.workDir, logger: opts.logger });
  const isolator = await detectIsolator({
    mode: opts.isolation ?? 'auto', workDir: opts.workDir, pidsMax: opts.pidsMax, logger: opts.logger,
  });
  if (!isolator) return posix;
  const executor = new CgroupsExecutor(posix, isolator, { logger: opts.logger, workDir: opts.workDir });
  await executor.sweep(0);
  return executor;
}
