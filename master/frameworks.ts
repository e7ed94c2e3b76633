/**
 * Framework lifecycle: subscription (new, or failing over to a new
 * connection), disconnection and the failover timeout, UPDATE_FRAMEWORK,
 * and removal (teardown, or a failover timeout that passed).
 *
 *   SUBSCRIBE ─(registry write)─▶ ACTIVE ─(disconnect)─▶ INACTIVE ─(failover timeout)─▶ removed
 *                                    ▲──────(re-SUBSCRIBE with its id)───┘
 */
import type { Caller } from '../lib/auth';
import { errorMessage, MezzError, type ErrorKind } from '../lib/errors';
import { newId } from '../lib/ids';
import type { FrameworkInfo__Output } from '../lib/proto';
import { VERSION } from '../lib/version';
import type { Access } from './access';
import type { Cluster } from './cluster';
import { DEFAULT_FAILOVER_TIMEOUT, frameworkInfoProblems, offerConstraintsOf, rolesOf } from './framework-info';
import type { MasterLimits } from './limits';
import type { Offers } from './offers';
import type { FrameworkLink, FrameworkRecord } from './state';

export interface FrameworkLifecycleOptions {
  masterId: string;
  /** Seconds between HEARTBEAT events to frameworks. */
  heartbeatInterval: number;
  /** SUBSCRIBE rate and frameworks per principal (limits.ts). */
  limits: MasterLimits;
}

export class FrameworkLifecycle {
  constructor(
    private readonly c: Cluster,
    private readonly offers: Offers,
    private readonly access: Access,
    private readonly opts: FrameworkLifecycleOptions,
  ) {}

  newRecord(id: string, info: FrameworkInfo__Output, registeredAt: number): FrameworkRecord {
    return {
      id, info: { ...info, id }, roles: rolesOf(info), capabilities: new Set(info.capabilities), offerConstraints: offerConstraintsOf(info),
      failoverTimeout: info.failoverTimeout ?? DEFAULT_FAILOVER_TIMEOUT, status: 'ACTIVE', suppressedRoles: new Set(),
      allocated: new Map(), tasks: new Map(), completed: [], offers: new Set(), registeredAt,
      lostTaskIds: new Set(),
    };
  }

  /** A framework from the registry of a restarted master: inactive until it re-subscribes within its failover timeout. */
  recover(id: string, info: FrameworkInfo__Output, registeredAt: number): void {
    const fw = this.newRecord(id, info, registeredAt);
    fw.status = 'INACTIVE';
    fw.disconnectedAt = this.c.now();
    this.c.frameworks.set(id, fw);
    this.startFailoverTimer(fw);
  }

  /** SUBSCRIBE: a new framework, or an existing one failing over to a new connection. Refusals are fatal. */
  async subscribe(link: FrameworkLink, info: FrameworkInfo__Output | null, caller: Caller): Promise<FrameworkRecord | undefined> {
    const refuse = (message: string, kind: ErrorKind = 'INVALID') => {
      link.send({ error: { message, fatal: true, call: 'SUBSCRIBE', kind } });
      link.close();
      return undefined;
    };
    if (!info) return refuse('SUBSCRIBE must carry framework info (at least a name)');
    const problems = frameworkInfoProblems(info);
    if (problems.length) return refuse(problems.join('; '));
    if (info.id && this.c.removedFrameworks.has(info.id)) {
      return refuse(`framework ${info.id} was removed (torn down, or its failover timeout passed); subscribe without an id to register anew`, 'FRAMEWORK_REMOVED');
    }
    const known = info.id ? this.c.frameworks.get(info.id) : undefined;
    if (info.id && !known) {
      return refuse(`framework ${info.id} is not registered with this cluster (a state file from another cluster, or one whose registry was wiped?); subscribe without an id to register anew`, 'FRAMEWORK_UNKNOWN');
    }
    try {
      info = { ...info, principal: this.access.subscribe(caller, info, known) };
    } catch (err) {
      return refuse(errorMessage(err), err instanceof MezzError ? err.kind : 'PERMISSION_DENIED');
    }
    const limited = this.opts.limits.subscribeProblem(info, !known);
    if (limited) return refuse(limited, 'RESOURCE_EXHAUSTED');
    const now = this.c.now();
    const id = known?.id ?? newId('fw');
    // Durable before the stream is attached: an allocation round during the write would
    // otherwise send OFFERS ahead of SUBSCRIBED, to a framework that cannot use them yet.
    // A failed write leaves nothing behind: no record, no stream.
    try {
      await this.c.registry.putFramework({ id, info: { ...info, id }, registeredAt: known?.registeredAt ?? now });
    } catch (err) {
      this.c.log.error(`framework ${info.name.slice(0, 100)} could not subscribe: registry write failed: ${errorMessage(err)}`);
      return refuse(`the master could not record the subscription in its registry (${errorMessage(err)}); retry later`, 'UNAVAILABLE');
    }
    let fw = this.c.frameworks.get(id);
    if (fw) {
      if (fw.link && fw.link !== link) {
        this.c.send(fw, { error: { message: 'framework failed over to a new connection', fatal: true, call: 'SUBSCRIBE', kind: 'FRAMEWORK_FAILED_OVER' } });
        fw.link.close();
      }
      fw.failoverTimer?.cancel();
      fw.failoverTimer = undefined;
      this.offers.rescindAll(fw.offers, 'the framework re-subscribed');
      Object.assign(fw, {
        info: { ...info, id: fw.id }, roles: rolesOf(info), capabilities: new Set(info.capabilities), offerConstraints: offerConstraintsOf(info),
        failoverTimeout: info.failoverTimeout ?? DEFAULT_FAILOVER_TIMEOUT, status: 'ACTIVE', link, disconnectedAt: undefined, peer: caller.peer,
      });
      this.c.log.info(`framework ${fw.id} (${info.name}) re-subscribed with ${fw.tasks.size} tasks`);
    } else {
      fw = this.newRecord(id, info, now);
      fw.link = link;
      fw.peer = caller.peer;
      this.c.frameworks.set(id, fw);
      this.c.log.info(`framework ${id} (${info.name}) subscribed in roles ${fw.roles.join(', ')}`);
    }
    this.c.send(fw, {
      subscribed: { frameworkId: fw.id, heartbeatIntervalSeconds: this.opts.heartbeatInterval, masterId: this.opts.masterId, masterVersion: VERSION },
    });
    this.c.scheduleAllocation();
    return fw;
  }

