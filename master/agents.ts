/**
 * Agent lifecycle: registration and re-registration (the agent's report is
 * the truth about its tasks, checked against what it can hold), pings and
 * liveness, status updates from agents, unreachable and removed agents,
 * and the launch timeout of tasks an agent never reports on.
 *
 *   register ─▶ ACTIVE ─(stream ends)─▶ DISCONNECTED ─(missed checks)─▶ UNREACHABLE ─(removal timeout)─▶ removed
 *   restart: RECOVERING ─(re-registers)─▶ ACTIVE, or ─(window ends)─▶ UNREACHABLE
 */
import { type Caller, generateSecret, matchesDigest, secretDigest } from '../lib/auth';
import { errorMessage } from '../lib/errors';
import * as res from '../lib/resources';
import { newId } from '../lib/ids';
import { capStatusMessage, idProblem, lengthProblem, MAX_NAME_LENGTH } from '../lib/limits';
import { isTerminal, TASK_STATES } from '../lib/proto';
import type { AgentMessage__Output, AgentTask__Output, TaskInfo__Output, TaskStatus__Output } from '../lib/proto';
import { showsState, type Cluster } from './cluster';
import type { Access } from './access';
import type { Offers } from './offers';
import type { AgentLink, AgentRecord, FrameworkRecord, TaskRecord } from './state';

export interface AgentLifecycleOptions {
  /** This master's id, sent to registering agents. */
  masterId: string;
  /** Seconds of agent silence, counted while the master itself runs, before it is unreachable. */
  agentPingTimeout: number;
  /** Seconds an agent should wait between pings. */
  agentPingInterval: number;
  /** Seconds an unreachable agent is kept before it is removed (GONE). */
  agentRemovalTimeout: number;
  /** Seconds a restarted master waits for admitted agents to re-register. */
  agentReregisterTimeout: number;
  /** Seconds a task may stay STAGING (its agent silent about it) before it is LOST. */
  taskLaunchTimeout: number;
}

/**
 * A task's TaskInfo as the master keeps it: its resources live once, as the
 * bag in `TaskRecord.resources`; the wire list (decoded objects with their
 * empty ranges and sets, ~500 bytes a task) goes to the agent and is not kept.
 */
export function withoutResourceList(info: TaskInfo__Output): TaskInfo__Output {
  return { ...info, resources: [] };
}

/** What the registry keeps of an agent token: its SHA-256, hex. */
function hashToken(token: string): string {
  return secretDigest(token).toString('hex');
}

/** Failed states of a LAUNCH_GROUP member that end the whole group (as Mesos' default executor). */
const ENDS_GROUP = (state: string): boolean => isTerminal(state) && state !== 'TASK_FINISHED';

export class AgentLifecycle {
  /** How often liveness is checked, and how many consecutive empty checks make an agent unreachable. */
  readonly checkEveryMs: number;
  readonly maxMissedChecks: number;

  constructor(
    private readonly c: Cluster,
    private readonly offers: Offers,
    private readonly access: Access,
    private readonly opts: AgentLifecycleOptions,
  ) {
    const timeoutMs = opts.agentPingTimeout * 1000;
    this.checkEveryMs = Math.max(100, Math.min(opts.agentPingInterval * 1000, timeoutMs / 3));
    this.maxMissedChecks = Math.max(3, Math.ceil(timeoutMs / this.checkEveryMs));
  }

