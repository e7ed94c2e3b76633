/**
 * The status-update journal: what the agent must remember of every task's
 * status updates across a restart (TaskInfo, sandbox, latest status,
 * unacknowledged updates), kept as one append-only file of JSON lines for
 * all tasks:
 *
 *   <work-dir>/meta/updates.log    {"task":{frameworkId, task, sandbox}}      a task, or its new sandbox
 *                                  {"update":TaskStatus}                      an update made
 *                                  {"ack":{frameworkId, taskId, uuid}}        an update acknowledged
 *                                  {"forget":{frameworkId, taskId}}           the task forgotten
 *
 *   record(update) ─┐
 *   acknowledge ────┼─► lines of this tick ─► one append (+ one fdatasync when an update is among them)
 *   forget ─────────┘        ─► the updates' promises resolve: the queue may send them
 *   past 2 × the live size (≥ 1 MiB) ─► compaction: the live state to a temporary file, fsync, rename
 *
 * Group commit: updates recorded while a write is under way go together in
 * the next, so a burst of launches costs a few fsyncs, not three per task
 * (and no temporary file per update). Acknowledgements and forgets are not
 * synced on their own: losing them in a host crash only makes the restarted
 * agent resend updates the master already has, with their uuids, which
 * at-least-once delivery allows. Replaying the file (apply, below) gives
 * the state; a torn last line (a crash during an append) does not parse and
 * is skipped, and opening the journal rewrites the file, so nothing is ever
 * appended after a torn line.
 */
import { mkdir, open, readFile, rename, rm, stat, statfs, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { TaskInfo__Output, TaskStatus } from '../lib/proto';
import { readStatusCheckpoints } from './executor/checkpoint';

/** The journal is compacted once it grows past twice its live size, and never below this. */
export const MIN_COMPACT_BYTES = 1024 * 1024;

/** A task as the journal knows it. */
export interface JournaledTask {
  frameworkId: string;
  task: TaskInfo__Output;
  sandbox?: string;
  /** The latest update made (what a re-registration reports); absent before the first. */
  latest?: TaskStatus;
  /** Updates not acknowledged yet, oldest first: resent after a restart with their uuids. */
  pending: TaskStatus[];
}

/** The task an update is about. */
export interface JournalTaskRef {
  frameworkId: string;
  task: TaskInfo__Output;
  sandbox?: string;
}

type Entry =
  | { task: JournalTaskRef }
  | { update: TaskStatus }
  | { ack: { frameworkId: string; taskId: string; uuid: string } }
  | { forget: { frameworkId: string; taskId: string } };

/**
 * Space set aside beside the journal, given up the moment a write finds the
 * disk full, so that the updates saying so (a launch that failed with
 * ENOSPC) can still be recorded, and therefore sent. 4 MiB holds a compacted
 * journal of a few thousand tasks.
 */
export const RESERVE_BYTES = 4 * 1024 * 1024;

export function reservePath(workDir: string): string {
  return join(workDir, 'meta', 'updates.reserve');
}

export function journalPath(workDir: string): string {
  return join(workDir, 'meta', 'updates.log');
}

const keyOf = (frameworkId: string, taskId: string) => `${frameworkId}\u0000${taskId}`;

/** One entry's effect on the state; replay and live writes both go through it. */
function apply(state: Map<string, JournaledTask>, e: Entry): void {
  if ('task' in e) {
    const k = keyOf(e.task.frameworkId, e.task.task.taskId);
    const t = state.get(k);
    if (t) Object.assign(t, { task: e.task.task, sandbox: e.task.sandbox });
    else state.set(k, { frameworkId: e.task.frameworkId, task: e.task.task, sandbox: e.task.sandbox, pending: [] });
  } else if ('update' in e) {
    const t = state.get(keyOf(e.update.frameworkId ?? '', e.update.taskId ?? ''));
    if (!t) return;
    if (!t.pending.some((p) => p.uuid === e.update.uuid)) t.pending.push(e.update);
    t.latest = e.update;
  } else if ('ack' in e) {
    const t = state.get(keyOf(e.ack.frameworkId, e.ack.taskId));
    const i = t ? t.pending.findIndex((p) => p.uuid === e.ack.uuid) : -1;
    if (i >= 0) t!.pending.splice(i, 1);
  } else if ('forget' in e) {
    state.delete(keyOf(e.forget.frameworkId, e.forget.taskId));
  }
}

function replay(text: string, into = new Map<string, JournaledTask>()): Map<string, JournaledTask> {
  for (const line of text.split('\n')) {
    if (!line) continue;
    let e: Entry;
    try {
      e = JSON.parse(line) as Entry;
    } catch {
      continue; // torn by a crash during an append
    }
    if (e && typeof e === 'object') apply(into, e);
  }
  return into;
}

/** The tasks the journal under `workDir` holds, without opening it for writing (recovery reads it so too). */
export async function readJournal(workDir: string): Promise<JournaledTask[]> {
  return [...(await readState(workDir)).values()];
}

/** The journal's state, over the per-task status checkpoints of agents before the journal (meta/updates/). */
async function readState(workDir: string): Promise<Map<string, JournaledTask>> {
  const state = new Map<string, JournaledTask>();
  for (const c of await readStatusCheckpoints(workDir)) {
    state.set(keyOf(c.frameworkId, c.task.taskId), { frameworkId: c.frameworkId, task: c.task, sandbox: c.sandbox, latest: c.latest, pending: c.pending ?? [] });
  }
  const text = await readFile(journalPath(workDir), 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return '';
    throw err;
  });
  return replay(text, state);
}

