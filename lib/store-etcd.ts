/**
 * The etcd store, through the `etcd3` client: the same interface as the
 * embedded store, for a cluster of masters. Keys are used as given (callers
 * add the cluster prefix); values are stored as JSON text.
 *
 *   get/list ──range──▶ etcd        put/delete ──▶ etcd (acknowledged after the raft log is fsynced)
 *   txn ──one etcd transaction: if(compares).then(ops)──▶ succeeded?
 *   watch ──one gRPC watch stream, reconnected here, resumed at the next revision──▶ listener
 *
 * Bounded failure: etcd3 retries forever on some paths and waits on
 * connections without a deadline by default, which hangs a master whose etcd
 * is gone. Here every unary call carries a deadline (`callTimeoutMs`,
 * default 3 s — it bounds connecting too: etcd3 has no dial timeout of its
 * own), the client does not retry a call (a retried transaction could
 * report false after the first attempt had in fact applied it), and every
 * failure becomes a StoreError that names the endpoints:
 * `etcd at http://127.0.0.1:2379 is unreachable: …; is etcd running?`.
 * With several endpoints a member that failed is skipped for a second, so
 * the next call goes to another.
 *
 * Watches are built here on etcd's watch stream rather than etcd3's watch
 * manager, for one reason: after a reconnection etcd3 moves its resume point
 * to the revision of the "created" answer, before the catch-up events have
 * arrived, so a second disconnection in that window loses them. Here the
 * resume point only moves with events actually delivered (or progress
 * notifications), so a watch misses and repeats nothing across reconnects.
 * Reconnection is retried every 0.1–1 s (backoff) for as long as the watch
 * is open; gRPC keepalives (10 s, 5 s timeout) notice a dead connection.
 *
 * TLS: given `tls` (the process's certificate, key and CA) and https://
 * endpoints, the client verifies etcd's certificate against the CA and
 * presents its own, for an etcd that requires client certificates
 * (`--client-cert-auth`). A bare HOST:PORT means https with `tls` and http
 * without; an explicit scheme is kept.
 */
import type { EventEmitter } from 'node:events';
import { Etcd3, isRecoverableError, type ICompare, type IKeyValue, type IOptions, type IRequestOp, type IWatchResponse } from 'etcd3';
import type { TlsMaterial } from './auth/transport';
import { StoreError, errorMessage } from './errors';
import { assertTxn, valueJson, type KeyValue, type Store, type StoreWatch, type TxnCompare, type TxnOp, type WatchEvent } from './store';

/** How a Mezzanine process reaches etcd. */
export interface EtcdOptions {
  /** Client URLs of the etcd members, e.g. `['http://127.0.0.1:2379']`. At least one. */
  endpoints: readonly string[];
  /** Deadline of each call, connecting included; default 3000 ms. */
  callTimeoutMs?: number;
  /** This process's certificate, key and CA: used for https:// endpoints (see the file comment). */
  tls?: TlsMaterial;
}

export const DEFAULT_CALL_TIMEOUT_MS = 3000;

/** A client and what is needed to describe its failures. Shared by EtcdStore and EtcdElection. */
export interface EtcdConnection {
  readonly client: Etcd3;
  readonly endpoints: readonly string[];
  readonly callTimeoutMs: number;
}

type FaultHandling = NonNullable<IOptions['faultHandling']>;
type Policy = NonNullable<FaultHandling['global']>;
type Backoff = NonNullable<FaultHandling['watchBackoff']>;

/**
 * Creates an etcd3 client configured for bounded failure (see the file
 * comment). Throws StoreError when no endpoint is given. Creating it does
 * not connect; the first call does.
 */
