/**
 * cgroup v1: one hierarchy per controller (or a few co-mounted, e.g.
 * `cpu,cpuacct`), each mounted under /sys/fs/cgroup. A task gets a
 * directory in each hierarchy it is limited by:
 *
 *   <mount of cpu>/mezzanine/<agent key>/<task>       cpu.shares, cpu.cfs_period_us, cpu.cfs_quota_us
 *   <mount of cpuacct>/mezzanine/<agent key>/<task>   cpuacct.usage (accounting only)
 *   <mount of memory>/mezzanine/<agent key>/<task>    memory.limit_in_bytes, memory.memsw.limit_in_bytes
 *   <mount of pids>/mezzanine/<agent key>/<task>      pids.max
 *
 * v1 has no group OOM kill: the kernel ends the biggest process of the
 * cgroup, and the executor ends the rest when it sees the `oom_kill` count
 * of memory.oom_control rise (kernels before 4.13 lack the count; there a
 * task killed by SIGKILL after its `memory.failcnt` rose counts as ended by
 * the limit).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage } from '../../lib/errors';
import { CgroupError } from '../errors';
import { readKeyed, readNumber, removeCgroupDir, TaskCgroupsBase, writeControl } from './cgroups';
import type { Limitation } from './executor';
import { CPU_PERIOD_US, memoryLimitation, MIN_CPU_QUOTA_US, type Isolator, type TaskCgroups, type TaskLimits } from './isolator';

const MB = 1024 * 1024;

/** Controllers this isolator uses; `cpuacct` only accounts. */
export type V1Controller = 'cpu' | 'cpuacct' | 'memory' | 'pids';
export const V1_CONTROLLERS: readonly V1Controller[] = ['cpu', 'cpuacct', 'memory', 'pids'];

/** cpu.shares for `cpus`: 1024 per cpu, at least 2 (the kernel's minimum). */
export function cpuShares(cpus: number): number {
  return Math.max(2, Math.round(cpus * 1024));
}

/** cpu.cfs_quota_us for `cpus` over a 100 ms period; undefined for no quota. */
export function cpuQuotaUs(cpus: number): number | undefined {
  return cpus > 0 ? Math.max(MIN_CPU_QUOTA_US, Math.round(cpus * CPU_PERIOD_US)) : undefined;
}

export interface CgroupsV1Options {
  /** Controller → this agent's parent directory (`<mount>/mezzanine/<key>`), made already. */
  parents: Partial<Record<V1Controller, string>>;
  pidsMax: number;
}

export class CgroupsV1Isolator implements Isolator {
  readonly isolation: readonly string[];
  readonly description: string;
  readonly parents: readonly string[];
  /** Whether the memory hierarchy accounts swap (has memory.memsw.*); known after the first limit. */
  private memsw?: boolean;

  constructor(private readonly opts: CgroupsV1Options) {
    this.parents = [...new Set(Object.values(opts.parents))];
    const p = opts.parents;
    this.isolation = [
      ...(p.cpu ? ['cgroups/cpu'] : []), ...(p.memory ? ['cgroups/mem'] : []), ...(p.pids ? ['cgroups/pids'] : []),
    ];
    this.description = `cgroup v1, tasks under ${describeParents(this.parents)}`;
  }

  async prepare(name: string, limits: TaskLimits): Promise<TaskCgroups> {
    const paths: Record<string, string> = {};
    for (const c of V1_CONTROLLERS) {
      const parent = this.opts.parents[c];
      if (parent) paths[c] = join(parent, name);
    }
    const dirs = [...new Set(Object.values(paths))];
    const made: string[] = [];
    try {
      for (const dir of dirs) {
        try {
          // Recursive: the agent's parent may have been removed while it had no task (its close()).
          mkdirSync(dir, { recursive: true });
        } catch (err) {
          throw new CgroupError(`cannot make cgroup ${dir}: ${errorMessage(err)}`, { cause: err });
        }
        made.push(dir);
      }
      this.limitCpu(paths.cpu, limits.cpus);
      this.limitMemory(paths.memory, limits.memMb);
      if (paths.pids) writeControl(paths.pids, 'pids.max', String(this.opts.pidsMax));
    } catch (err) {
      await Promise.all(made.map((d) => removeCgroupDir(d, 200)));
      throw err;
    }
    return new TaskCgroupsV1(paths, limits.memMb);
  }

  private limitCpu(dir: string | undefined, cpus: number): void {
    if (!dir) return;
    writeControl(dir, 'cpu.shares', String(cpuShares(cpus)));
    const quota = cpuQuotaUs(cpus);
    if (quota !== undefined) {
      writeControl(dir, 'cpu.cfs_period_us', String(CPU_PERIOD_US));
      writeControl(dir, 'cpu.cfs_quota_us', String(quota));
    }
  }

  private limitMemory(dir: string | undefined, memMb: number): void {
    if (!dir || !(memMb > 0)) return;
    const bytes = String(Math.round(memMb * MB));
    // memsw (memory + swap) may not be below the memory limit: memory first.
    writeControl(dir, 'memory.limit_in_bytes', bytes);
    // Swap accounting is a property of the hierarchy: looked for once.
    this.memsw ??= existsSync(join(dir, 'memory.memsw.limit_in_bytes'));
    if (this.memsw) writeControl(dir, 'memory.memsw.limit_in_bytes', bytes);
  }

  /** A task's cgroups made by an earlier run of the agent (from its checkpoint). */
  adopt(paths: Record<string, string>, limits: TaskLimits): TaskCgroups {
    return new TaskCgroupsV1(paths, limits.memMb);
  }
}

/** `/sys/fs/cgroup/{cpu,memory,pids}/mezzanine/3f2a…` when the hierarchies sit side by side, else the list. */
function describeParents(parents: readonly string[]): string {
  const split = parents.map((d) => { const m = /^(.*)\/([^/]+)(\/mezzanine\/[^/]+)$/.exec(d); return m ? [m[1]!, m[2]!, m[3]!] : undefined; });
  const first = split[0];
  if (first && split.every((s) => s && s[0] === first[0] && s[2] === first[2])) {
    return parents.length > 1 ? `${first[0]}/{${split.map((s) => s![1]).join(',')}}${first[2]}` : parents[0]!;
  }
  return parents.join(', ');
}

class TaskCgroupsV1 extends TaskCgroupsBase {
  constructor(paths: Record<string, string>, private readonly memMb: number) {
    super(paths);
  }

  async limitation(): Promise<Limitation | undefined> {
    const mem = this.paths.memory;
    if (!mem || !(this.memMb > 0)) return undefined;
    const kills = readKeyed(join(mem, 'memory.oom_control'), 'oom_kill');
    if (kills !== undefined) return kills > 0 ? memoryLimitation(this.memMb) : undefined;
    // Before Linux 4.13: the limit was hit and reclaim failed.
    const failcnt = readNumber(join(mem, 'memory.failcnt')) ?? 0;
    const max = readNumber(join(mem, 'memory.max_usage_in_bytes'));
    return failcnt > 0 && max !== undefined && max >= this.memMb * MB ? memoryLimitation(this.memMb) : undefined;
  }

  async cpuSeconds(): Promise<number | undefined> {
    const acct = this.paths.cpuacct;
    if (!acct) return undefined;
    const ns = readNumber(join(acct, 'cpuacct.usage'));
    return ns === undefined ? undefined : ns / 1e9;
  }
}