const line = (e: Entry) => JSON.stringify(e) + '\n';

export interface StatusJournalOptions {
  /** Compaction threshold's floor. Default MIN_COMPACT_BYTES. */
  minCompactBytes?: number;
  /** Told when the journal opens without its rewrite (a full disk). */
  onWarning?: (message: string) => void;
}

export class StatusJournal {
  /** Writes so far: appends, fdatasyncs of appends, and compactions (each a rewrite, fsynced). */
  readonly stats = { appends: 0, syncs: 0, compactions: 0 };
  private fh?: FileHandle;
  /** Bytes in the file; past `compactAt` the next write compacts instead of appending. */
  private size = 0;
  private compactAt: number;
  private readonly minCompactBytes: number;
  /** Entries not written yet, and who waits for them to be on disk. */
  private lines: string[] = [];
  private waiters: { resolve: () => void; reject: (err: unknown) => void }[] = [];
  private scheduled = false;
  private writing?: Promise<void>;
  /** An append failed part-way: the file may end in half a line, so the next write rewrites it. */
  private torn = false;
  private closed = false;

  private constructor(
    private readonly workDir: string,
    /** The state of the file plus the lines not yet written. */
    private readonly state: Map<string, JournaledTask>,
    private readonly opts: StatusJournalOptions,
  ) {
    this.minCompactBytes = opts.minCompactBytes ?? MIN_COMPACT_BYTES;
    this.compactAt = this.minCompactBytes;
  }

  /**
   * Opens the journal under `workDir` (made if missing): reads it, takes
   * over per-task status checkpoints left by an earlier agent version, and
   * rewrites it compacted. On a full disk (ENOSPC, EDQUOT) the rewrite is
   * skipped and the file kept as it is, to be rewritten by the next write:
   * an agent must still start and recover its tasks when its disk is full.
   * Throws when the file cannot be read or opened.
   */
  static async open(workDir: string, opts: StatusJournalOptions = {}): Promise<StatusJournal> {
    await mkdir(dirname(journalPath(workDir)), { recursive: true });
    const j = new StatusJournal(workDir, await readState(workDir), opts);
    try {
      await j.compact();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOSPC' && code !== 'EDQUOT') throw err;
      await rm(`${journalPath(workDir)}.tmp`, { force: true });
      opts.onWarning?.(`cannot rewrite ${journalPath(workDir)} (${code}: the disk is full); keeping it as it is until a write succeeds`);
      j.fh = await open(journalPath(workDir), 'a');
      j.size = (await j.fh.stat()).size;
      // It may end in half a line: the next write rewrites it rather than append after that.
      j.torn = true;
    }
    // Their content is in the journal now.
    await rm(join(workDir, 'meta', 'updates'), { recursive: true, force: true });
    await j.keepReserve();
    return j;
  }

  /** The tasks recorded, as replayed: for recovery after a restart. */
  tasks(): JournaledTask[] {
    return [...this.state.values()].map((t) => ({ ...t, pending: [...t.pending] }));
  }

  /**
   * Records an update of `task`. Resolves once the update, and every entry
   * made before it, is on disk (fdatasync); rejects when the write fails or
   * the journal is closed. Updates of one task must be recorded in the order
   * they were made.
   */
  record(task: JournalTaskRef, status: TaskStatus): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the status journal is closed'));
    const known = this.state.get(keyOf(task.frameworkId, task.task.taskId));
    if (!known || known.task !== task.task || known.sandbox !== task.sandbox) {
      this.append({ task: { frameworkId: task.frameworkId, task: task.task, sandbox: task.sandbox } });
    }
    this.append({ update: status });
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Drops an acknowledged update; written with the next write, not synced on its own. */
  acknowledge(frameworkId: string, taskId: string, uuid: string): void {
    if (!this.closed && this.state.get(keyOf(frameworkId, taskId))?.pending.some((p) => p.uuid === uuid)) {
      this.append({ ack: { frameworkId, taskId, uuid } });
    }
  }

