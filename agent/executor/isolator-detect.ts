/**
 * Which isolation this host allows, decided once at start:
 *
 *   --isolation none ───────────────────────────────► process groups only
 *   /proc/self/mountinfo ─► v1 hierarchies with cpu, memory or pids? ─► CgroupsV1Isolator
 *                        └► else a cgroup2 mount? ─► setupCgroupsV2 ─► CgroupsV2Isolator
 *                        └► else ─► none: `auto` says so once, `cgroups` refuses to start
 *
 * Hybrid hosts (v1 controllers plus an empty cgroup2 mount, like this
 * project's CI) use v1: a controller serves one hierarchy at a time.
 * With `auto`, a host that offers only some controllers gets what it
 * offers, and the log line names the rest.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage } from '../../lib/errors';
import type { Logger } from '../../lib/log';
import { IsolationUnavailableError } from '../errors';
import { agentCgroupKey, CGROUP_PREFIX, parseMountinfo, parseProcCgroup, type MountEntry } from './cgroups';
import type { IsolationMode, Isolator } from './isolator';
import { CgroupsV1Isolator, V1_CONTROLLERS, type V1Controller } from './isolator-cgroups-v1';
import { CgroupsV2Isolator, setupCgroupsV2 } from './isolator-cgroups-v2';

/** Controllers that limit something; without all three, `--isolation cgroups` refuses to start. */
const LIMITING = ['cpu', 'memory', 'pids'] as const;

export interface DetectIsolatorOptions {
  mode: IsolationMode;
  /** The agent's work directory: its hash names the agent's part of the cgroup tree. */
  workDir: string;
  pidsMax: number;
  logger: Logger;
  /** Tests: the text of /proc/self/mountinfo and /proc/self/cgroup, and the pid to move (v2). */
  mountinfo?: string;
  procCgroup?: string;
  pid?: number;
}

/**
 * The isolator to use, or undefined for process groups only. Logs one line
 * saying what is enforced, or what is missing and why. Throws
 * IsolationUnavailableError in `cgroups` mode when cpu, memory or pids
 * cannot be limited.
 */
export async function detectIsolator(opts: DetectIsolatorOptions): Promise<Isolator | undefined> {
  const log = opts.logger;
  if (opts.mode === 'none') {
    log.info('isolation: process groups only (--isolation none): cpu, memory and pids limits are not enforced');
    return undefined;
  }
  const key = agentCgroupKey(opts.workDir);
  const mountinfo = opts.mountinfo ?? await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  const mounts = parseMountinfo(mountinfo);
  const problems: string[] = [];
  let isolator: Isolator | undefined;

  const v1 = v1Mounts(mounts);
  const v2 = mounts.find((m) => m.fstype === 'cgroup2' && m.mountPoint === '/sys/fs/cgroup') ?? mounts.find((m) => m.fstype === 'cgroup2');
  if (LIMITING.some((c) => v1.has(c))) {
    const parents: Partial<Record<V1Controller, string>> = {};
    for (const c of V1_CONTROLLERS) {
      const m = v1.get(c);
      if (!m) {
        if (c !== 'cpuacct') problems.push(`${c}: no cgroup v1 hierarchy has this controller`);
        continue;
      }
      const parent = join(m.mountPoint, CGROUP_PREFIX, key);
      try {
        await mkdir(parent, { recursive: true });
        parents[c] = parent;
      } catch (err) {
        if (c !== 'cpuacct') problems.push(`${c}: cannot make ${parent}: ${errorMessage(err)}`);
      }
    }
    if (LIMITING.some((c) => parents[c])) isolator = new CgroupsV1Isolator({ parents, pidsMax: opts.pidsMax });
  } else if (v2) {
    const procCgroup = opts.procCgroup ?? await readFile('/proc/self/cgroup', 'utf8').catch(() => '');
    const own = parseProcCgroup(procCgroup).find((e) => e.id === 0);
    if (!own) {
      problems.push('cgroup v2 is mounted but /proc/self/cgroup names no unified cgroup for the agent');
    } else {
      try {
        const setup = await setupCgroupsV2({ mount: v2.mountPoint, ownPath: own.path, key, pid: opts.pid ?? process.pid });
        problems.push(...setup.missing);
        if (setup.controllers.length) {
          isolator = new CgroupsV2Isolator({ parent: setup.parent, controllers: setup.controllers, pidsMax: opts.pidsMax });
        }
      } catch (err) {
        if (!(err instanceof IsolationUnavailableError)) throw err;
        problems.push(err.message);
      }
    }
  } else {
    problems.push('no cgroup file system is mounted (none in /proc/self/mountinfo)');
  }

  const hint = cgroupsHint();
  const enforced = isolator?.isolation ?? [];
  const complete = ['cgroups/cpu', 'cgroups/mem', 'cgroups/pids'].every((i) => enforced.includes(i));
  if (opts.mode === 'cgroups' && !complete) {
    throw new IsolationUnavailableError(`--isolation cgroups: this host does not let the agent limit tasks with cgroups: ${problems.join('; ')}. ${hint}, or start with --isolation auto to run with what is available`);
  }
  if (!isolator) {
    log.warn(`isolation: cgroups unavailable (${problems.join('; ')}); tasks run in process groups only, and their cpu, memory and pids limits are not enforced. ${hint}, or pass --isolation none to say this is intended`);
    return undefined;
  }
  if (problems.length) {
    log.warn(`isolation: ${isolator.description}; enforcing ${enforced.join(', ')} only: ${problems.join('; ')}`);
  } else {
    log.info(`isolation: ${isolator.description}; enforcing ${enforced.join(', ')}`);
  }
  return isolator;
}

/** Controller → the v1 mount that carries it (a mount of the whole hierarchy preferred). */
function v1Mounts(mounts: readonly MountEntry[]): Map<V1Controller, MountEntry> {
  const out = new Map<V1Controller, MountEntry>();
  for (const m of mounts) {
    if (m.fstype !== 'cgroup') continue;
    for (const c of V1_CONTROLLERS) {
      if (!m.superOptions.includes(c)) continue;
      const seen = out.get(c);
      if (!seen || (seen.root !== '/' && m.root === '/')) out.set(c, m);
    }
  }
  return out;
}

function cgroupsHint(): string {
  const uid = process.getuid?.();
  return uid !== undefined && uid !== 0
    ? `The agent runs as uid ${uid}: run it as root (or in a delegated cgroup v2 sub-tree) with /sys/fs/cgroup writable`
    : 'Run the agent where /sys/fs/cgroup is mounted read-write';
}