  /** UPDATE_FRAMEWORK: the same checks as SUBSCRIBE; written to the registry before it takes effect. Resolves with a refusal, or undefined. */
  async update(fw: FrameworkRecord, info: FrameworkInfo__Output | null): Promise<{ message: string; kind: ErrorKind } | undefined> {
    const invalid = (message: string) => ({ message, kind: 'INVALID' as const });
    if (!info) return invalid('UPDATE_FRAMEWORK must carry framework info');
    const problems = frameworkInfoProblems(info);
    if (problems.length) return invalid(problems.join('; '));
    if (info.id && info.id !== fw.id) return invalid(`UPDATE_FRAMEWORK names framework ${info.id} but this stream belongs to ${fw.id}`);
    // The principal stays the one that subscribed; new roles need its permission.
    const caller: Caller = { principal: fw.info.principal || undefined, peer: fw.peer ?? '' };
    try {
      info = { ...info, principal: this.access.subscribe(caller, info, fw, 'UPDATE_FRAMEWORK') };
    } catch (err) {
      return { message: errorMessage(err), kind: err instanceof MezzError ? err.kind : 'PERMISSION_DENIED' };
    }
    await this.c.registry.putFramework({ id: fw.id, info: { ...info, id: fw.id }, registeredAt: fw.registeredAt });
    this.offers.rescindAll(fw.offers, 'the framework changed its roles');
    fw.info = { ...info, id: fw.id };
    fw.roles = rolesOf(info);
    fw.capabilities = new Set(info.capabilities);
    fw.offerConstraints = offerConstraintsOf(info);
    fw.failoverTimeout = info.failoverTimeout ?? DEFAULT_FAILOVER_TIMEOUT;
    this.c.scheduleAllocation();
    return undefined;
  }

  disconnected(fw: FrameworkRecord, link: FrameworkLink): void {
    if (fw.link !== link || !this.c.frameworks.has(fw.id)) return;
    fw.link = undefined;
    fw.status = 'INACTIVE';
    fw.disconnectedAt = this.c.now();
    this.offers.rescindAll(fw.offers, 'the framework disconnected');
    this.c.log.warn(`framework ${fw.id} disconnected; its ${fw.tasks.size} tasks are kept for ${fw.failoverTimeout}s (failover timeout)`);
    this.startFailoverTimer(fw);
  }

  private startFailoverTimer(fw: FrameworkRecord): void {
    fw.failoverTimer?.cancel();
    fw.failoverTimer = this.c.clock.after(fw.failoverTimeout * 1000, () => {
      this.c.log.warn(`framework ${fw.id} did not re-subscribe within its failover timeout (${fw.failoverTimeout}s); killing its tasks and removing it`);
      void this.remove(fw, 'its failover timeout passed');
    });
  }

  heartbeat(): void {
    for (const fw of this.c.frameworks.values()) if (fw.status === 'ACTIVE') this.c.send(fw, { heartbeat: {} });
  }

  /** Kills every task of the framework and forgets it for good. */
  async remove(fw: FrameworkRecord, why: string): Promise<void> {
    if (!this.c.frameworks.has(fw.id)) return;
    fw.failoverTimer?.cancel();
    this.offers.rescindAll(fw.offers, `the framework was removed (${why})`);
    const agentIds = new Set([...fw.tasks.values()].map((t) => t.agentId));
    for (const id of agentIds) this.c.agents.get(id)?.link?.send({ shutdownFramework: { frameworkId: fw.id } });
    for (const task of [...fw.tasks.values()]) {
      this.c.endTask(task, { state: 'TASK_KILLED', reason: 'REASON_FRAMEWORK_REMOVED', message: `framework ${fw.id} was removed: ${why}` }, false);
    }
    this.c.removeFramework(fw);
    this.offers.filters.clearFramework(fw.id);
    if (fw.link) {
      this.c.send(fw, { error: { message: `framework ${fw.id} was removed: ${why}`, fatal: true, call: 'TEARDOWN', kind: 'FRAMEWORK_REMOVED' } });
      fw.link.close();
    }
    await this.c.registry.removeFramework(fw.id, this.c.now()).catch((err) => this.c.log.error(`registry: ${err.message}`));
    this.c.scheduleAllocation();
  }
}
