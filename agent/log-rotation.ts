/**
 * Size caps for tasks' stdout and stderr. A task writes its logs through
 * descriptors the agent opened with O_APPEND and then let go of (the task
 * outlives the agent), so the agent cannot switch the task to a new file:
 * it rotates by copy and truncate, as logrotate's `copytruncate` does.
 *
 *   stdout > maxBytes ─► stdout.(k-1) → stdout.k … stdout.1 → stdout.2
 *                     ─► copy stdout → stdout.1 (and what was appended during the copy)
 *                     ─► truncate stdout to 0: the task's next write lands at offset 0
 *
 * Bytes the task writes between the last read of the copy and the truncate
 * (microseconds) are lost; everything else is in stdout.1 or stdout. Readers
 * following a log by offset see its size drop below their offset and start
 * again from 0 (`mezz logs --follow` does).
 */
import { constants as FS } from 'node:fs';
import { lstat, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage } from '../lib/errors';
import type { Logger } from '../lib/log';

export const DEFAULT_LOG_MAX_BYTES = 10 * 1024 * 1024;
export const DEFAULT_LOG_MAX_FILES = 2;
export const LOG_FILES = ['stdout', 'stderr'] as const;

export interface LogRotationPolicy {
  /** A log larger than this is rotated; 0: never. */
  maxBytes: number;
  /** Rotated copies kept (`stdout.1` … `stdout.N`); 0: the old content is dropped. */
  maxFiles: number;
}

/**
 * Rotates `path` if it is a regular file larger than `policy.maxBytes`.
 * Resolves true when it rotated. A symlink is never followed (a task could
 * point its stdout at a file of the agent's): the log is opened with
 * O_NOFOLLOW and copied and truncated through that descriptor. Throws on
 * I/O errors other than the file being absent or a symlink.
 */
export async function rotateIfLarge(path: string, policy: LogRotationPolicy): Promise<boolean> {
  if (!(policy.maxBytes > 0)) return false;
  // Checked every second for every running task: one lstat for the usual small log, not open + fstat + close.
  const small = await lstat(path).then((st) => !st.isFile() || st.size <= policy.maxBytes, (err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return true;
    throw err;
  });
  if (small) return false;
  const log = await open(path, FS.O_RDWR | FS.O_NOFOLLOW | FS.O_NONBLOCK).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' || err.code === 'ELOOP') return undefined;
    throw err;
  });
  if (!log) return false;
  try {
    const st = await log.stat();
    if (!st.isFile() || st.size <= policy.maxBytes) return false;
    if (policy.maxFiles > 0) {
      await rm(`${path}.${policy.maxFiles}`, { force: true });
      for (let k = policy.maxFiles - 1; k >= 1; k--) {
        await rename(`${path}.${k}`, `${path}.${k + 1}`).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'ENOENT') throw err;
        });
      }
      await copyAll(log, `${path}.1`);
    }
    await log.truncate(0);
    return true;
  } finally {
    await log.close();
  }
}

/** Copies `from` to a new file `dst` up to its end, including what is appended while copying. */
async function copyAll(from: FileHandle, dst: string): Promise<void> {
  const to = await open(dst, FS.O_WRONLY | FS.O_CREAT | FS.O_EXCL | FS.O_NOFOLLOW, 0o644);
  try {
    const buf = Buffer.alloc(1024 * 1024);
    let pos = 0;
    for (;;) {
      const { bytesRead } = await from.read(buf, 0, buf.length, pos);
      if (!bytesRead) break;
      await to.write(buf, 0, bytesRead);
      pos += bytesRead;
    }
  } finally {
    await to.close();
  }
}

export interface LogRotatorOptions extends LogRotationPolicy {
  /** The sandboxes whose logs to watch now (those of the tasks the agent tracks). */
  sandboxes: () => Iterable<string>;
  /** How often logs are checked. Default 1000 ms. */
  intervalMs?: number;
  logger: Logger;
}

/** Checks the logs of the agent's tasks every interval and rotates the large ones. */
export class LogRotator {
  private timer?: NodeJS.Timeout;
  private running = false;
  /** Sandbox logs that failed, so that each failure is logged once. */
  private readonly failed = new Set<string>();

  constructor(private readonly opts: LogRotatorOptions) {}

  start(): void {
    if (!(this.opts.maxBytes > 0) || this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.opts.intervalMs ?? 1000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One pass over every watched log; resolves the paths rotated. Never throws. */
  async tick(): Promise<string[]> {
    if (this.running) return [];
    this.running = true;
    const rotated: string[] = [];
    try {
      for (const sandbox of new Set(this.opts.sandboxes())) {
        for (const name of LOG_FILES) {
          const path = join(sandbox, name);
          try {
            if (await rotateIfLarge(path, this.opts)) rotated.push(path);
            this.failed.delete(path);
          } catch (err) {
            if (!this.failed.has(path)) this.opts.logger.warn(`cannot rotate ${path}: ${errorMessage(err)}`);
            this.failed.add(path);
          }
        }
      }
    } finally {
      this.running = false;
    }
    return rotated;
  }
}
