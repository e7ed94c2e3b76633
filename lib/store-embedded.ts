/**
 * The embedded store: every key in memory, persisted as one JSON file under
 * the data directory. Each write replaces the file atomically (temp file,
 * fsync, rename, fsync of the directory), so a crash mid-write leaves the
 * previous or the new content, never a mix. Writes that arrive while one is
 * being flushed wait, and are written together by the next flush (group
 * commit).
 *
 *   put/delete/txn ──queue──▶ flush: applied to a copy, one file write for the batch
 *        ──durable──▶ applied in memory ──▶ watch listeners ──▶ each caller resolves
 *                 └─failed─▶ nothing changes; each caller of the batch rejects (StoreError)
 *
 * Memory holds only what is on disk: a write the caller was told failed is
 * never read back, announced to a watcher, or written later by another
 * write. Reads (get, list) see a write once it has resolved.
 *
 * The file also holds the store revision, and each key its create and
 * modification revisions, so that a createRevision compare means the same
 * after a restart. A file written before revisions existed (no `revision`
 * field) is read with revisions assigned in key order.
 *
 * A file that exists but cannot be read or parsed stops the caller with a
 * StoreError naming the file: starting empty would silently forget every
 * agent and framework.
 */
import { promises as fs, mkdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { StoreError, errorMessage } from './errors';
import { assertTxn, compareKeys, valueJson, type KeyValue, type Store, type StoreWatch, type TxnCompare, type TxnOp, type WatchEvent } from './store';

const FORMAT = 'mezzanine-store/1';

interface FileEntry {
  value: unknown;
  version: number;
  createRevision?: number;
  modRevision?: number;
}

interface FileFormat {
  format: typeof FORMAT;
  /** The store revision; absent in files written before revisions existed. */
  revision?: number;
  entries: Record<string, FileEntry>;
}

interface Entry {
  /** The value as JSON: what is stored is a copy, and every read parses a fresh one. */
  json: string;
  version: number;
  createRevision: number;
  modRevision: number;
}

/** A change waiting for its flush, then for delivery to the watchers. */
interface PendingEvent {
  revision: number;
  type: 'put' | 'delete';
  key: string;
  json?: string;
  version: number;
}

/** A write waiting for its flush: one put, delete or transaction, and its caller. */
interface WriteRequest {
  compares: readonly TxnCompare[];
  ops: readonly TxnOp[];
  /** The put values as JSON, made when the caller asked (so a value that cannot be stored fails only its caller). */
  jsons: (string | undefined)[];
  resolve(applied: boolean): void;
  reject(err: unknown): void;
}

/** The changes of one batch, on top of what is on disk: an entry, or undefined for a deleted key. */
type Overlay = Map<string, Entry | undefined>;

interface Watcher {
  prefix: string;
  /** Only changes at or after this revision: those made after `watch()` resolved. */
  fromRevision: number;
  listener: (e: WatchEvent) => void;
}

export class EmbeddedStore implements Store {
  /** What is on disk, and nothing else. */
  private readonly entries = new Map<string, Entry>();
  private readonly file: string;
  private readonly dataDir: string;
  /** The revision on disk. */
  private revision = 0;
  private closed = false;
  private queue: WriteRequest[] = [];
  /** The running flush loop, while there is one. */
  private flushing: Promise<void> | undefined;
  /** Set when the file may differ from memory (a failed write could not be undone): every later write is refused. */
  private broken: StoreError | undefined;
  private readonly watchers = new Set<Watcher>();

  /** Opens (or creates) `<dataDir>/registry.json`. Throws StoreError if it is unreadable or corrupt. */
  constructor(dataDir: string) {
    this.dataDir = dataDir;
    this.file = path.join(dataDir, 'registry.json');
    try {
      mkdirSync(dataDir, { recursive: true });
    } catch (err) {
      throw new StoreError(`cannot create data directory ${dataDir}: ${errorMessage(err)}`, { cause: err, path: dataDir });
    }
    if (existsSync(this.file)) this.load();
  }

  private load(): void {
    let parsed: FileFormat;
    try {
      parsed = JSON.parse(readFileSync(this.file, 'utf8')) as FileFormat;
    } catch (err) {
      throw new StoreError(
        `the registry ${this.file} is unreadable or corrupt (${errorMessage(err)}); ` +
          'restore it from a backup, or move it away to start with an empty registry (agents and frameworks must then register anew)',
        { cause: err },
      );
    }
    if (parsed?.format !== FORMAT || typeof parsed.entries !== 'object' || parsed.entries === null) {
      throw new StoreError(`the registry ${this.file} is not a Mezzanine store file (format ${String(parsed?.format)})`);
    }
    let revision = typeof parsed.revision === 'number' ? parsed.revision : 0;
    const legacy: string[] = [];
    for (const [key, e] of Object.entries(parsed.entries)) {
      if (typeof e?.version !== 'number' || !('value' in e)) {
        throw new StoreError(`the registry ${this.file} is corrupt: key ${key} has no value or version; restore it from a backup`);
      }
      if (typeof e.createRevision === 'number' && typeof e.modRevision === 'number') {
        this.entries.set(key, { json: JSON.stringify(e.value), version: e.version, createRevision: e.createRevision, modRevision: e.modRevision });
        revision = Math.max(revision, e.modRevision);
      } else {
        legacy.push(key);
      }
    }
    // Keys from before revisions existed: distinct revisions after every known one.
    for (const key of legacy.sort(compareKeys)) {
      const e = parsed.entries[key]!;
      revision++;
      this.entries.set(key, { json: JSON.stringify(e.value), version: e.version, createRevision: revision, modRevision: revision });
    }
    this.revision = revision;
  }

  async get<T>(key: string): Promise<KeyValue<T> | undefined> {
    this.checkOpen();
    const e = this.entries.get(key);
    return e && toKeyValue<T>(key, e);
  }

  async put(key: string, value: unknown): Promise<void> {
    await this.write([], [{ op: 'put', key, value }]);
  }

  async delete(key: string): Promise<void> {
    this.checkOpen();
    if (!this.entries.has(key) && !this.queue.length && !this.flushing) return; // absent, and no write pending that could create it
    await this.write([], [{ op: 'delete', key }]);
  }

  async list<T>(prefix: string): Promise<KeyValue<T>[]> {
    this.checkOpen();
    // Sorted by UTF-8 bytes, as etcd sorts; each key encoded once.
    const keys = [...this.entries.keys()].filter((k) => k.startsWith(prefix)).map((k) => ({ k, b: Buffer.from(k) }));
    keys.sort((x, y) => Buffer.compare(x.b, y.b));
    return keys.map(({ k }) => toKeyValue<T>(k, this.entries.get(k)!));
  }

  async txn(compares: readonly TxnCompare[], ops: readonly TxnOp[]): Promise<boolean> {
    assertTxn(compares, ops);
    return this.write(compares, ops);
  }

  async watch(prefix: string, listener: (e: WatchEvent) => void): Promise<StoreWatch> {
    this.checkOpen();
    // The embedded store cannot lose history, so a watch never ends by itself: no onError.
    const w: Watcher = { prefix, fromRevision: this.revision + 1, listener };
    this.watchers.add(w);
    return {
      close: async () => {
        this.watchers.delete(w);
      },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true; // later calls are refused; what is queued is still written
    while (this.flushing) await this.flushing;
    this.watchers.clear();
  }

  private checkOpen(): void {
    if (this.closed) throw new StoreError(`the store ${this.file} is closed`, { path: this.dataDir });
  }

  /**
   * Queues one write (a put or delete is a transaction without compares) and
   * resolves once it is on disk and in memory: true if its compares held,
   * false if they did not (nothing written). Rejects with StoreError, having
   * changed nothing, if the file could not be written.
   */
  private write(compares: readonly TxnCompare[], ops: readonly TxnOp[]): Promise<boolean> {
    this.checkOpen();
    if (this.broken) throw this.broken;
    // Serialised now, so that a value that cannot be stored fails its caller alone.
    // Stored as JSON so that later mutation of the caller's object cannot change the store.
    const jsons = ops.map((op) => (op.op === 'put' ? valueJson(op.key, op.value) : undefined));
    const done = new Promise<boolean>((resolve, reject) => this.queue.push({ compares, ops, jsons, resolve, reject }));
    this.flushing ??= this.flushLoop().finally(() => {
      this.flushing = undefined;
    });
    return done;
  }

  /** Writes the queue in batches until it is empty: each batch one file write, applied in memory only once durable. */
  private async flushLoop(): Promise<void> {
    while (this.queue.length) {
      const batch = this.queue.splice(0);
      if (this.broken) {
        for (const req of batch) req.reject(this.broken);
        continue;
      }
      const overlay: Overlay = new Map();
      const lookup = (key: string) => (overlay.has(key) ? overlay.get(key) : this.entries.get(key));
      let revision = this.revision;
      const events: PendingEvent[] = [];
      // In queue order, each against what the ones before it wrote.
      const applied = batch.map((req) => {
        for (const c of req.compares) {
          const e = lookup(c.key);
          const holds = 'createRevision' in c ? e !== undefined && e.createRevision === c.createRevision : (e?.version ?? 0) === c.version;
          if (!holds) return false;
        }
        const next = revision + 1;
        let changed = false;
        for (const [i, op] of req.ops.entries()) {
          const old = lookup(op.key);
          if (op.op === 'put') {
            const json = req.jsons[i]!;
            const version = (old?.version ?? 0) + 1;
            overlay.set(op.key, { json, version, createRevision: old?.createRevision ?? next, modRevision: next });
            events.push({ revision: next, type: 'put', key: op.key, json, version });
            changed = true;
          } else if (old) {
            overlay.set(op.key, undefined);
            events.push({ revision: next, type: 'delete', key: op.key, version: 0 });
            changed = true;
          }
        }
        if (changed) revision = next;
        return true;
      });
      if (events.length) {
        try {
          await this.writeFile(this.render(overlay, revision));
        } catch (err) {
          for (const req of batch) req.reject(err);
          continue;
        }
        for (const [key, e] of overlay) {
          if (e) this.entries.set(key, e);
          else this.entries.delete(key);
        }
        this.revision = revision;
        this.deliver(events);
      }
      batch.forEach((req, i) => req.resolve(applied[i]!));
    }
  }

  /** Hands durable events to the watchers, in order. */
  private deliver(events: readonly PendingEvent[]): void {
    if (this.watchers.size === 0) return;
    for (const ev of events) {
      for (const w of this.watchers) {
        if (ev.revision < w.fromRevision || !ev.key.startsWith(w.prefix)) continue;
        const e: WatchEvent = { type: ev.type, key: ev.key, version: ev.version };
        if (ev.json !== undefined) e.value = JSON.parse(ev.json);
        try {
          w.listener(e);
        } catch (err) {
          // A listener that throws is a bug: fail loudly, but not inside the store's write path.
          setImmediate(() => {
            throw err;
          });
        }
      }
    }
  }

  /**
   * Replaces the file with `body`. On failure the file is as before and
   * StoreError says why and what to do — unless the failure came after the
   * rename (the directory's fsync): the new content may then be on disk, so
   * the previous content is written back, and if even that fails the store
   * refuses every later write (its file and memory may differ until a restart
   * re-reads the file).
   */
  private async writeFile(body: string): Promise<void> {
    let renamed = false;
    try {
      await this.replaceFile(body, () => (renamed = true));
    } catch (err) {
      const failure = this.writeError(err);
      if (!renamed) throw failure;
      try {
        await this.replaceFile(this.render(new Map(), this.revision), () => undefined);
      } catch (again) {
        this.broken = new StoreError(
          `the registry ${this.file} may hold a write that was reported failed (${errorMessage(err)}), and the earlier content ` +
            `could not be written back (${errorMessage(again)}); this store refuses further writes: fix the data directory ` +
            `${this.dataDir} and restart, so that the file is read again`,
          { cause: again, path: this.dataDir, sysCode: sysCode(again) },
        );
      }
      throw failure;
    }
  }

  /** temp file, fsync, rename (then `onRenamed`), fsync of the directory. */
  private async replaceFile(body: string, onRenamed: () => void): Promise<void> {
    const tmp = `${this.file}.tmp-${process.pid}`;
    try {
      const fh = await fs.open(tmp, 'w');
      try {
        await fh.writeFile(body);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await fs.rename(tmp, this.file);
    } catch (err) {
      await fs.rm(tmp, { force: true }).catch(() => undefined);
      throw err;
    }
    onRenamed();
    const dir = await fs.open(this.dataDir, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }

  /** The StoreError for a failed file write: names the file, the cause and what to do. */
  private writeError(err: unknown): StoreError {
    const code = sysCode(err);
    const advice = ({
      EROFS: `the data directory ${this.dataDir} is on a read-only file system: remount it read-write, or start with another --data-dir`,
      ENOSPC: `the file system of the data directory ${this.dataDir} is full: free space there`,
      EDQUOT: `the disk quota of the data directory ${this.dataDir} is used up: free space or raise the quota`,
      EACCES: `this process may not write in the data directory ${this.dataDir}: give its user write access, or start with another --data-dir`,
      EPERM: `this process may not write in the data directory ${this.dataDir}: give its user write access, or start with another --data-dir`,
    } as Record<string, string>)[code ?? ''] ?? `check the data directory ${this.dataDir}`;
    return new StoreError(`cannot write the registry ${this.file}: ${errorMessage(err)}; ${advice}. The write was not applied`,
      { cause: err, path: this.dataDir, sysCode: code });
  }

  /** The file's content: what is on disk with `overlay` applied, built from the stored JSON without parsing it again. */
  private render(overlay: Overlay, revision: number): string {
    const parts: string[] = [];
    const entry = (key: string, e: Entry) =>
      parts.push(`${JSON.stringify(key)}:{"value":${e.json},"version":${e.version},"createRevision":${e.createRevision},"modRevision":${e.modRevision}}`);
    for (const [key, e] of this.entries) {
      if (!overlay.has(key)) entry(key, e);
    }
    for (const [key, e] of overlay) if (e) entry(key, e);
    return `{"format":"${FORMAT}","revision":${revision},"entries":{${parts.join(',')}}}`;
  }
}

/** The system error code of a failed file operation (EROFS, ENOSPC, …), if it has one. */
function sysCode(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

function toKeyValue<T>(key: string, e: Entry): KeyValue<T> {
  return { key, value: JSON.parse(e.json) as T, version: e.version, createRevision: e.createRevision, modRevision: e.modRevision };
}
