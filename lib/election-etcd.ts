/**
 * Leader election on etcd, for a group of masters: the classic etcd recipe,
 * with the lease kept alive here rather than by etcd3, because the safety
 * of the leadership depends on when the keepalives are sent.
 *
 *   grant lease (TTL) ──▶ create <prefix><lease id, hex> = address, bound to the lease
 *        ──▶ lowest create revision under the prefix? ──yes──▶ lead (fence: our key's create revision)
 *                        │ no
 *                        └─▶ wait for the key just before ours to be deleted, then look again
 *
 * Keys live under `/mezzanine/<cluster>/leader/`. Each candidate's key is
 * bound to its own lease, so a candidate that dies disappears one TTL later
 * and the next in line leads; no herd wakes up, as each waits only on its
 * predecessor.
 *
 * Timing (TTL = the lease TTL etcd granted; default 2 s):
 * - a keepalive is sent every TTL/4 (0.5 s), one at a time, each with a
 *   deadline of TTL/4;
 * - the leadership (or candidacy) is lost once 2·TTL/3 (1.33 s) has passed since
 *   the *sending* of the last keepalive that etcd answered — etcd renewed the
 *   lease no earlier than that moment, so it cannot expire before TTL after
 *   it — or at once when etcd answers that the lease is gone, or our key is
 *   deleted or re-created.
 * So a leader cut off from etcd stops acting at least TTL/3 (0.67 s) before
 * etcd can expire its lease and let another lead, as long as its own event
 * loop is not stalled for that long. (TTL/2 proved too tight on a loaded
 * 2-core machine: a new leader busy with 1,000 agents re-registering missed
 * it and stepped down.) fencing covers that last case, since a
 * write guarded by the old key's create revision fails once the key is gone.
 * (The architecture measured a standby elected 1.8 s after a leader was
 * killed -9 with a 2 s lease.)
 *
 * Through etcd outages a campaign keeps trying (backoff 0.2–1 s): it grants
 * a new lease and a new key whenever the old one may have lapsed.
 */
import type { Etcd3, IKeyValue } from 'etcd3';
import { ElectionClosedError, type Election, type Leadership } from './election';
import { errorMessage, StoreError } from './errors';
import type { Logger } from './log';
import type { StoreWatch } from './store';
import { connectEtcd, etcdError, etcdWatch, ownStream, prefixRange, type EtcdConnection, type EtcdOptions } from './store-etcd';

/** Default lease TTL in seconds: a dead leader is replaced ~TTL after it stopped renewing (about 2 s). */
export const DEFAULT_LEASE_TTL_S = 2;
/** Keepalives are sent every TTL × this (0.5 s for 2 s). */
export const KEEPALIVE_FRACTION = 1 / 4;
/** Leadership is given up once TTL × this has passed since the sending of the last answered keepalive (1.33 s for 2 s). */
export const LOST_AFTER_FRACTION = 2 / 3;

export type EtcdElectionOptions = (EtcdOptions | { connection: EtcdConnection }) & {
  /** The cluster name: keys live under `/mezzanine/<cluster>/leader/`. */
  cluster: string;
  /** Lease TTL in whole seconds (etcd counts in seconds); default 2. etcd may grant more (its minimum is 1.5 × its election timeout). */
  ttlSeconds?: number;
  /** Where to say why a campaign is retrying; default silent. */
  logger?: Pick<Logger, 'warn' | 'debug'>;
};

const now = (): number => performance.now();