  /** Handles the first message of an agent's connection; resolves the agent's id, or undefined if refused. */
  async register(link: AgentLink, msg: AgentMessage__Output, peerHost: string, caller: Caller): Promise<string | undefined> {
    const refuse = (reason: string): undefined => {
      this.c.log.warn(`refused an agent registration from ${peerHost}: ${reason}`);
      link.send({ refused: { reason } });
      link.close();
      return undefined;
    };
    const reg = msg.register;
    if (!reg?.info) return refuse('the first message on the agent stream must be register');
    const info = reg.info;
    const bad = (info.id ? idProblem('agent id', info.id) : undefined) ?? lengthProblem('agent hostname', info.hostname, MAX_NAME_LENGTH);
    if (bad) return refuse(bad);
    let total: res.Resources;
    try {
      total = res.fromProto(info.resources);
    } catch (err) {
      return refuse(`agent resources are invalid: ${(err as Error).message}`);
    }
    try {
      this.access.authorize(caller, 'register_agent', '*', `registration of agent ${info.id || 'without an id'} from ${peerHost}`);
    } catch (err) {
      return refuse(errorMessage(err));
    }
    if (info.id && this.c.removedAgents.has(info.id)) {
      this.c.log.warn(`agent ${info.id} was removed earlier; telling it to shut down its tasks and register anew`);
      link.send({ shutdown: { reason: `agent ${info.id} was removed from the cluster after it was unreachable too long` } });
      link.close();
      return undefined;
    }
    const now = this.c.now();
    const address = `${peerHost}:${info.port}`;
    let agent = info.id ? this.c.agents.get(info.id) : undefined;
    if (agent?.tokenHash && !matchesDigest(reg.agentToken, Buffer.from(agent.tokenHash, 'hex'))) {
      return refuse(`agent id ${agent.id} is held by another agent: the agent token presented ${reg.agentToken ? 'does not match' : 'is missing'}; `
        + 'an agent takes back only the id it was given (start it with a fresh --work-dir to register as a new agent)');
    }
    // A new agent, or one admitted before agents had tokens, is given its token now, and keeps it beside its id.
    const agentToken = agent?.tokenHash ? '' : generateSecret();
    const tokenHash = agentToken ? hashToken(agentToken) : agent!.tokenHash!;
    if (agent && agentToken) await this.c.registry.admitAgent({ id: agent.id, hostname: info.hostname, admittedAt: agent.registeredAt, tokenHash });
    if (!agent) {
      // New agent, or one whose id this registry never admitted: admit it (under its own id if it has one).
      const id = info.id || newId('agent');
      await this.c.registry.admitAgent({ id, hostname: info.hostname, admittedAt: now, tokenHash });
      agent = {
        id, hostname: info.hostname, address, status: 'ACTIVE', total, used: res.empty(), offered: res.empty(),
        attributes: info.attributes, isolation: info.isolation, link, registeredAt: now,
        tasks: new Map(), offers: new Set(), missedChecks: 0, heardSinceCheck: true, tokenHash,
      };
      this.c.agents.set(id, agent);
      this.c.log.info(`agent ${id} registered from ${address} (${info.hostname}) with ${res.format(total)}`);
    } else {
      if (agent.link && agent.link !== link) agent.link.close();
      const was = agent.status;
      this.offers.rescindAll(agent.offers, 'the agent re-registered');
      Object.assign(agent, {
        hostname: info.hostname, address, total, attributes: info.attributes, isolation: info.isolation,
        link, status: 'ACTIVE', unreachableSince: undefined, missedChecks: 0, heardSinceCheck: true, tokenHash,
      });
      this.c.log.info(`agent ${agent.id} re-registered from ${address} (was ${was}) with ${reg.tasks.length} tasks`);
    }
    // A new files token with every registration: only the master the agent registered with reads its sandboxes.
    agent.filesToken = generateSecret();
    link.send({ registered: {
      agentId: agent.id, pingIntervalSeconds: this.opts.agentPingInterval, masterId: this.opts.masterId, agentToken, filesToken: agent.filesToken,
    } });
    this.reconcileTasks(agent, reg.tasks);
    this.c.scheduleAllocation();
    return agent.id;
  }

  /** Why a reported task cannot be taken at its word, or undefined. */
  private reportProblem(t: AgentTask__Output): string | undefined {
    if (!t.task || !t.status) return 'a task without its TaskInfo or status';
    return idProblem('task id', t.task.taskId) ?? idProblem('framework id', t.frameworkId)
      ?? (TASK_STATES.includes(t.status.state) ? undefined : `task ${t.task.taskId} has unknown state ${String(t.status.state).slice(0, 40)}`);
  }

