/**
 * What both cgroup isolators share: reading /proc/self/mountinfo and
 * /proc/self/cgroup, writing control files with errors that name them, and
 * the life of one task's cgroups once made (list, signal, kill, remove).
 *
 * A task's control files are read and written, and its directories made
 * and removed, synchronously: cgroupfs lives in memory and each call takes
 * microseconds, while the thread pool costs a round trip per call (three
 * per write: open, write, close) and, on a busy host, a context switch of
 * the agent's main thread each; a launch makes about twenty such calls.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, realpathSync, rmdirSync, writeFileSync } from 'node:fs';
import { readdir, readFile, rmdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage } from '../../lib/errors';
import { CgroupError } from '../errors';
import type { Limitation } from './executor';
import type { TaskCgroups } from './isolator';

/** Where every agent puts its tasks, below the root (v1) or its own cgroup (v2). */
export const CGROUP_PREFIX = 'mezzanine';

export interface MountEntry {
  mountPoint: string;
  /** The directory of the hierarchy mounted there (`/` unless a sub-tree is bind-mounted). */
  root: string;
  fstype: string;
  /** Super options; for cgroup v1 they name the controllers, e.g. `rw,cpu,cpuacct`. */
  superOptions: string[];
}

/** `/proc/self/mountinfo` → entries (proc(5): fields, ` - `, fstype, source, super options). */
export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const right = line.slice(sep + 3).split(' ');
    if (left.length < 5 || right.length < 3) continue;
    out.push({
      root: unescapeMount(left[3]!), mountPoint: unescapeMount(left[4]!),
      fstype: right[0]!, superOptions: right[2]!.split(','),
    });
  }
  return out;
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export interface ProcCgroup {
  /** 0 for the v2 unified hierarchy. */
  id: number;
  /** Controllers of a v1 hierarchy (`cpu,cpuacct`), or `name=systemd`; empty for v2. */
  controllers: string[];
  path: string;
}

/** `/proc/self/cgroup` → one entry per hierarchy: `4:memory:/a/b`, `0::/user.slice/…`. */
export function parseProcCgroup(text: string): ProcCgroup[] {
  const out: ProcCgroup[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (!m) continue;
    out.push({ id: Number(m[1]), controllers: m[2] ? m[2].split(',') : [], path: m[3]! });
  }
  return out;
}

/**
 * A short name for this agent's part of the cgroup tree: the first 12 hex
 * digits of the SHA-256 of its work directory's real path, so that two agents
 * on one host never share a parent and a restarted agent finds its own.
 */
export function agentCgroupKey(workDir: string): string {
  let dir = workDir;
  try {
    dir = realpathSync(workDir);
  } catch {
    // Not made yet: the path as given.
  }
  return createHash('sha256').update(dir).digest('hex').slice(0, 12);
}

/** A cgroup directory name from a sandbox name: letters, digits and `._@-` only, at most 200 characters. */
export function cgroupName(raw: string): string {
  const name = raw.replace(/[^A-Za-z0-9._@-]/g, '_').slice(0, 200);
  return name === '.' || name === '..' || !name ? `_${name}` : name;
}

/** Writes one control file; CgroupError says which file, what value and why. */
export function writeControl(dir: string, file: string, value: string): void {
  try {
    writeFileSync(join(dir, file), value);
  } catch (err) {
    throw new CgroupError(`cannot write "${value}" to ${join(dir, file)}: ${errorMessage(err)}`, { cause: err });
  }
}

