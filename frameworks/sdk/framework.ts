/**
 * A framework's connection to the master: one Scheduler.Subscribe stream,
 * kept alive by the SDK so that the author only writes handlers.
 *
 *   connect ──SUBSCRIBE──▶ master ──SUBSCRIBED──▶ subscribed ──events──▶ handlers
 *      ▲                                              │
 *      └── backoff (lib/leader-follower) ◀───────────┘ stream error, end,
 *                                                       or 3 missed heartbeats
 *
 * Offers are valid only on the connection they came from, so ACCEPT and
 * DECLINE made while disconnected are dropped (with a non-fatal 'error'
 * event); calls that stay meaningful across a reconnect (KILL, ACKNOWLEDGE,
 * RECONCILE, REVIVE, SUPPRESS, MESSAGE) are queued and sent after the next
 * SUBSCRIBED.
 */
import { EventEmitter } from 'node:events';
import os from 'node:os';
import * as grpc from '@grpc/grpc-js';
import { parseMasterList } from '../../lib/address';
import { parseMasterSpec, resolveMasters } from '../../lib/master-locator';
import { parseDuration } from '../../lib/duration';
import { type ErrorKind, asErrorKind } from '../../lib/errors';
import { type ClientSecurity, makeClient, resolveClientSecurity } from '../../lib/auth';
import { errorKindOf, leaderOf, tidyDetails } from '../../lib/grpc';
import { LeaderFollower } from '../../lib/leader-follower';
import { createLogger } from '../../lib/log';
import {
  mezzProto,
  type Call,
  type Event__Output,
  type Filters,
  type FrameworkInfo,
  type Offer__Output,
  type Operation,
  type SchedulerClient,
  type TaskInfo,
  type TaskStatus__Output,
} from '../../lib/proto';
import type { BackoffOptions } from '../../lib/backoff';
import { CallError, FrameworkClosedError, SubscribeError } from './errors';
import { type FileSource, type ReadRange, type TaskFileChunk, readTaskFile, tail } from './files';
import type { AnyOffer, Launch, PackResult } from './match';
import { offerConstraintsToProto, type OfferConstraintsOption } from './offer-constraints';
import { type ReconcileOptions, type ReconcileResult, type ReconcileTask, reconcileTasks } from './reconcile';

/** Where the SDK writes what it does; winston, pino and `console` all fit. */
export interface SdkLogger {
  debug(message: string, meta?: Record<string, unknown>): unknown;
  info(message: string, meta?: Record<string, unknown>): unknown;
  warn(message: string, meta?: Record<string, unknown>): unknown;
  error(message: string, meta?: Record<string, unknown>): unknown;
}

/** What `connectFramework` needs; only `name` is required. */
export interface FrameworkOptions {
  /** `host:port`, a comma-separated list, or an array. Default: env MEZZ_MASTER, else 127.0.0.1:5050. */
  master?: string | string[];
  name: string;
  /** Roles to receive offers for. Default `['*']`. */
  roles?: string[];
  /** How long the master keeps this framework's tasks while it is disconnected, e.g. '1h' or seconds. Default '7d'. */
  failoverTimeout?: string | number;
  /** 'PARTITION_AWARE', 'GPU_RESOURCES', 'TASK_KILLING_STATE', 'MULTI_ROLE' (lib/proto.ts FRAMEWORK_CAPABILITIES); others are refused. */
  capabilities?: string[];
  /** Subscribe as this existing framework (after a scheduler restart) instead of registering a new one. */
  frameworkId?: string;
  /** Acknowledge each status update after the 'update' listeners ran. Default true. */
  autoAcknowledge?: boolean;
  /**
   * The user the framework's tasks run as, unless a task's command names its own. Default '':
   * the agent's --default-user (`nobody` when the agent runs as root). Any other user needs
   * the master's run_task_as permission.
   */
  user?: string;
  /** Where this framework's own API answers (http[s]://HOST:PORT), shown by `mezz frameworks`; operators' tools find the framework by it. */
  webuiUrl?: string;
  /** The token to authenticate with. Default: env MEZZ_TOKEN, the file MEZZ_TOKEN_FILE, else ./.mezz/token when it exists (what `mezz up` writes). */
  token?: string;
  /** Mutual TLS: this framework's certificate, its key and the CA (PEM files). Default: env MEZZ_TLS_CERT, MEZZ_TLS_KEY, MEZZ_TLS_CA; none: plaintext. */
  tls?: { cert: string; key: string; ca: string };
  /** Default: this machine's hostname. */
  hostname?: string;
  labels?: Record<string, string>;
  /**
   * Per role, the only agents to be offered, checked by the master's allocator so no offer
   * arrives that would only be declined, e.g. `{ '*': [[{ attribute: 'rack', equals: 'r1' }]] }`:
   * role → groups (any may pass) of constraints (all must). See offer-constraints.ts.
   */
  offerConstraints?: OfferConstraintsOption;
  /** Default: a winston logger to stderr (level from MEZZ_LOG_LEVEL). */
  logger?: SdkLogger;
  /** How long `connectFramework` keeps trying before it rejects, e.g. '30s'; 0 waits forever. Default '30s'. */
  connectTimeout?: string | number;
  /** Reconnection delays. Default 200 ms doubling to 5 s, jittered. */
  backoff?: BackoffOptions;
  /** Source of jitter in [0, 1). Default Math.random. */
  random?: () => number;
}

