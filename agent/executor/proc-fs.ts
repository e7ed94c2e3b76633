/**
 * Reading /proc to tell whether a checkpointed pid is still the task
 * wrapper this agent started: the pid alone is not enough, since the OS
 * reuses pids. A wrapper is ours when it lives (not a zombie), its command
 * line is `/bin/sh …/mezz-task-wrapper.sh SANDBOX …` with our sandbox, and
 * its start time (clock ticks after boot) is the one recorded at launch.
 * Linux only; elsewhere nothing is found and recovery treats tasks as gone.
 */
import { readFileSync } from 'node:fs';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { basename } from 'node:path';

export const WRAPPER_NAME = 'mezz-task-wrapper.sh';

export interface ProcStat {
  /** R, S, D, Z, T, … */
  state: string;
  pgrp: number;
  /** Clock ticks after boot (field 22 of /proc/PID/stat). */
  startTime: number;
}

/**
 * /proc/PID/stat of a process, or undefined when there is none. Read
 * synchronously: /proc is generated in memory in microseconds, less than a
 * thread-pool round trip costs (it is read once per launch, and every poll).
 */
export function readProcStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // pid (comm) state ppid pgrp …: comm may hold spaces and parentheses.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: f[0]!, pgrp: Number(f[2]), startTime: Number(f[19]) };
}

/** argv of a process, or undefined when there is none. */
export async function readCmdline(pid: number): Promise<string[] | undefined> {
  const text = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => undefined);
  return text ? text.split('\0').filter((_, i, a) => i < a.length - 1 || a[i] !== '') : undefined;
}

function isWrapperOf(argv: readonly string[] | undefined, sandbox: string): boolean {
  return !!argv && basename(argv[1] ?? '') === WRAPPER_NAME && argv[2] === sandbox;
}

/**
 * True while `pid` is the live wrapper of `sandbox` (and, when `startTime`
 * is known, the very process started then).
 */
export async function isTaskWrapper(pid: number, sandbox: string, startTime?: number): Promise<boolean> {
  const st = readProcStat(pid);
  if (!st || st.state === 'Z') return false;
  if (startTime !== undefined && st.startTime !== startTime) return false;
  return isWrapperOf(await readCmdline(pid), sandbox);
}

/** Live (non-zombie) task wrappers in /proc for which `match` holds, given the pid and its argv. */
async function liveWrappers(match: (pid: number, argv: readonly string[]) => boolean | Promise<boolean>): Promise<number[]> {
  const out: number[] = [];
  for (const name of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    const argv = await readCmdline(pid);
    if (!argv || basename(argv[1] ?? '') !== WRAPPER_NAME) continue;
    if ((await match(pid, argv)) && readProcStat(pid)?.state !== 'Z') out.push(pid);
  }
  return out;
}

/** Live wrappers of `sandbox` found in /proc (for a task whose launch was cut short before its checkpoint). */
export function findTaskWrappers(sandbox: string): Promise<number[]> {
  return liveWrappers((_, argv) => isWrapperOf(argv, sandbox));
}

/** Live (non-zombie) members of process group `pgid`. */
export async function groupMembers(pgid: number): Promise<number[]> {
  const out: number[] = [];
  for (const name of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(name)) continue;
    const st = readProcStat(Number(name));
    if (st && st.state !== 'Z' && st.pgrp === pgid) out.push(Number(name));
  }
  return out;
}

/**
 * Live task wrappers working under `root` (a work dir's real `sandboxes`
 * path), whatever their checkpoints say: a wrapper's cwd is its sandbox.
 * How a restarted agent finds every task process of its work dir.
 */
export function findWrappersUnder(root: string): Promise<number[]> {
  const prefix = root.endsWith('/') ? root : `${root}/`;
  return liveWrappers(async (pid) => (await readlink(`/proc/${pid}/cwd`).catch(() => '')).startsWith(prefix));
}
