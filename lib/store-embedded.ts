/**
 * The embedded store: every key in memory, persisted as one JSON file under
 * the data directory. Each write replaces the file atomically (temp file,
 * fsync, rename, fsync of the directory), so a crash mid-write leaves the
 * previous or the new content, never a mix. Writes that arrive while one is
 * being flushed are coalesced into the next flush.
 *
 *   put/delete/txn ──apply in memory──▶ flush (one file write for all pending) ──durable──▶ watch listeners
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

interface Watcher {
  prefix: string;
  /** Only changes at or after this revision: those made after `watch()` resolved. */
  fromRevision: number;
  listener: (e: WatchEvent) => void;
}

export class EmbeddedStore implements Store {
  private readonly entries = new Map<string, Entry>();
  private readonly file: string;
  private revision = 0;
  private flushing: Promise<void> | undefined;
  private dirty = false;
  private closed = false;
  private pending: PendingEvent[] = [];
  private readonly watchers = new Set<Watcher>();

  /** Opens (or creates) `<dataDir>/registry.json`. Throws StoreError if it is unreadable or corrupt. */
  constructor(dataDir: string) {
    this.file = path.join(dataDir, 'registry.json');
    try {
      mkdirSync(dataDir, { recursive: true });
    } catch (err) {
      throw new StoreError(`cannot create data directory ${dataDir}: ${errorMessage(err)}`, { cause: err });
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
    this.checkOpen();
    this.applyAll([{ op: 'put', key, value }]);
    await this.flush();
  }

  async delete(key: string): Promise<void> {
    this.checkOpen();
    if (!this.entries.has(key)) return;
    this.applyAll([{ op: 'delete', key }]);
    await this.flush();
  }

  async list<T>(prefix: string): Promise<KeyValue<T>[]> {
    this.checkOpen();
    // Sorted by UTF-8 bytes, as etcd sorts; each key encoded once.
    const keys = [...this.entries.keys()].filter((k) => k.startsWith(prefix)).map((k) => ({ k, b: Buffer.from(k) }));
    keys.sort((x, y) => Buffer.compare(x.b, y.b));
    return keys.map(({ k }) => toKeyValue<T>(k, this.entries.get(k)!));
  }

  async txn(compares: readonly TxnCompare[], ops: readonly TxnOp[]): Promise<boolean> {
    this.checkOpen();
    assertTxn(compares, ops);
    for (const c of compares) {
      const e = this.entries.get(c.key);
      const holds = 'createRevision' in c ? e !== undefined && e.createRevision === c.createRevision : (e?.version ?? 0) === c.version;
      if (!holds) return false;
    }
    this.applyAll(ops);
    await this.flush();
    return true;
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
    await this.flush();
    this.closed = true;
    this.watchers.clear();
  }

  private checkOpen(): void {
    if (this.closed) throw new StoreError(`the store ${this.file} is closed`);
  }

  /** Applies `ops` in memory as one write: one new revision if anything changes. */
  private applyAll(ops: readonly TxnOp[]): void {
    // Serialised first, so that a value that cannot be stored leaves the transaction unapplied.
    // Stored as JSON so that later mutation of the caller's object cannot change the store.
    const jsons = ops.map((op) => (op.op === 'put' ? valueJson(op.key, op.value) : undefined));
    const revision = this.revision + 1;
    let changed = false;
    for (const [i, op] of ops.entries()) {
      const old = this.entries.get(op.key);
      if (op.op === 'put') {
        const json = jsons[i]!;
        const version = (old?.version ?? 0) + 1;
        this.entries.set(op.key, { json, version, createRevision: old?.createRevision ?? revision, modRevision: revision });
        this.pending.push({ revision, type: 'put', key: op.key, json, version });
        changed = true;
      } else if (old) {
        this.entries.delete(op.key);
        this.pending.push({ revision, type: 'delete', key: op.key, version: 0 });
        changed = true;
      }
    }
    if (changed) {
      this.revision = revision;
      this.dirty = true;
    }
  }

  /** Resolves once everything applied so far is on disk. */
  private async flush(): Promise<void> {
    while (this.dirty || this.flushing) {
      if (this.flushing) {
        await this.flushing;
        continue;
      }
      this.dirty = false;
      // The file is rendered synchronously when writeFile starts: it holds exactly the first `upto` pending events.
      const upto = this.pending.length;
      this.flushing = this.writeFile()
        .then(() => this.deliver(upto))
        .finally(() => {
          this.flushing = undefined;
        });
      await this.flushing;
    }
  }

  /** Hands the first `count` pending events, now durable, to the watchers, in order. */
  private deliver(count: number): void {
    const events = this.pending.splice(0, count);
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

  private async writeFile(): Promise<void> {
    const body = this.render();
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
      const dir = await fs.open(path.dirname(this.file), 'r');
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
    } catch (err) {
      this.dirty = true; // keep it for the next attempt
      await fs.rm(tmp, { force: true }).catch(() => undefined);
      throw new StoreError(`cannot write the registry ${this.file}: ${errorMessage(err)}`, { cause: err });
    }
  }

  /** The file's content, built from the stored JSON without parsing it again. */
  private render(): string {
    const parts: string[] = [];
    for (const [key, e] of this.entries) {
      parts.push(`${JSON.stringify(key)}:{"value":${e.json},"version":${e.version},"createRevision":${e.createRevision},"modRevision":${e.modRevision}}`);
    }
    return `{"format":"${FORMAT}","revision":${this.revision},"entries":{${parts.join(',')}}}`;
  }
}


function toKeyValue<T>(key: string, e: Entry): KeyValue<T> {
  return { key, value: JSON.parse(e.json) as T, version: e.version, createRevision: e.createRevision, modRevision: e.modRevision };
}
