/**
 * The calls of a subscribed framework: ACCEPT (validated, then committed
 * and sent to the agent), DECLINE, REVIVE, SUPPRESS, KILL, ACKNOWLEDGE,
 * RECONCILE, MESSAGE, TEARDOWN and UPDATE_FRAMEWORK. A call the caller got
 * wrong answers a non-fatal ERROR event naming the call and the reason.
 *
 * ACCEPT: each task of a LAUNCH is checked on its own (the valid ones
 * launch, the others get TASK_ERROR), while a LAUNCH_GROUP is atomic and,
 * once launched, lives and dies together — as in Mesos.
 */
import type { ErrorKind } from '../lib/errors';
import { shown, MAX_IDS_PER_CALL, MAX_MESSAGE_BYTES } from '../lib/limits';
import type { Call__Output, TaskInfo__Output, TaskStatus } from '../lib/proto';
import { withoutResourceList } from './agents';
import type { Access } from './access';
import type { Cluster } from './cluster';
import type { FrameworkLifecycle } from './frameworks';
import type { MasterLimits } from './limits';
import type { Offers } from './offers';
import type { FrameworkRecord } from './state';
import { validateAccept } from './validation';

export class SchedulerCalls {
  constructor(
    private readonly c: Cluster,
    private readonly offers: Offers,
    private readonly frameworks: FrameworkLifecycle,
    private readonly access: Access,
    private readonly limits: MasterLimits,
  ) {}

  /** Dispatches one call from a subscribed framework. */
  async call(fw: FrameworkRecord, call: Call__Output): Promise<void> {
    const kind = call.call;
    if (call.frameworkId && call.frameworkId !== fw.id) {
      return this.error(fw, kind, `call names framework ${shown(call.frameworkId)} but this stream belongs to ${fw.id}`);
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
      case 'teardown': return this.frameworks.remove(fw, 'the framework tore itself down');
      case 'updateFramework': {
        const refused = await this.frameworks.update(fw, call.updateFramework!.framework);
        return refused ? this.error(fw, kind, refused.message, refused.kind) : undefined;
      }
      case 'subscribe': return this.error(fw, kind, 'this stream is already subscribed; open a new stream to subscribe again');
      default: return this.error(fw, kind, `unknown call ${String(kind).slice(0, 40)}`);
    }
  }

  private error(fw: FrameworkRecord, call: string | undefined, message: string, kind: ErrorKind = 'INVALID'): void {
    this.c.log.info(`framework ${fw.id}: ${call?.toUpperCase()} refused: ${message.slice(0, 2000)}`);
    this.c.send(fw, { error: { message, fatal: false, call: (call ?? '').replace(/[A-Z]/g, (ch) => `_${ch}`).toUpperCase(), kind } });
  }

  private refusedUpdate(fw: FrameworkRecord, taskId: string, agentId: string, state: TaskStatus['state'], reason: string, message: string): void {
    this.c.sendUpdate(fw, {
      taskId, agentId, frameworkId: fw.id, state, reason, message, source: 'SOURCE_MASTER', timestamp: this.c.now() / 1000, uuid: '',
    });
  }

