/**
 * The master while it leads: lifecycle (load the registry, arm the timers,
 * stop at once) and dispatch to the rooms that decide. gRPC glue
 * (`*-service.ts`) turns stream messages into calls here.
 *
 *   agents ──register/updates──▶ agents.ts ─┐                  ┌─▶ offers.ts ──OFFERS──▶ frameworks
 *   frameworks ──SUBSCRIBE────▶ frameworks.ts ├─▶ cluster.ts ──┤
 *   frameworks ──calls────────▶ scheduler-calls.ts ┘  (records) └─▶ UPDATE / run / kill …
 *
 * Time comes from an injected Clock (clock.ts), and agents and frameworks
 * are held as links (state.ts), so every room runs in-process in tests.
 */
import type { Logger } from '../lib/log';
import { newId } from '../lib/ids';
import * as res from '../lib/resources';
import type { AgentMessage__Output, Call__Output, FrameworkInfo__Output } from '../lib/proto';
import { Authorizer, type Caller } from '../lib/auth';
import { InvalidArgumentError } from '../lib/errors';
import { Access } from './access';
import { AgentLifecycle } from './agents';
import { Cluster } from './cluster';
import { AgentUnavailableError, UnknownFrameworkError, UnknownTaskError } from './errors';
import { systemClock, type Clock, type Timer } from './clock';
import { FrameworkLifecycle } from './frameworks';
import { DEFAULT_LIMITS, MasterLimits, type LimitOptions } from './limits';
import { Offers } from './offers';
import type { Registry, RegistrySnapshot } from './registry';
import { SchedulerCalls } from './scheduler-calls';
import type { AgentLink, AgentRecord, FrameworkLink, FrameworkRecord, OfferRecord, TaskRecord } from './state';

export { DEFAULT_FAILOVER_TIMEOUT } from './framework-info';
export { DEFAULT_REFUSE_SECONDS } from './offers';

export interface MasterOptions {
  registry: Registry;
  logger: Logger;
  cluster: string;
  /** Seconds of agent silence, counted while the master itself runs, before the agent is unreachable. */
  agentPingTimeout: number;
  /** Seconds an agent should wait between pings. */
  agentPingInterval: number;
  /** Seconds an unreachable agent is kept before it is removed (GONE). */
  agentRemovalTimeout: number;
  /** Seconds a restarted master waits for admitted agents to re-register. */
  agentReregisterTimeout: number;
  /** Seconds a task may stay STAGING, its agent silent about it, before it is LOST. */
  taskLaunchTimeout?: number;
  /** Seconds between HEARTBEAT events to frameworks. */
  heartbeatInterval: number;
  /** Seconds an offer may be held before it is rescinded; 0: forever. */
  offerTimeout: number;
  /** Seconds between periodic allocation rounds. */
  allocationInterval: number;
  /** Window in ms within which changes are coalesced into one allocation round. */
  allocationBatchMs: number;
  /** Time and timers; the process's own by default. */
  clock?: Clock;
  /** Limits against abuse (limits.ts); DEFAULT_LIMITS for any not given. */
  limits?: Partial<LimitOptions>;
  /** Who may do what; without it every caller may do everything (authentication and ACLs off). */
  access?: Access;
}

/** A task the master sent that its agent says nothing about is LOST after this long (fetching its URIs included). */
export const DEFAULT_TASK_LAUNCH_TIMEOUT = 600;

/** What an authorization decision about a framework names: its id and owner. */
export interface FrameworkOwner {
  id: string;
  principal: string;
}

/** Anything the master ends when it stops: a gRPC stream. */
interface Closable {
  end(): void;
  once(event: 'close' | 'error' | 'finish', fn: () => void): unknown;
}

export class Master {
  readonly id = newId('master');
  readonly startedAt: number;
  private readonly c: Cluster;
  private readonly offersRoom: Offers;
  private readonly agentsRoom: AgentLifecycle;
  private readonly frameworksRoom: FrameworkLifecycle;
  private readonly calls: SchedulerCalls;
  readonly access: Access;
  private readonly timers: Timer[] = [];
  /** Streams opened while this Master led; ended when it stops. */
  private readonly streams = new Set<Closable>();