export function connectEtcd(opts: EtcdOptions): EtcdConnection {
  const endpoints = opts.endpoints.map((e) => etcdEndpoint(e, opts.tls));
  if (endpoints.length === 0) throw new StoreError('no etcd endpoint given: pass at least one, e.g. http://127.0.0.1:2379');
  const secure = endpoints.filter((e) => e.startsWith('https://')).length;
  // etcd3 uses one kind of channel for every member: a mixed list would silently be all-TLS.
  if (secure > 0 && secure < endpoints.length) throw new StoreError(`etcd endpoints ${endpoints.join(', ')} mix http and https; use one scheme for every member`);
  const callTimeoutMs = opts.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  const client = new Etcd3({
    hosts: [...endpoints],
    ...(secure && opts.tls ? { credentials: { rootCertificate: opts.tls.ca, privateKey: opts.tls.key, certChain: opts.tls.cert } } : {}),
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + callTimeoutMs }),
    faultHandling: {
      global: passThrough(),
      host: () => skipAfterFailure(endpoints.length > 1 ? 1000 : 0),
      // etcd3's own watch manager is not used by this code, but keep its reconnects prompt if anyone does.
      watchBackoff: backoff(100, 1000),
    },
    grpcOptions: {
      'grpc.keepalive_time_ms': 10_000,
      'grpc.keepalive_timeout_ms': 5_000,
      'grpc.keepalive_permit_without_calls': 1,
      // Reconnect within a second once etcd is back (grpc-js would otherwise back off up to 2 minutes).
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 1000,
      // A registry listing can outgrow gRPC's 4 MiB default.
      'grpc.max_receive_message_length': 64 * 1024 * 1024,
    },
  });
  return { client, endpoints, callTimeoutMs };
}

/** An etcd client URL: `endpoint` as given when it has a scheme, else https with `tls` and http without. */
export function etcdEndpoint(endpoint: string, tls?: TlsMaterial): string {
  return /^https?:\/\//.test(endpoint) ? endpoint : `${tls ? 'https' : 'http'}://${endpoint}`;
}

/** A policy that runs the call once: no retries. */
function passThrough(): Policy {
  return { execute: (fn: (ctx: { signal: AbortSignal }) => unknown) => Promise.resolve().then(() => fn({ signal: new AbortController().signal })) } as unknown as Policy;
}

/**
 * A per-member policy: after a connection-level failure the member is
 * skipped for `skipMs` (etcd3 then tries the next member). With one member
 * (`skipMs` 0) nothing is skipped: failing fast would only delay recovery.
 */
function skipAfterFailure(skipMs: number): Policy {
  let skipUntil = 0;
  return {
    execute: async (fn: (ctx: { signal: AbortSignal }) => unknown) => {
      if (Date.now() < skipUntil) throw new Error('this etcd member failed recently; trying another');
      try {
        return await fn({ signal: new AbortController().signal });
      } catch (err) {
        if (skipMs > 0 && err instanceof Error && isRecoverableError(err)) skipUntil = Date.now() + skipMs;
        throw err;
      }
    },
  } as unknown as Policy;
}

/** Exponential backoff from `first` to `max` ms, doubling. */
function backoff(first: number, max: number): Backoff {
  const at = (ms: number): Backoff => ({ duration: ms, next: () => at(Math.min(ms * 2, max)) }) as unknown as Backoff;
  return at(first);
}

/**
 * The StoreError for a failed etcd call: "unreachable" for connection-level
 * failures (refused, timed out, dropped), else what etcd answered.
 */
export function etcdError(conn: Pick<EtcdConnection, 'endpoints'>, err: unknown, what?: string): StoreError {
  if (err instanceof StoreError) return err;
  const where = `etcd at ${conn.endpoints.join(', ')}`;
  const detail = tidy(errorMessage(err));
  const doing = what ? ` (${what})` : '';
  if (TLS_FAILURE.test(detail)) {
    return new StoreError(`${where} refused the TLS connection${doing}: ${detail}; etcd's certificate must chain to the CA this process was given `
      + "(--etcd-ca or --tls-ca), and this process's certificate to the CA etcd trusts (its --trusted-ca-file)", { cause: err });
  }
  if (err instanceof Error && (isRecoverableError(err) || /ECONNREFUSED|ECONNRESET|No connection established|Deadline exceeded/i.test(err.message))) {
    return new StoreError(`${where} is unreachable${doing}: ${detail}; is etcd running?`, { cause: err });
  }
  return new StoreError(`${where} refused the request${doing}: ${detail}`, { cause: err });
}

