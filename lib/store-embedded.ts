/**
 * The embedded store: every key in memory, persisted as one JSON file under
 * the data directory. Each write replaces the file atomically (temp file,
 * fsync, rename, fsync of the directory), so a crash mid-write leaves the
 * previous or the new content, never a mix. Writes that arrive while one is
 * being flushed are coalesced into the next flush.
 *
 * A file that exists but cannot be read or parsed stops the caller with a
 * StoreError naming the file: starting empty would silently forget every
 * agent and framework.
 */
import { promises as fs, mkdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { StoreError, errorMessage } from './errors';
import type { KeyValue, Store, TxnCompare, TxnOp } from './store';

interface FileFormat {
  format: 'mezzanine-store/1';
  entries: Record<string, { value: unknown; version: number }>;
}

export class EmbeddedStore implements Store {
  private readonly entries = new Map<string, { value: unknown; version: number }>();
  private readonly file: string;
  private flushing: Promise<void> | undefined;
  private dirty = false;
  private closed = false;

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
    if (parsed?.format !== 'mezzanine-store/1' || typeof parsed.entries !== 'object') {
      throw new StoreError(`the registry ${this.file} is not a Mezzanine store file (format ${String(parsed?.format)})`);
    }
    for (const [k, v] of Object.entries(parsed.entries)) this.entries.set(k, v);
  }

  async get<T>(key: string): Promise<KeyValue<T> | undefined> {
    const e = this.entries.get(key);
    return e && { key, value: e.value as T, version: e.version };
  }

  async put(key: string, value: unknown): Promise<void> {
    this.apply({ op: 'put', key, value });
    await this.flush();
  }

  async delete(key: string): Promise<void> {
    if (!this.entries.has(key)) return;
    this.apply({ op: 'delete', key });
    await this.flush();
  }

  async list<T>(prefix: string): Promise<KeyValue<T>[]> {
    const out: KeyValue<T>[] = [];
    for (const [key, e] of this.entries) if (key.startsWith(prefix)) out.push({ key, value: e.value as T, version: e.version });
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async txn(compares: readonly TxnCompare[], ops: readonly TxnOp[]): Promise<boolean> {
    for (const c of compares) if ((this.entries.get(c.key)?.version ?? 0) !== c.version) return false;
    for (const op of ops) this.apply(op);
    await this.flush();
    return true;
  }

  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
  }

  private apply(op: TxnOp): void {
    if (this.closed) throw new StoreError('the store is closed');
    if (op.op === 'put') {
      const version = (this.entries.get(op.key)?.version ?? 0) + 1;
      // Stored as JSON so that later mutation of the caller's object cannot change the store.
      this.entries.set(op.key, { value: JSON.parse(JSON.stringify(op.value)), version });
    } else {
      this.entries.delete(op.key);
    }
    this.dirty = true;
  }

  /** Resolves once everything applied so far is on disk. */
  private async flush(): Promise<void> {
    while (this.dirty || this.flushing) {
      if (this.flushing) {
        await this.flushing;
        continue;
      }
      this.dirty = false;
      this.flushing = this.writeFile().finally(() => {
        this.flushing = undefined;
      });
      await this.flushing;
    }
  }

  private async writeFile(): Promise<void> {
    const body: FileFormat = { format: 'mezzanine-store/1', entries: Object.fromEntries(this.entries) };
    const tmp = `${this.file}.tmp-${process.pid}`;
    try {
      const fh = await fs.open(tmp, 'w');
      try {
        await fh.writeFile(JSON.stringify(body));
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
}