  /**
   * The agent's report is the truth about its tasks, within what it can
   * hold: adopt those we did not know (a restarted master), remember those
   * that ended while we could not hear (so reconciliation answers with their
   * real end), end those it no longer has, and kill those whose framework
   * is gone, that were reported LOST meanwhile, or that claim more than the
   * agent has.
   */
  private reconcileTasks(agent: AgentRecord, reported: readonly AgentTask__Output[]): void {
    const seen = new Set<string>();
    let room = res.subtract(agent.total, agent.used);
    const kill = (frameworkId: string, taskId: string, reason: string) => agent.link?.send({ killTask: { frameworkId, taskId, reason } });
    for (const t of reported) {
      const problem = this.reportProblem(t);
      if (problem) {
        this.c.log.warn(`agent ${agent.id} reported an invalid task (${problem}); ignored`);
        continue;
      }
      const taskId = t.task!.taskId;
      const status: TaskStatus__Output = { ...t.status!, uuid: '', message: capStatusMessage(t.status!.message) };
      seen.add(taskId);
      const fw = this.c.frameworks.get(t.frameworkId);
      const terminal = isTerminal(status.state);
      // Only a task that ended has a record the master may have to correct (looked up only then: a scan of recent ends).
      const ended = terminal ? this.c.endedTaskOn(agent.id, t.frameworkId, taskId) : undefined;
      if (ended) this.c.correctEnded(ended, status);
      if (!fw) {
        if (terminal) continue;
        this.c.log.info(`agent ${agent.id} runs task ${taskId} of unknown or removed framework ${t.frameworkId}; killing it`);
        kill(t.frameworkId, taskId, `framework ${t.frameworkId} is not registered with the master`);
        continue;
      }
      const existing = agent.tasks.get(taskId);
      if (existing) {
        existing.status = status;
        this.c.staging.delete(existing);
        continue;
      }
      if (terminal) {
        // It ended while the master could not hear (restart, failover, partition): keep its real end for reconciliation.
        if (!ended && !fw.tasks.has(taskId)) this.c.keepEnded(fw, this.taskRecord(fw, agent, t.task!, status, res.empty()));
        continue;
      }
      if (fw.tasks.has(taskId)) continue; // already placed elsewhere: should not happen; keep the first
      if (fw.lostTaskIds.delete(taskId)) {
        // The framework was told this task was LOST; it must not come back.
        kill(fw.id, taskId, `task ${taskId} was reported LOST while agent ${agent.id} was unreachable`);
        continue;
      }
      let resources: res.Resources;
      try {
        resources = res.fromProto(t.task!.resources);
      } catch (err) {
        this.c.log.warn(`agent ${agent.id} reported task ${taskId} with invalid resources (${(err as Error).message}); killing it`);
        kill(fw.id, taskId, 'its resources are invalid');
        continue;
      }
      if (!res.contains(room, resources)) {
        this.c.log.warn(`agent ${agent.id} reported task ${taskId} holding ${res.format(resources)}, more than the agent has left (${res.format(room)}); killing it`);
        kill(fw.id, taskId, `agent ${agent.id} does not have the resources the task claims`);
        continue;
      }
      room = res.subtract(room, resources);
      this.c.readoptTask(this.taskRecord(fw, agent, t.task!, status, resources));
      // A partition-aware framework told UNREACHABLE learns the task runs again.
      if (fw.status === 'ACTIVE') this.c.sendUpdate(fw, { ...status, message: status.message || 'agent re-registered' });
    }
    for (const task of [...agent.tasks.values()]) {
      if (seen.has(task.id)) continue;
      // Launched but not reported: the agent lost it (or never got it).
      this.c.endTask(task, {
        state: this.c.droppedState(task.frameworkId), reason: 'REASON_AGENT_REREGISTERED',
        message: `task ${task.id} is not running on agent ${agent.id}, which re-registered without it`,
      });
    }
  }

  private taskRecord(fw: FrameworkRecord, agent: AgentRecord, info: TaskInfo__Output, status: TaskStatus__Output, resources: res.Resources): TaskRecord {
    const role = info.labels?.['mezzanine.role'] ?? fw.roles[0] ?? '*';
    return {
      id: info.taskId, frameworkId: fw.id, agentId: agent.id, role, info: withoutResourceList(info), resources,
      status: { ...status, taskId: info.taskId, frameworkId: fw.id, agentId: agent.id }, seenUpdates: new Set(),
    };
  }

  /** A message on a registered agent's connection. */
  message(agentId: string, link: AgentLink, msg: AgentMessage__Output): void {
    const agent = this.c.agents.get(agentId);
    if (!agent || agent.link !== link) return;
    agent.heardSinceCheck = true;
    if (msg.ping) link.send({ pong: { seq: msg.ping.seq } });
    else if (msg.statusUpdate?.status) this.statusUpdate(agent, msg.statusUpdate.status);
  }