/** What TLS failures look like in grpc-js messages (handshake alerts, certificate checks). */
const TLS_FAILURE = /certificate|SSL routines|alert|self[- ]signed|handshake/i;

/** `GRPCUnavailableError: 14 UNAVAILABLE: No connection established. Last error: connect ECONNREFUSED …` → `UNAVAILABLE: connect ECONNREFUSED …`. */
function tidy(message: string): string {
  return message
    .replace(/^\w*Error: /, '')
    .replace(/^\d+ ([A-Z_]+): /, '$1: ')
    .replace(/No connection established\. Last error: (Error: )?/, '')
    .replace(/(Deadline exceeded after [\d.]+s),.*$/, '$1')
    .replace(/\.?\s*Resolution note:\s*$/, '')
    .trim();
}

/**
 * Takes a stream from etcd3 for our own error handling. etcd3 attaches an
 * 'error' listener that, for any "recoverable" error — CANCELLED and
 * DEADLINE_EXCEEDED included — closes every gRPC client of that etcd
 * member, which would cut all other watches and keepalives each time we
 * cancel a stream of ours or one times out. The caller must attach its own
 * 'error' listener at once (synchronously).
 */
export function ownStream<S>(stream: S): S {
  (stream as unknown as EventEmitter).removeAllListeners('error');
  return stream;
}

/** The [key, range_end) of every key starting with `prefix` (all keys for ''). */
export function prefixRange(prefix: string): { key: Buffer; range_end: Buffer } {
  if (prefix === '') return { key: Buffer.from([0]), range_end: Buffer.from([0]) };
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]!++;
      return { key: Buffer.from(prefix), range_end: end.subarray(0, i + 1) };
    }
  }
  return { key: Buffer.from(prefix), range_end: Buffer.from([0]) };
}

/** Handlers of `etcdWatch`. */
export interface EtcdWatchHandlers {
  /** One response's events, in revision order. */
  events(events: IWatchResponse['events'], revision: number): void;
  /** The watch is established (again, after a reconnection). */
  connected?(): void;
  /** The stream broke; the watch is being re-established. */
  disconnected?(err: unknown): void;
  /** The watch ended for good (history compacted, or etcd cancelled it): no more events. */
  failed(err: StoreError): void;
}

/**
 * Watches `[key, range_end)` from `startRevision` (default: now), on a
 * gRPC watch stream of its own that it re-establishes after failures,
 * resuming after the last revision it delivered. Resolves once the watch is
 * established, or rejects with StoreError after `callTimeoutMs` if etcd
 * cannot be reached (nothing is left running then).
 */
