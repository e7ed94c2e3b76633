/**
 * The services scheduler: one leadership's loop. On offers, on every status
 * update and on a timer tick it asks the reconciler what to do with the
 * stored apps and task records, stores the new records, then launches,
 * kills and declines — so a task is always written down before it exists.
 * The API reads and changes apps through the same object while it leads.
 */
import { isTerminal, type Framework, type Offer__Output, type TaskStatus__Output } from '../sdk/index';
import { reconcile, type FrameworkState, type LeaderContext, type Plan } from '../foundation/index';
import { NotFoundError, UnavailableError } from '../../lib/errors';
import type { Logger } from '../../lib/log';
import type { App } from './app-schema';
import { appGroup, finishTask, hostPorts } from './app-task';
import { assignServicePorts, configChanged, deleteApp, deleteTask, loadApps, loadTasks, putApp, putTasks, type ServiceTask, type StoredApp } from './app-store';

/** A round without offers runs this often, so kills, backoffs and the queue stay current. */
const TICK_MS = 1000;
/** Offers nobody used come back after this long, so a new app does not wait for long. */
const REFUSE_SECONDS = 1;
/** A kill is repeated (it is level-triggered) at most this often per task. */
const KILL_REPEAT_MS = 5000;
/** Ended attempts kept per instance: they give the next attempt number and the backoff. */
const KEEP_ENDED = 3;

interface Leadership {
  framework: Framework;
  state: FrameworkState;
  signal: AbortSignal;
}

export class ServicesScheduler {
  #lead?: Leadership;
  #apps = new Map<string, StoredApp>();
  #tasks = new Map<string, ServiceTask>();
  #killedAt = new Map<string, number>();
  /** The latest round's waiting instances, for /v2/queue. */
  #waiting: Plan['waiting'] = [];
  /** Rounds run one at a time, so two never launch the same instance. */
  #queue: Promise<void> = Promise.resolve();

  constructor(private readonly log: Logger, private readonly now: () => number = Date.now) {}