/** Payload of the 'subscribed' event. */
export interface SubscribedEvent {
  frameworkId: string;
  heartbeatIntervalSeconds: number;
  /** True when the SUBSCRIBE carried an existing framework id: reconcile now. */
  resubscribed: boolean;
  /** The address of the master that answered. */
  master: string;
  masterId: string;
  masterVersion: string;
}

/** Payload of the 'message' event: data a task's executor sent to the framework. */
export interface FrameworkMessage {
  agentId: string;
  taskId: string;
  data: Buffer;
}

/** Payload of the 'error' event. */
export interface FrameworkErrorEvent {
  message: string;
  /** Fatal errors end the session: the SDK stops reconnecting. */
  fatal: boolean;
  /** The call that failed, e.g. ACCEPT; empty when none. */
  call: string;
  /** What kind of failure, e.g. INVALID, UNAVAILABLE, FRAMEWORK_REMOVED: decide from this, not from the message. */
  kind: ErrorKind;
}

/** The events a `Framework` emits and their arguments. */
export interface FrameworkEvents {
  subscribed: [event: SubscribedEvent];
  offers: [offers: Offer__Output[]];
  rescind: [offerId: string, reason: string];
  update: [status: TaskStatus__Output];
  message: [message: FrameworkMessage];
  failure: [agentId: string];
  error: [error: FrameworkErrorEvent];
  disconnected: [reason: string];
  heartbeat: [];
}

/** What `updateFramework` may change; what is left out stays as it is. */
export interface FrameworkChanges {
  roles?: string[];
  /** A duration ('1h') or seconds. */
  failoverTimeout?: string | number;
  capabilities?: string[];
  labels?: Record<string, string>;
}

/** Offers are named by id or passed whole. */
export type OfferRef = string | AnyOffer;

/** The master's status updates; acknowledging needs these three fields. */
export interface Acknowledgeable {
  agentId: string;
  taskId: string;
  uuid: string;
}

/** Without an answer to SUBSCRIBE within this time, the attempt counts as failed. */
const SUBSCRIBE_TIMEOUT_MS = 10_000;
/** `teardown()` waits this long for a connection, and then for the master to end the stream. */
const TEARDOWN_CONNECT_MS = 10_000;
const TEARDOWN_LINGER_MS = 2_000;
/**
 * The master sends no answer to a successful UPDATE_FRAMEWORK, but handles a
 * stream's calls in order: a RECONCILE for a task on an agent that cannot
 * exist, sent right behind it, is always answered (TASK_LOST or TASK_UNKNOWN),
 * and its answer means the update was handled. These answers are not emitted.
 */
const PROBE_TASK_PREFIX = 'mezz-sdk-update-probe-';
const PROBE_AGENT = 'mezz-sdk-no-such-agent';
/** Refusals of SUBSCRIBE that no retry can fix: the SDK stops and reports them as fatal. */
const FATAL_KINDS: ReadonlySet<ErrorKind> = new Set([
  'INVALID', 'NOT_FOUND', 'PERMISSION_DENIED', 'UNAUTHENTICATED', 'FRAMEWORK_REMOVED', 'FRAMEWORK_UNKNOWN', 'FRAMEWORK_FAILED_OVER',
]);

/** How a stream ended, as the SDK decides on it. */
interface StreamEnd {
  kind: ErrorKind;
  details: string;
  /** The leader a standby named (trailing metadata), if any. */
  leader?: string;
}

type Phase = 'connecting' | 'subscribed' | 'closed';

/**
 * A subscribed framework. Create one with `connectFramework`; listen to its
 * events; act on offers and tasks with its methods. Each method sends one
 * Call on the stream with the framework id filled in. Listener exceptions
 * propagate as with any EventEmitter.
 */
export class Framework extends EventEmitter<FrameworkEvents> {
  #frameworkId: string;
  readonly #masters: string[];
  #info: FrameworkInfo;
  readonly #autoAck: boolean;
  readonly #log: SdkLogger;
  readonly #follower: LeaderFollower;
  readonly #connectTimeoutMs: number;
  /** The token and TLS material every call to a master carries. */
  readonly #security: ClientSecurity;

