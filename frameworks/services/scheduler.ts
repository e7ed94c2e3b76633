/**
 * The services scheduler: one leadership's loop. On offers, on status
 * updates and on a timer tick it advances the running deployments, asks the
 * reconciler what to do with the counts they want (and every other app at
 * its own), stores the new records, then launches, kills and declines — so
 * a task is always written down before it exists. Every change to the apps
 * is a deployment, planned and stored before anything acts on it. Rounds
 * and changes run one at a time.
 */
import type { Framework, Offer__Output, TaskStatus__Output } from '../sdk/index';
import { reconcile, Rounds, writeAll, type FrameworkState, type LeaderContext, type Plan, type StateOp, type TaskGroup } from '../foundation/index';
import { NotFoundError, UnavailableError } from '../../lib/errors';
import type { Logger } from '../../lib/log';
import type { App } from './app-schema';
import { appGroup, checkResult, endedAttemptsToKeep, expunged, finishTask, hostPorts } from './app-task';
import {
  assignServicePorts,
  configChanged,
  deleteAppOps,
  deleteTaskOps,
  deleteVersionOps,
  loadApps,
  loadDeployments,
  loadTasks,
  loadVersions,
  MAX_VERSIONS,
  putAppOps,
  putTasks,
  type ServiceTask,
  type StoredApp,
} from './app-store';
import { Deployer, deployedApp, type DeployOptions } from './deployer';
import { deploymentJson, observeTasks, type Deployment, type DeploymentEvent } from './deployments/index';
import { SeenValues } from './seen-values';
import { readinessTarget, type ReadinessChecker, type ReadinessCheckResult } from './readiness';
import { hasEnded } from '../foundation/index';

/** A round without offers runs this often, so deployments, kills, backoffs and the queue stay current. */
const TICK_MS = 1000;
/** Offers nobody used come back after this long, so a new app does not wait for long. */
const REFUSE_SECONDS = 1;
/** A kill is repeated (it is level-triggered) at most this often per task. */
const KILL_REPEAT_MS = 5000;

/** Marathon's reconciliation_interval: 10 minutes. */
export const DEFAULT_RECONCILE_MS = 600_000;

/** Where events go (the `/v2/events` stream): Marathon's event type and its JSON. */
export type Publish = (eventType: string, payload: Record<string, unknown>) => void;

/** What else wants to know of tasks: the service proxy keeps its backends to the tasks that are up, and drains a task before it is killed. */
export interface Endpoints {
  /** Each round: every app and its live tasks, with whether each is healthy and ready. */
  update(apps: readonly App[], tasks: readonly { task: ServiceTask; up: boolean }[]): void;
  /** Resolves when `task` may be killed: out of the backends and its connections closed (or given up on). */
  drain(task: ServiceTask): Promise<void>;
}

export interface SchedulerOptions {
  log: Logger;
  now?: () => number;
  /** Deployment ids. */
  newId: () => string;
  publish?: Publish;
  /** Runs the readiness checks of apps that have them; without it every task counts as ready. */
  readiness?: ReadinessChecker;
  endpoints?: Endpoints;
  /** How often every live task's state is asked of the master (DEFAULT_RECONCILE_MS). */
  reconcileIntervalMs?: number;
}

/** A change asked of the apps. Every app named must exist, but those in `put`. */
export interface AppChange {
  /** Whole definitions to create or replace. */
  put?: App[];
  remove?: string[];
  /** Apps whose tasks are all replaced, rolling, with no change (Marathon's restart). */
  restart?: string[];
}

export type DeployResult =
  | { kind: 'deployed'; deployment: Deployment; apps: StoredApp[] }
  | { kind: 'conflict'; message: string; deployments: { id: string }[] }
  | { kind: 'invalid'; message: string };

interface Leadership {
  framework: Framework;
  state: FrameworkState;
  signal: AbortSignal;
}