  /** The runner's `lead`: load the state, reconcile what a previous leader launched, then run rounds until the leadership ends. */
  readonly lead = async ({ framework, state, failover, signal }: LeaderContext): Promise<void> => {
    this.#apps = await loadApps(state);
    this.#tasks = await loadTasks(state);
    this.#killedAt.clear();
    const live = [...this.#tasks.values()].filter((t) => !isTerminal(t.state));
    this.#lead = { framework, state, signal };
    signal.addEventListener('abort', () => (this.#lead = undefined));
    if (failover && live.length) {
      const { statuses } = await framework.reconcileTasks(live.map((t) => ({ taskId: t.taskId, agentId: t.agentId ?? '' })));
      for (const s of statuses.values()) this.#apply(s);
    } else if (live.length) {
      // A new framework id: the master removed the old framework, and its tasks with it.
      for (const t of live) this.#apply({ taskId: t.taskId, state: 'TASK_LOST' });
    }
    framework.on('update', (s) => {
      this.#apply(s);
      this.#round([]);
    });
    framework.on('offers', (offers) => this.#round(offers));
    const timer = setInterval(() => this.#round([]), TICK_MS);
    signal.addEventListener('abort', () => clearInterval(timer));
    this.log.info(`leading: ${this.#apps.size} apps, ${live.length} live tasks`);
  };

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

  /** Every known task of `appId` (all apps when left out), ended ones excluded. */
  tasks(appId?: string): ServiceTask[] {
    return [...this.#tasks.values()].filter((t) => !isTerminal(t.state) && (appId === undefined || t.group === appId));
  }

  waiting(): Plan['waiting'] {
    return this.#waiting;
  }

  /** Stores a new or changed app (service ports assigned, a new version), then lets the scheduler act on it. */
  async putApp(app: App): Promise<StoredApp> {
    const lead = this.#leading();
    const previous = this.#apps.get(app.id);
    const next = assignServicePorts(app, this.#apps.values(), previous?.app);
    const version = this.#newVersion(previous);
    const configVersion = previous && !configChanged(previous.app, next) ? previous.configVersion : version;
    const stored: StoredApp = { app: next, version, configVersion };
    await putApp(lead.state, stored);
    this.#apps.set(app.id, stored);
    lead.framework.revive();
    this.#round([]);
    return stored;
  }

  /** Forgets an app; the next round kills its tasks ('not desired'). */
  async deleteApp(id: string): Promise<StoredApp> {
    const lead = this.#leading();
    const stored = this.#apps.get(id);
    if (!stored) throw new NotFoundError(`App '${id}' does not exist`);
    await deleteApp(lead.state, id);
    this.#apps.delete(id);
    this.#round([]);
    return stored;
  }

  #leading(): Leadership {
    if (!this.#lead) throw new UnavailableError('this instance does not lead (yet): try again');
    return this.#lead;
  }

  /** An ISO time later than the previous version, even within one millisecond. */
  #newVersion(previous?: StoredApp): string {
    const at = Math.max(this.now(), previous ? Date.parse(previous.version) + 1 : 0);
    return new Date(at).toISOString();
  }

  /** A status update applied to the task's record (unknown tasks are ignored: they are not ours to keep). */
  #apply(s: Pick<TaskStatus__Output, 'taskId' | 'state' | 'healthy'>): void {
    const r = this.#tasks.get(s.taskId);
    if (!r) return;
    const now = this.now();
    const running = s.state === 'TASK_RUNNING';
    const next: ServiceTask = {
      ...r,
      state: s.state,
      updatedAt: r.state === s.state ? r.updatedAt : now,
      ...(running && r.startedAt === undefined ? { startedAt: now } : {}),
      ...(s.healthy !== undefined && s.healthy !== null ? { healthy: s.healthy } : {}),
    };
    this.#tasks.set(s.taskId, next);
    if (isTerminal(s.state)) this.#killedAt.delete(s.taskId);
    const lead = this.#lead;
    if (lead) void putTasks(lead.state, [next]).catch((err) => this.log.warn(`task ${s.taskId}: state not stored: ${String(err)}`));
  }

  #round(offers: Offer__Output[]): void {
    this.#queue = this.#queue.then(() => this.#runRound(offers)).catch((err) => {
      this.log.warn(`scheduling round failed: ${String(err)}`);
      this.#lead?.framework.decline(offers.map((o) => o.id), { refuseSeconds: REFUSE_SECONDS });
    });
  }

  async #runRound(offers: Offer__Output[]): Promise<void> {
    const lead = this.#lead;
    if (!lead || lead.signal.aborted) return;
    const now = this.now();
    const groups = [...this.#apps.values()].map((s) => appGroup(s.app, s.configVersion));
    const plan = reconcile({ groups, tasks: [...this.#tasks.values()], offers, now });
    this.#waiting = plan.waiting;
    const launches = plan.launches.map((l) => ({
      offerId: l.offerId,
      tasks: l.tasks.map((t, i) => {
        const record = l.records[i]!;
        const stored = this.#apps.get(record.group)!;
        return { record: { ...record, ports: hostPorts(t) }, info: finishTask(stored.app, stored.configVersion, t, record.hostname ?? '') };
      }),
    }));
    const records = launches.flatMap((l) => l.tasks.map((t) => t.record));
    // Written first: a leader that dies after the launch finds the task and reconciles it.
    if (records.length) await putTasks(lead.state, records);
    for (const r of records) this.#tasks.set(r.taskId, r);
    for (const l of launches) lead.framework.launch([l.offerId], l.tasks.map((t) => t.info));
    for (const k of plan.kills) {
      if (now - (this.#killedAt.get(k.taskId) ?? -Infinity) < KILL_REPEAT_MS) continue;
      this.#killedAt.set(k.taskId, now);
      this.log.info(`killing ${k.taskId}: ${k.reason}`);
      lead.framework.kill(k.taskId, k.agentId ?? '');
    }
    if (plan.unused.length) lead.framework.decline(plan.unused, { refuseSeconds: REFUSE_SECONDS });
    await this.#prune(lead.state);
  }

  /** Drops ended records of apps that are gone, and all but the latest KEEP_ENDED ended attempts of an instance. */
  async #prune(state: FrameworkState): Promise<void> {
    const ended = new Map<string, ServiceTask[]>();
    for (const t of this.#tasks.values()) {
      if (!isTerminal(t.state)) continue;
      const key = `${t.group}\u0000${t.version}\u0000${t.instance}`;
      ended.set(key, [...(ended.get(key) ?? []), t]);
    }
    const drop: string[] = [];
    for (const list of ended.values()) {
      const app = this.#apps.get(list[0]!.group);
      const gone = !app || app.configVersion !== list[0]!.version;
      list.sort((a, b) => b.attempt - a.attempt).forEach((t, i) => (gone || i >= KEEP_ENDED) && drop.push(t.taskId));
    }
    for (const id of drop) {
      await deleteTask(state, id);
      this.#tasks.delete(id);
    }
  }
}

