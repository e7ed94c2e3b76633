/**
 * The master: the one place that owns the cluster's state and commits
 * changes to it. gRPC glue (`*-service.ts`) turns stream messages into calls
 * here; the allocator proposes offers from a snapshot and this class checks
 * and commits them.
 *
 *   agents ──register/updates──▶ ┌────────┐ ──offers/updates──▶ frameworks
 *                                │ Master │
 *   agents ◀──run/kill/ack────── └────────┘ ◀──accept/decline/… frameworks
 *                                    │ snapshot ▲ proposals
 *                                    ▼          │
 *                                  allocator (pure)
 */
import type { Logger } from '../lib/log';
import * as res from '../lib/resources';
import { newId } from '../lib/ids';
import { isTerminal, type TaskState } from '../lib/proto';
import type {
  AgentMessage__Output, AgentTask__Output, Call__Output, Event, FrameworkInfo__Output, TaskInfo__Output, TaskStatus, TaskStatus__Output,
} from '../lib/proto';
import { VERSION } from '../lib/version';
import { allocate, type AllocatorSnapshot, DeclineFilters } from './allocator';
import type { Registry, RegistrySnapshot } from './registry';
import type { AgentRecord, AgentStream, FrameworkRecord, OfferRecord, SchedulerStream, TaskRecord } from './state';
import { validateAccept } from './validation';

export interface MasterOptions {
  registry: Registry;
  logger: Logger;
  cluster: string;
  /** Seconds without a message from an agent before it is unreachable. */
  agentPingTimeout: number;
  /** Seconds an agent should wait between pings. */
  agentPingInterval: number;
  /** Seconds an unreachable agent is kept before it is removed (GONE). */
  agentRemovalTimeout: number;
  /** Seconds a restarted master waits for admitted agents to re-register. */
  agentReregisterTimeout: number;
  /** Seconds between HEARTBEAT events to frameworks. */
  heartbeatInterval: number;
  /** Seconds an offer may be held before it is rescinded; 0: forever. */
  offerTimeout: number;
  /** Seconds between periodic allocation rounds. */
  allocationInterval: number;
  /** Window in ms within which changes are coalesced into one allocation round. */
  allocationBatchMs: number;
  /** Clock in ms since the epoch; injected for tests. */
  now?: () => number;
}

/** Used when a framework sets no failover timeout: a week, so a blip never kills tasks. */
export const DEFAULT_FAILOVER_TIMEOUT = 7 * 24 * 3600;
/** Used when a decline sets no refuse_seconds (as in Mesos). */
export const DEFAULT_REFUSE_SECONDS = 5;
const COMPLETED_TASKS_KEPT = 1000;
const REMOVED_FRAMEWORKS_KEPT = 50;
/**
 * A task's TaskInfo as the master keeps it: its resources live once, as the
 * bag in `TaskRecord.resources`; the wire list (decoded objects with their
 * empty ranges and sets, ~500 bytes a task) goes to the agent and is not kept.
 */
function withoutResourceList(info: TaskInfo__Output): TaskInfo__Output {
  return { ...info, resources: [] };
}

const ROLE_NAME = /^(\*|[A-Za-z0-9_][A-Za-z0-9_.-]*(\/[A-Za-z0-9_][A-Za-z0-9_.-]*)*)$/;

export class Master {
  readonly id = newId('master');
  readonly startedAt: number;
  readonly agents = new Map<string, AgentRecord>();
  readonly frameworks = new Map<string, FrameworkRecord>();
  readonly offers = new Map<string, OfferRecord>();
  readonly weights = new Map<string, number>();
  /** Recently removed frameworks, oldest first, kept for the operator's view of their tasks. */
  readonly removedFrameworkRecords: FrameworkRecord[] = [];
  private removedAgents = new Set<string>();
  private removedFrameworks = new Set<string>();
  /**
   * Every framework's decline filters, in the layout the allocator reads
   * (allocator/filters.ts); expired at the start of each round.
   */
  private readonly filters = new DeclineFilters();
  private offerSeq = 0;
  private rngState = 0x9e3779b9;
  private allocationTimer?: NodeJS.Timeout;
  private timers: NodeJS.Timeout[] = [];
  private stopped = false;
  private readonly log: Logger;
  private readonly now: () => number;

  constructor(private readonly opts: MasterOptions) {
    this.log = opts.logger;
    this.now = opts.now ?? Date.now;
    this.startedAt = this.now();
  }

  // ─── lifecycle ────────────────────────────────────────────────────────

  /** Loads the registry and starts the timers. */
  async start(): Promise<void> {
    const snap = await this.opts.registry.load();
    this.recover(snap);
    const every = (ms: number, fn: () => void) => this.timers.push(setInterval(fn, ms).unref());
    every(Math.max(100, (this.opts.agentPingTimeout * 1000) / 4), () => this.checkAgents());
    every(this.opts.heartbeatInterval * 1000, () => this.heartbeat());
    every(this.opts.allocationInterval * 1000, () => this.allocateNow());
    const window = this.opts.agentReregisterTimeout * 1000;
    if (snap.agents.length) {
      this.timers.push(setTimeout(() => this.endReregistrationWindow(), window).unref());
      this.log.info(`recovered ${snap.agents.length} agents and ${snap.frameworks.length} frameworks from the registry; waiting up to ${this.opts.agentReregisterTimeout}s for agents to re-register`);
    }
  }