export class ServicesScheduler {
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #publish: Publish;
  readonly #reconcileMs: number;
  #lead?: Leadership;
  #apps = new Map<string, StoredApp>();
  /** Every stored definition per app, oldest first. */
  #versions = new Map<string, StoredApp[]>();
  #deployer: Deployer;
  /** The agents offered lately: a GROUP_BY without a count spreads over the values they show. */
  #seen: SeenValues;
  #tasks = new Map<string, ServiceTask>();
  #killedAt = new Map<string, number>();
  /** Tasks whose latest state is not stored yet. */
  #dirty = new Set<string>();
  /** Tasks being drained before their kill. */
  #draining = new Set<string>();
  /** The latest round's waiting instances, for /v2/queue and "cannot proceed". */
  #waiting: Plan['waiting'] = [];
  /** Offers are suppressed while nothing waits to be placed, so an idle framework does not churn the allocator. */
  #suppressed = false;
  /** Rounds (each with the offers gathered) and changes, one at a time. */
  readonly #rounds = new Rounds<Offer__Output>((offers) => this.#runRound(offers), (err, offers) => {
    this.#log.warn(`scheduling round failed: ${String(err)}`);
    this.#lead?.framework.decline(offers.map((o) => o.id), { refuseSeconds: REFUSE_SECONDS });
  });

  constructor(private readonly options: SchedulerOptions) {
    this.#log = options.log;
    this.#now = options.now ?? Date.now;
    this.#publish = options.publish ?? (() => {});
    this.#reconcileMs = options.reconcileIntervalMs ?? DEFAULT_RECONCILE_MS;
    this.#deployer = new Deployer(options.newId);
    this.#seen = new SeenValues(this.#now);
  }

  /** The runner's `lead`: load the state, reconcile what a previous leader launched, then run rounds until the leadership ends. */
  readonly lead = async ({ framework, state, failover, signal }: LeaderContext): Promise<void> => {
    this.#apps = await loadApps(state);
    this.#versions = await loadVersions(state);
    this.#deployer.load(await loadDeployments(state));
    this.#tasks = await loadTasks(state);
    this.#killedAt.clear();
    this.#draining.clear();
    this.#dirty.clear();
    const live = [...this.#tasks.values()].filter((t) => !hasEnded(t.state));
    this.#lead = { framework, state, signal };
    this.#suppressed = false;
    signal.addEventListener('abort', () => {
      this.#lead = undefined;
      this.options.readiness?.track([]);
    });
    if (failover && live.length) {
      await this.#reconcileWithMaster(framework);
    } else if (live.length) {
      // A new framework id: the master removed the old framework, and its tasks with it.
      for (const t of live) this.#apply({ taskId: t.taskId, state: 'TASK_LOST' });
    }
    framework.on('update', (s) => {
      this.#apply(s);
      this.#rounds.trigger([]);
    });
    framework.on('offers', (offers) => {
      this.#seen.offered(offers);
      this.#rounds.trigger(offers);
    });
    // Offers flow from here, whatever came before: the master keeps a previous leader's suppression across our
    // re-subscription, and offers that came while we reconciled were declined (no listener yet) under its 5 s filter.
    framework.revive();
    const timer = setInterval(() => this.#rounds.trigger([]), TICK_MS);
    // As Marathon's reconciliation_interval: a status update lost on the way would otherwise leave a task's state wrong for good.
    const reconciling = setInterval(() => {
      this.#reconcileWithMaster(framework).then(
        () => this.#rounds.trigger([]),
        (err) => this.#log.warn(`reconciliation with the master failed (retried in ${this.#reconcileMs / 1000} s): ${String(err)}`),
      );
    }, this.#reconcileMs);
    signal.addEventListener('abort', () => {
      clearInterval(timer);
      clearInterval(reconciling);
    });
    this.#log.info(`leading: ${this.#apps.size} apps, ${this.#deployer.running().length} deployments running, ${live.length} live tasks`);
    this.#rounds.trigger([]);
  };

  /** Asks the master for the state of every live task and applies the answers. */
  async #reconcileWithMaster(framework: Framework): Promise<void> {
    const live = this.tasks();
    if (live.length === 0) return;
    const { statuses } = await framework.reconcileTasks(live.map((t) => ({ taskId: t.taskId, agentId: t.agentId ?? '' })));
    for (const s of statuses.values()) this.#apply(s);
  }

  /** Whether this instance leads and has loaded its state: writes are accepted. */
  leading(): boolean {
    return this.#lead !== undefined;
  }

  apps(): StoredApp[] {
    return [...this.#apps.values()].sort((a, b) => (a.app.id < b.app.id ? -1 : 1));
  }

  app(id: string): StoredApp | undefined {
    return this.#apps.get(id);
  }

  /** The app, for a change: 503 when this instance does not lead, 404 when there is no such app. */
  requireApp(id: string): StoredApp {
    this.#leading();
    const s = this.#apps.get(id);
    if (!s) throw new NotFoundError(`App '${id}' does not exist`);
    return s;
  }

  /** The app's stored versions, newest first. */
  versions(id: string): StoredApp[] {
    return [...(this.#versions.get(id) ?? [])].reverse();
  }

  /** Every known task of `appId` (all apps when left out), ended ones excluded. */
  tasks(appId?: string): ServiceTask[] {
    return [...this.#tasks.values()].filter((t) => !hasEnded(t.state) && (appId === undefined || t.group === appId));
  }

  waiting(): Plan['waiting'] {
    return this.#waiting;
  }

  deployments(): Deployment[] {
    return this.#deployer.running();
  }

  deployment(id: string): Deployment | undefined {
    return this.#deployer.get(id);
  }

  /** The running deployment that holds `app`. */
  deploymentOf(app: string): Deployment | undefined {
    return this.#deployer.holding(app);
  }

  /** Whether a live task counts as healthy for deployments and the proxy: running, passing its health checks and readiness checks. */
  isUp(t: ServiceTask): boolean {
    if (t.state !== 'TASK_RUNNING') return false;
    const app = this.#definition(t.group, t.version)?.app;
    if (!app) return t.healthy !== false;
    if (app.healthChecks.length > 0 && t.healthy !== true) return false;
    const readiness = this.options.readiness;
    return !readiness || app.readinessChecks.length === 0 || readiness.isReady(t.taskId);
  }

  /** The readiness checks' results of `appId`'s tasks, Marathon's `readinessCheckResults`. */
  readinessResults(appId: string): ReadinessCheckResult[] {
    return this.options.readiness?.results(appId) ?? [];
  }

  /**
   * Plans and stores a deployment for `change` (apps and deployment in the
   * store first), then lets the rounds carry it out. A conflict with a
   * running deployment is refused unless `force`.
   */
  deploy(change: AppChange, options: DeployOptions = {}): Promise<DeployResult> {
    return this.#rounds.serial(() => this.#deploy(change, options));
  }

  async #deploy(change: AppChange, options: DeployOptions): Promise<DeployResult> {
    const lead = this.#leading();
    const now = this.#now();
    const remove = change.remove ?? [];
    for (const id of [...remove, ...(change.restart ?? [])]) if (!this.#apps.has(id)) throw new NotFoundError(`App '${id}' does not exist`);
    const stored = this.#nextDefinitions(change, now);
    const plan = this.#deployer.plan([...this.#apps.values()].map(deployedApp), stored.map(deployedApp), remove, now, options);
    if (plan.kind !== 'planned') return plan;
    await writeAll(lead.state, [...stored.flatMap(putAppOps), ...remove.flatMap(deleteAppOps), ...plan.ops]);
    for (const s of stored) this.#remember(s);
    for (const id of remove) this.#apps.delete(id);
    this.#deployer.commit(plan);
    for (const s of stored) this.#publish('api_post_event', { appDefinition: { ...s.app, version: s.version } });
    this.#events(plan.events);
    this.#wantOffers(lead.framework, true);
    this.#rounds.trigger([]);
    return { kind: 'deployed', deployment: plan.deployment, apps: stored };
  }

  /** DELETE /v2/deployments/{id}: roll back (the rollback deployment is answered) or, with `force`, cancel in place. */
  cancel(id: string, force: boolean): Promise<{ rollback?: Deployment }> {
    return this.#rounds.serial(async () => {
      const lead = this.#leading();
      const r = this.#deployer.cancel(id, force, this.#now());
      if (r.kind === 'not running') throw new NotFoundError(r.message);
      const restore = r.kind === 'rolled back' ? this.#restoreOps(r.rollback) : [];
      await writeAll(lead.state, [...r.ops, ...restore]);
      this.#deployer.commitCancel(r.kind === 'rolled back' ? [r.cancelled, r.rollback] : [r.cancelled]);
      if (r.kind === 'rolled back') this.#restore(r.rollback);
      this.#events(r.events);
      this.#rounds.trigger([]);
      return r.kind === 'rolled back' ? { rollback: r.rollback } : {};
    });
  }

  /**
   * Kills tasks by id. Each is marked TASK_KILLING at once, so it is the
   * first to go should its app shrink; the rounds replace it, unless
   * `scale`: then its app shrinks by as many (a deployment, forced, as
   * Marathon's kill-and-scale).
   */
  killTasks(taskIds: readonly string[], scale: boolean): Promise<ServiceTask[]> {
    return this.#rounds.serial(async () => {
      const lead = this.#leading();
      const tasks = taskIds.map((id) => {
        const t = this.#tasks.get(id);
        if (!t || hasEnded(t.state)) throw new NotFoundError(`Task '${id}' does not exist`);
        return t;
      });
      const killing = tasks.map((t): ServiceTask => ({ ...t, state: 'TASK_KILLING', updatedAt: this.#now() }));
      await putTasks(lead.state, killing);
      for (const t of killing) this.#tasks.set(t.taskId, t);
      if (scale) {
        const less = new Map<string, number>();
        for (const t of tasks) less.set(t.group, (less.get(t.group) ?? 0) + 1);
        const put = [...less].flatMap(([id, n]) => {
          const s = this.#apps.get(id);
          return s ? [{ ...s.app, instances: Math.max(0, s.app.instances - n) }] : [];
        });
        await this.#deploy({ put }, { force: true });
      }
      for (const t of tasks) void this.#kill(t, 'killed by request');
      return killing;
    });
  }

  /** DELETE /v2/queue/{id}/delay: the app's crash-loop backoff starts over (failures before now no longer count). */
  resetDelay(id: string): Promise<void> {
    return this.#rounds.serial(async () => {
      const lead = this.#leading();
      const s = this.#apps.get(id);
      if (!s) throw new NotFoundError(`App '${id}' does not exist`);
      const next = { ...s, delayResetAt: this.#now() };
      await writeAll(lead.state, putAppOps(next));
      this.#remember(next);
      this.#rounds.trigger([]);
    });
  }

  #leading(): Leadership {
    if (!this.#lead) throw new UnavailableError('this instance does not lead (yet): try again');
    return this.#lead;
  }


  /** The stored form of each app in `change`: service ports assigned, a new version; a new task version only when the config changed or a restart asks. */
  #nextDefinitions(change: AppChange, now: number): StoredApp[] {
    const all = new Map(this.#apps);
    const out: StoredApp[] = [];
    const restart = new Set(change.restart ?? []);
    const next = (app: App): void => {
      const previous = this.#apps.get(app.id);
      const withPorts = assignServicePorts(app, all.values(), previous?.app);
      const version = new Date(Math.max(now, previous ? Date.parse(previous.version) + 1 : 0)).toISOString();
      const same = previous && !restart.has(app.id) && !configChanged(previous.app, withPorts);
      const s: StoredApp = { app: withPorts, version, configVersion: same ? previous.configVersion : version };
      all.set(app.id, s);
      out.push(s);
    };
    for (const app of change.put ?? []) next(app);
    for (const id of restart) if (!out.some((s) => s.app.id === id)) next(this.#apps.get(id)!.app);
    return out;
  }

  #remember(s: StoredApp): void {
    this.#apps.set(s.app.id, s);
    const list = (this.#versions.get(s.app.id) ?? []).filter((v) => v.version !== s.version);
    this.#versions.set(s.app.id, [...list, s]);
  }

  /** The definition whose tasks carry `configVersion`: the newest stored one with it. */
  #definition(id: string, configVersion: string): StoredApp | undefined {
    const current = this.#apps.get(id);
    if (current?.configVersion === configVersion) return current;
    const list = this.#versions.get(id) ?? [];
    for (let i = list.length - 1; i >= 0; i--) if (list[i]!.configVersion === configVersion) return list[i];
    return undefined;
  }

  /** A rollback puts its apps' definitions back as they were (or removes the apps it created): the ops, before `#restore`. */
  #restoreOps(rollback: Deployment): StateOp[] {
    return rollback.affectedApps.flatMap((id) => {
      const target = rollback.target[id];
      if (!target) return deleteAppOps(id);
      const s = this.#versions.get(id)?.find((v) => v.version === target.definition);
      return s ? putAppOps(s) : [];
    });
  }

  #restore(rollback: Deployment): void {
    for (const id of rollback.affectedApps) {
      const target = rollback.target[id];
      const s = target ? this.#versions.get(id)?.find((v) => v.version === target.definition) : undefined;
      if (s) this.#apps.set(id, s);
      else if (!target) this.#apps.delete(id);
    }
  }

  /** A status update applied to the task's record (unknown tasks are ignored: they are not ours to keep). */
  #apply(s: Pick<TaskStatus__Output, 'taskId' | 'state' | 'healthy'> & Partial<Pick<TaskStatus__Output, 'message' | 'checkStatus'>>): void {
    const r = this.#tasks.get(s.taskId);
    if (!r) return;
    const now = this.#now();
    // An expunged task that comes back stays unreachable here, so the reconciler's kill ('unreachable expunged') still applies.
    if (r.state === 'TASK_UNREACHABLE' && !hasEnded(s.state) && expunged(this.#definition(r.group, r.version)?.app, r.updatedAt, now)) return;
    const running = s.state === 'TASK_RUNNING';
    const healthy = s.healthy !== undefined && s.healthy !== null ? s.healthy : undefined;
    const next: ServiceTask = {
      ...r,
      state: s.state,
      updatedAt: r.state === s.state ? r.updatedAt : now,
      ...(running && r.startedAt === undefined ? { startedAt: now } : {}),
      ...(healthy !== undefined ? { healthy } : {}),
      ...(s.checkStatus ? { checkResult: checkResult(s.checkStatus) } : {}),
    };
    this.#tasks.set(s.taskId, next);
    if (hasEnded(s.state)) this.#killedAt.delete(s.taskId);
    const where = { appId: r.group, taskId: r.taskId, version: r.version, host: r.hostname ?? '', ports: r.ports ?? [], slaveId: r.agentId ?? '' };
    if (r.state !== s.state) this.#publish('status_update_event', { ...where, taskStatus: s.state, message: s.message ?? '' });
    if (healthy !== undefined && healthy !== r.healthy) this.#publish('health_status_changed_event', { ...where, alive: healthy });
    // Stored with the next round's writes, in one transaction for a burst: after a crash the master's reconciliation has the latest state anyway.
    this.#dirty.add(s.taskId);
  }

  #events(events: readonly DeploymentEvent[]): void {
    for (const e of events) {
      const d = this.#deployer.get(e.deploymentId);
      this.#log.info(`deployment ${e.deploymentId}: ${e.eventType}: ${e.message}`);
      this.#publish(e.eventType, { id: e.deploymentId, message: e.message, ...(e.app ? { appId: e.app } : {}), ...(d ? { plan: deploymentJson(d) } : {}) });
    }
  }


  async #runRound(offers: Offer__Output[]): Promise<void> {
    const lead = this.#lead;
    if (!lead || lead.signal.aborted) return;
    const now = this.#now();
    const records = [...this.#tasks.values()];
    await this.#storeDirty(lead.state);
    this.#trackReadiness();
    const tick = this.#deployer.tick(observeTasks(records, this.#waiting, (t) => this.isUp(t as ServiceTask)), now);
    const restore = tick.rollbacks.flatMap((d) => this.#restoreOps(d));
    if (tick.ops.length || restore.length) await writeAll(lead.state, [...tick.ops, ...restore]);
    for (const d of tick.rollbacks) this.#restore(d);
    this.#events(tick.events);

    const groups = this.#groups(tick.desired);
    const plan = reconcile({ groups, tasks: records, offers, now });
    this.#waiting = plan.waiting;
    const launches = plan.launches.map((l) => ({
      offerId: l.offerId,
      tasks: l.tasks.map((t, i) => {
        const record = l.records[i]!;
        const stored = this.#definition(record.group, record.version)!;
        return { record: { ...record, ports: hostPorts(t) }, info: finishTask(stored.app, stored.configVersion, t, record.hostname ?? '') };
      }),
    }));
    const launched = launches.flatMap((l) => l.tasks.map((t) => t.record));
    // Written first: a leader that dies after the launch finds the task and reconciles it.
    if (launched.length) await putTasks(lead.state, launched);
    for (const r of launched) this.#tasks.set(r.taskId, r);
    for (const l of launches) lead.framework.launch([l.offerId], l.tasks.map((t) => t.info));
    for (const k of plan.kills) {
      const t = this.#tasks.get(k.taskId);
      if (t) void this.#kill(t, k.reason);
    }
    if (plan.unused.length) lead.framework.decline(plan.unused, { refuseSeconds: REFUSE_SECONDS });
    this.#wantOffers(lead.framework, plan.waiting.length > 0 || launched.length > 0 || this.#deployer.running().length > 0);
    this.options.endpoints?.update(
      [...this.#apps.values()].map((s) => s.app),
      this.tasks().filter((t) => !this.#draining.has(t.taskId)).map((task) => ({ task, up: this.isUp(task) })),
    );
    await this.#prune(lead.state);
  }

  async #storeDirty(state: FrameworkState): Promise<void> {
    if (this.#dirty.size === 0) return;
    const records = [...this.#dirty].flatMap((id) => this.#tasks.get(id) ?? []);
    this.#dirty.clear();
    await putTasks(state, records);
  }

  /** Revives offers when something is to be placed, suppresses them when nothing is. */
  #wantOffers(framework: Framework, want: boolean): void {
    if (want === !this.#suppressed) return;
    this.#suppressed = !want;
    if (want) framework.revive();
    else framework.suppress();
  }

  /** Every running task of an app with readiness checks is checked (a task once ready is not asked again). */
  #trackReadiness(): void {
    const readiness = this.options.readiness;
    if (!readiness) return;
    readiness.track(this.tasks().flatMap((t) => {
      const app = t.state === 'TASK_RUNNING' ? this.#definition(t.group, t.version)?.app : undefined;
      return app && app.readinessChecks.length > 0 ? [readinessTarget(app, t)] : [];
    }));
  }

  /**
   * The reconciler's groups: each app in a running deployment at the counts
   * the deployment wants now, every other app at its own version and count.
   */
  #groups(desired: ReadonlyMap<string, readonly { app: string; version: string; count: number }[]>): TaskGroup[] {
    const group = (id: string, version: string, count: number): TaskGroup[] => {
      const s = this.#definition(id, version);
      const resetAt = this.#apps.get(id)?.delayResetAt;
      if (!s || count === 0) return [];
      const g = appGroup(s.app, version);
      return [{ ...g, count, constraints: this.#seen.withGroupCounts(g.constraints ?? []), ...(resetAt !== undefined ? { backoffResetAt: resetAt } : {}) }];
    };
    return [
      ...[...this.#apps.values()].filter((s) => !desired.has(s.app.id)).flatMap((s) => group(s.app.id, s.configVersion, s.app.instances)),
      ...[...desired].flatMap(([id, counts]) => counts.flatMap((c) => group(id, c.version, c.count))),
    ];
  }

  /** Kills a task, once per KILL_REPEAT_MS; a task the proxy serves is drained first. */
  async #kill(t: ServiceTask, reason: string): Promise<void> {
    const lead = this.#lead;
    const now = this.#now();
    if (!lead || this.#draining.has(t.taskId) || now - (this.#killedAt.get(t.taskId) ?? -Infinity) < KILL_REPEAT_MS) return;
    this.#killedAt.set(t.taskId, now);
    const endpoints = this.options.endpoints;
    if (endpoints && t.state === 'TASK_RUNNING') {
      this.#draining.add(t.taskId);
      try {
        await endpoints.drain(t);
      } catch (err) {
        this.#log.warn(`${t.taskId}: killed before its connections closed: ${String(err)}`);
      } finally {
        this.#draining.delete(t.taskId);
      }
    }
    this.#log.info(`killing ${t.taskId}: ${reason}`);
    this.#killedAt.set(t.taskId, this.#now());
    lead.framework.kill(t.taskId, t.agentId ?? '');
  }

  /**
   * Drops ended records of versions nobody wants any more, an instance's
   * ended attempts beyond those its backoff needs (endedAttemptsToKeep), versions beyond
   * MAX_VERSIONS per app, and every version of a removed app once no
   * deployment needs it.
   */
  async #prune(state: FrameworkState): Promise<void> {
    const inUse = this.#deployer.versionsInUse();
    const wanted = (app: string, version: string) => this.#apps.get(app)?.configVersion === version || inUse.get(app)?.has(version) === true;
    const ended = new Map<string, ServiceTask[]>();
    for (const t of this.#tasks.values()) {
      if (!hasEnded(t.state)) continue;
      const key = `${t.group}\u0000${t.version}\u0000${t.instance}`;
      ended.set(key, [...(ended.get(key) ?? []), t]);
    }
    const dropTasks: string[] = [];
    for (const list of ended.values()) {
      const gone = !wanted(list[0]!.group, list[0]!.version);
      const keep = endedAttemptsToKeep(this.#apps.get(list[0]!.group)?.app);
      list.sort((a, b) => b.attempt - a.attempt).forEach((t, i) => (gone || i >= keep) && dropTasks.push(t.taskId));
    }
    const dropVersions: StateOp[] = [];
    for (const [id, list] of this.#versions) {
      const current = this.#apps.get(id);
      const used = inUse.get(id) ?? new Set<string>();
      const keep = (s: StoredApp, i: number) =>
        used.has(s.version) || used.has(s.configVersion) || (current !== undefined && (i >= list.length - MAX_VERSIONS || s.configVersion === current.configVersion));
      const drop = list.filter((s, i) => !keep(s, i));
      if (drop.length === 0) continue;
      dropVersions.push(...deleteVersionOps(id, drop.map((s) => s.version)));
      const left = list.filter((s) => !drop.includes(s));
      if (left.length) this.#versions.set(id, left);
      else this.#versions.delete(id);
    }
    if (dropTasks.length || dropVersions.length) await writeAll(state, [...deleteTaskOps(dropTasks), ...dropVersions]);
    for (const id of dropTasks) this.#tasks.delete(id);
  }
}