export async function etcdWatch(
  conn: EtcdConnection,
  range: { key: Buffer; range_end?: Buffer },
  handlers: EtcdWatchHandlers,
  startRevision?: number,
): Promise<StoreWatch> {
  let nextRevision = startRevision; // the first revision not yet delivered; undefined: from "now"
  let closed = false;
  let stream: Awaited<ReturnType<Etcd3['watchClient']['watch']>> | undefined;
  let retry: NodeJS.Timeout | undefined;
  let delay = 100;
  let established: { resolve(): void; reject(err: unknown): void } | undefined;
  let lastError: unknown;

  const open = (): void => {
    if (closed) return;
    conn.client.watchClient
      .watch()
      .then(ownStream)
      .then((s) => {
        if (closed) {
          s.cancel();
          return;
        }
        stream = s;
        let created = false;
        s.on('data', (res: IWatchResponse) => {
          if (closed || stream !== s) return;
          const headerRevision = Number(res.header.revision);
          if (res.created && !created) {
            created = true;
            if (res.canceled) return fail(s, res);
            // First connection without a start revision: everything after this revision is ours.
            if (nextRevision === undefined) nextRevision = headerRevision + 1;
            delay = 100;
            if (established) {
              established.resolve();
              established = undefined;
            } else {
              handlers.connected?.();
            }
            return;
          }
          if (res.canceled) return fail(s, res);
          if (res.events.length > 0) {
            const last = Number(res.events[res.events.length - 1]!.kv.mod_revision);
            nextRevision = Math.max(nextRevision ?? 0, last + 1);
            handlers.events(res.events, last);
          } else if (res.events.length === 0 && headerRevision > 0) {
            // A progress notification: nothing up to this revision is pending.
            nextRevision = Math.max(nextRevision ?? 0, headerRevision + 1);
          }
        });
        const broken = (err: unknown) => {
          if (stream !== s) return;
          stream = undefined;
          s.cancel();
          if (closed) return;
          lastError = err;
          handlers.disconnected?.(err);
          schedule();
        };
        s.on('error', broken);
        s.on('end', () => broken(new Error('the watch stream ended')));
        s.write({
          create_request: {
            ...range,
            ...(nextRevision !== undefined ? { start_revision: nextRevision } : {}),
            progress_notify: true,
          },
        });
      })
      .catch((err) => {
        if (closed) return;
        lastError = err;
        handlers.disconnected?.(err);
        schedule();
      });
  };
  const schedule = (): void => {
    if (closed || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      open();
    }, delay);
    delay = Math.min(delay * 2, 1000);
  };
  const fail = (s: typeof stream, res: IWatchResponse): void => {
    const why = Number(res.compact_revision) > 0
      ? `the history from revision ${nextRevision} was compacted (oldest kept: ${res.compact_revision})`
      : res.cancel_reason || 'etcd cancelled it';
    const err = new StoreError(`the etcd watch on ${range.key.toString()} ended: ${why}; re-read and watch again`);
    stopAll();
    s?.cancel();
    if (established) {
      established.reject(err);
      established = undefined;
    } else {
      handlers.failed(err);
    }
  };
  const stopAll = (): void => {
    closed = true;
    if (retry) clearTimeout(retry);
    retry = undefined;
    const s = stream;
    stream = undefined;
    s?.cancel();
  };

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      if (!established) return;
      established = undefined;
      stopAll();
      const what = `watch ${range.key.toString()}`;
      reject(
        lastError !== undefined
          ? etcdError(conn, lastError, what)
          : new StoreError(`etcd at ${conn.endpoints.join(', ')} is unreachable (${what}): no answer within ${conn.callTimeoutMs} ms; is etcd running?`),
      );
    }, conn.callTimeoutMs);
    established = {
      resolve: () => {
        clearTimeout(timer);
        resolve();
      },
      reject: (err) => {
        clearTimeout(timer);
        reject(err);
      },
    };
    open();
  });
  return {
    close: async () => {
      stopAll();
    },
  };
}

/** EtcdStore's options: how to reach etcd, or a connection to share. */
export type EtcdStoreOptions = EtcdOptions | { connection: EtcdConnection };

/**
 * A Store on etcd. Every method may reject with StoreError (unreachable
 * within `callTimeoutMs`, or refused by etcd); see the Store interface for
 * the contract, and the file comment for failure handling.
 */
export class EtcdStore implements Store {
  readonly connection: EtcdConnection;
  private readonly ownsClient: boolean;
  private readonly watches = new Set<StoreWatch>();
  private closed = false;

  /** Creates the store; it connects on first use. Throws StoreError when no endpoint is given. */
  constructor(opts: EtcdStoreOptions) {
    this.ownsClient = !('connection' in opts);
    this.connection = 'connection' in opts ? opts.connection : connectEtcd(opts);
  }

  /**
   * Creates the store and checks that etcd answers, so a process started
   * with a wrong endpoint stops at once with a clear StoreError.
   */
  static async open(opts: EtcdStoreOptions): Promise<EtcdStore> {
    const store = new EtcdStore(opts);
    try {
      await store.call('connect', () => store.connection.client.maintenance.status());
    } catch (err) {
      await store.close();
      throw err;
    }
    return store;
  }