  private accept(fw: FrameworkRecord, accept: NonNullable<Call__Output['accept']>): void {
    const why = this.limits.acceptProblem(fw, accept);
    if (why) {
      for (const id of accept.offerIds.slice(0, MAX_IDS_PER_CALL)) {
        const offer = this.c.offers.get(id);
        if (offer?.frameworkId === fw.id) this.offers.remove(offer);
      }
      for (const op of accept.operations) {
        for (const t of op.launch?.taskInfos ?? op.launchGroup?.taskInfos ?? []) {
          this.refusedUpdate(fw, t.taskId.slice(0, 200), '', 'TASK_ERROR', 'REASON_TASK_INVALID', why);
        }
      }
      this.error(fw, 'accept', why, 'RESOURCE_EXHAUSTED');
      this.c.scheduleAllocation();
      return;
    }
    const verdict = validateAccept({
      frameworkId: fw.id, offerIds: accept.offerIds, operations: accept.operations,
      findOffer: (id) => this.c.offers.get(id), taskIdInUse: (id) => fw.tasks.has(id),
      userProblem: this.access.userChecker(fw, fw.peer ?? ''),
    });
    // Every valid offer is consumed; what no task takes returns to the pool.
    for (const offer of verdict.offers) this.offers.remove(offer);
    const agent = verdict.agentId ? this.c.agents.get(verdict.agentId) : undefined;
    const role = verdict.offers[0]?.role ?? fw.roles[0] ?? '*';
    const launch = verdict.tasks.filter((t) => !t.reasons.length);
    const refused = verdict.tasks.filter((t) => t.reasons.length);
    if (launch.length && (!agent || agent.status !== 'ACTIVE' || !agent.link)) {
      for (const t of launch) t.reasons.push(`agent ${verdict.agentId} is no longer connected`);
      refused.push(...launch.splice(0));
    }
    for (const t of refused) {
      this.refusedUpdate(
        fw, t.task.taskId.slice(0, 200), verdict.agentId ?? '',
        verdict.offerError ? this.c.droppedState(fw.id) : 'TASK_ERROR',
        verdict.offerError ? 'REASON_INVALID_OFFERS' : 'REASON_TASK_INVALID', t.reasons.join('; '),
      );
    }
    if (verdict.offerError || refused.length) {
      this.error(fw, 'accept', verdict.offerError ?? refused.map((t) => t.reasons.join('; ')).join(' | '));
    }
    if (launch.length && agent) {
      const groups = new Map<number, string[]>();
      for (const t of launch) {
        if (t.group === undefined) continue;
        const ids = groups.get(t.group);
        if (ids) ids.push(t.task.taskId);
        else groups.set(t.group, [t.task.taskId]);
      }
      const infos: TaskInfo__Output[] = [];
      const now = this.c.now();
      for (const t of launch) {
        const info: TaskInfo__Output = { ...t.task, agentId: agent.id, labels: { ...t.task.labels, 'mezzanine.role': role } };
        infos.push(info);
        const task = {
          id: t.task.taskId, frameworkId: fw.id, agentId: agent.id, role, info: withoutResourceList(info), resources: t.resources,
          status: { taskId: t.task.taskId, state: 'TASK_STAGING' as const, agentId: agent.id, frameworkId: fw.id, timestamp: now / 1000 },
          seenUpdates: new Set<string>(), group: t.group !== undefined ? groups.get(t.group) : undefined, stagedAt: now,
        };
        this.c.addTask(task);
        this.c.staging.add(task);
      }
      agent.link!.send({ runTasks: { framework: fw.info, tasks: infos } });
    }
    if (verdict.agentId && verdict.offers.length) this.offers.filter(fw, verdict.agentId, accept.filters?.refuseSeconds);
    this.c.scheduleAllocation();
  }

  private decline(fw: FrameworkRecord, offerIds: string[], refuseSeconds: number | undefined): void {
    const unknown: string[] = [];
    for (const id of offerIds.slice(0, MAX_IDS_PER_CALL)) {
      const offer = this.c.offers.get(id);
      if (!offer || offer.frameworkId !== fw.id) { unknown.push(shown(id)); continue; }
      this.offers.remove(offer);
      this.offers.filter(fw, offer.agentId, refuseSeconds);
    }
    if (offerIds.length > MAX_IDS_PER_CALL) this.error(fw, 'decline', `decline names ${offerIds.length} offers; only the first ${MAX_IDS_PER_CALL} were declined`);
    if (unknown.length) this.error(fw, 'decline', `offers ${unknown.slice(0, 20).join(', ')}${unknown.length > 20 ? ` and ${unknown.length - 20} more` : ''} are unknown, stale or not yours; nothing to decline`);
    this.c.scheduleAllocation();
  }

  private revive(fw: FrameworkRecord, roles: string[]): void {
    const which = roles.length ? roles : fw.roles;
    for (const r of which) fw.suppressedRoles.delete(r);
    this.offers.filters.clearFramework(fw.id);
    this.c.scheduleAllocation();
  }

  private suppress(fw: FrameworkRecord, roles: string[]): void {
    for (const r of roles.length ? roles : fw.roles) if (fw.roles.includes(r)) fw.suppressedRoles.add(r);
  }