  private recover(snap: RegistrySnapshot): void {
    this.removedAgents = snap.removedAgents;
    this.removedFrameworks = snap.removedFrameworks;
    for (const [role, w] of snap.weights) this.weights.set(role, w);
    const now = this.now();
    for (const a of snap.agents) {
      this.agents.set(a.id, {
        id: a.id, hostname: a.hostname, address: '', status: 'RECOVERING', total: res.empty(), used: res.empty(),
        offered: res.empty(), attributes: [], isolation: [], lastSeen: now, registeredAt: a.admittedAt,
        tasks: new Map(), offers: new Set(),
      });
    }
    for (const f of snap.frameworks) {
      const fw = this.newFrameworkRecord(f.id, f.info, f.registeredAt);
      fw.status = 'INACTIVE';
      fw.disconnectedAt = now;
      this.frameworks.set(f.id, fw);
      this.startFailoverTimer(fw);
    }
  }

  /**
   * Stops acting at once: timers cleared, every stream this Master owns
   * ended (clients reconnect to whoever leads next), nothing sent after.
   * Idempotent.
   */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    if (this.allocationTimer) clearTimeout(this.allocationTimer);
    for (const fw of this.frameworks.values()) {
      if (fw.failoverTimer) clearTimeout(fw.failoverTimer);
      fw.stream = undefined;
    }
    for (const o of this.offers.values()) if (o.timer) clearTimeout(o.timer);
    for (const a of this.agents.values()) a.stream = undefined;
    for (const s of this.streams) s.end();
    this.streams.clear();
  }

  /** Streams opened while this Master led; ended when it stops. */
  private readonly streams = new Set<AgentStream | SchedulerStream>();

  /** Ties a stream's life to this Master's leadership. */
  ownStream(stream: AgentStream | SchedulerStream): void {
    if (this.stopped) {
      stream.end();
      return;
    }
    this.streams.add(stream);
    const drop = () => this.streams.delete(stream);
    stream.once('close', drop);
    stream.once('error', drop);
    stream.once('finish', drop);
  }

  // ─── agents ───────────────────────────────────────────────────────────

  /** Handles the first message of an agent stream; resolves the agent's id, or undefined if refused. */
  async registerAgent(stream: AgentStream, msg: AgentMessage__Output, peerHost: string): Promise<string | undefined> {
    const reg = msg.register;
    if (!reg?.info) {
      stream.write({ refused: { reason: 'the first message on the agent stream must be register' } });
      stream.end();
      return;
    }
    const info = reg.info;
    let total: res.Resources;
    try {
      total = res.fromProto(info.resources);
    } catch (err) {
      stream.write({ refused: { reason: `agent resources are invalid: ${(err as Error).message}` } });
      stream.end();
      return;
    }
    if (info.id && this.removedAgents.has(info.id)) {
      this.log.warn(`agent ${info.id} was removed earlier; telling it to shut down its tasks and register anew`);
      stream.write({ shutdown: { reason: `agent ${info.id} was removed from the cluster after it was unreachable too long` } });
      stream.end();
      return;
    }
    const now = this.now();
    const address = `${peerHost}:${info.port}`;
    let agent = info.id ? this.agents.get(info.id) : undefined;
    if (!agent) {
      // New agent, or one whose id this registry never admitted: admit it (under its own id if it has one).
      const id = info.id || newId('agent');
      await this.opts.registry.admitAgent({ id, hostname: info.hostname, admittedAt: now });
      agent = {
        id, hostname: info.hostname, address, status: 'ACTIVE', total, used: res.empty(), offered: res.empty(),
        attributes: info.attributes, isolation: info.isolation, stream, lastSeen: now, registeredAt: now,
        tasks: new Map(), offers: new Set(),
      };
      this.agents.set(id, agent);
      this.log.info(`agent ${id} registered from ${address} (${info.hostname}) with ${res.format(total)}`);
    } else {
      if (agent.stream && agent.stream !== stream) agent.stream.end();
      const was = agent.status;
      this.rescindAgentOffers(agent, 'the agent re-registered');
      Object.assign(agent, {
        hostname: info.hostname, address, total, attributes: info.attributes, isolation: info.isolation,
        stream, lastSeen: now, status: 'ACTIVE', unreachableSince: undefined,
      });
      this.log.info(`agent ${agent.id} re-registered from ${address} (was ${was}) with ${reg.tasks.length} tasks`);
    }
    stream.write({ registered: { agentId: agent.id, pingIntervalSeconds: this.opts.agentPingInterval, masterId: this.id } });
    this.reconcileAgentTasks(agent, reg.tasks);
    this.scheduleAllocation();
    return agent.id;
  }

  /**
   * The agent's report is the truth about its tasks: adopt those we did not
   * know (a restarted master), end those it no longer has, and kill those
   * whose framework is gone or was told they were LOST.
   */
  private reconcileAgentTasks(agent: AgentRecord, reported: readonly AgentTask__Output[]): void {
    const seen = new Set<string>();
    for (const t of reported) {
      if (!t.task || !t.status) continue;
      const taskId = t.task.taskId;
      seen.add(taskId);
      const fw = this.frameworks.get(t.frameworkId);
      if (!fw) {
        this.log.info(`agent ${agent.id} runs task ${taskId} of unknown or removed framework ${t.frameworkId}; killing it`);
        agent.stream?.write({ killTask: { frameworkId: t.frameworkId, taskId } });
        continue;
      }
      const existing = agent.tasks.get(taskId);
      if (existing) {
        existing.status = { ...t.status, uuid: '' };
        continue;
      }
      if (isTerminal(t.status.state)) continue; // its final update is still on its way; nothing to hold
      if (fw.tasks.has(taskId)) continue; // already placed elsewhere: should not happen; keep the first
      if (fw.lostTaskIds?.has(taskId)) {
        // The framework was told this task was LOST when the agent was unreachable; it must not come back.
        fw.lostTaskIds.delete(taskId);
        agent.stream?.write({ killTask: { frameworkId: fw.id, taskId } });
        continue;
      }
      let resources: res.Resources;
      try {
        resources = res.fromProto(t.task.resources);
      } catch {
        resources = res.empty();
      }
      const role = t.task.labels?.['mezzanine.role'] ?? fw.roles[0] ?? '*';
      this.addTask({
        id: taskId, frameworkId: fw.id, agentId: agent.id, role, info: withoutResourceList(t.task), resources,
        status: { ...t.status, uuid: '' }, seenUpdates: new Set(),
      });
      // A partition-aware framework told UNREACHABLE learns the task runs again.
      if (fw.status === 'ACTIVE') this.sendUpdate(fw, { ...t.status, uuid: '', message: t.status.message || 'agent re-registered' });
    }
    for (const task of [...agent.tasks.values()]) {
      if (seen.has(task.id)) continue;
      // Launched but not reported: the agent lost it (or never got it).
      this.endTask(task, {
        state: this.droppedState(task.frameworkId), reason: 'REASON_AGENT_REREGISTERED',
        message: `task ${task.id} is not running on agent ${agent.id}, which re-registered without it`,
      });
    }
  }

  agentMessage(agentId: string, stream: AgentStream, msg: AgentMessage__Output): void {
    const agent = this.agents.get(agentId);
    if (!agent || agent.stream !== stream) return;
    agent.lastSeen = this.now();
    if (msg.ping) stream.write({ pong: { seq: msg.ping.seq } });
    else if (msg.statusUpdate?.status) this.statusUpdate(agent, msg.statusUpdate.status);
  }

  agentDisconnected(agentId: string, stream: AgentStream): void {
    const agent = this.agents.get(agentId);
    if (!agent || agent.stream !== stream) return;
    agent.stream = undefined;
    if (agent.status === 'ACTIVE') {
      agent.status = 'DISCONNECTED';
      this.log.warn(`agent ${agentId} disconnected; it becomes unreachable if it does not return within ${this.opts.agentPingTimeout}s`);
      this.rescindAgentOffers(agent, 'the agent disconnected');
    }
  }

  private statusUpdate(agent: AgentRecord, status: TaskStatus__Output): void {
    const fw = this.frameworks.get(status.frameworkId);
    const task = agent.tasks.get(status.taskId);
    if (task && !task.seenUpdates.has(status.uuid)) {
      task.seenUpdates.add(status.uuid);
      if (isTerminal(status.state)) this.endTask(task, status, false);
      // Kept with the task's own id strings: the decoded update brings fresh copies of all three, ~110 bytes a task.
      else task.status = { ...status, taskId: task.id, frameworkId: task.frameworkId, agentId: task.agentId };
    }
    if (fw?.status === 'ACTIVE' && fw.stream) {
      this.sendUpdate(fw, status);
    } else if (!fw) {
      // Nobody will ever acknowledge it: do so ourselves so the agent stops retrying.
      agent.stream?.write({ acknowledge: { taskId: status.taskId, uuid: status.uuid } });
    }
    // A disconnected framework gets the update when the agent resends it after re-subscription.
  }

  private checkAgents(): void {
    const now = this.now();
    for (const agent of this.agents.values()) {
      const silent = (now - agent.lastSeen) / 1000;
      if ((agent.status === 'ACTIVE' || agent.status === 'DISCONNECTED') && silent > this.opts.agentPingTimeout) {
        this.markUnreachable(agent, `no ping for ${silent.toFixed(1)}s`);
      } else if (agent.status === 'UNREACHABLE' && (now - (agent.unreachableSince ?? now)) / 1000 > this.opts.agentRemovalTimeout) {
        void this.removeAgent(agent);
      }
    }
  }

  private endReregistrationWindow(): void {
    for (const agent of this.agents.values()) {
      if (agent.status === 'RECOVERING') this.markUnreachable(agent, `did not re-register within ${this.opts.agentReregisterTimeout}s of master start`);
    }
  }

  private markUnreachable(agent: AgentRecord, why: string): void {
    this.log.warn(`agent ${agent.id} is unreachable: ${why}`);
    this.rescindAgentOffers(agent, 'the agent is unreachable');
    agent.stream?.end();
    agent.stream = undefined;
    agent.status = 'UNREACHABLE';
    agent.unreachableSince = this.now();
    for (const task of [...agent.tasks.values()]) {
      const fw = this.frameworks.get(task.frameworkId);
      const pa = fw?.capabilities.has('PARTITION_AWARE') ?? false;
      if (!pa) fw?.lostTaskIds.add(task.id);
      this.endTask(task, {
        state: pa ? 'TASK_UNREACHABLE' : 'TASK_LOST', reason: 'REASON_AGENT_UNREACHABLE',
        message: `agent ${agent.id} is unreachable (${why})`,
      });
    }
  }

  private async removeAgent(agent: AgentRecord): Promise<void> {
    this.log.warn(`agent ${agent.id} was unreachable for more than ${this.opts.agentRemovalTimeout}s; removing it`);
    this.agents.delete(agent.id);
    this.removedAgents.add(agent.id);
    this.filters.clearAgent(agent.id);
    for (const fw of this.frameworks.values()) {
      if (fw.status === 'ACTIVE') this.send(fw, { failure: { agentId: agent.id } });
    }
    await this.opts.registry.removeAgent(agent.id, this.now()).catch((err) => this.log.error(`registry: ${err.message}`));
  }

  // ─── frameworks ───────────────────────────────────────────────────────

  private newFrameworkRecord(id: string, info: FrameworkInfo__Output, registeredAt: number): FrameworkRecord {
    return {
      id, info: { ...info, id }, roles: info.roles.length ? [...info.roles] : ['*'], capabilities: new Set(info.capabilities),
      failoverTimeout: info.failoverTimeout ?? DEFAULT_FAILOVER_TIMEOUT, status: 'ACTIVE', suppressedRoles: new Set(),
      allocated: new Map(), tasks: new Map(), completed: [], offers: new Set(), registeredAt,
      lostTaskIds: new Set(),
    };
  }

  /** SUBSCRIBE: a new framework, or an existing one failing over to a new connection. */
  async subscribe(stream: SchedulerStream, info: FrameworkInfo__Output | null): Promise<FrameworkRecord | undefined> {
    const refuse = (message: string) => {
      stream.write({ error: { message, fatal: true, call: 'SUBSCRIBE', code: 'INVALID_ARGUMENT' } });
      stream.end();
      return undefined;
    };
    if (!info) return refuse('SUBSCRIBE must carry framework info (at least a name)');
    if (!info.name.trim()) return refuse('framework name must not be empty');
    const badRole = info.roles.find((r) => !ROLE_NAME.test(r));
    if (badRole !== undefined) return refuse(`role "${badRole}" is invalid: use names like dev or eng/ml (letters, digits, _ . - and / between levels)`);
    const timeout = info.failoverTimeout;
    if (timeout !== undefined && !(Number.isFinite(timeout) && timeout >= 0)) return refuse(`failover_timeout must be a non-negative number of seconds, got ${timeout}`);
    if (info.id && this.removedFrameworks.has(info.id)) {
      return refuse(`framework ${info.id} was removed (torn down, or its failover timeout passed); subscribe without an id to register anew`);
    }
    const now = this.now();
    const known = info.id ? this.frameworks.get(info.id) : undefined;
    const id = known?.id ?? (info.id || newId('fw'));
    // Durable before the stream is attached: an allocation round during the write would
    // otherwise send OFFERS ahead of SUBSCRIBED, to a framework that cannot use them yet.
    await this.opts.registry.putFramework({ id, info: { ...info, id }, registeredAt: known?.registeredAt ?? now });
    let fw = this.frameworks.get(id);
    if (fw) {
      if (fw.stream && fw.stream !== stream) {
        this.send(fw, { error: { message: 'framework failed over to a new connection', fatal: true, call: 'SUBSCRIBE', code: 'ABORTED' } });
        fw.stream.end();
      }
      if (fw.failoverTimer) clearTimeout(fw.failoverTimer);
      fw.failoverTimer = undefined;
      this.rescindFrameworkOffers(fw, 'the framework re-subscribed');
      Object.assign(fw, {
        info: { ...info, id: fw.id }, roles: info.roles.length ? [...info.roles] : ['*'], capabilities: new Set(info.capabilities),
        failoverTimeout: info.failoverTimeout ?? DEFAULT_FAILOVER_TIMEOUT, status: 'ACTIVE', stream, disconnectedAt: undefined,
      });
      this.log.info(`framework ${fw.id} (${info.name}) re-subscribed with ${fw.tasks.size} tasks`);
    } else {
      fw = this.newFrameworkRecord(id, info, now);
      fw.stream = stream;
      this.frameworks.set(id, fw);
      this.log.info(`framework ${id} (${info.name}) subscribed in roles ${fw.roles.join(', ')}`);
    }
    this.send(fw, {
      subscribed: { frameworkId: fw.id, heartbeatIntervalSeconds: this.opts.heartbeatInterval, masterId: this.id, masterVersion: VERSION },
    });
    this.scheduleAllocation();
    return fw;
  }

  frameworkDisconnected(fw: FrameworkRecord, stream: SchedulerStream): void {
    if (fw.stream !== stream || !this.frameworks.has(fw.id)) return;
    fw.stream = undefined;
    fw.status = 'INACTIVE';
    fw.disconnectedAt = this.now();
    this.rescindFrameworkOffers(fw, 'the framework disconnected');
    this.log.warn(`framework ${fw.id} disconnected; its ${fw.tasks.size} tasks are kept for ${fw.failoverTimeout}s (failover timeout)`);
    this.startFailoverTimer(fw);
  }

  private startFailoverTimer(fw: FrameworkRecord): void {
    if (fw.failoverTimer) clearTimeout(fw.failoverTimer);
    // setTimeout holds at most ~24.8 days; longer timeouts are re-armed.
    const ms = Math.min(fw.failoverTimeout * 1000, 2 ** 31 - 1);
    fw.failoverTimer = setTimeout(() => {
      const left = fw.failoverTimeout * 1000 - (this.now() - (fw.disconnectedAt ?? 0));
      if (left > 1000) return this.startFailoverTimer(fw);
      this.log.warn(`framework ${fw.id} did not re-subscribe within its failover timeout (${fw.failoverTimeout}s); killing its tasks and removing it`);
      void this.removeFramework(fw, 'its failover timeout passed');
    }, ms);
    fw.failoverTimer.unref();
  }

  /** Kills every task of the framework and forgets it for good. */
  async removeFramework(fw: FrameworkRecord, why: string): Promise<void> {
    if (!this.frameworks.has(fw.id)) return;
    if (fw.failoverTimer) clearTimeout(fw.failoverTimer);
    this.rescindFrameworkOffers(fw, `the framework was removed (${why})`);
    const agentIds = new Set([...fw.tasks.values()].map((t) => t.agentId));
    for (const id of agentIds) this.agents.get(id)?.stream?.write({ shutdownFramework: { frameworkId: fw.id } });
    for (const task of [...fw.tasks.values()]) {
      this.endTask(task, { state: 'TASK_KILLED', reason: 'REASON_FRAMEWORK_REMOVED', message: `framework ${fw.id} was removed: ${why}` }, false);
    }
    this.frameworks.delete(fw.id);
    this.filters.clearFramework(fw.id);
    this.removedFrameworks.add(fw.id);
    this.removedFrameworkRecords.push(fw);
    if (this.removedFrameworkRecords.length > REMOVED_FRAMEWORKS_KEPT) this.removedFrameworkRecords.shift();
    if (fw.stream) {
      this.send(fw, { error: { message: `framework ${fw.id} was removed: ${why}`, fatal: true, call: 'TEARDOWN', code: 'OK' } });
      fw.stream.end();
    }
    await this.opts.registry.removeFramework(fw.id, this.now()).catch((err) => this.log.error(`registry: ${err.message}`));
    this.scheduleAllocation();
  }

  /** Dispatches one call from a subscribed framework. Calls that a caller got wrong answer an ERROR event. */
  async call(fw: FrameworkRecord, call: Call__Output): Promise<void> {
    const kind = call.call;
    if (call.frameworkId && call.frameworkId !== fw.id) {
      return this.callError(fw, kind, `call names framework ${call.frameworkId} but this stream belongs to ${fw.id}`);
    }
    switch (kind) {
      case 'accept': return this.accept(fw, call.accept!);
      case 'decline': return this.decline(fw, call.decline!.offerIds, call.decline!.filters?.refuseSeconds);
      case 'revive': return this.revive(fw, call.revive!.roles);
      case 'suppress': return this.suppress(fw, call.suppress!.roles);
      case 'kill': return this.kill(fw, call.kill!.taskId, call.kill!.agentId);
      case 'acknowledge': return this.acknowledge(fw, call.acknowledge!);
      case 'reconcile': return this.reconcile(fw, call.reconcile!.tasks);
      case 'message': return this.message(fw, call.message!);
      case 'teardown': return this.removeFramework(fw, 'the framework tore itself down');
      case 'updateFramework': return this.updateFramework(fw, call.updateFramework!.framework);
      case 'subscribe': return this.callError(fw, kind, 'this stream is already subscribed; open a new stream to subscribe again');
      default: return this.callError(fw, kind, `unknown call ${String(kind)}`);
    }
  }

  private callError(fw: FrameworkRecord, call: string | undefined, message: string, code = 'INVALID_ARGUMENT'): void {
    this.log.info(`framework ${fw.id}: ${call?.toUpperCase()} refused: ${message}`);
    this.send(fw, { error: { message, fatal: false, call: (call ?? '').replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase(), code } });
  }

  private accept(fw: FrameworkRecord, accept: NonNullable<Call__Output['accept']>): void {
    const verdict = validateAccept({
      frameworkId: fw.id, offerIds: accept.offerIds, operations: accept.operations,
      findOffer: (id) => this.offers.get(id), taskIdInUse: (id) => fw.tasks.has(id),
    });
    // Every valid offer is consumed; what no task takes returns to the pool.
    for (const offer of verdict.offers) this.removeOffer(offer);
    const agent = verdict.agentId ? this.agents.get(verdict.agentId) : undefined;
    const role = verdict.offers[0]?.role ?? fw.roles[0] ?? '*';
    const launch = verdict.tasks.filter((t) => !t.reasons.length);
    const refused = verdict.tasks.filter((t) => t.reasons.length);
    if (launch.length && (!agent || agent.status !== 'ACTIVE' || !agent.stream)) {
      for (const t of launch) t.reasons.push(`agent ${verdict.agentId} is no longer connected`);
      refused.push(...launch.splice(0));
    }
    for (const t of refused) {
      this.sendUpdate(fw, {
        taskId: t.task.taskId, agentId: verdict.agentId ?? '', frameworkId: fw.id,
        state: verdict.offerError ? this.droppedState(fw.id) : 'TASK_ERROR',
        reason: verdict.offerError ? 'REASON_INVALID_OFFERS' : 'REASON_TASK_INVALID', message: t.reasons.join('; '),
        source: 'SOURCE_MASTER', timestamp: this.now() / 1000, uuid: '',
      });
    }
    if (verdict.offerError || refused.length) {
      this.callError(fw, 'accept', verdict.offerError ?? refused.map((t) => t.reasons.join('; ')).join(' | '));
    }
    if (launch.length && agent) {
      const infos: TaskInfo__Output[] = [];
      for (const t of launch) {
        const info: TaskInfo__Output = { ...t.task, agentId: agent.id, labels: { ...t.task.labels, 'mezzanine.role': role } };
        infos.push(info);
        this.addTask({
          id: t.task.taskId, frameworkId: fw.id, agentId: agent.id, role, info: withoutResourceList(info), resources: t.resources,
          status: { taskId: t.task.taskId, state: 'TASK_STAGING', agentId: agent.id, frameworkId: fw.id, timestamp: this.now() / 1000 },
          seenUpdates: new Set(),
        });
      }
      agent.stream!.write({ runTasks: { framework: fw.info, tasks: infos } });
    }
    if (verdict.agentId && verdict.offers.length) {
      this.filter(fw, verdict.agentId, accept.filters?.refuseSeconds);
    }
    this.scheduleAllocation();
  }

  private decline(fw: FrameworkRecord, offerIds: string[], refuseSeconds: number | undefined): void {
    const unknown: string[] = [];
    for (const id of offerIds) {
      const offer = this.offers.get(id);
      if (!offer || offer.frameworkId !== fw.id) { unknown.push(id); continue; }
      this.removeOffer(offer);
      this.filter(fw, offer.agentId, refuseSeconds);
    }
    if (unknown.length) this.callError(fw, 'decline', `offers ${unknown.join(', ')} are unknown, stale or not yours; nothing to decline`);
    this.scheduleAllocation();
  }

  private filter(fw: FrameworkRecord, agentId: string, refuseSeconds: number | undefined): void {
    const secs = refuseSeconds ?? DEFAULT_REFUSE_SECONDS;
    if (!(secs > 0)) return;
    this.filters.add(fw.id, agentId, this.now() / 1000 + secs);
  }

  private revive(fw: FrameworkRecord, roles: string[]): void {
    const which = roles.length ? roles : fw.roles;
    for (const r of which) fw.suppressedRoles.delete(r);
    this.filters.clearFramework(fw.id);
    this.scheduleAllocation();
  }

  private suppress(fw: FrameworkRecord, roles: string[]): void {
    for (const r of roles.length ? roles : fw.roles) fw.suppressedRoles.add(r);
  }

  private kill(fw: FrameworkRecord, taskId: string, agentId: string): void {
    const task = fw.tasks.get(taskId);
    if (!task) {
      const done = fw.completed.find((t) => t.id === taskId);
      if (done) return this.sendUpdate(fw, { ...done.status, uuid: '' });
      return this.sendUpdate(fw, {
        taskId, agentId, frameworkId: fw.id, state: fw.capabilities.has('PARTITION_AWARE') ? 'TASK_UNKNOWN' : 'TASK_LOST',
        reason: 'REASON_RECONCILIATION', message: `task ${taskId} is not known to the master`, source: 'SOURCE_MASTER',
        timestamp: this.now() / 1000, uuid: '',
      });
    }
    const agent = this.agents.get(task.agentId);
    if (!agent?.stream) {
      return this.callError(fw, 'kill', `agent ${task.agentId} of task ${taskId} is not connected; the kill is sent when it returns`, 'UNAVAILABLE');
    }
    agent.stream.write({ killTask: { frameworkId: fw.id, taskId } });
  }

  private acknowledge(fw: FrameworkRecord, ack: NonNullable<Call__Output['acknowledge']>): void {
    const agent = this.agents.get(ack.agentId);
    if (!agent) return this.callError(fw, 'acknowledge', `agent ${ack.agentId} is not known`, 'NOT_FOUND');
    if (!ack.uuid) return this.callError(fw, 'acknowledge', 'acknowledgement without a uuid: only updates that carry one need acknowledging');
    agent.stream?.write({ acknowledge: { taskId: ack.taskId, uuid: ack.uuid } });
  }

  private reconcile(fw: FrameworkRecord, tasks: { taskId: string; agentId: string }[]): void {
    const reply = (status: TaskStatus) => this.sendUpdate(fw, { ...status, uuid: '', reason: 'REASON_RECONCILIATION' });
    if (!tasks.length) {
      for (const t of fw.tasks.values()) reply(t.status);
      return;
    }
    for (const { taskId, agentId } of tasks) {
      const t = fw.tasks.get(taskId) ?? fw.completed.findLast((c) => c.id === taskId);
      if (t) { reply(t.status); continue; }
      const agent = agentId ? this.agents.get(agentId) : undefined;
      if (agent?.status === 'RECOVERING') continue; // the agent will tell us when it re-registers
      reply({
        taskId, agentId, frameworkId: fw.id, source: 'SOURCE_MASTER', timestamp: this.now() / 1000,
        state: fw.capabilities.has('PARTITION_AWARE') ? 'TASK_UNKNOWN' : 'TASK_LOST', message: `task ${taskId} is not known to the master`,
      });
    }
  }

  private message(fw: FrameworkRecord, m: NonNullable<Call__Output['message']>): void {
    const task = fw.tasks.get(m.taskId);
    if (!task) return this.callError(fw, 'message', `task ${m.taskId} is not a live task of this framework`, 'NOT_FOUND');
    const agent = this.agents.get(task.agentId);
    if (!agent?.stream) return this.callError(fw, 'message', `agent ${task.agentId} is not connected`, 'UNAVAILABLE');
    agent.stream.write({ frameworkMessage: { frameworkId: fw.id, taskId: m.taskId, data: m.data } });
  }

  private async updateFramework(fw: FrameworkRecord, info: FrameworkInfo__Output | null): Promise<void> {
    if (!info) return this.callError(fw, 'updateFramework', 'UPDATE_FRAMEWORK must carry framework info');
    const bad = info.roles.find((r) => !ROLE_NAME.test(r));
    if (bad !== undefined) return this.callError(fw, 'updateFramework', `role "${bad}" is invalid`);
    this.rescindFrameworkOffers(fw, 'the framework changed its roles');
    fw.info = { ...info, id: fw.id };
    fw.roles = info.roles.length ? [...info.roles] : ['*'];
    fw.capabilities = new Set(info.capabilities);
    fw.failoverTimeout = info.failoverTimeout ?? DEFAULT_FAILOVER_TIMEOUT;
    await this.opts.registry.putFramework({ id: fw.id, info: fw.info, registeredAt: fw.registeredAt });
    this.scheduleAllocation();
  }

  private heartbeat(): void {
    for (const fw of this.frameworks.values()) if (fw.status === 'ACTIVE') this.send(fw, { heartbeat: {} });
  }

  // ─── tasks ────────────────────────────────────────────────────────────

  private addTask(task: TaskRecord): void {
    const fw = this.frameworks.get(task.frameworkId)!;
    const agent = this.agents.get(task.agentId)!;
    fw.tasks.set(task.id, task);
    agent.tasks.set(task.id, task);
    agent.used = res.add(agent.used, task.resources);
    this.addAllocation(fw, task.role, task.resources);
  }

  /** Moves a task to a terminal (or unreachable) state, frees its resources and tells its framework. */
  private endTask(task: TaskRecord, status: Partial<TaskStatus__Output> & Pick<TaskStatus, 'state'>, notify = true): void {
    const fw = this.frameworks.get(task.frameworkId);
    const agent = this.agents.get(task.agentId);
    task.status = {
      ...task.status, uuid: '', source: 'SOURCE_MASTER', exitCode: undefined, healthy: undefined,
      ...status, taskId: task.id, agentId: task.agentId, frameworkId: task.frameworkId, timestamp: status.timestamp ?? this.now() / 1000,
    };
    if (agent?.tasks.delete(task.id)) agent.used = res.subtract(agent.used, task.resources);
    if (fw?.tasks.delete(task.id)) {
      this.subtractAllocation(fw, task.role, task.resources);
      fw.completed.push(task);
      if (fw.completed.length > COMPLETED_TASKS_KEPT) fw.completed.shift();
      if (notify) this.sendUpdate(fw, task.status);
    }
    this.scheduleAllocation();
  }

  private droppedState(frameworkId: string): TaskState {
    return this.frameworks.get(frameworkId)?.capabilities.has('PARTITION_AWARE') ? 'TASK_DROPPED' : 'TASK_LOST';
  }

  // ─── offers and allocation ────────────────────────────────────────────

  private addAllocation(fw: FrameworkRecord, role: string, r: res.Resources): void {
    fw.allocated.set(role, res.add(fw.allocated.get(role) ?? res.empty(), r));
  }

  private subtractAllocation(fw: FrameworkRecord, role: string, r: res.Resources): void {
    const cur = fw.allocated.get(role);
    if (!cur) return;
    const left = res.subtract(cur, r);
    if (res.isEmpty(left)) fw.allocated.delete(role);
    else fw.allocated.set(role, left);
  }

  /** Coalesces changes within a short window into one allocation round. */
  scheduleAllocation(): void {
    if (this.allocationTimer || this.stopped) return;
    this.allocationTimer = setTimeout(() => {
      this.allocationTimer = undefined;
      this.allocateNow();
    }, this.opts.allocationBatchMs);
  }

  private random(): number {
    // mulberry32: seeded, so a round can be replayed from the master's state.
    let t = (this.rngState = (this.rngState + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Builds the snapshot, asks the allocator, and commits its proposals as offers. */
  allocateNow(): void {
    if (this.stopped) return;
    const nowSec = this.now() / 1000;
    const snapshot = this.snapshot(nowSec);
    if (!snapshot.agents.length || !snapshot.frameworks.length) return;
    const proposals = allocate(snapshot, { now: nowSec, rng: () => this.random() });
    const byFramework = new Map<FrameworkRecord, OfferRecord[]>();
    for (const p of proposals) {
      const fw = this.frameworks.get(p.frameworkId);
      const agent = this.agents.get(p.agentId);
      // Re-check what the allocator proposed before committing it.
      if (!fw?.stream || !agent?.stream || agent.status !== 'ACTIVE') continue;
      const free = this.freeOf(agent);
      if (!res.contains(free, p.resources)) {
        this.log.error(`allocator proposed ${res.format(p.resources)} on agent ${agent.id} with only ${res.format(free)} free; skipped`);
        continue;
      }
      const offer: OfferRecord = {
        id: `${this.id.slice(7, 13)}-o${++this.offerSeq}`, frameworkId: fw.id, agentId: agent.id, role: p.role,
        resources: p.resources, createdAt: this.now(),
      };
      this.offers.set(offer.id, offer);
      agent.offered = res.add(agent.offered, offer.resources);
      agent.offers.add(offer.id);
      fw.offers.add(offer.id);
      this.addAllocation(fw, offer.role, offer.resources);
      if (this.opts.offerTimeout > 0) {
        offer.timer = setTimeout(() => this.rescind(offer, `the offer was held longer than ${this.opts.offerTimeout}s`), this.opts.offerTimeout * 1000);
        offer.timer.unref();
      }
      const list = byFramework.get(fw) ?? [];
      list.push(offer);
      byFramework.set(fw, list);
    }
    for (const [fw, offers] of byFramework) {
      this.send(fw, {
        offers: {
          offers: offers.map((o) => {
            const agent = this.agents.get(o.agentId)!;
            return {
              id: o.id, frameworkId: fw.id, agentId: o.agentId, hostname: agent.hostname, resources: res.toProto(o.resources),
              attributes: agent.attributes, allocationRole: o.role,
            };
          }),
        },
      });
    }
  }

  /**
   * Rounds run every few milliseconds while anything changes, so the
   * snapshot costs O(agents) cheap steps: agents with nothing free are left
   * out (the allocator would skip them), an agent's free bag is recomputed
   * only when one of its bags changed (see `freeOf`), and the total sums
   * scalars only (the allocator reads nothing else of it: shares).
   * Measured at 10,000 agents all offered: 42 ms a round before, 3 ms after.
   * Filters are expired by visiting only those that lapse, not all of them
   * (3 ms a round at 98,000 filters when every one was scanned).
   */
  private snapshot(nowSec: number): AllocatorSnapshot {
    const agents: AllocatorSnapshot['agents'][number][] = [];
    const frameworks: AllocatorSnapshot['frameworks'][number][] = [];
    const filters = this.filters;
    filters.expire(nowSec);
    const total: res.Resources = { cpus: 0, mem: 0, disk: 0, gpus: 0, ports: [] };
    for (const fw of this.frameworks.values()) {
      if (fw.status !== 'ACTIVE' || !fw.stream) continue;
      frameworks.push({
        id: fw.id, roles: fw.roles, gpuCapable: fw.capabilities.has('GPU_RESOURCES'), suppressedRoles: fw.suppressedRoles,
        allocated: fw.allocated,
      });
    }
    if (!frameworks.length) return { agents, frameworks, weights: this.weights, filters, total };
    for (const a of this.agents.values()) {
      if (a.status !== 'ACTIVE') continue;
      total.cpus += a.total.cpus;
      total.mem += a.total.mem;
      total.disk += a.total.disk;
      total.gpus += a.total.gpus;
      if (!a.stream) continue;
      const free = this.freeOf(a);
      if (free.cpus <= 0 && free.mem <= 0 && free.disk <= 0 && free.gpus <= 0 && free.ports.length === 0) continue;
      agents.push({ id: a.id, total: a.total, free });
    }
    return { agents, frameworks, weights: this.weights, filters, total };
  }

  /** Each agent's free bag with the bags it was computed from; bags are never changed in place, only replaced. */
  private readonly freeBags = new WeakMap<AgentRecord, { total: res.Resources; used: res.Resources; offered: res.Resources; free: res.Resources }>();

  /** total − used − offered, recomputed only when one of the three was replaced since the last call. Read-only. */
  private freeOf(a: AgentRecord): res.Resources {
    const cached = this.freeBags.get(a);
    if (cached && cached.total === a.total && cached.used === a.used && cached.offered === a.offered) return cached.free;
    const free = res.subtract(res.subtract(a.total, a.used), a.offered);
    this.freeBags.set(a, { total: a.total, used: a.used, offered: a.offered, free });
    return free;
  }

  private removeOffer(offer: OfferRecord): void {
    if (!this.offers.delete(offer.id)) return;
    if (offer.timer) clearTimeout(offer.timer);
    const agent = this.agents.get(offer.agentId);
    if (agent) {
      agent.offered = res.subtract(agent.offered, offer.resources);
      agent.offers.delete(offer.id);
    }
    const fw = this.frameworks.get(offer.frameworkId);
    if (fw) {
      fw.offers.delete(offer.id);
      this.subtractAllocation(fw, offer.role, offer.resources);
    }
  }

  /** Takes an offer back and tells its framework. */
  private rescind(offer: OfferRecord, reason: string): void {
    if (!this.offers.has(offer.id)) return;
    this.removeOffer(offer);
    const fw = this.frameworks.get(offer.frameworkId);
    if (fw) this.send(fw, { rescind: { offerId: offer.id, reason } });
    this.scheduleAllocation();
  }

  private rescindAgentOffers(agent: AgentRecord, reason: string): void {
    for (const id of [...agent.offers]) {
      const o = this.offers.get(id);
      if (o) this.rescind(o, reason);
    }
  }

  private rescindFrameworkOffers(fw: FrameworkRecord, reason: string): void {
    for (const id of [...fw.offers]) {
      const o = this.offers.get(id);
      if (o) this.rescind(o, reason);
    }
  }

  // ─── operator ─────────────────────────────────────────────────────────

  async setWeights(weights: { role: string; weight: number }[]): Promise<void> {
    const next = new Map<string, number>();
    for (const { role, weight } of weights) next.set(role, weight);
    await this.opts.registry.putWeights(next);
    for (const [r, w] of next) this.weights.set(r, w);
    this.scheduleAllocation();
  }

  /** Live and recently ended tasks, for the operator API. */
  *allTasks(): Iterable<TaskRecord> {
    for (const fw of this.removedFrameworkRecords) yield* fw.completed;
    for (const fw of this.frameworks.values()) {
      yield* fw.completed;
      yield* fw.tasks.values();
    }
    for (const agent of this.agents.values()) {
      for (const t of agent.tasks.values()) if (!this.frameworks.has(t.frameworkId)) yield t;
    }
  }

  findTask(taskId: string): TaskRecord | undefined {
    for (const fw of [...this.frameworks.values(), ...this.removedFrameworkRecords]) {
      const t = fw.tasks.get(taskId) ?? fw.completed.findLast((c) => c.id === taskId);
      if (t) return t;
    }
    return undefined;
  }

  // ─── sending ──────────────────────────────────────────────────────────

  private send(fw: FrameworkRecord, event: Event): void {
    if (!fw.stream || this.stopped) return;
    fw.stream.write(event);
  }

  private sendUpdate(fw: FrameworkRecord, status: TaskStatus): void {
    this.send(fw, { update: { status: { source: 'SOURCE_MASTER', timestamp: this.now() / 1000, ...status, frameworkId: fw.id } } });
  }

}