/** A value settled once, with listeners that can be removed again (promise reactions cannot, and would pile up in loops). */
class Latch<T = string> {
  settled = false;
  value: T | undefined;
  private readonly listeners = new Set<(v: T) => void>();
  private resolveFn!: (v: T) => void;
  readonly promise = new Promise<T>((r) => (this.resolveFn = r));
  resolve(v: T): void {
    if (this.settled) return;
    this.settled = true;
    this.value = v;
    for (const fn of this.listeners) fn(v);
    this.listeners.clear();
    this.resolveFn(v);
  }
  /** Calls `fn` once settled (now, if it is); returns what removes it. */
  on(fn: (v: T) => void): () => void {
    if (this.settled) {
      fn(this.value as T);
      return () => undefined;
    }
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}

/** Waits `ms` (forever if undefined), or less if one of `latches` settles first; leaves no listener behind. */
function wait(ms: number | undefined, ...latches: { on(fn: () => void): () => void }[]): Promise<void> {
  return new Promise((resolve) => {
    const offs: (() => void)[] = [];
    let timer: NodeJS.Timeout | undefined;
    const done = (): void => {
      if (timer) clearTimeout(timer);
      for (const off of offs) off();
      resolve();
    };
    if (ms !== undefined) timer = setTimeout(done, ms);
    for (const l of latches) offs.push(l.on(done));
  });
}

/**
 * One lease, kept alive by keepalives sent every TTL/4. `lost` resolves
 * when 2·TTL/3 has passed since the sending of the last answered keepalive,
 * or when etcd says the lease is gone.
 */
class KeptLease {
  readonly lost = new Latch<string>();
  private lastAnsweredSentAt: number;
  private lastError = 'no keepalive answered yet';
  private timer: NodeJS.Timeout | undefined;
  private readonly stopped = new Latch<void>();

  private constructor(
    private readonly conn: EtcdConnection,
    readonly id: string,
    readonly ttlMs: number,
    sentAt: number,
  ) {
    // The grant is itself a renewal: etcd started the TTL no earlier than our sending it.
    this.lastAnsweredSentAt = sentAt;
    this.armLostTimer();
    void this.loop();
  }

  static async grant(conn: EtcdConnection, ttlSeconds: number): Promise<KeptLease> {
    const sentAt = now();
    let res;
    try {
      res = await conn.client.leaseClient.leaseGrant({ TTL: ttlSeconds });
    } catch (err) {
      throw etcdError(conn, err, 'grant a lease');
    }
    if (res.error) throw new StoreError(`etcd at ${conn.endpoints.join(', ')} refused a lease: ${res.error}`);
    return new KeptLease(conn, res.ID, Number(res.TTL) * 1000, sentAt);
  }

  /** The lease ID as etcd's tools print it (hex), used in our key. */
  get hex(): string {
    return BigInt(this.id).toString(16);
  }

  /** True while 2·TTL/3 has not passed since the sending of the last answered keepalive. */
  valid(): boolean {
    return !this.lost.settled && now() - this.lastAnsweredSentAt < this.ttlMs * LOST_AFTER_FRACTION;
  }

  /** Stops the keepalives (the lease then expires by itself within TTL). Idempotent. */
  stop(): void {
    this.stopped.resolve();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Stops and revokes the lease, deleting its keys now rather than in TTL. Best effort, bounded by the call timeout; never rejects. */
  async revoke(): Promise<void> {
    this.stop();
    await this.conn.client.leaseClient.leaseRevoke({ ID: this.id }).catch(() => undefined);
  }

  private lose(reason: string): void {
    this.stop();
    this.lost.resolve(reason);
  }

  private armLostTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    const limit = this.ttlMs * LOST_AFTER_FRACTION;
    const check = (): void => {
      if (this.stopped.settled) return;
      const silent = now() - this.lastAnsweredSentAt;
      if (silent >= limit) {
        this.lose(`no keepalive of lease ${this.hex} answered for ${Math.round(silent)} ms (lease TTL ${this.ttlMs / 1000} s; last error: ${this.lastError})`);
      } else {
        this.timer = setTimeout(check, Math.ceil(limit - silent) + 1); // timers may fire a hair early
      }
    };
    this.timer = setTimeout(check, Math.ceil(limit - (now() - this.lastAnsweredSentAt)) + 1);
  }