  disconnected(agentId: string, link: AgentLink): void {
    const agent = this.c.agents.get(agentId);
    if (!agent || agent.link !== link) return;
    agent.link = undefined;
    if (agent.status === 'ACTIVE') {
      agent.status = 'DISCONNECTED';
      this.c.log.warn(`agent ${agentId} disconnected; it becomes unreachable if it does not return within ${this.opts.agentPingTimeout}s`);
      this.offers.rescindAll(agent.offers, 'the agent disconnected');
    }
  }

  /**
   * An update is taken only for a task the sending agent runs (or ran: its
   * real end replaces what the master assumed while it could not hear).
   * Anything else is acknowledged, so the agent stops resending, and dropped.
   * An update its framework may not see (TASK_KILLING, to one that did not
   * declare TASK_KILLING_STATE) is recorded and acknowledged on the
   * framework's behalf: no one else would, and the agent would resend it
   * until the task ended.
   */
  private statusUpdate(agent: AgentRecord, raw: TaskStatus__Output): void {
    const ack = () => agent.link?.send({ acknowledge: { taskId: raw.taskId, uuid: raw.uuid } });
    if (!TASK_STATES.includes(raw.state)) {
      this.c.log.warn(`agent ${agent.id} sent an update with unknown state ${String(raw.state).slice(0, 40)}; dropped`);
      return ack();
    }
    const status = { ...raw, agentId: agent.id, message: capStatusMessage(raw.message) };
    const fw = this.c.frameworks.get(status.frameworkId);
    const task = agent.tasks.get(status.taskId);
    if (task && task.frameworkId === status.frameworkId) {
      this.c.staging.delete(task);
      if (!task.seenUpdates.has(status.uuid)) {
        task.seenUpdates.add(status.uuid);
        if (isTerminal(status.state)) {
          this.c.endTask(task, status, false);
          if (ENDS_GROUP(status.state)) this.endGroup(agent, task);
        } else {
          // Kept with the task's own id strings: the decoded update brings fresh copies of all three, ~110 bytes a task.
          task.status = { ...status, taskId: task.id, frameworkId: task.frameworkId, agentId: task.agentId };
        }
      }
    } else {
      const ended = this.c.endedTaskOn(agent.id, status.frameworkId, status.taskId);
      if (!ended) {
        this.c.log.warn(`agent ${agent.id} sent an update for task ${status.taskId.slice(0, 200)}, which it does not run; dropped`);
        return ack();
      }
      if (isTerminal(status.state)) this.c.correctEnded(ended, status);
    }
    if (fw && !showsState(fw, status.state)) ack();
    else if (fw?.status === 'ACTIVE' && fw.link) this.c.sendUpdate(fw, status);
    else if (!fw) ack(); // nobody will ever acknowledge it
    // A disconnected framework gets the update when the agent resends it after re-subscription.
  }

  /** A LAUNCH_GROUP lives and dies together: a member that failed ends the rest, with a reason naming it. */
  private endGroup(agent: AgentRecord, failed: TaskRecord): void {
    const exit = failed.status.exitCode !== undefined && failed.status.exitCode !== null ? ` (exit code ${failed.status.exitCode})` : '';
    const reason = `task ${failed.id} of its LAUNCH_GROUP ended ${failed.status.state}${exit}; the group lives and dies together`;
    for (const id of failed.group ?? []) {
      const sibling = agent.tasks.get(id);
      if (!sibling || sibling.frameworkId !== failed.frameworkId || id === failed.id) continue;
      this.c.log.info(`killing task ${id}: ${reason}`);
      agent.link?.send({ killTask: { frameworkId: sibling.frameworkId, taskId: id, reason } });
    }
  }

