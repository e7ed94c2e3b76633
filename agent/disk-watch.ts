/**
 * Enforces the `disk` resource, as Mesos' disk/du isolator does: every
 * interval, each running task with a disk limit has its sandbox measured
 * (a du-like walk: allocated blocks of every file, links not followed), and
 * one over its limit is reported to the agent, which kills it with
 * REASON_CONTAINER_LIMITATION_DISK. A task without `disk` (or disk 0) is not
 * limited.
 *
 * Bounded cost: sandboxes are walked one after another (never in
 * parallel), each walk stops after MAX_ENTRIES entries (a sandbox with more
 * files is judged on what was counted, a lower bound), and a round that is
 * still running when the next is due is not doubled.
 */
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage } from '../lib/errors';
import type { Logger } from '../lib/log';

export const DEFAULT_DISK_CHECK_INTERVAL_MS = 5000;
/** Entries one walk looks at, at most. */
export const MAX_ENTRIES = 100_000;

export interface DiskWatched {
  key: string;
  sandbox: string;
  /** The task's `disk` in MB; > 0. */
  limitMb: number;
}

export interface DiskWatchOptions {
  intervalMs: number;
  /** The running tasks that have a disk limit, asked every round. */
  tasks: () => DiskWatched[];
  /** A task found over its limit (called once per round it is over). */
  onOver: (key: string, usedBytes: number, limitMb: number) => void;
  logger: Logger;
}

/** Bytes allocated under `dir` (files, directories, links themselves), at most `maxEntries` entries looked at. */
export async function diskUsage(dir: string, maxEntries = MAX_ENTRIES): Promise<number> {
  let bytes = 0;
  let seen = 0;
  const stack = [dir];
  while (stack.length && seen < maxEntries) {
    const d = stack.pop()!;
    const names = await readdir(d).catch(() => [] as string[]);
    for (const name of names) {
      if (++seen > maxEntries) break;
      const p = join(d, name);
      const st = await lstat(p).catch(() => undefined);
      if (!st) continue;
      // Allocated blocks, not the apparent size: a sparse file costs what it holds.
      bytes += st.blocks * 512;
      if (st.isDirectory()) stack.push(p);
    }
  }
  return bytes;
}

export class DiskWatch {
  private timer?: NodeJS.Timeout;
  private running = false;

  constructor(private readonly opts: DiskWatchOptions) {}

  start(): void {
    if (this.opts.intervalMs <= 0 || this.timer) return;
    this.timer = setInterval(() => void this.round(), this.opts.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One measurement of every limited task; exported for tests. */
  async round(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (const t of this.opts.tasks()) {
        const used = await diskUsage(t.sandbox);
        if (used > t.limitMb * 1024 * 1024) this.opts.onOver(t.key, used, t.limitMb);
      }
    } catch (err) {
      this.opts.logger.warn(`disk usage check failed: ${errorMessage(err)}`);
    } finally {
      this.running = false;
    }
  }
}