  private async loop(): Promise<void> {
    const every = this.ttlMs * KEEPALIVE_FRACTION;
    while (!this.stopped.settled) {
      const sentAt = now();
      try {
        const ttl = await this.keepAliveOnce(every);
        if (this.stopped.settled) return;
        if (ttl <= 0) return this.lose(`etcd says lease ${this.hex} has expired`);
        // Only ever move forward: answers can come back out of order after a stall.
        if (sentAt > this.lastAnsweredSentAt) {
          this.lastAnsweredSentAt = sentAt;
          this.armLostTimer();
        }
      } catch (err) {
        this.lastError = errorMessage(err);
      }
      await wait(Math.max(0, sentAt + every - now()), this.stopped);
    }
  }

  /** One keepalive on a stream of its own; resolves with the TTL etcd answered (≤ 0: the lease is gone). */
  private async keepAliveOnce(timeoutMs: number): Promise<number> {
    const stream = ownStream(await this.conn.client.leaseClient.leaseKeepAlive({ deadline: Date.now() + timeoutMs }));
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        stream.cancel();
        reject(new Error(`no answer within ${Math.round(timeoutMs)} ms`));
      }, timeoutMs);
      stream.on('data', (res) => {
        clearTimeout(timer);
        stream.end();
        resolve(Number(res.TTL));
      });
      stream.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      stream.write({ ID: this.id });
    });
  }
}

/** An etcd-backed Election. See the file comment for the recipe and the timing. */
export class EtcdElection implements Election {
  readonly prefix: string;
  private readonly conn: EtcdConnection;
  private readonly ownsClient: boolean;
  private readonly ttlSeconds: number;
  private readonly log: Pick<Logger, 'warn' | 'debug'> | undefined;
  private readonly closing = new Latch<void>();
  private readonly leaderships = new Set<Leadership>();
  private readonly observers = new Set<{ close(): Promise<void> }>();
  private readonly campaigns = new Set<Promise<unknown>>();

  /** Creates the election; nothing is sent to etcd until a call. Throws StoreError when no endpoint is given. */
  constructor(opts: EtcdElectionOptions) {
    this.ownsClient = !('connection' in opts);
    this.conn = 'connection' in opts ? opts.connection : connectEtcd(opts);
    this.prefix = `/mezzanine/${opts.cluster}/leader/`;
    this.ttlSeconds = opts.ttlSeconds ?? DEFAULT_LEASE_TTL_S;
    if (!Number.isInteger(this.ttlSeconds) || this.ttlSeconds < 1) {
      throw new StoreError(`the lease TTL must be a whole number of seconds ≥ 1, got ${opts.ttlSeconds}`);
    }
    this.log = opts.logger;
  }

  private checkOpen(): void {
    if (this.closing.settled) throw new ElectionClosedError('the election was closed while campaigning');
  }

  private get client(): Etcd3 {
    return this.conn.client;
  }

  async campaign(value: string): Promise<Leadership> {
    if (this.closing.settled) throw new ElectionClosedError();
    const run = this.runCampaign(value);
    this.campaigns.add(run);
    try {
      return await run;
    } finally {
      this.campaigns.delete(run);
    }
  }