  #phase: Phase = 'connecting';
  #client: SchedulerClient | undefined;
  #stream: grpc.ClientDuplexStream<Call, Event__Output> | undefined;
  #address = '';
  /** Consecutive failed attempts, for quieter logs. */
  #attempt = 0;
  #lastFailure = '';
  #subscribedWithId = false;
  #everSubscribed = false;
  #heartbeatMs = 0;
  #watchdog: NodeJS.Timeout | undefined;
  #retry: NodeJS.Timeout | undefined;
  /** Calls waiting for the next SUBSCRIBED. */
  #queue: Call[] = [];
  /** Events held back for one turn after the first SUBSCRIBED, so that the author can attach listeners. */
  #held: Event__Output[] | undefined;
  /** Waiters for the next SUBSCRIBED: connectFramework and teardown. */
  #waiters: { resolve: () => void; reject: (err: Error) => void }[] = [];
  /** The first SUBSCRIBED (or a later one in the same turn), until it is emitted with the held events. */
  #deferredSubscribed: SubscribedEvent | undefined;
  /** The last SUBSCRIBED, as emitted. */
  #subscription: SubscribedEvent | undefined;
  /** UPDATE_FRAMEWORKs sent and not yet answered, oldest first, each with its probe task id. */
  #updates: { probe: string; info: FrameworkInfo; resolve: () => void; reject: (err: Error) => void }[] = [];
  #probes = 0;

