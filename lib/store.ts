/**
 * The durable state store: a small key/value interface with two
 * implementations — `store-embedded.ts` (a file under the data directory,
 * the default) and `store-etcd.ts` (etcd, for several masters). Keys are
 * strings under one prefix per cluster (callers add it, e.g.
 * `/mezzanine/<cluster>/registry/`); values are JSON-serialisable, stored
 * and returned as copies.
 *
 * Both implementations keep one store-wide revision that every write
 * (a put, a delete of a present key, or a whole transaction) advances by
 * one; a key remembers the revision that created it (`createRevision`), which
 * is what leadership fencing compares (see `lib/election.ts`).
 *
 * Errors: every method may reject with StoreError (lib/errors.ts) when the
 * store cannot be reached or written — for etcd within a bounded time
 * (`EtcdOptions.callTimeoutMs`, 3 s by default), never by hanging. A write that
 * rejected may or may not have been applied (a timeout is ambiguous):
 * callers that must know re-read, or make the write a `txn` with a version
 * compare so that a retry is safe. The embedded store is never ambiguous: a
 * write that rejected changed nothing and never becomes durable later.
 */

import { errorMessage, InvalidArgumentError, StoreError } from './errors';

export interface KeyValue<T = unknown> {
  key: string;
  value: T;
  /** Bumped on every write of this key; 0 means "absent" in compare-and-swap. A deleted and re-created key starts again at 1. */
  version: number;
  /** The store revision that created this key (it changes only if the key is deleted and created again). */
  createRevision: number;
  /** The store revision of this key's last write. */
  modRevision: number;
}

/** One operation of a transaction. */
export type TxnOp = { op: 'put'; key: string; value: unknown } | { op: 'delete'; key: string };

/**
 * Precondition of a transaction, one of:
 * - `{key, version}`: the key's version is now exactly `version` (0: the key is absent);
 * - `{key, createRevision}`: the key exists and was created at exactly this
 *   store revision — it has not been deleted and re-created since. A
 *   leadership's fence is of this kind: its key lives exactly as long as
 *   the leadership.
 */
export type TxnCompare = { key: string; version: number } | { key: string; createRevision: number };

/** A change seen by `Store.watch`. */
export interface WatchEvent {
  type: 'put' | 'delete';
  key: string;
  /** The new value (a copy) for a put; absent for a delete. */
  value?: unknown;
  /** The key's version after the change: ≥ 1 for a put, 0 for a delete. */
  version: number;
}

/** A running watch; `close()` stops the calls to its listener. Idempotent. */
export interface StoreWatch {
  close(): Promise<void>;
}

export interface Store {
  /** The value at `key` (a copy), or undefined. */
  get<T = unknown>(key: string): Promise<KeyValue<T> | undefined>;
  /** Writes durably: resolves only once the write would survive a crash. Idempotent in effect (the version still advances). */
  put(key: string, value: unknown): Promise<void>;
  /** Deletes `key` durably; deleting an absent key is not an error and writes nothing. */
  delete(key: string): Promise<void>;
  /** Every key starting with `prefix` (copies), in key order (byte order of the UTF-8 keys). */
  list<T = unknown>(prefix: string): Promise<KeyValue<T>[]>;
  /**
   * Applies `ops` atomically if every compare holds, as one write (one
   * revision); resolves false (and writes nothing) otherwise. Durable like
   * `put`. With no compares it always applies. With no ops it only checks.
   * Rejects with InvalidArgumentError if `ops` writes a key twice or a
   * createRevision is below 1. etcd also refuses (StoreError) a transaction
   * of more than 128 ops or 1.5 MiB (its `--max-txn-ops` and
   * `--max-request-bytes` defaults): batch by membership change, not the
   * whole registry at once.
   */
  txn(compares: readonly TxnCompare[], ops: readonly TxnOp[]): Promise<boolean>;
  /**
   * Calls `listener` for every change to a key starting with `prefix` made
   * after the returned promise resolves, in the order the store applied
   * them, each once the change is durable. Events of one transaction are
   * delivered in the transaction's op order.
   *
   * The listener must not throw (an exception from it is rethrown as an
   * uncaught exception: a bug, loudly). `onError` is called at most once,
   * if the watch ends by itself and could have missed changes (etcd: the
   * history it must resume from was compacted while it was disconnected);
   * the caller should then re-read with `list` and watch again. Transient
   * disconnections are not errors: the etcd watch reconnects by itself and
   * resumes where it stopped, so no change is missed or repeated.
   */
  watch(prefix: string, listener: (e: WatchEvent) => void, onError?: (err: Error) => void): Promise<StoreWatch>;
  /** Flushes what is pending and releases the store; later calls reject with StoreError. Idempotent. */
  close(): Promise<void>;
}

/**
 * Orders keys as etcd does: by the bytes of their UTF-8 encoding (which
 * differs from JavaScript's UTF-16 string order only above U+D7FF).
 */
export function compareKeys(a: string, b: string): number {
  return a === b ? 0 : Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/**
 * Throws InvalidArgumentError for a transaction that no store accepts: one
 * that writes a key twice (etcd refuses it, so both stores do, and say so
 * plainly) or a createRevision compare below 1 (no key is created at
 * revision 0; "absent" is `{version: 0}`).
 */
export function assertTxn(compares: readonly TxnCompare[], ops: readonly TxnOp[]): void {
  for (const c of compares) {
    if ('createRevision' in c && !(Number.isInteger(c.createRevision) && c.createRevision >= 1)) {
      throw new InvalidArgumentError(`a createRevision compare needs a revision ≥ 1, got ${c.createRevision} for ${c.key} (to require an absent key, compare version 0)`);
    }
  }
  const seen = new Set<string>();
  for (const op of ops) {
    if (seen.has(op.key)) throw new InvalidArgumentError(`a transaction may write each key once, but ${op.key} appears twice`);
    seen.add(op.key);
  }
}

/**
 * A value as the JSON both stores keep. Throws StoreError naming the key
 * for what JSON cannot hold (cycles, BigInt, undefined, functions).
 */
export function valueJson(key: string, value: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (err) {
    throw new StoreError(`cannot store the value at ${key}: ${errorMessage(err)}`, { cause: err });
  }
  if (json === undefined) throw new StoreError(`cannot store ${String(value)} at ${key}: the value is not JSON-serialisable`);
  return json;
}
