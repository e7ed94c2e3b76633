/**
 * Garbage collection of finished sandboxes, as Mesos' `--gc_delay` and
 * `--gc_disk_headroom` do it:
 *
 *   every interval ─► list <work-dir>/sandboxes/<framework>/<task>-<hex>
 *                  ─► drop those in use (tracked tasks, launch checkpoints)
 *                  ─► finished longer than `delayMs` ago: remove
 *                  ─► free space below `diskHeadroom` of the file system:
 *                     remove the oldest finished ones first, until above it
 *
 * A sandbox is finished when no task the agent tracks, and no launch
 * checkpoint, names it; when it finished is the newest mtime of the
 * directory and its stdout, stderr and exit_status (the wrapper writes
 * exit_status last). A sandbox younger than MIN_AGE_MS is never removed,
 * not even for space, so that one being set up is safe.
 */
import { lstat, readdir, rm, rmdir, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage } from '../lib/errors';
import type { Logger } from '../lib/log';
import { readCheckpoints } from './executor/index';

export const DEFAULT_SANDBOX_GC_DELAY_MS = 60 * 60 * 1000;
export const DEFAULT_GC_DISK_HEADROOM = 0.1;
/** Sandboxes modified this recently are never removed. */
export const MIN_AGE_MS = 5000;

export interface SandboxEntry {
  dir: string;
  /** ms since the epoch: when the task last wrote to it (≈ when it ended). */
  finishedAt: number;
}

export interface GcPlan {
  /** Finished longer than the delay ago: remove. */
  expired: string[];
  /** The other finished sandboxes, oldest first: removed one by one while the disk is short of space. */
  byAge: string[];
}

/**
 * Pure: which finished sandboxes are due, and in which order the others go
 * when space is short. `entries` must hold finished sandboxes only.
 */
export function planGc(entries: readonly SandboxEntry[], opts: { now: number; delayMs: number }): GcPlan {
  const sorted = [...entries].sort((a, b) => a.finishedAt - b.finishedAt || a.dir.localeCompare(b.dir));
  const expired: string[] = [];
  const byAge: string[] = [];
  for (const e of sorted) {
    const age = opts.now - e.finishedAt;
    if (age < MIN_AGE_MS) continue;
    (age >= opts.delayMs ? expired : byAge).push(e.dir);
  }
  return { expired, byAge };
}

export interface SandboxGcOptions {
  workDir: string;
  /** Finished sandboxes older than this are removed. */
  delayMs: number;
  /** Fraction (0-1) of the work dir's file system to keep free; 0: no space-driven removal. */
  diskHeadroom: number;
  /** Sandboxes of the tasks the agent tracks (running, or ended and not yet acknowledged). */
  inUse: () => Iterable<string>;
  /** Default: half the delay, within 1 s to 60 s. */
  intervalMs?: number;
  logger: Logger;
  /** Tests: the clock and the free fraction of the disk. */
  now?: () => number;
  freeFraction?: () => Promise<number>;
}

export interface GcResult {
  removed: string[];
  /** Free fraction of the disk after the pass (undefined when it could not be read). */
  free?: number;
}

export class SandboxGc {
  private timer?: NodeJS.Timeout;
  private running = false;
  /** Said once per stretch of low disk space. */
  private lowWarned = false;
  private readonly root: string;
  private readonly now: () => number;

  constructor(private readonly opts: SandboxGcOptions) {
    this.root = join(opts.workDir, 'sandboxes');
    this.now = opts.now ?? Date.now;
  }

  start(): void {
    if (this.timer) return;
    const every = this.opts.intervalMs ?? Math.min(60_000, Math.max(1000, this.opts.delayMs / 2));
    this.timer = setInterval(() => void this.collect(), every);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One pass (see the file comment). Never throws; a pass already under way makes this a no-op. */
  async collect(): Promise<GcResult> {
    if (this.running) return { removed: [] };
    this.running = true;
    const removed: string[] = [];
    try {
      const plan = planGc(await this.finished(), { now: this.now(), delayMs: this.opts.delayMs });
      for (const dir of plan.expired) if (await this.remove(dir)) removed.push(dir);
      let free = await this.freeFraction();
      if (free !== undefined && free < this.opts.diskHeadroom) {
        const before = removed.length;
        for (const dir of plan.byAge) {
          if (free === undefined || free >= this.opts.diskHeadroom) break;
          if (await this.remove(dir)) removed.push(dir);
          free = await this.freeFraction();
        }
        const early = removed.length - before;
        if (early || !this.lowWarned) {
          this.opts.logger.warn(`sandbox GC: free space of ${this.opts.workDir} below ${pct(this.opts.diskHeadroom)}: ` +
            `removed ${early} finished sandbox(es) early, oldest first; now ${free === undefined ? '?' : pct(free)} free` +
            (free !== undefined && free < this.opts.diskHeadroom ? '; what is left belongs to running tasks or is not the agent\'s' : ''));
        }
        this.lowWarned = true;
      } else {
        this.lowWarned = false;
      }
      if (removed.length) this.opts.logger.info(`sandbox GC: removed ${removed.length} finished sandbox(es)`);
      return { removed, free };
    } catch (err) {
      this.opts.logger.warn(`sandbox GC failed: ${errorMessage(err)}`);
      return { removed };
    } finally {
      this.running = false;
    }
  }

  /** Finished sandboxes on disk with when they finished. */
  private async finished(): Promise<SandboxEntry[]> {
    const busy = new Set(this.opts.inUse());
    for (const cp of await readCheckpoints(this.opts.workDir)) busy.add(cp.sandbox);
    const out: SandboxEntry[] = [];
    for (const fw of await readdir(this.root).catch(() => [] as string[])) {
      for (const name of await readdir(join(this.root, fw)).catch(() => [] as string[])) {
        const dir = join(this.root, fw, name);
        if (busy.has(dir)) continue;
        const st = await lstat(dir).catch(() => undefined);
        if (!st?.isDirectory()) continue;
        let finishedAt = st.mtimeMs;
        for (const f of ['stdout', 'stderr', 'exit_status']) {
          const s = await lstat(join(dir, f)).catch(() => undefined);
          if (s && s.mtimeMs > finishedAt) finishedAt = s.mtimeMs;
        }
        out.push({ dir, finishedAt });
      }
    }
    return out;
  }

  private async remove(dir: string): Promise<boolean> {
    try {
      await rm(dir, { recursive: true, force: true });
      // The framework's directory goes with its last sandbox.
      await rmdir(join(dir, '..')).catch(() => undefined);
      return true;
    } catch (err) {
      this.opts.logger.warn(`sandbox GC: cannot remove ${dir}: ${errorMessage(err)}`);
      return false;
    }
  }

  private async freeFraction(): Promise<number | undefined> {
    if (!(this.opts.diskHeadroom > 0)) return undefined;
    if (this.opts.freeFraction) return this.opts.freeFraction();
    try {
      const fs = await statfs(this.opts.workDir);
      return fs.blocks > 0 ? fs.bavail / fs.blocks : undefined;
    } catch {
      return undefined;
    }
  }
}

function pct(x: number): string {
  return `${Math.round(x * 1000) / 10}%`;
}