  private async runCampaign(value: string): Promise<Leadership> {
    let delay = 200;
    for (;;) {
      if (this.closing.settled) throw new ElectionClosedError('the election was closed while campaigning');
      let lease: KeptLease | undefined;
      let ownKey: StoreWatch | undefined;
      try {
        lease = await KeptLease.grant(this.conn, this.ttlSeconds);
        this.checkOpen();
        const key = `${this.prefix}${lease.hex}`;
        const createRevision = await this.createKey(key, value, lease.id);
        this.checkOpen();
        // Watched from its creation on: its deletion or re-creation ends the candidacy (and the leadership).
        const keyGone = new Latch<string>();
        ownKey = await etcdWatch(this.conn, { key: Buffer.from(key) }, {
          events: (events) => {
            for (const ev of events) {
              if (ev.type === 'Delete') keyGone.resolve(`our leader key ${key} was deleted`);
              else if (Number(ev.kv.create_revision) !== createRevision) keyGone.resolve(`our leader key ${key} was re-created by someone else`);
            }
          },
          failed: (err) => keyGone.resolve(`the watch on our leader key ended: ${err.message}`),
        }, createRevision);
        this.checkOpen();
        const leads = await this.waitToLead(key, createRevision, lease, keyGone);
        this.checkOpen();
        delay = 200;
        if (leads) return this.lead(key, createRevision, lease, ownKey, keyGone);
      } catch (err) {
        if (!this.closing.settled) this.log?.warn(`campaign for ${this.prefix} failed: ${errorMessage(err)}; retrying`);
      }
      // The candidacy is over: free its key now, rather than in TTL, so it blocks nobody.
      void ownKey?.close();
      void lease?.revoke();
      if (this.closing.settled) throw new ElectionClosedError('the election was closed while campaigning');
      await wait(delay * (0.75 + Math.random() / 2), this.closing);
      delay = Math.min(delay * 2, 1000);
    }
  }

  /** Creates our key bound to the lease; resolves with its create revision. Safe to retry (the key is ours alone). */
  private async createKey(key: string, value: string, leaseId: string): Promise<number> {
    const k = Buffer.from(key);
    let res;
    try {
      res = await this.client.kv.txn({
        compare: [{ key: k, target: 'Create', result: 'Equal', create_revision: 0 }],
        success: [{ request_put: { key: k, value: Buffer.from(value), lease: leaseId } }],
        failure: [{ request_range: { key: k } }],
      });
    } catch (err) {
      throw etcdError(this.conn, err, `create ${key}`);
    }
    if (res.succeeded) return Number(res.header.revision);
    const existing = res.responses[0]?.response_range.kvs[0];
    if (!existing) throw new StoreError(`${key} existed and vanished at once`);
    return Number(existing.create_revision);
  }

  /**
   * Waits until our key has the lowest create revision under the prefix.
   * Resolves true when we lead, false when the candidacy must start over
   * (lease or key lost); rejects on etcd errors (the caller starts over).
   */
  private async waitToLead(key: string, createRevision: number, lease: KeptLease, keyGone: Latch<string>): Promise<boolean> {
    for (;;) {
      if (this.closing.settled || lease.lost.settled || keyGone.settled) {
        if (lease.lost.settled) this.log?.debug?.(`candidacy ${key} ended: ${lease.lost.value}`);
        if (keyGone.settled) this.log?.debug?.(`candidacy ${key} ended: ${keyGone.value}`);
        return false;
      }
      const { kvs, revision } = await this.rangeCandidates();
      const mine = kvs.findIndex((kv) => kv.key.toString() === key);
      if (mine < 0) {
        this.log?.debug?.(`candidacy ${key} ended: the key is gone (its lease expired?)`);
        return false;
      }
      if (mine === 0) return lease.valid();
      // Wait for the key just before ours to go; then look again (someone before it may still live).
      const before = kvs[mine - 1]!;
      const changed = new Latch<void>();
      let watch: StoreWatch | undefined;
      try {
        watch = await etcdWatch(this.conn, { key: before.key }, {
          events: (events) => {
            if (events.some((ev) => ev.type === 'Delete')) changed.resolve();
          },
          failed: () => changed.resolve(),
        }, revision + 1);
        // Also look again every TTL, in case a watch event is slow to come.
        await wait(lease.ttlMs, changed, lease.lost, keyGone, this.closing);
      } finally {
        await watch?.close();
      }
    }
  }

