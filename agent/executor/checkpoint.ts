/**
 * Launch checkpoints: what a restarted agent needs to find a task's
 * processes, written by the executor once the task's wrapper runs:
 *
 *   <work-dir>/meta/tasks/<framework_id>/<task_id>.json     TaskCheckpoint: TaskInfo, pid, pgid,
 *                                                          process start time, sandbox, cgroups
 *
 * (Status updates are the agent's, in one journal: agent/status-updates-journal.ts.)
 *
 * Written to a temporary file and renamed, so that a reader (the agent after
 * kill -9, the sandbox GC, the cgroup sweep) sees the whole record or none.
 * Not fsynced: the page cache outlives a killed agent, and after a host
 * crash, the one case where the record could be lost, no task process
 * survives for it to find; the task is then reported failed either way.
 * Removed when the agent forgets the task (its terminal update acknowledged).
 * `agent/recovery.ts` reads them.
 */
import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { TaskInfo__Output, TaskStatus } from '../../lib/proto';

export const CHECKPOINT_VERSION = 1;

export interface TaskCheckpoint {
  version: number;
  frameworkId: string;
  agentId: string;
  task: TaskInfo__Output;
  pid: number;
  /** Process group id; equals pid (the wrapper leads its group). */
  pgid: number;
  sandbox: string;
  /** Seconds since the epoch. */
  launchedAt: number;
  /** The wrapper's start time in /proc (clock ticks after boot), to tell it from a process that reuses its pid. */
  startTime?: number;
  /** The task's cgroups (controller → directory), when it runs in cgroups (executor-cgroups.ts). */
  cgroups?: Record<string, string>;
  /** The user the task was switched to (agent/users.ts); absent: it runs as the agent's user. */
  user?: { name: string; uid: number; gid: number; home: string };
}

export const STATUS_CHECKPOINT_VERSION = 1;

/**
 * A task's status-update stream as agents before the status journal kept
 * it, one file per task under `<work-dir>/meta/updates/`; the journal takes
 * these over when it opens.
 */
export interface StatusCheckpoint {
  version: number;
  frameworkId: string;
  task: TaskInfo__Output;
  sandbox?: string;
  /** The latest status: what a re-registration reports. */
  latest: TaskStatus;
  /** Updates not yet acknowledged, oldest first: resent after a restart with their uuids. */
  pending: TaskStatus[];
}

export function checkpointPath(workDir: string, frameworkId: string, taskId: string): string {
  return join(workDir, 'meta', 'tasks', frameworkId, `${taskId}.json`);
}

let tmpSeq = 0;
/** Directories this process already made: one mkdir per framework, not one per checkpoint write. */
const madeDirs = new Set<string>();

/**
 * Writes `value` as JSON so that readers see the old file or the new one,
 * never half of one (temporary file, rename), and, unless `sync` is false,
 * the new one survives a host crash once this resolves (fsync before the rename).
 * Mode 0600: the agent's state is its own, never the tasks'.
 */
export async function writeJsonAtomic(path: string, value: unknown, sync = true): Promise<void> {
  const dir = dirname(path);
  if (!madeDirs.has(dir)) {
    await mkdir(dir, { recursive: true });
    madeDirs.add(dir);
  }
  const tmp = `${path}.tmp-${process.pid}-${++tmpSeq}`;
  const fh = await open(tmp, 'w', 0o600).catch(async (err: NodeJS.ErrnoException) => {
    // The directory went away under us (a cleanup): make it again, once.
    if (err.code !== 'ENOENT') throw err;
    await mkdir(dir, { recursive: true });
    return open(tmp, 'w', 0o600);
  });
  try {
    await fh.writeFile(JSON.stringify(value) + '\n');
    if (sync) await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}

export async function writeCheckpoint(workDir: string, cp: TaskCheckpoint): Promise<string> {
  const path = checkpointPath(workDir, cp.frameworkId, cp.task.taskId);
  await writeJsonAtomic(path, cp, false);
  return path;
}

export async function removeCheckpoint(path: string): Promise<void> {
  await unlink(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
}

/** Every readable status checkpoint under `<work-dir>/meta/updates` (earlier agents); unreadable ones are skipped. */
export async function readStatusCheckpoints(workDir: string): Promise<StatusCheckpoint[]> {
  return readAll(join(workDir, 'meta', 'updates'), (v) => (v as StatusCheckpoint).version === STATUS_CHECKPOINT_VERSION);
}

/** Every readable checkpoint under `<work-dir>/meta/tasks`; unreadable ones are skipped. */
export async function readCheckpoints(workDir: string): Promise<TaskCheckpoint[]> {
  return readAll(join(workDir, 'meta', 'tasks'), (v) => (v as TaskCheckpoint).version === CHECKPOINT_VERSION);
}

async function readAll<T>(root: string, valid: (v: unknown) => boolean): Promise<T[]> {
  const out: T[] = [];
  for (const fw of await readdir(root).catch(() => [] as string[])) {
    for (const name of await readdir(join(root, fw)).catch(() => [] as string[])) {
      if (!name.endsWith('.json')) continue;
      try {
        const v = JSON.parse(await readFile(join(root, fw, name), 'utf8')) as unknown;
        if (valid(v)) out.push(v as T);
      } catch {
        // A foreign file (a torn one cannot exist: writes are renamed into place).
      }
    }
  }
  return out;
}