  /**
   * Liveness, every `checkEveryMs` of the master's own time: an agent is
   * unreachable after `maxMissedChecks` consecutive checks that heard
   * nothing from it. A master that was itself stalled (GC, SIGSTOP, a slow
   * disk) runs one late check on waking, before it reads what the agents
   * sent meanwhile: that costs them one missed check, not their tasks.
   */
  check(): void {
    const now = this.c.now();
    for (const agent of this.c.agents.values()) {
      if (agent.status === 'ACTIVE' || agent.status === 'DISCONNECTED') {
        if (agent.heardSinceCheck) agent.missedChecks = 0;
        else agent.missedChecks++;
        agent.heardSinceCheck = false;
        if (agent.missedChecks >= this.maxMissedChecks) {
          const silent = ((agent.missedChecks * this.checkEveryMs) / 1000).toFixed(1);
          this.markUnreachable(agent, `nothing heard from it in ${agent.missedChecks} consecutive checks (${silent}s of master time; master flag --agent-ping-timeout ${this.opts.agentPingTimeout}s)`);
        }
      } else if (agent.status === 'UNREACHABLE' && (now - (agent.unreachableSince ?? now)) / 1000 > this.opts.agentRemovalTimeout) {
        void this.remove(agent);
      }
    }
    this.checkLaunches(now);
  }

  /**
   * Tasks their agent never reported on within the launch timeout are LOST
   * (and killed, should they start later). `staging` is in launch order, so
   * a tick looks only at the tasks that expire, and the first that does not.
   */
  private checkLaunches(now: number): void {
    const limit = this.opts.taskLaunchTimeout * 1000;
    const expired: TaskRecord[] = [];
    for (const task of this.c.staging) {
      if (now - (task.stagedAt ?? now) <= limit) break;
      expired.push(task);
    }
    for (const task of expired) {
      const agent = this.c.agents.get(task.agentId);
      const fw = this.c.frameworks.get(task.frameworkId);
      const why = `agent ${task.agentId} did not report on task ${task.id} within ${this.opts.taskLaunchTimeout}s of its launch (master flag --task-launch-timeout)`;
      this.c.log.warn(`${why}; it is LOST`);
      agent?.link?.send({ killTask: { frameworkId: task.frameworkId, taskId: task.id, reason: why } });
      fw?.lostTaskIds.add(task.id);
      this.c.endTask(task, { state: 'TASK_LOST', reason: 'REASON_LAUNCH_TIMEOUT', message: why });
    }
  }

  endReregistrationWindow(): void {
    for (const agent of this.c.agents.values()) {
      if (agent.status === 'RECOVERING') this.markUnreachable(agent, `did not re-register within ${this.opts.agentReregisterTimeout}s of master start`);
    }
  }

  private markUnreachable(agent: AgentRecord, why: string): void {
    this.c.log.warn(`agent ${agent.id} is unreachable: ${why}`);
    this.offers.rescindAll(agent.offers, 'the agent is unreachable');
    agent.link?.close();
    agent.link = undefined;
    agent.status = 'UNREACHABLE';
    agent.unreachableSince = this.c.now();
    for (const task of [...agent.tasks.values()]) {
      const fw = this.c.frameworks.get(task.frameworkId);
      const pa = fw?.capabilities.has('PARTITION_AWARE') ?? false;
      if (!pa) fw?.lostTaskIds.add(task.id);
      this.c.endTask(task, {
        state: pa ? 'TASK_UNREACHABLE' : 'TASK_LOST', reason: 'REASON_AGENT_UNREACHABLE',
        message: `agent ${agent.id} is unreachable (${why})`,
      });
    }
  }

  private async remove(agent: AgentRecord): Promise<void> {
    this.c.log.warn(`agent ${agent.id} was unreachable for more than ${this.opts.agentRemovalTimeout}s; removing it`);
    this.c.agents.delete(agent.id);
    this.c.removedAgents.add(agent.id);
    this.offers.filters.clearAgent(agent.id);
    // Its tasks will not come back: what was UNREACHABLE is GONE.
    for (const fw of [...this.c.frameworks.values(), ...this.c.removedFrameworkRecords]) {
      for (const t of fw.completed) {
        if (t.agentId !== agent.id || t.status.state !== 'TASK_UNREACHABLE') continue;
        t.status = { ...t.status, state: 'TASK_GONE', reason: 'REASON_AGENT_REMOVED', message: `agent ${agent.id} was removed`, timestamp: this.c.now() / 1000 };
        if (this.c.frameworks.get(fw.id) === fw && fw.status === 'ACTIVE') this.c.sendUpdate(fw, t.status);
      }
    }
    for (const fw of this.c.frameworks.values()) {
      if (fw.status === 'ACTIVE') this.c.send(fw, { failure: { agentId: agent.id } });
    }
    await this.c.registry.removeAgent(agent.id, this.c.now()).catch((err) => this.c.log.error(`registry: ${err.message}`));
  }
}