  async get<T>(key: string): Promise<KeyValue<T> | undefined> {
    const res = await this.call(`get ${key}`, () => this.connection.client.kv.range({ key: Buffer.from(key) }));
    const kv = res.kvs[0];
    return kv && this.decode<T>(kv);
  }

  async put(key: string, value: unknown): Promise<void> {
    const body = Buffer.from(valueJson(key, value));
    await this.call(`put ${key}`, () => this.connection.client.kv.put({ key: Buffer.from(key), value: body }));
  }

  async delete(key: string): Promise<void> {
    await this.call(`delete ${key}`, () => this.connection.client.kv.deleteRange({ key: Buffer.from(key) }));
  }

  async list<T>(prefix: string): Promise<KeyValue<T>[]> {
    const res = await this.call(`list ${prefix}`, () =>
      this.connection.client.kv.range({ ...prefixRange(prefix), sort_order: 'Ascend', sort_target: 'Key' }),
    );
    return res.kvs.map((kv) => this.decode<T>(kv));
  }

  async txn(compares: readonly TxnCompare[], ops: readonly TxnOp[]): Promise<boolean> {
    assertTxn(compares, ops);
    const compare: ICompare[] = compares.map((c) =>
      'createRevision' in c
        ? { key: Buffer.from(c.key), target: 'Create', result: 'Equal', create_revision: c.createRevision }
        : { key: Buffer.from(c.key), target: 'Version', result: 'Equal', version: c.version },
    );
    const success: IRequestOp[] = ops.map((op) =>
      op.op === 'put'
        ? { request_put: { key: Buffer.from(op.key), value: Buffer.from(valueJson(op.key, op.value)) } }
        : { request_delete_range: { key: Buffer.from(op.key) } },
    );
    const res = await this.call('txn', () => this.connection.client.kv.txn({ compare, success, failure: [] }));
    return res.succeeded;
  }

  async watch(prefix: string, listener: (e: WatchEvent) => void, onError?: (err: Error) => void): Promise<StoreWatch> {
    this.checkOpen();
    const w = await etcdWatch(this.connection, prefixRange(prefix), {
      events: (events) => {
        for (const ev of events) {
          try {
            const key = ev.kv.key.toString();
            listener(
              ev.type === 'Put'
                ? { type: 'put', key, value: parse(key, ev.kv.value, this.connection), version: Number(ev.kv.version) }
                : { type: 'delete', key, version: 0 },
            );
          } catch (err) {
            // A listener that throws is a bug: fail loudly, outside the stream's handler.
            setImmediate(() => {
              throw err;
            });
          }
        }
      },
      failed: (err) => {
        this.watches.delete(handle);
        onError?.(err);
      },
    });
    const handle: StoreWatch = {
      close: async () => {
        this.watches.delete(handle);
        await w.close();
      },
    };
    this.watches.add(handle);
    return handle;
  }

  /** Stops the watches and, unless the connection was shared, closes the client. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.watches].map((w) => w.close()));
    if (this.ownsClient) this.connection.client.close();
  }

  private checkOpen(): void {
    if (this.closed) throw new StoreError(`the etcd store (${this.connection.endpoints.join(', ')}) is closed`);
  }

  private async call<R>(what: string, fn: () => Promise<R>): Promise<R> {
    this.checkOpen();
    try {
      return await fn();
    } catch (err) {
      throw etcdError(this.connection, err, what);
    }
  }

  private decode<T>(kv: IKeyValue): KeyValue<T> {
    const key = kv.key.toString();
    return {
      key, value: parse(key, kv.value, this.connection) as T, version: Number(kv.version),
      createRevision: Number(kv.create_revision), modRevision: Number(kv.mod_revision),
    };
  }
}


function parse(key: string, value: Buffer, conn: Pick<EtcdConnection, 'endpoints'>): unknown {
  try {
    return JSON.parse(value.toString());
  } catch (err) {
    throw new StoreError(
      `the value at ${key} in etcd at ${conn.endpoints.join(', ')} is not JSON (${errorMessage(err)}); ` +
        'something other than Mezzanine wrote it: delete or repair the key',
      { cause: err },
    );
  }
}