  /** Turns a won candidacy into a Leadership; `lost` resolves on the first of: lease lost, key gone, resign, close. */
  private lead(key: string, createRevision: number, lease: KeptLease, ownKey: StoreWatch, keyGone: Latch<string>): Leadership {
    const lost = new Latch<string>();
    let released: Promise<void> | undefined;
    const end = (reason: string): Promise<void> => {
      lost.resolve(reason);
      released ??= (async () => {
        this.leaderships.delete(leadership);
        await Promise.all([ownKey.close(), lease.revoke()]);
      })();
      return released;
    };
    const leadership: Leadership = {
      fence: [{ key, createRevision }],
      lost: lost.promise,
      resign: () => end('resigned'),
    };
    this.leaderships.add(leadership);
    // Synchronously, not a promise reaction later: the leader hears of the loss as soon as it is known.
    lease.lost.on((reason) => void end(reason));
    keyGone.on((reason) => void end(reason));
    return leadership;
  }

  /** Every candidate's key, by create revision (the leader first), and the revision they were read at. */
  private async rangeCandidates(): Promise<{ kvs: IKeyValue[]; revision: number }> {
    try {
      const res = await this.client.kv.range({ ...prefixRange(this.prefix), sort_order: 'Ascend', sort_target: 'Create' });
      return { kvs: res.kvs, revision: Number(res.header.revision) };
    } catch (err) {
      throw etcdError(this.conn, err, `read ${this.prefix}`);
    }
  }

  async leader(): Promise<string | undefined> {
    const { kvs } = await this.rangeCandidates();
    return kvs[0]?.value.toString();
  }

  async candidates(): Promise<string[]> {
    const { kvs } = await this.rangeCandidates();
    return kvs.map((kv) => kv.value.toString());
  }

  async observe(cb: (leader: string | undefined) => void): Promise<{ close(): Promise<void> }> {
    if (this.closing.settled) throw new ElectionClosedError();
    let closed = false;
    let reported: string | undefined | null = null; // the leader's key last reported; null: nothing yet
    let watch: StoreWatch | undefined;
    let retry: NodeJS.Timeout | undefined;
    let running: Promise<void> | undefined;
    let again = false;

    const report = (kvs: IKeyValue[]): void => {
      const first = kvs[0];
      const k = first?.key.toString();
      if (closed || k === reported) return;
      reported = k;
      cb(first?.value.toString());
    };
    /** Reads the candidates and reports a change; serialised, and retried every second while etcd does not answer. */
    const refresh = (): void => {
      if (closed) return;
      if (running) {
        again = true;
        return;
      }
      running = (async () => {
        do {
          again = false;
          try {
            report((await this.rangeCandidates()).kvs);
          } catch {
            if (!closed && !retry) retry = setTimeout(() => ((retry = undefined), refresh()), 1000);
          }
        } while (again && !closed);
      })().finally(() => (running = undefined));
    };
    const startWatch = async (from: number): Promise<void> => {
      watch = await etcdWatch(this.conn, prefixRange(this.prefix), {
        events: () => refresh(),
        connected: () => refresh(),
        failed: () => {
          // History lost: read again and watch from now; until that works, poll.
          void (async () => {
            while (!closed) {
              try {
                const { kvs, revision } = await this.rangeCandidates();
                report(kvs);
                await startWatch(revision + 1);
                return;
              } catch {
                await wait(1000, this.closing);
              }
            }
          })();
        },
      }, from);
      if (closed) await watch.close();
    };

    const { kvs, revision } = await this.rangeCandidates();
    report(kvs);
    await startWatch(revision + 1);
    const handle = {
      close: async () => {
        closed = true;
        if (retry) clearTimeout(retry);
        this.observers.delete(handle);
        await watch?.close();
      },
    };
    this.observers.add(handle);
    return handle;
  }

  async close(): Promise<void> {
    if (this.closing.settled) return;
    this.closing.resolve();
    await Promise.all([
      ...[...this.leaderships].map((l) => l.resign()),
      ...[...this.observers].map((o) => o.close()),
      ...[...this.campaigns].map((c) => c.catch(() => undefined)),
    ]);
    if (this.ownsClient) this.client.close();
  }
}