  private kill(fw: FrameworkRecord, taskId: string, agentId: string): void {
    const task = fw.tasks.get(taskId);
    if (!task) {
      const done = fw.completed.findLast((t) => t.id === taskId);
      if (done) return this.c.sendUpdate(fw, { ...done.status, uuid: '' });
      return this.c.sendUpdate(fw, {
        taskId: taskId.slice(0, 200), agentId: agentId.slice(0, 200), frameworkId: fw.id, state: fw.capabilities.has('PARTITION_AWARE') ? 'TASK_UNKNOWN' : 'TASK_LOST',
        reason: 'REASON_RECONCILIATION', message: `task ${shown(taskId)} is not known to the master`, source: 'SOURCE_MASTER',
        timestamp: this.c.now() / 1000, uuid: '',
      });
    }
    const agent = this.c.agents.get(task.agentId);
    if (!agent?.link) {
      return this.error(fw, 'kill', `agent ${task.agentId} of task ${taskId} is not connected; the kill is sent when it returns`, 'UNAVAILABLE');
    }
    agent.link.send({ killTask: { frameworkId: fw.id, taskId, reason: '' } });
  }

  private acknowledge(fw: FrameworkRecord, ack: NonNullable<Call__Output['acknowledge']>): void {
    const agent = this.c.agents.get(ack.agentId);
    if (!agent) return this.error(fw, 'acknowledge', `agent ${shown(ack.agentId)} is not known`, 'NOT_FOUND');
    if (!ack.uuid) return this.error(fw, 'acknowledge', 'acknowledgement without a uuid: only updates that carry one need acknowledging');
    agent.link?.send({ acknowledge: { taskId: ack.taskId, uuid: ack.uuid } });
  }

  /**
   * Answers from what the master knows, and from what re-registered agents
   * reported (tasks that ended while the master could not hear included).
   * A task the master does not know, on an agent that has not re-registered
   * since a restart or failover (or on an unnamed agent while any has not),
   * gets no answer yet: its agent will report it (as Mesos does). A framework
   * that took "unknown" for an answer there would run the work twice.
   */
  private reconcile(fw: FrameworkRecord, tasks: { taskId: string; agentId: string }[]): void {
    const reply = (status: TaskStatus) => this.c.sendUpdate(fw, { ...status, uuid: '', reason: 'REASON_RECONCILIATION' });
    if (!tasks.length) {
      for (const t of fw.tasks.values()) reply(t.status);
      return;
    }
    if (tasks.length > MAX_IDS_PER_CALL) return this.error(fw, 'reconcile', `reconcile names ${tasks.length} tasks; the limit is ${MAX_IDS_PER_CALL}: reconcile in batches`);
    let anyRecovering: boolean | undefined;
    const recovering = (): boolean => (anyRecovering ??= [...this.c.agents.values()].some((a) => a.status === 'RECOVERING'));
    for (const { taskId, agentId } of tasks) {
      const t = fw.tasks.get(taskId) ?? fw.completed.findLast((c) => c.id === taskId);
      if (t) { reply(t.status); continue; }
      const agent = agentId ? this.c.agents.get(agentId) : undefined;
      if (agent?.status === 'RECOVERING' || (!agentId && recovering())) continue;
      reply({
        taskId: taskId.slice(0, 200), agentId: agentId.slice(0, 200), frameworkId: fw.id, source: 'SOURCE_MASTER', timestamp: this.c.now() / 1000,
        state: fw.capabilities.has('PARTITION_AWARE') ? 'TASK_UNKNOWN' : 'TASK_LOST', message: `task ${shown(taskId)} is not known to the master`,
      });
    }
  }

  private message(fw: FrameworkRecord, m: NonNullable<Call__Output['message']>): void {
    if (m.data.length > MAX_MESSAGE_BYTES) {
      return this.error(fw, 'message', `message of ${m.data.length} bytes is too large; the limit is ${MAX_MESSAGE_BYTES}`);
    }
    const task = fw.tasks.get(m.taskId);
    if (!task) return this.error(fw, 'message', `task ${shown(m.taskId)} is not a live task of this framework`, 'NOT_FOUND');
    const agent = this.c.agents.get(task.agentId);
    if (!agent?.link) return this.error(fw, 'message', `agent ${task.agentId} is not connected`, 'UNAVAILABLE');
    agent.link.send({ frameworkMessage: { frameworkId: fw.id, taskId: m.taskId, data: m.data } });
  }
}
