/**
 * cgroup v2: one unified hierarchy. A cgroup that delegates controllers to
 * its children (cgroup.subtree_control) may hold no processes itself, so the
 * agent first moves itself into a leaf of its own, then enables cpu, memory
 * and pids down to its parent of tasks:
 *
 *   <agent's cgroup>/                         subtree_control: +cpu +memory +pids
 *     mezzanine/                              subtree_control: +cpu +memory +pids
 *       <agent key>/                          subtree_control: +cpu +memory +pids
 *         agent/                              the agent process (a leaf)
 *         <task>/                             cpu.max, cpu.weight, memory.max, memory.swap.max,
 *                                             memory.oom.group, pids.max
 *
 * memory.oom.group makes the OOM killer end the whole task at once, and
 * memory.events counts it (`oom_kill`); cgroup.kill (Linux 5.14+) kills
 * everything inside in one step.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage } from '../../lib/errors';
import { CgroupError, IsolationUnavailableError } from '../errors';
import { CGROUP_PREFIX, readKeyed, readPids, removeCgroupDir, TaskCgroupsBase, writeControl } from './cgroups';
import type { Limitation } from './executor';
import { CPU_PERIOD_US, memoryLimitation, type Isolator, type TaskCgroups, type TaskLimits } from './isolator';
import { cpuQuotaUs, cpuShares } from './isolator-cgroups-v1';

const MB = 1024 * 1024;

export type V2Controller = 'cpu' | 'memory' | 'pids';
export const V2_CONTROLLERS: readonly V2Controller[] = ['cpu', 'memory', 'pids'];

/** The leaf the agent process moves into, under its parent of tasks. */
export const AGENT_LEAF = 'agent';

/** cpu.weight (1-10000) for cpu.shares, as runc and systemd convert it. */
export function cpuWeight(shares: number): number {
  return Math.max(1, Math.min(10_000, 1 + Math.round(((shares - 2) * 9999) / 262_142)));
}

export interface CgroupsV2Setup {
  /** This agent's parent of tasks: `<base>/mezzanine/<key>`, controllers enabled. */
  parent: string;
  controllers: V2Controller[];
  /** Controllers wanted but not offered by the agent's cgroup, with why. */
  missing: string[];
}

/**
 * Prepares the unified hierarchy for this agent: finds its cgroup, moves the
 * agent process (`pid`) into `<base>/mezzanine/<key>/agent` and enables the
 * controllers that the agent's cgroup offers down to `<base>/mezzanine/<key>`.
 * A restarted agent that already sits in that leaf keeps its place.
 * Throws IsolationUnavailableError saying what blocked it.
 */
export async function setupCgroupsV2(opts: { mount: string; ownPath: string; key: string; pid: number }): Promise<CgroupsV2Setup> {
  const suffix = `/${CGROUP_PREFIX}/${opts.key}/${AGENT_LEAF}`;
  const basePath = opts.ownPath.endsWith(suffix) ? opts.ownPath.slice(0, -suffix.length) || '/' : opts.ownPath;
  const base = join(opts.mount, basePath);
  const offered = (await readFile(join(base, 'cgroup.controllers'), 'utf8').catch(() => '')).trim().split(/\s+/);
  const controllers = V2_CONTROLLERS.filter((c) => offered.includes(c));
  const missing = V2_CONTROLLERS.filter((c) => !offered.includes(c))
    .map((c) => `${c}: not offered by ${base} (its cgroup.controllers lists "${offered.join(' ')}"; enable it in the parent's cgroup.subtree_control)`);
  if (!controllers.length) return { parent: '', controllers, missing };

  const prefix = join(base, CGROUP_PREFIX);
  const parent = join(prefix, opts.key);
  const leaf = join(parent, AGENT_LEAF);
  try {
    await mkdir(leaf, { recursive: true });
  } catch (err) {
    throw new IsolationUnavailableError(`cgroup v2: cannot make ${leaf}: ${errorMessage(err)}`, { cause: err });
  }
  const own = readPids(join(leaf, 'cgroup.procs'));
  if (!own.includes(opts.pid)) {
    try {
      writeControl(leaf, 'cgroup.procs', String(opts.pid));
    } catch (err) {
      throw new IsolationUnavailableError(`cgroup v2: cannot move the agent into its own leaf cgroup: ${errorMessage(err)}`, { cause: err });
    }
  }
  const enable = controllers.map((c) => `+${c}`).join(' ');
  for (const dir of [base, prefix, parent]) {
    try {
      writeControl(dir, 'cgroup.subtree_control', enable);
    } catch (err) {
      const busy = (err as { cause?: NodeJS.ErrnoException }).cause?.code === 'EBUSY';
      const others = busy ? readPids(join(dir, 'cgroup.procs')) : [];
      throw new IsolationUnavailableError(busy
        ? `cgroup v2: cannot enable ${controllers.join(', ')} in ${dir}: it still holds other processes (pids ${others.slice(0, 10).join(', ')}${others.length > 10 ? ', …' : ''}), and a cgroup with processes cannot delegate controllers. Start the agent in a cgroup of its own, e.g. systemd-run --scope -p Delegate=yes mezz-agent …`
        : `cgroup v2: cannot enable ${controllers.join(', ')} in ${dir}: ${errorMessage(err)}`, { cause: err });
    }
  }
  return { parent, controllers, missing };
}

