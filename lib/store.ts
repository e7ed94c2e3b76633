/**
 * The durable state store: a small key/value interface with two
 * implementations — `store-embedded.ts` (a file under the data directory,
 * the default) and an etcd one. Keys are strings under one prefix per
 * cluster; values are JSON-serialisable.
 */

export interface KeyValue<T = unknown> {
  key: string;
  value: T;
  /** Bumped on every write of this key; 0 means "absent" in compare-and-swap. */
  version: number;
}

/** One operation of a transaction. */
export type TxnOp = { op: 'put'; key: string; value: unknown } | { op: 'delete'; key: string };

/** Precondition of a transaction: the key's version now (0: absent). */
export interface TxnCompare {
  key: string;
  version: number;
}

export interface Store {
  /** The value at `key`, or undefined. */
  get<T = unknown>(key: string): Promise<KeyValue<T> | undefined>;
  /** Writes durably: resolves only once the write would survive a crash. */
  put(key: string, value: unknown): Promise<void>;
  /** Deletes `key`; deleting an absent key is not an error. */
  delete(key: string): Promise<void>;
  /** Every key starting with `prefix`, in key order. */
  list<T = unknown>(prefix: string): Promise<KeyValue<T>[]>;
  /**
   * Applies `ops` atomically if every compare holds; resolves false (and
   * writes nothing) otherwise. Durable like `put`.
   */
  txn(compares: readonly TxnCompare[], ops: readonly TxnOp[]): Promise<boolean>;
  close(): Promise<void>;
}