  /** Drops a task; written with the next write, not synced on its own. */
  forget(frameworkId: string, taskId: string): void {
    if (!this.closed && this.state.has(keyOf(frameworkId, taskId))) this.append({ forget: { frameworkId, taskId } });
  }

  /** Writes what is pending and closes the file; later records are refused. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.writing || this.scheduled) await (this.writing ?? new Promise((r) => setImmediate(r)));
    await this.fh?.close();
    this.fh = undefined;
  }

  private append(e: Entry): void {
    apply(this.state, e);
    this.lines.push(line(e));
    this.schedule();
  }

  /** Writes at the next turn of the event loop, so that every entry made in this one shares the write. */
  private schedule(): void {
    if (this.scheduled || this.writing) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.writing = this.write().finally(() => {
        this.writing = undefined;
        if (this.lines.length) this.schedule();
      });
    });
  }

  private async write(): Promise<void> {
    const text = this.lines.join('');
    const waiters = this.waiters;
    this.lines = [];
    this.waiters = [];
    try {
      const bytes = Buffer.byteLength(text);
      if (this.torn || this.size + bytes > this.compactAt) {
        // The state already holds these entries: the rewrite covers them.
        await this.compact();
      } else {
        try {
          await this.fh!.appendFile(text);
        } catch (err) {
          this.torn = true;
          throw err;
        }
        this.size += bytes;
        this.stats.appends++;
        if (waiters.length) {
          await this.fh!.datasync();
          this.stats.syncs++;
        }
      }
      for (const w of waiters) w.resolve();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOSPC' || code === 'EDQUOT') await this.releaseReserve(code);
      for (const w of waiters) w.reject(err);
    }
  }

  /**
   * Makes the reserve file if it is missing: RESERVE_BYTES, or a tenth of
   * the free space on a small disk. A disk too full for it is said once and
   * otherwise ignored.
   */
  private async keepReserve(): Promise<void> {
    const path = reservePath(this.workDir);
    try {
      if (await stat(path).catch(() => undefined)) return;
      const fs = await statfs(dirname(path));
      const bytes = Math.min(RESERVE_BYTES, Math.floor((fs.bavail * fs.bsize) / 10));
      const fh = await open(path, 'w');
      try {
        await fh.write(Buffer.alloc(bytes));
        await fh.datasync();
      } finally {
        await fh.close();
      }
    } catch (err) {
      await rm(path, { force: true });
      this.opts.onWarning?.(`cannot set aside ${RESERVE_BYTES} bytes for the status journal (${(err as NodeJS.ErrnoException).code ?? err}); on a full disk, updates wait until space is freed`);
    }
  }

  /** A write found the disk full: give up the reserve, so that the retry of this write finds room. */
  private async releaseReserve(code: string): Promise<void> {
    const path = reservePath(this.workDir);
    if (!(await stat(path).catch(() => undefined))) return;
    await rm(path, { force: true });
    this.opts.onWarning?.(`the work dir's disk is full (${code}): released the status journal's reserve so that updates can still be recorded; free space on it`);
  }

  /**
   * Rewrites the file as the live state (each task, its unacknowledged
   * updates, and its latest if acknowledged: as an update then an ack):
   * temporary file, fsync, rename, fsync of the directory, so that a crash
   * leaves the old file or the new one, and appends after it are not lost
   * with a rename that never reached the disk.
   */
  private async compact(): Promise<void> {
    // Taken before the first await: the state then matches the entries handed to this write.
    const out: string[] = [];
    for (const t of this.state.values()) {
      out.push(line({ task: { frameworkId: t.frameworkId, task: t.task, sandbox: t.sandbox } }));
      for (const s of t.pending) out.push(line({ update: s }));
      const latest = t.latest;
      if (latest && !t.pending.some((p) => p.uuid === latest.uuid)) {
        out.push(line({ update: latest }), line({ ack: { frameworkId: t.frameworkId, taskId: t.task.taskId, uuid: latest.uuid ?? '' } }));
      }
    }
    const text = out.join('');
    const path = journalPath(this.workDir);
    const tmp = `${path}.tmp`;
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(text);
      await fh.datasync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
    const dir = await open(dirname(path), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
    await this.fh?.close();
    this.fh = await open(path, 'a');
    this.size = Buffer.byteLength(text);
    this.compactAt = Math.max(this.minCompactBytes, 2 * this.size);
    this.torn = false;
    this.stats.compactions++;
  }
}