  constructor(private readonly opts: MasterOptions) {
    const clock = opts.clock ?? systemClock;
    this.startedAt = clock.now();
    this.c = new Cluster(clock, opts.logger, opts.registry, () => this.offersRoom.schedule());
    this.offersRoom = new Offers(this.c, { offerTimeout: opts.offerTimeout, allocationBatchMs: opts.allocationBatchMs, idPrefix: this.id.slice(7, 13) });
    this.access = opts.access ?? new Access(new Authorizer(undefined, opts.logger));
    this.agentsRoom = new AgentLifecycle(this.c, this.offersRoom, this.access, {
      masterId: this.id, agentPingTimeout: opts.agentPingTimeout, agentPingInterval: opts.agentPingInterval,
      agentRemovalTimeout: opts.agentRemovalTimeout, agentReregisterTimeout: opts.agentReregisterTimeout,
      taskLaunchTimeout: opts.taskLaunchTimeout ?? DEFAULT_TASK_LAUNCH_TIMEOUT,
    });
    const limits = new MasterLimits(this.c, { ...DEFAULT_LIMITS, ...opts.limits });
    this.frameworksRoom = new FrameworkLifecycle(this.c, this.offersRoom, this.access, { masterId: this.id, heartbeatInterval: opts.heartbeatInterval, limits });
    this.calls = new SchedulerCalls(this.c, this.offersRoom, this.frameworksRoom, this.access, limits);
  }

  // The records, read by the operator API.
  get agents(): ReadonlyMap<string, AgentRecord> { return this.c.agents; }
  get frameworks(): ReadonlyMap<string, FrameworkRecord> { return this.c.frameworks; }
  get offers(): ReadonlyMap<string, OfferRecord> { return this.c.offers; }
  get weights(): ReadonlyMap<string, number> { return this.c.weights; }
  get removedFrameworkRecords(): readonly FrameworkRecord[] { return this.c.removedFrameworkRecords; }

  // ─── lifecycle ────────────────────────────────────────────────────────

  /** Loads the registry and starts the timers. */
  async start(): Promise<void> {
    const snap = await this.opts.registry.load((m) => this.c.log.warn(m));
    this.recover(snap);
    const clock = this.c.clock;
    this.timers.push(
      clock.every(this.agentsRoom.checkEveryMs, () => this.agentsRoom.check()),
      clock.every(this.opts.heartbeatInterval * 1000, () => this.frameworksRoom.heartbeat()),
      clock.every(this.opts.allocationInterval * 1000, () => this.offersRoom.allocateNow()),
    );
    if (snap.agents.length) {
      this.timers.push(clock.after(this.opts.agentReregisterTimeout * 1000, () => this.agentsRoom.endReregistrationWindow()));
      this.c.log.info(`recovered ${snap.agents.length} agents and ${snap.frameworks.length} frameworks from the registry; waiting up to ${this.opts.agentReregisterTimeout}s for agents to re-register`);
    }
  }

  private recover(snap: RegistrySnapshot): void {
    this.c.removedAgents = snap.removedAgents;
    this.c.removedFrameworks = snap.removedFrameworks;
    for (const [role, w] of snap.weights) this.c.weights.set(role, w);
    for (const a of snap.agents) {
      this.c.agents.set(a.id, {
        id: a.id, hostname: a.hostname, address: '', status: 'RECOVERING', total: res.empty(), used: res.empty(), offered: res.empty(),
        attributes: [], isolation: [], registeredAt: a.admittedAt, tasks: new Map(), offers: new Set(),
        missedChecks: 0, heardSinceCheck: true, tokenHash: a.tokenHash,
      });
    }
    for (const f of snap.frameworks) this.frameworksRoom.recover(f.id, f.info, f.registeredAt);
  }

  /**
   * Stops acting at once: timers cleared, every stream this Master owns
   * ended (clients reconnect to whoever leads next), nothing sent after.
   * Idempotent.
   */
  stop(): void {
    if (this.c.stopped) return;
    this.c.stopped = true;
    for (const t of this.timers) t.cancel();
    this.offersRoom.stop();
    for (const fw of this.c.frameworks.values()) {
      fw.failoverTimer?.cancel();
      fw.link = undefined;
    }
    for (const a of this.c.agents.values()) a.link = undefined;
    for (const s of this.streams) s.end();
    this.streams.clear();
  }

  /** Ties a stream's life to this Master's leadership. */
  ownStream(stream: Closable): void {
    if (this.c.stopped) {
      stream.end();
      return;
    }
    this.streams.add(stream);
    const drop = () => this.streams.delete(stream);
    stream.once('close', drop);
    stream.once('error', drop);
    stream.once('finish', drop);
  }

