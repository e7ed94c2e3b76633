/**
 * A shipped framework's durable state: a typed view of the cluster's Store
 * (lib/store.ts) confined to the framework's own prefix, whose writes are
 * fenced by the leadership that made the view.
 *
 *   /mezzanine/<cluster>/frameworks/<name>/
 *       leader/<lease>   the election's candidates (lib/election-etcd.ts)
 *       runner/…         what the runner keeps (the framework id)
 *       state/…          what the framework keeps (FrameworkState given to `lead`)
 *
 * Fencing, twice over: a write is refused here once the leadership's signal
 * has aborted (the embedded election's fence is empty, so this is the only
 * guard there), and every write is a store transaction that includes the
 * election's fence, so a deposed leader that has not yet noticed (paused,
 * partitioned) is refused by etcd itself.
 */
import { InvalidArgumentError, MezzError } from '../../lib/errors';
import type { Store, TxnCompare, TxnOp } from '../../lib/store';

/** Names usable in a key prefix: one path segment, as cluster names are (lib/master-locator.ts). */
const SEGMENT = /^[A-Za-z0-9_.-]{1,64}$/;
/** Keys beyond this are a bug (an id used as a key is far shorter); etcd itself allows 1.5 MiB. */
const MAX_KEY_LENGTH = 1024;

/** A write was refused because this instance no longer leads; it must stop acting. */
export class LeadershipLostError extends MezzError {
  override name = 'LeadershipLostError';
  /** Why the leadership ended, e.g. `resigned`. */
  readonly reason: string;
  constructor(reason: string) {
    super(`this instance no longer leads (${reason}): its state write was refused`, 'UNAVAILABLE');
    this.reason = reason;
  }
}

/** The prefix every key of framework `name` in `cluster` lives under. Throws InvalidArgumentError for a name that is not one path segment. */
export function frameworkPrefix(cluster: string, name: string): string {
  for (const [what, v] of [['cluster', cluster], ['framework name', name]] as const) {
    if (!SEGMENT.test(v)) throw new InvalidArgumentError(`the ${what} '${v}' must be 1-64 letters, digits, '_', '.' or '-'`);
  }
  return `/mezzanine/${cluster}/frameworks/${name}/`;
}

/** The leadership a view writes under: its fence, and the signal that aborts when it is lost. */
export interface StateGuard {
  readonly fence: readonly TxnCompare[];
  readonly signal: AbortSignal;
}

/** One write of a `txn`: keys are relative to the view's prefix. */
export type StateOp = { op: 'put'; key: string; value: unknown } | { op: 'delete'; key: string };

/**
 * The state of one framework under `prefix`, as one leadership sees it.
 * Keys are relative (`apps/web`); values are JSON (stored and returned as
 * copies). Reads work at any time; writes only while the guard's
 * leadership lasts.
 *
 * Errors: every method may reject with StoreError (lib/errors.ts) when the
 * store cannot be reached (see lib/store.ts on ambiguous etcd writes);
 * writes reject with LeadershipLostError once the leadership is lost, and
 * with InvalidArgumentError for an empty or over-long key.
 */
export class FrameworkState {
  constructor(
    private readonly store: Store,
    readonly prefix: string,
    private readonly guard: StateGuard,
  ) {}

  /** The value at `key`, or undefined. */
  async get<T>(key: string): Promise<T | undefined> {
    return (await this.store.get<T>(this.key(key)))?.value;
  }

  /** Every entry whose key starts with `prefix` (relative), in key order, with relative keys. */
  async list<T>(prefix = ''): Promise<{ key: string; value: T }[]> {
    const all = await this.store.list<T>(this.prefix + prefix);
    return all.map((kv) => ({ key: kv.key.slice(this.prefix.length), value: kv.value }));
  }

  /** Writes `value` at `key` durably, fenced. */
  async put(key: string, value: unknown): Promise<void> {
    await this.txn([{ op: 'put', key, value }]);
  }

  /** Deletes `key` durably, fenced; an absent key is not an error. */
  async delete(key: string): Promise<void> {
    await this.txn([{ op: 'delete', key }]);
  }

  /**
   * Applies `ops` atomically, or not at all, while this leadership lasts.
   * On etcd at most 128 ops and 1.5 MiB (lib/store.ts): write what changed,
   * not the whole state.
   */
  async txn(ops: readonly StateOp[]): Promise<void> {
    const full: TxnOp[] = ops.map((o) => (o.op === 'put' ? { op: 'put', key: this.key(o.key), value: o.value } : { op: 'delete', key: this.key(o.key) }));
    this.checkLeading();
    if (!(await this.store.txn(this.guard.fence, full))) throw new LeadershipLostError('the store refused the write: its leader key is gone');
  }

  private checkLeading(): void {
    const { signal } = this.guard;
    if (!signal.aborted) return;
    const why: unknown = signal.reason;
    throw new LeadershipLostError(why instanceof LeadershipLostError ? why.reason : why instanceof Error ? why.message : String(why ?? 'leadership lost'));
  }

  private key(key: string): string {
    if (typeof key !== 'string' || key === '' || key.length > MAX_KEY_LENGTH) {
      throw new InvalidArgumentError(`a state key must be a non-empty string of at most ${MAX_KEY_LENGTH} characters, got ${JSON.stringify(String(key).slice(0, 80))}`);
    }
    return this.prefix + key;
  }
}

/** Ops per transaction: etcd's own limit is 128 (lib/store.ts). */
const TXN_OPS = 128;

/** Writes `ops` in transactions of at most 128 ops, in order: each record stands alone, so a launch of 1,000 tasks fits etcd's limit. */
export async function writeAll(state: FrameworkState, ops: readonly StateOp[]): Promise<void> {
  for (let i = 0; i < ops.length; i += TXN_OPS) await state.txn(ops.slice(i, i + TXN_OPS));
}

/**
 * Writes groups of ops, each group whole in one transaction (a run with its
 * cron cursor, a parent's success with its children's runs), packing several
 * groups into a transaction while they fit. A group too big for one is
 * written in order, in several.
 */
export async function writeGroups(state: FrameworkState, groups: readonly (readonly StateOp[])[]): Promise<void> {
  let batch: StateOp[] = [];
  for (const g of groups) {
    if (!g.length) continue;
    if (batch.length + g.length > TXN_OPS && batch.length) {
      await state.txn(batch);
      batch = [];
    }
    if (g.length > TXN_OPS) await writeAll(state, g);
    else batch.push(...g);
  }
  if (batch.length) await state.txn(batch);
}