export interface CgroupsV2Options {
  /** From setupCgroupsV2. */
  parent: string;
  controllers: readonly V2Controller[];
  pidsMax: number;
}

export class CgroupsV2Isolator implements Isolator {
  readonly isolation: readonly string[];
  readonly description: string;
  readonly parents: readonly string[];
  private readonly has: ReadonlySet<V2Controller>;

  constructor(private readonly opts: CgroupsV2Options) {
    this.parents = [opts.parent];
    this.has = new Set(opts.controllers);
    this.isolation = [
      ...(this.has.has('cpu') ? ['cgroups/cpu'] : []), ...(this.has.has('memory') ? ['cgroups/mem'] : []),
      ...(this.has.has('pids') ? ['cgroups/pids'] : []),
    ];
    this.description = `cgroup v2 (${opts.controllers.join(', ')}), tasks under ${opts.parent}`;
  }

  async prepare(name: string, limits: TaskLimits): Promise<TaskCgroups> {
    const dir = join(this.opts.parent, name);
    try {
      mkdirSync(dir);
    } catch (err) {
      throw new CgroupError(`cannot make cgroup ${dir}: ${errorMessage(err)}`, { cause: err });
    }
    try {
      if (this.has.has('cpu')) {
        writeControl(dir, 'cpu.weight', String(cpuWeight(cpuShares(limits.cpus))));
        const quota = cpuQuotaUs(limits.cpus);
        if (quota !== undefined) writeControl(dir, 'cpu.max', `${quota} ${CPU_PERIOD_US}`);
      }
      if (this.has.has('memory') && limits.memMb > 0) {
        writeControl(dir, 'memory.max', String(Math.round(limits.memMb * MB)));
        // Memory plus swap within the limit, as v1's memsw: no swap.
        if (existsSync(join(dir, 'memory.swap.max'))) writeControl(dir, 'memory.swap.max', '0');
        if (existsSync(join(dir, 'memory.oom.group'))) writeControl(dir, 'memory.oom.group', '1');
      }
      if (this.has.has('pids')) writeControl(dir, 'pids.max', String(this.opts.pidsMax));
    } catch (err) {
      await removeCgroupDir(dir, 200);
      throw err;
    }
    return new TaskCgroupsV2({ unified: dir }, limits.memMb);
  }

  /** A task's cgroup made by an earlier run of the agent (from its checkpoint). */
  adopt(paths: Record<string, string>, limits: TaskLimits): TaskCgroups {
    return new TaskCgroupsV2(paths, limits.memMb);
  }
}

class TaskCgroupsV2 extends TaskCgroupsBase {
  constructor(paths: Record<string, string>, private readonly memMb: number) {
    super(paths);
  }

  private get dir(): string {
    return this.paths.unified!;
  }

  protected override async kernelKill(): Promise<boolean> {
    if (!existsSync(join(this.dir, 'cgroup.kill'))) return false;
    try {
      writeControl(this.dir, 'cgroup.kill', '1');
      return true;
    } catch {
      return false;
    }
  }

  async limitation(): Promise<Limitation | undefined> {
    if (!(this.memMb > 0)) return undefined;
    const file = join(this.dir, 'memory.events');
    const kills = (readKeyed(file, 'oom_kill') ?? 0) + (readKeyed(file, 'oom_group_kill') ?? 0);
    return kills > 0 ? memoryLimitation(this.memMb) : undefined;
  }

  async cpuSeconds(): Promise<number | undefined> {
    const usec = readKeyed(join(this.dir, 'cpu.stat'), 'usage_usec');
    return usec === undefined ? undefined : usec / 1e6;
  }
}