  // ─── dispatch ─────────────────────────────────────────────────────────

  /** The first message of an agent's connection; resolves the agent's id, or undefined if refused. */
  registerAgent(link: AgentLink, msg: AgentMessage__Output, peerHost: string, caller: Caller): Promise<string | undefined> {
    return this.agentsRoom.register(link, msg, peerHost, caller);
  }

  agentMessage(agentId: string, link: AgentLink, msg: AgentMessage__Output): void {
    this.agentsRoom.message(agentId, link, msg);
  }

  agentDisconnected(agentId: string, link: AgentLink): void {
    this.agentsRoom.disconnected(agentId, link);
  }

  subscribe(link: FrameworkLink, info: FrameworkInfo__Output | null, caller: Caller): Promise<FrameworkRecord | undefined> {
    return this.frameworksRoom.subscribe(link, info, caller);
  }

  /** True while `fw` is registered and `link` is its connection: calls on any other link are dropped. */
  isCurrent(fw: FrameworkRecord, link: FrameworkLink): boolean {
    return this.c.frameworks.get(fw.id) === fw && fw.link === link;
  }

  call(fw: FrameworkRecord, call: Call__Output): Promise<void> {
    return this.calls.call(fw, call);
  }

  frameworkDisconnected(fw: FrameworkRecord, link: FrameworkLink): void {
    this.frameworksRoom.disconnected(fw, link);
  }

  removeFramework(fw: FrameworkRecord, why: string): Promise<void> {
    return this.frameworksRoom.remove(fw, why);
  }

  scheduleAllocation(): void {
    this.offersRoom.schedule();
  }

  allocateNow(): void {
    this.offersRoom.allocateNow();
  }

  // ─── operator ─────────────────────────────────────────────────────────

  async setWeights(weights: { role: string; weight: number }[]): Promise<void> {
    const next = new Map<string, number>();
    for (const { role, weight } of weights) next.set(role, weight);
    await this.opts.registry.putWeights(next);
    for (const [r, w] of next) this.c.weights.set(r, w);
    this.offersRoom.schedule();
  }

  /** Live and recently ended tasks, for the operator API. */
  allTasks(): Iterable<TaskRecord> {
    return this.c.allTasks();
  }

  findTask(taskId: string): TaskRecord | undefined {
    return this.c.findTask(taskId);
  }

  /**
   * An operator's kill of a live task (`frameworkId` tells apart two
   * frameworks' tasks of one id): its agent is told to kill it, and the end
   * reaches the framework as any update does.
   */
  killTask(taskId: string, frameworkId: string, authorize: (fw: FrameworkOwner) => void): TaskRecord {
    const matches = [...this.c.frameworks.values()]
      .filter((f) => !frameworkId || f.id === frameworkId)
      .map((f) => f.tasks.get(taskId))
      .filter((t): t is TaskRecord => !!t);
    if (!matches.length) throw new UnknownTaskError(taskId, 'running ');
    if (matches.length > 1) {
      throw new InvalidArgumentError(`task id ${taskId} is used by ${matches.length} frameworks (${matches.map((t) => t.frameworkId).join(', ')}); name one with --framework`);
    }
    const task = matches[0]!;
    authorize(this.frameworkOwner(task.frameworkId));
    const agent = this.c.agents.get(task.agentId);
    if (!agent?.link) throw new AgentUnavailableError(`agent ${task.agentId} of task ${taskId} is not connected; kill it again once the agent is back`);
    agent.link.send({ killTask: { frameworkId: task.frameworkId, taskId, reason: 'killed by an operator' } });
    return task;
  }

  /** A framework (live or removed) and the principal that registered it, the object of kill_task, teardown_framework and read_sandbox. */
  frameworkOwner(frameworkId: string): FrameworkOwner {
    const fw = this.c.frameworks.get(frameworkId) ?? this.c.removedFrameworkRecords.find((f) => f.id === frameworkId);
    return { id: frameworkId, principal: fw?.info.principal ?? '' };
  }

  /** An operator's teardown: the framework is removed and its tasks killed. */
  async teardown(frameworkId: string, authorize: (fw: FrameworkOwner) => void): Promise<number> {
    const fw = this.c.frameworks.get(frameworkId);
    if (!fw) throw new UnknownFrameworkError(frameworkId);
    authorize(this.frameworkOwner(fw.id));
    const tasks = fw.tasks.size;
    await this.frameworksRoom.remove(fw, 'torn down by an operator');
    return tasks;
  }
}