/** A control file's text; undefined when it is gone. */
function readControl(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** The pids in a `cgroup.procs` file; [] when it is gone. */
export function readPids(file: string): number[] {
  const text = readControl(file) ?? '';
  return text.split('\n').map((l) => Number(l.trim())).filter((n) => Number.isInteger(n) && n > 0);
}

/** A `key value` line of a flat-keyed control file (memory.events, memory.oom_control, cpu.stat). */
export function readKeyed(file: string, key: string): number | undefined {
  const text = readControl(file);
  if (text === undefined) return undefined;
  const m = new RegExp(`^${key} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

export function readNumber(file: string): number | undefined {
  const text = readControl(file);
  const n = text === undefined ? NaN : Number(text.trim());
  return Number.isFinite(n) ? n : undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Removes the cgroups under `parents` that are empty, not in `keep` (those
 * of tracked or checkpointed tasks, whose counters are still to be read)
 * and made more than `minAgeMs` ago (one being set up for a launch is
 * young). rmdir refuses a cgroup that holds processes, so a live task's
 * cgroup is never removed. Resolves the directories removed and those left
 * because they are busy.
 */
export async function removeStaleCgroups(
  parents: readonly string[], keep: ReadonlySet<string>, minAgeMs = 0,
): Promise<{ removed: string[]; busy: string[] }> {
  const removed: string[] = [];
  const busy: string[] = [];
  for (const parent of parents) {
    const entries = await readdir(parent, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const dir = join(parent, e.name);
      if (keep.has(dir)) continue;
      if (minAgeMs > 0) {
        const st = await stat(dir).catch(() => undefined);
        if (!st || Date.now() - st.mtimeMs < minAgeMs) continue;
      }
      try {
        await rmdir(dir);
        removed.push(dir);
      } catch {
        busy.push(dir);
      }
    }
  }
  return { removed, busy };
}

/**
 * Every directory where an agent with work directory `workDir` puts task
 * cgroups on this host, as seen from this process (v1: each hierarchy's
 * `mezzanine/<key>`; v2: `mezzanine/<key>` under this process's cgroup),
 * that exists. For test harnesses that clean up after agents they killed.
 */
export async function agentCgroupParents(workDir: string): Promise<string[]> {
  const key = agentCgroupKey(workDir);
  const mounts = parseMountinfo(await readFile('/proc/self/mountinfo', 'utf8').catch(() => ''));
  const own = parseProcCgroup(await readFile('/proc/self/cgroup', 'utf8').catch(() => '')).find((e) => e.id === 0);
  const candidates = new Set<string>();
  for (const m of mounts) {
    if (m.fstype === 'cgroup') candidates.add(join(m.mountPoint, CGROUP_PREFIX, key));
    if (m.fstype === 'cgroup2' && own) candidates.add(join(m.mountPoint, own.path, CGROUP_PREFIX, key));
  }
  return [...candidates].filter((d) => existsSync(d));
}

/**
 * Removes an agent's task cgroups and its parents (see agentCgroupParents),
 * each retried for up to `timeoutMs` while its last processes exit; those
 * still holding processes stay. Never throws.
 */
export async function removeAgentCgroups(workDir: string, timeoutMs = 2000): Promise<void> {
  const parents = await agentCgroupParents(workDir);
  for (const p of parents) {
    const entries = await readdir(p, { withFileTypes: true }).catch(() => []);
    await Promise.all(entries.filter((e) => e.isDirectory()).map((e) => removeCgroupDir(join(p, e.name), timeoutMs)));
    await removeCgroupDir(p, 0);
  }
}

/** rmdir, retried while the cgroup is busy (exiting processes); true when gone. */
export async function removeCgroupDir(dir: string, timeoutMs = 2000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      rmdirSync(dir);
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return true;
      if (Date.now() > deadline || (code !== 'EBUSY' && code !== 'ENOTEMPTY' && code !== 'EAGAIN')) return false;
    }
    await sleep(25);
  }
}

/**
 * One task's cgroups: a directory per hierarchy (one in v2), each with a
 * `cgroup.procs`. The version-specific parts — limitation, accounting and a
 * kernel-side kill — come from the subclass.
 */
export abstract class TaskCgroupsBase implements TaskCgroups {
  readonly procsFiles: readonly string[];

  constructor(readonly paths: Readonly<Record<string, string>>) {
    this.procsFiles = this.dirs().map((d) => join(d, 'cgroup.procs'));
  }

  /** Each directory once (co-mounted v1 controllers share one). */
  protected dirs(): string[] {
    return [...new Set(Object.values(this.paths))];
  }

  async pids(): Promise<number[]> {
    return [...new Set(this.procsFiles.flatMap(readPids))];
  }

  async signal(signal: NodeJS.Signals): Promise<number> {
    let n = 0;
    for (const pid of await this.pids()) {
      try {
        process.kill(pid, signal);
        n++;
      } catch {
        // Gone between the read and the kill.
      }
    }
    return n;
  }

  /** A kill done by the kernel in one step (v2 `cgroup.kill`); false when the host has none. */
  protected async kernelKill(): Promise<boolean> {
    return false;
  }

  async killAll(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    const kernel = await this.kernelKill();
    for (;;) {
      const pids = await this.pids();
      if (!pids.length) return true;
      if (Date.now() > deadline) return false;
      // Each round kills what is listed; what they forked meanwhile is listed next round.
      if (!kernel) {
        for (const pid of pids) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            /* gone */
          }
        }
      }
      await sleep(kernel ? 20 : 10);
    }
  }

  abstract limitation(): Promise<Limitation | undefined>;
  abstract cpuSeconds(): Promise<number | undefined>;

  async destroy(): Promise<boolean> {
    const results = await Promise.all(this.dirs().map((d) => removeCgroupDir(d)));
    return results.every(Boolean);
  }
}
