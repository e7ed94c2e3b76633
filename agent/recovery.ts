/**
 * What a restarted agent (also one killed -9) finds of the tasks it ran,
 * from its status journal and launch checkpoints:
 *
 *   meta/updates.log ─────────────┐                       ┌─ reconnect (default): the agent re-attaches to each
 *     TaskInfo, sandbox, latest    ├─► readRecoveredTasks ┤   launched task (Executor.reattach), reports those that
 *     status, unacked updates      │                      │   ended meanwhile with the exit status their wrapper left,
 *   meta/tasks/<fw>/<task>.json  ──┘                      │   resends unacknowledged updates with their uuids and
 *     pid, pgid, start time                               │   re-registers under the same agent id with its tasks
 *                                                         └─ cleanup: cleanupTasks kills every process group it finds,
 *                                                             removes the launch checkpoints; the agent forgets the tasks
 *
 * A pid counts as the task's only while it is the live wrapper of the
 * task's sandbox with the start time recorded at launch (`proc-fs.ts`).
 * Then every task wrapper still working in this work dir's sandboxes that
 * the agent did not adopt is killed (`killUntracked`): none runs on that
 * nobody reports, and whose resources the master would count free.
 */
import { realpath, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../lib/log';
import type { TaskInfo__Output, TaskStatus } from '../lib/proto';
import {
  checkpointPath, findTaskWrappers, findWrappersUnder, groupMembers, isTaskWrapper, readCheckpoints, readProcStat, type TaskCheckpoint,
} from './executor/index';
import type { JournaledTask } from './status-updates-journal';

export const RECOVER_MODES = ['reconnect', 'cleanup'] as const;
export type RecoverMode = (typeof RECOVER_MODES)[number];

/** One task as the checkpoints tell it. */
export interface RecoveredTask {
  frameworkId: string;
  task: TaskInfo__Output;
  sandbox?: string;
  /** The latest status made before the restart; absent when none was checkpointed yet. */
  latest?: TaskStatus;
  /** Updates made but not acknowledged, oldest first. */
  pending: TaskStatus[];
  /** Present when the command was started: its launch checkpoint and where it lies. */
  launch?: { checkpoint: TaskCheckpoint; path: string };
}

/**
 * Joins each task of the status journal (`journaled`, see
 * status-updates-journal.ts) with its launch checkpoint under `workDir`,
 * in a stable order (framework, task).
 */
export async function readRecoveredTasks(workDir: string, journaled: readonly JournaledTask[]): Promise<RecoveredTask[]> {
  const byKey = new Map<string, RecoveredTask>();
  const key = (fw: string, task: string) => `${fw}\u0000${task}`;
  for (const s of journaled) {
    byKey.set(key(s.frameworkId, s.task.taskId), {
      frameworkId: s.frameworkId, task: s.task, sandbox: s.sandbox, latest: s.latest, pending: s.pending,
    });
  }
  for (const c of await readCheckpoints(workDir)) {
    const k = key(c.frameworkId, c.task.taskId);
    const launch = { checkpoint: c, path: checkpointPath(workDir, c.frameworkId, c.task.taskId) };
    const found = byKey.get(k);
    if (found) Object.assign(found, { launch, sandbox: found.sandbox ?? c.sandbox });
    else byKey.set(k, { frameworkId: c.frameworkId, task: c.task, sandbox: c.sandbox, pending: [], launch });
  }
  return [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, t]) => t);
}

/**
 * The process groups of a recovered task that still hold processes: its
 * wrapper's (if the wrapper lives, or died leaving members behind), or those
 * of wrappers of its sandbox found in /proc when its launch was cut short
 * before the checkpoint.
 */
export async function liveGroupsOf(t: RecoveredTask): Promise<number[]> {
  const c = t.launch?.checkpoint;
  if (c) {
    if (await isTaskWrapper(c.pid, c.sandbox, c.startTime)) return [c.pgid];
    // The wrapper is gone. Members left in its group are the task's: the
    // kernel reuses no pid that still names a group. A live process under the
    // pid that is not the wrapper means the group number is someone else's.
    const st = readProcStat(c.pid);
    if (st && st.state !== 'Z') return [];
    return (await groupMembers(c.pgid)).length ? [c.pgid] : [];
  }
  return t.sandbox ? findTaskWrappers(t.sandbox) : [];
}

/** SIGKILLs every process of group `pgid`; false when none is left. */
export function killGroup(pgid: number): boolean {
  try {
    process.kill(-pgid, 'SIGKILL');
    return true;
  } catch {
    return false;
  }
}

/**
 * `--recover cleanup`: kills (SIGKILL, whole process groups) every task
 * process that the journal's tasks and the launch checkpoints lead to,
 * waits until they are gone (up to `timeoutMs`), and removes the launch
 * checkpoints. Resolves the tasks found, which the caller then forgets
 * from the journal, so that the agent starts with none; the master reports
 * the tasks it knew as lost.
 */
export async function cleanupTasks(
  workDir: string, journaled: readonly JournaledTask[], log: Logger, timeoutMs = 10_000,
): Promise<{ tasks: RecoveredTask[]; groups: number }> {
  const tasks = await readRecoveredTasks(workDir, journaled);
  const groups: number[] = [];
  for (const t of tasks) {
    for (const g of await liveGroupsOf(t)) {
      log.info(`--recover cleanup: killing task ${t.task.taskId} of framework ${t.frameworkId} (process group ${g})`);
      if (killGroup(g)) groups.push(g);
    }
  }
  const deadline = Date.now() + timeoutMs;
  for (const g of groups) {
    while ((await groupMembers(g)).length) {
      if (Date.now() > deadline) {
        log.warn(`--recover cleanup: process group ${g} still has processes after ${timeoutMs} ms (uninterruptible?); going on`);
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  await rm(join(workDir, 'meta', 'tasks'), { recursive: true, force: true });
  return { tasks, groups: groups.length };
}

/**
 * Kills (SIGKILL, whole process group) every live task wrapper under
 * `<workDir>/sandboxes` whose pid is not in `adopted`, and resolves their
 * pids. With the launch gate a wrapper without a checkpoint never starts
 * its command and exits on its own once its agent is gone; this also ends
 * those still waiting, and any a lost checkpoint left behind.
 */
export async function killUntracked(workDir: string, adopted: ReadonlySet<number>, log: Logger): Promise<number[]> {
  const root = await realpath(join(workDir, 'sandboxes')).catch(() => undefined);
  if (!root) return [];
  const killed: number[] = [];
  for (const pid of await findWrappersUnder(root)) {
    if (adopted.has(pid)) continue;
    const pgrp = readProcStat(pid)?.pgrp;
    log.warn(`task wrapper ${pid} (process group ${pgrp}) runs in this work dir but belongs to no recovered task: killing it`);
    // The wrapper leads its group; a pid that does not is signalled alone.
    if (pgrp !== pid || !killGroup(pid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
    killed.push(pid);
  }
  return killed;
}