  /** @internal Use `connectFramework`. */
  constructor(opts: FrameworkOptions) {
    super();
    if (!opts.name?.trim()) throw new TypeError('connectFramework: a framework needs a name');
    const master = opts.master ?? process.env.MEZZ_MASTER ?? '127.0.0.1:5050';
    this.#masters = parseMasterList(Array.isArray(master) ? master.join(',') : master);
    this.#frameworkId = opts.frameworkId ?? '';
    this.#autoAck = opts.autoAcknowledge ?? true;
    this.#log = opts.logger ?? createLogger(`framework:${opts.name}`);
    this.#follower = new LeaderFollower(this.#masters, {
      backoff: { initialMs: 200, maxMs: 5000, ...opts.backoff },
      random: opts.random ?? Math.random,
    });
    this.#connectTimeoutMs = parseDuration(opts.connectTimeout ?? '30s') * 1000;
    this.#security = resolveClientSecurity({ token: opts.token, tlsCert: opts.tls?.cert, tlsKey: opts.tls?.key, tlsCa: opts.tls?.ca, masters: this.#masters });
    this.#info = {
      name: opts.name,
      user: opts.user ?? '',
      roles: opts.roles?.length ? opts.roles : ['*'],
      failoverTimeout: parseDuration(opts.failoverTimeout ?? '7d'),
      capabilities: opts.capabilities ?? [],
      hostname: opts.hostname ?? os.hostname(),
      labels: opts.labels ?? {},
      webuiUrl: opts.webuiUrl ?? '',
      offerConstraints: offerConstraintsToProto(opts.offerConstraints ?? {}),
    };
  }

  /** The id the master assigned; empty until the first SUBSCRIBED. */
  get frameworkId(): string {
    return this.#frameworkId;
  }

  /** True while subscribed (calls go out at once). */
  get connected(): boolean {
    return this.#phase === 'subscribed';
  }

  /** The master this framework is talking to, or trying to. */
  get master(): string {
    return this.#address;
  }

  /** The last 'subscribed' event: `resubscribed`, the master's id and version. Undefined until the first one was emitted. */
  get subscription(): SubscribedEvent | undefined {
    return this.#subscription;
  }

  /** @internal Starts connecting; resolves on the first SUBSCRIBED, rejects on a fatal error or after connectTimeout. */
  start(): Promise<void> {
    const first = this.#waitSubscribed(this.#connectTimeoutMs, () =>
      `could not subscribe to the master at ${this.#masters.join(', ')} within ${this.#connectTimeoutMs / 1000}s` +
      ` (${this.#lastFailure || 'no answer'}); is it running? start one with 'mezz up'`);
    this.#connect(this.#follower.next().address);
    return first.catch((err: Error) => {
      this.#shutdown();
      throw err;
    });
  }

  // ── calls ────────────────────────────────────────────────────────────

  /**
   * Accepts offers (all from one agent) with operations. Unused resources
   * return to the master, filtered from this framework for
   * `filters.refuseSeconds` (master default 5 s). Returns false, and emits a
   * non-fatal 'error', when not connected: offers do not survive a reconnect.
   */
  accept(offerIds: readonly OfferRef[], operations: Operation[], filters?: Filters): boolean {
    const ids = offerIds.map(offerId);
    if (!ids.length) return true;
    return this.#send({ accept: { offerIds: ids, operations, filters: filters ?? null } }, 'drop');
  }

  /** Launches `tasks` on an offer (or several offers of one agent): one ACCEPT with one LAUNCH. */
  launch(offers: OfferRef | readonly OfferRef[], tasks: TaskInfo[], filters?: Filters): boolean {
    return this.accept(asList(offers), [{ launch: { taskInfos: tasks } }], filters);
  }

  /** Launches `tasks` as one group: all start together on the offer's agent, or none does. */
  launchGroup(offers: OfferRef | readonly OfferRef[], tasks: TaskInfo[], filters?: Filters): boolean {
    return this.accept(asList(offers), [{ launchGroup: { taskInfos: tasks } }], filters);
  }

  /** Launches what `pack` planned: one ACCEPT per offer. True when every ACCEPT was sent. */
  launchAll(plan: PackResult | readonly Launch[], filters?: Filters): boolean {
    const launches = 'launches' in plan ? plan.launches : plan;
    return launches.map((l) => this.launch(l.offer, l.tasks, filters)).every(Boolean);
  }

  /** Declines offers; their resources are not offered to this framework again for `filters.refuseSeconds`. */
  decline(offerIds: readonly OfferRef[], filters?: Filters): boolean {
    const ids = offerIds.map(offerId);
    if (!ids.length) return true;
    return this.#send({ decline: { offerIds: ids, filters: filters ?? null } }, 'drop');
  }

  /** Asks for offers again (all roles when none given) and clears decline filters. Queued while disconnected. */
  revive(roles: string[] = []): void {
    this.#send({ revive: { roles } }, 'queue');
  }

  /** Stops offers (all roles when none given) until `revive`. Queued while disconnected. */
  suppress(roles: string[] = []): void {
    this.#send({ suppress: { roles } }, 'queue');
  }

  /** Kills a task; its end arrives as an update (TASK_KILLED). Queued while disconnected. */
  kill(taskId: string, agentId = ''): void {
    this.#send({ kill: { taskId, agentId } }, 'queue');
  }

  /** Acknowledges a status update (only needed with autoAcknowledge: false). Queued while disconnected. */
  acknowledge(status: Acknowledgeable): void {
    if (!status.uuid) return; // nothing to acknowledge: reconciliation answers carry no uuid
    this.#send({ acknowledge: { agentId: status.agentId, taskId: status.taskId, uuid: status.uuid } }, 'queue');
  }

  /**
   * Asks the master for the latest state of `tasks`, or of all this
   * framework's tasks when none are given (implicit reconciliation). Answers
   * arrive as 'update' events. Queued while disconnected.
   */
  reconcile(tasks: ReconcileTask[] = []): void {
    this.#send({ reconcile: { tasks: tasks.map((t) => ({ taskId: t.taskId, agentId: t.agentId ?? '' })) } }, 'queue');
  }

  /**
   * Explicit reconciliation until answered: sends RECONCILE for `tasks`, and
   * again (with backoff, and at once after a reconnect) for those without an
   * 'update' yet, until each is answered or `timeout` (default '30s') passed.
   * Resolves with the latest status of each answered task and the ids of
   * those not answered: a task whose agent is re-registering after a master
   * failover gets no answer until that agent is back. The answers are also
   * emitted as 'update' events. Rejects with FrameworkClosedError if the
   * framework is closed meanwhile.
   */
  reconcileTasks(tasks: readonly ReconcileTask[], opts?: ReconcileOptions): Promise<ReconcileResult> {
    return reconcileTasks(this, tasks, opts);
  }

  /**
   * Changes this framework's roles, failover timeout, capabilities or labels
   * (UPDATE_FRAMEWORK); later re-subscriptions carry the new info. Resolves
   * once the master has applied it (the master sends no acknowledgement: see
   * PROBE_TASK_PREFIX). Rejects with CallError: the master's refusal (kind
   * INVALID for a bad role or capability; it is not also emitted as 'error'),
   * or UNAVAILABLE when not connected or the connection broke before the
   * answer (then it may or may not have been applied: call again).
   */
  updateFramework(changes: FrameworkChanges): Promise<void> {
    if (this.#phase === 'closed') throw new FrameworkClosedError('update_framework');
    const info: FrameworkInfo = {
      ...this.#info,
      ...(changes.roles && { roles: changes.roles }),
      ...(changes.capabilities && { capabilities: changes.capabilities }),
      ...(changes.labels && { labels: changes.labels }),
      ...(changes.failoverTimeout !== undefined && { failoverTimeout: parseDuration(changes.failoverTimeout) }),
    };
    if (this.#phase !== 'subscribed') {
      return Promise.reject(new CallError('UPDATE_FRAMEWORK', `cannot update framework ${this.#frameworkId}: not connected to a master; try again after 'subscribed'`, 'UNAVAILABLE'));
    }
    const probe = `${PROBE_TASK_PREFIX}${++this.#probes}`;
    return new Promise((resolve, reject) => {
      this.#updates.push({ probe, info, resolve, reject });
      this.#write({ updateFramework: { framework: { ...info, id: this.#frameworkId } } });
      this.#write({ reconcile: { tasks: [{ taskId: probe, agentId: PROBE_AGENT }] } });
    });
  }

  /**
   * Reads `path` (default stdout; relative to the task's sandbox) of a task,
   * through the master this framework is connected to. Rejects with
   * CallError: NOT_FOUND (unknown task or file), INVALID (bad path or range),
   * UNAVAILABLE (not connected; agent unreachable).
   */
  readTaskFile(taskId: string, path = 'stdout', range?: ReadRange): Promise<TaskFileChunk> {
    return readTaskFile(this.#fileSource(), taskId, path, range);
  }

  /** The last `bytes` (default 4096, at most 1 MiB) of a task's `path` (default stderr) as text, e.g. for a failure report. Rejects as readTaskFile. */
  tail(taskId: string, path = 'stderr', bytes = 4096): Promise<string> {
    return tail(this.#fileSource(), taskId, path, bytes);
  }

  #fileSource(): FileSource {
    if (this.#phase === 'closed') throw new FrameworkClosedError('read_task_file');
    return { connected: this.connected, master: this.#address, security: this.#security };
  }

  /** Sends data to a running task (appended to `messages` in its sandbox). Queued while disconnected. */
  message(agentId: string, taskId: string, data: string | Uint8Array): void {
    this.#send({ message: { agentId, taskId, data: typeof data === 'string' ? Buffer.from(data) : data } }, 'queue');
  }

  /**
   * Removes this framework from the cluster: the master kills its tasks and
   * forgets it. Waits up to 10 s for a connection if there is none, then
   * closes. Rejects with SubscribeError when no master could be reached (the
   * master then removes the framework only after its failover timeout).
   * Idempotent.
   */
  async teardown(): Promise<void> {
    if (this.#phase === 'closed') return;
    if (this.#phase !== 'subscribed') {
      try {
        await this.#waitSubscribed(TEARDOWN_CONNECT_MS, () =>
          `cannot tear down framework ${this.#frameworkId}: no master reachable (${this.#lastFailure}); ` +
          `it will be removed after its failover timeout`);
      } catch (err) {
        this.#shutdown();
        throw err;
      }
    }
    const stream = this.#stream!;
    this.#phase = 'closed'; // from here on, a closing stream is expected, not a reason to reconnect
    this.#log.info(`tearing down framework ${this.#frameworkId}`);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, TEARDOWN_LINGER_MS);
      stream.once('status', () => { clearTimeout(timer); resolve(); });
      stream.write({ frameworkId: this.#frameworkId, teardown: {} }, () => stream.end());
    });
    this.#shutdown();
  }

  /**
   * Disconnects without tearing down: the master keeps this framework's
   * tasks for its failover timeout, and a new process may re-subscribe with
   * `frameworkId`. Queued calls are discarded. Idempotent.
   */
  close(): void {
    this.#shutdown();
  }

  // ── connection ───────────────────────────────────────────────────────

  #connect(address: string): void {
    this.#retry = undefined;
    if (this.#phase === 'closed') return;
    this.#address = address;
    this.#phase = 'connecting';
    this.#subscribedWithId = this.#frameworkId !== '';
    this.#log.debug(`subscribing to the master at ${address}`, { frameworkId: this.#frameworkId || undefined });

    // A fresh client per attempt: a channel that failed keeps its own
    // (slower) reconnect backoff, and ours should decide when to retry.
    const { Scheduler } = mezzProto();
    const client = makeClient(Scheduler, address, this.#security);
    const stream = client.subscribe();
    this.#client = client;
    this.#stream = stream;

    let down = false;
    const onDown = (end: StreamEnd) => {
      if (down) return;
      down = true;
      if (this.#stream === stream) this.#streamDown(end);
    };
    stream.on('data', (event: Event__Output) => {
      if (this.#stream === stream) this.#receive(event);
    });
    // 'status' always comes; 'error' may come first and carries the same details and trailers.
    const ended = (s: Partial<grpc.StatusObject>): StreamEnd => s.code === grpc.status.OK
      ? { kind: 'UNAVAILABLE', details: 'the master closed the stream' }
      : { kind: errorKindOf(s), details: `${grpc.status[s.code!] ?? s.code}: ${tidyDetails(s.details ?? '')}`, leader: leaderOf(s) };
    stream.on('error', (err: grpc.ServiceError) => onDown(ended(err)));
    stream.on('status', (s: grpc.StatusObject) => onDown(ended(s)));

    stream.write({ subscribe: { framework: { ...this.#info, id: this.#frameworkId } } });
    this.#armWatchdog();
  }

  /** The stream is gone (error, end, or our watchdog): report it and schedule the next attempt. */
  #streamDown(end: StreamEnd): void {
    const wasSubscribed = this.#phase === 'subscribed';
    const address = this.#address;
    this.#dropConnection();
    if (this.#phase === 'closed') return;
    this.#lastFailure = `${address}: ${end.details}`;
    if (FATAL_KINDS.has(end.kind)) {
      this.#fatal({ message: `the master at ${address} refused the subscription: ${end.details}`, fatal: true, call: 'SUBSCRIBE', kind: end.kind });
      return;
    }
    this.#follower.failed({ wasConnected: wasSubscribed, notLeader: end.kind === 'NOT_LEADER', leader: end.leader });
    const next = this.#follower.next();
    this.#phase = 'connecting';
    const where = next.redirected ? `the leader at ${next.address}` : `the master at ${next.address}`;
    if (wasSubscribed) {
      this.#log.warn(`disconnected from the master at ${address} (${end.details}); reconnecting to ${where} in ${next.delayMs} ms`);
      this.emit('disconnected', end.details);
    } else {
      // Every failed attempt at debug level, but only every fifth at warn: the cap of 5 s
      // would otherwise print a line every few seconds for as long as the master is away.
      const level = this.#attempt++ % 5 === 0 ? 'warn' : 'debug';
      this.#log[level](`cannot subscribe at ${address} (${end.details}); retrying ${where} in ${next.delayMs} ms`);
    }
    this.#retry = setTimeout(() => this.#connect(next.address), next.delayMs);
  }

  /**
   * Before SUBSCRIBED: the master must answer within SUBSCRIBE_TIMEOUT_MS.
   * After: any event proves the stream alive; silence for three heartbeat
   * intervals (+1 s for scheduling slack) means it is dead even if TCP has
   * not noticed, so cancel and reconnect.
   */
  #armWatchdog(): void {
    clearTimeout(this.#watchdog);
    this.#watchdog = undefined;
    const subscribed = this.#phase === 'subscribed';
    const ms = subscribed ? (this.#heartbeatMs > 0 ? 3 * this.#heartbeatMs + 1000 : 0) : SUBSCRIBE_TIMEOUT_MS;
    if (!ms) return;
    this.#watchdog = setTimeout(() => {
      const why = subscribed
        ? `no heartbeat from the master for ${ms / 1000}s`
        : `no answer to SUBSCRIBE within ${ms / 1000}s`;
      this.#streamDown({ kind: 'UNAVAILABLE', details: why });
    }, ms);
  }

  #dropConnection(): void {
    clearTimeout(this.#watchdog);
    this.#watchdog = undefined;
    const stream = this.#stream;
    const client = this.#client;
    this.#stream = undefined;
    this.#client = undefined;
    stream?.cancel();
    client?.close();
    for (const u of this.#updates.splice(0)) {
      u.reject(new CallError('UPDATE_FRAMEWORK', 'the connection to the master broke before it answered UPDATE_FRAMEWORK; it may or may not have been applied: call again', 'UNAVAILABLE'));
    }
  }

  #shutdown(): void {
    const wasOpen = this.#phase !== 'closed';
    this.#phase = 'closed';
    clearTimeout(this.#retry);
    this.#retry = undefined;
    this.#dropConnection();
    if (this.#queue.length) this.#log.debug(`discarding ${this.#queue.length} queued calls`);
    this.#queue = [];
    this.#held = undefined;
    for (const w of this.#waiters.splice(0)) w.reject(new FrameworkClosedError('subscribe'));
    if (wasOpen) this.#log.debug('framework connection closed');
  }

  /** Stops for good: an ERROR event or a status that no retry can fix. */
  #fatal(error: FrameworkErrorEvent): void {
    const waiters = this.#waiters.splice(0);
    this.#log.error(error.message, { kind: error.kind });
    this.#shutdown();
    this.#emitError(error);
    for (const w of waiters) w.reject(new SubscribeError(error.message, error.kind));
  }

  /** Resolves on the next SUBSCRIBED; rejects after `timeoutMs` (0: never) or when closed. */
  #waitSubscribed(timeoutMs: number, describe: () => string): Promise<void> {
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: () => { clearTimeout(timer); resolve(); },
        reject: (err: Error) => { clearTimeout(timer); reject(err); },
      };
      const timer = timeoutMs > 0
        ? setTimeout(() => {
            this.#waiters = this.#waiters.filter((w) => w !== waiter);
            reject(new SubscribeError(describe()));
          }, timeoutMs)
        : undefined;
      this.#waiters.push(waiter);
    });
  }

  // ── events ───────────────────────────────────────────────────────────

  #receive(event: Event__Output): void {
    if (this.#phase === 'closed') return;
    if (this.#phase === 'subscribed') this.#armWatchdog();
    if (event.event === 'subscribed') return this.#onSubscribed(event);
    if (this.#held) this.#held.push(event);
    else this.#dispatch(event);
  }

  #onSubscribed(event: Event__Output): void {
    const s = event.subscribed!;
    const first = !this.#everSubscribed;
    this.#everSubscribed = true;
    this.#frameworkId = s.frameworkId;
    this.#phase = 'subscribed';
    this.#attempt = 0;
    this.#follower.succeeded();
    this.#heartbeatMs = s.heartbeatIntervalSeconds * 1000;
    this.#armWatchdog();
    this.#log.info(`subscribed to the master at ${this.#address} as framework ${s.frameworkId}`,
      { resubscribed: this.#subscribedWithId });

    for (const call of this.#queue.splice(0)) this.#write(call);

    const subscribed: SubscribedEvent = {
      frameworkId: s.frameworkId,
      heartbeatIntervalSeconds: s.heartbeatIntervalSeconds,
      resubscribed: this.#subscribedWithId,
      master: this.#address,
      masterId: s.masterId,
      masterVersion: s.masterVersion,
    };
    // The author attaches listeners after `await connectFramework(...)`, a
    // microtask away: the first 'subscribed' (which a restarted framework
    // reconciles on) and offers in the same network read would otherwise be
    // emitted to nobody. Emit them one macrotask later, 'subscribed' first.
    // A re-subscription within that turn replaces the event still to be emitted.
    if (first || this.#held) {
      this.#deferredSubscribed = subscribed;
      if (first) this.#releaseHeld();
    } else {
      this.#emitSubscribed(subscribed);
    }
    for (const w of this.#waiters.splice(0)) w.resolve();
  }

  /** One macrotask after the first SUBSCRIBED: emits it, then the events held behind it. */
  #releaseHeld(): void {
    this.#held = [];
    setImmediate(() => {
      const held = this.#held ?? [];
      const subscribed = this.#deferredSubscribed;
      this.#held = undefined;
      this.#deferredSubscribed = undefined;
      const closed = () => this.#phase === 'closed'; // a listener may close it
      if (closed()) return;
      if (subscribed) this.#emitSubscribed(subscribed);
      for (const e of held) if (!closed()) this.#dispatch(e);
    });
  }

  #emitSubscribed(event: SubscribedEvent): void {
    this.#subscription = event;
    this.emit('subscribed', event);
  }

  #dispatch(event: Event__Output): void {
    switch (event.event) {
      case 'offers': {
        const offers = event.offers?.offers ?? [];
        if (this.listenerCount('offers') === 0) {
          // Nobody will use them: give them back so that other frameworks can.
          this.#log.debug(`declining ${offers.length} offers: no 'offers' listener`);
          this.decline(offers);
        } else {
          this.emit('offers', offers);
        }
        return;
      }
      case 'rescind':
        this.emit('rescind', event.rescind?.offerId ?? '', event.rescind?.reason ?? '');
        return;
      case 'update': {
        const status = event.update?.status;
        if (!status) return;
        if (status.taskId.startsWith(PROBE_TASK_PREFIX)) return this.#updateApplied(status.taskId);
        this.emit('update', status);
        // After the listeners ran: a throwing listener leaves the update
        // unacknowledged, so the agent resends it.
        if (this.#autoAck && status.uuid && this.#phase !== 'closed') this.acknowledge(status);
        return;
      }
      case 'message': {
        const m = event.message!;
        this.emit('message', { agentId: m.agentId, taskId: m.taskId, data: m.data });
        return;
      }
      case 'failure':
        this.emit('failure', event.failure?.agentId ?? '');
        return;
      case 'error':
        return this.#onError(event.error!);
      case 'heartbeat':
        this.emit('heartbeat');
        return;
      default:
        this.#log.debug('ignoring an event of unknown kind', { event: event.event });
    }
  }

  #onError(e: Event__Output['error'] & object): void {
    const error: FrameworkErrorEvent = { message: e.message, fatal: e.fatal, call: e.call, kind: asErrorKind(e.kind) ?? 'INTERNAL' };
    if (error.kind === 'NOT_LEADER') {
      // Not an error for the author: this master stopped leading; find the one that does.
      this.#streamDown({ kind: 'NOT_LEADER', details: e.message });
      return;
    }
    if (error.kind === 'RESOURCE_EXHAUSTED' && error.call === 'SUBSCRIBE') {
      // A limit on subscriptions (their rate, frameworks per principal) passes: try again with backoff, saying why.
      this.#emitError({ ...error, fatal: false });
      this.#streamDown({ kind: 'RESOURCE_EXHAUSTED', details: e.message });
      return;
    }
    if (error.fatal) this.#fatal(error);
    else this.#emitError(error);
  }

  /** The probe behind an UPDATE_FRAMEWORK was answered: unless refused meanwhile, the update holds. */
  #updateApplied(probe: string): void {
    const i = this.#updates.findIndex((u) => u.probe === probe);
    if (i < 0) return; // refused: already rejected
    const [u] = this.#updates.splice(i, 1);
    this.#info = u!.info;
    u!.resolve();
  }

  /** An 'error' with no listener would throw (EventEmitter rule); log it instead (fatal ones are logged by #fatal). */
  #emitError(error: FrameworkErrorEvent): void {
    // A refused UPDATE_FRAMEWORK comes before its probe's answer: it belongs to the oldest one pending.
    if (error.call === 'UPDATE_FRAMEWORK' && !error.fatal && this.#updates.length) {
      this.#updates.shift()!.reject(new CallError('UPDATE_FRAMEWORK', error.message, error.kind));
      return;
    }
    if (this.listenerCount('error') > 0) this.emit('error', error);
    else if (!error.fatal) this.#log.warn(`${error.call ? error.call + ' failed: ' : ''}${error.message}`, { kind: error.kind, fatal: error.fatal });
  }

  // ── sending ──────────────────────────────────────────────────────────

  #send(call: Call, whileDisconnected: 'drop' | 'queue'): boolean {
    const name = callName(call);
    if (this.#phase === 'closed') throw new FrameworkClosedError(name.toLowerCase());
    if (this.#phase === 'subscribed') {
      this.#write(call);
      return true;
    }
    if (whileDisconnected === 'queue') {
      this.#queue.push(call);
      return false;
    }
    // Emitted on the next tick so that a listener never runs inside the caller's accept().
    process.nextTick(() => this.#emitError({
      message: `${name} dropped: not connected to a master, and offers do not survive a reconnect; ` +
        'new offers will follow the next subscription (reconcile then to learn what was launched)',
      fatal: false, call: name, kind: 'UNAVAILABLE',
    }));
    return false;
  }

  #write(call: Call): void {
    this.#stream!.write({ ...call, frameworkId: this.#frameworkId });
  }
}

/** `{accept: …}` → `ACCEPT`. */
function callName(call: Call): string {
  const key = Object.keys(call).find((k) => k !== 'frameworkId') ?? 'call';
  return key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();
}

function offerId(ref: OfferRef): string {
  return typeof ref === 'string' ? ref : ref.id ?? '';
}

function asList(offers: OfferRef | readonly OfferRef[]): readonly OfferRef[] {
  return Array.isArray(offers) ? offers : [offers as OfferRef];
}

/**
 * Subscribes a framework to the master and resolves once the master answered
 * SUBSCRIBED, with `frameworkId` set. From then on the SDK keeps the
 * subscription alive: it reconnects with backoff, tries each master in turn,
 * follows leader hints and re-subscribes with the same id, emitting
 * 'disconnected' and 'subscribed' (resubscribed: true) on the way.
 *
 * Rejects with SubscribeError when no master answered within
 * `connectTimeout`, or when the master refused the framework (a fatal
 * error). Throws (TypeError, Error) for bad options: no name, a malformed
 * address or duration.
 */
export async function connectFramework(opts: FrameworkOptions): Promise<Framework> {
  const spec = opts.master ?? process.env.MEZZ_MASTER;
  const list = spec === undefined ? undefined : Array.isArray(spec) ? spec : parseMasterSpec(spec);
  // An etcd://… spec becomes the masters campaigning there, leader first (read over TLS when the framework has it).
  const viaEtcd = list?.some((m) => /^etcd:\/\//i.test(m));
  const tls = viaEtcd ? resolveClientSecurity({ tlsCert: opts.tls?.cert, tlsKey: opts.tls?.key, tlsCa: opts.tls?.ca }).tls : undefined;
  const fw = new Framework(list ? { ...opts, master: await resolveMasters(list, tls) } : opts);
  await fw.start();
  return fw;
}
