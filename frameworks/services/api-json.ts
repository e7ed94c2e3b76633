/**
 * The services API's response bodies in Marathon's JSON shapes: apps with
 * their task counts and deployments, tasks, queue entries, deployments.
 */
import type { ServiceTask, StoredApp } from './app-store';
import type { ServicesScheduler } from './scheduler';
import { hasEnded } from '../foundation/index';

/** An app as GET shows it: the definition, its version info, its task counts and the deployment holding it. */
export function appJson(scheduler: ServicesScheduler, s: StoredApp, embedTasks = false, tasks = scheduler.tasks(s.app.id)) {
  return { ...appHead(s), ...appStatus(scheduler, s, tasks), ...(embedTasks ? { tasks: tasks.map(taskJson) } : {}) };
}

function appHead(s: StoredApp) {
  return { ...s.app, version: s.version, versionInfo: { lastScalingAt: s.version, lastConfigChangeAt: s.configVersion } };
}

function appStatus(scheduler: ServicesScheduler, s: StoredApp, tasks: readonly ServiceTask[]) {
  const holding = scheduler.deploymentOf(s.app.id);
  return { ...taskCounts(scheduler, tasks), deployments: holding ? [{ id: holding.id }] : [] };
}

/** Each stored app's definition as JSON text, left open for its status: a StoredApp is replaced on every change, so this never goes stale. */
const heads = new WeakMap<StoredApp, string>();

/**
 * `GET /v2/apps` as JSON text: every task grouped by app in one pass, and
 * each app's definition serialized once per version, only its counts and
 * deployment fresh — with 1,000 apps the list is built in milliseconds.
 */
export function appListJson(scheduler: ServicesScheduler, apps: readonly StoredApp[]): string {
  const byApp = new Map<string, ServiceTask[]>();
  for (const t of scheduler.tasks()) (byApp.get(t.group) ?? byApp.set(t.group, []).get(t.group)!).push(t);
  const rows = apps.map((s) => {
    let head = heads.get(s);
    if (head === undefined) heads.set(s, (head = JSON.stringify(appHead(s)).slice(0, -1)));
    return `${head},${JSON.stringify(appStatus(scheduler, s, byApp.get(s.app.id) ?? [])).slice(1)}`;
  });
  return `{"apps":[${rows.join(',')}]}`;
}

function taskCounts(scheduler: ServicesScheduler, tasks: readonly ServiceTask[]) {
  const staged = tasks.filter((t) => t.state === 'TASK_STAGING' || t.state === 'TASK_STARTING').length;
  const running = tasks.filter((t) => t.state === 'TASK_RUNNING');
  return {
    tasksStaged: staged,
    tasksRunning: running.length,
    tasksHealthy: running.filter((t) => t.healthy === true).length,
    tasksUnhealthy: running.filter((t) => t.healthy === false).length,
    /** Mezzanine's: running, healthy and ready — what deployments and the service proxy count. */
    tasksUp: running.filter((t) => scheduler.isUp(t)).length,
  };
}

/** A task as Marathon shows it. */
export function taskJson(t: ServiceTask) {
  return {
    id: t.taskId,
    appId: t.group,
    host: t.hostname ?? '',
    ports: t.ports ?? [],
    slaveId: t.agentId ?? '',
    state: t.state,
    stagedAt: new Date(t.launchedAt).toISOString(),
    ...(t.startedAt !== undefined ? { startedAt: new Date(t.startedAt).toISOString() } : {}),
    version: t.version,
    ...(t.healthy !== undefined && !hasEnded(t.state) ? { healthCheckResults: [{ taskId: t.taskId, alive: t.healthy }] } : {}),
    ...(t.checkResult && !hasEnded(t.state) ? { checkResult: t.checkResult } : {}),
  };
}

/** Per app with instances waiting: Marathon's queue entry, plus every refusal counted over its waiting instances. */
export function queueJson(scheduler: ServicesScheduler, now: number) {
  const byApp = new Map<string, { count: number; reasons: Record<string, number>; backoffUntil: number }>();
  for (const w of scheduler.waiting()) {
    const e = byApp.get(w.group) ?? byApp.set(w.group, { count: 0, reasons: {}, backoffUntil: 0 }).get(w.group)!;
    e.count++;
    for (const [r, n] of Object.entries(w.reasons)) e.reasons[r] = (e.reasons[r] ?? 0) + n;
    e.backoffUntil = Math.max(e.backoffUntil, w.backoffUntil ?? 0);
  }
  return [...byApp].flatMap(([id, e]) => {
    const stored = scheduler.app(id);
    if (!stored) return [];
    const left = Math.max(0, Math.ceil((e.backoffUntil - now) / 1000));
    return [{
      app: { ...stored.app, version: stored.version },
      count: e.count,
      delay: { timeLeftSeconds: left, overdue: left === 0 },
      reasons: e.reasons,
    }];
  });
}
