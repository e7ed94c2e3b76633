/**
 * Per-task checkpoints: what a restarted agent needs to find a task it
 * launched (which framework, the TaskInfo, pid and process group, sandbox).
 *
 *   <work-dir>/meta/tasks/<framework_id>/<task_id>.json
 *
 * Written once at launch, atomically (temporary file, then rename), removed
 * when the agent forgets the task. Reading them back is the recovery work of
 * a later change; `readCheckpoints` is here so that the format has one owner.
 */
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { TaskInfo__Output } from '../../lib/proto';

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
}

export function checkpointPath(workDir: string, frameworkId: string, taskId: string): string {
  return join(workDir, 'meta', 'tasks', frameworkId, `${taskId}.json`);
}

/** Writes `value` as JSON so that readers see the old file or the new one, never half of one. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, JSON.stringify(value, null, 2) + '\n');
  await rename(tmp, path);
}

export async function writeCheckpoint(workDir: string, cp: TaskCheckpoint): Promise<string> {
  const path = checkpointPath(workDir, cp.frameworkId, cp.task.taskId);
  await writeJsonAtomic(path, cp);
  return path;
}

export async function removeCheckpoint(path: string): Promise<void> {
  await rm(path, { force: true });
}

/** Every readable checkpoint under `<work-dir>/meta/tasks`; unreadable ones are skipped. */
export async function readCheckpoints(workDir: string): Promise<TaskCheckpoint[]> {
  const root = join(workDir, 'meta', 'tasks');
  const out: TaskCheckpoint[] = [];
  for (const fw of await readdir(root).catch(() => [] as string[])) {
    for (const name of await readdir(join(root, fw)).catch(() => [] as string[])) {
      if (!name.endsWith('.json')) continue;
      try {
        const cp = JSON.parse(await readFile(join(root, fw, name), 'utf8')) as TaskCheckpoint;
        if (cp.version === CHECKPOINT_VERSION) out.push(cp);
      } catch {
        // A torn or foreign file: recovery treats the task as unknown.
      }
    }
  }
  return out;
}
