/**
 * What `mezz app deploy|restart|rollback|scale` and `mezz deployments` show
 * of the services framework's deployments: the progress line of a rollout,
 * the deployments table, how a deployment ended, the refusal of a locked
 * app, the version a rollback returns to. Pure, so every text is
 * unit-tested with literal API answers.
 */
import { formatTable, truncate } from './table';

/** Where a deployment stands (mezz-services' `status`). */
export type DeploymentStatus =
  | { state: 'running' | 'rolling back'; blocked?: string[] }
  | { state: 'succeeded' }
  | { state: 'failed'; reason: string }
  | { state: 'cancelled' };

/** `GET /v2/deployments[/{id}]`: Marathon's shape plus `status` and `rollbackOf`. */
export interface DeploymentJson {
  id: string;
  version: string;
  affectedApps: string[];
  currentActions: { action: string; app: string }[];
  currentStep: number;
  totalSteps: number;
  status: DeploymentStatus;
  rollbackOf?: string;
}

/** The parts of `GET /v2/apps/{id}` a rollout reads. */
export interface AppTasksJson {
  id: string;
  instances: number;
  healthChecks?: unknown[];
  /** `lastConfigChangeAt` is the version the app's tasks are moving to (the task's `version`). */
  versionInfo?: { lastConfigChangeAt?: string };
  tasks?: { state: string; version?: string; healthCheckResults?: { alive: boolean }[] }[];
}

/** One app's instances during a rollout: `old` alive at other versions, `new` alive at the target, `healthy` of the new. */
export type AppRollout =
  | { app: string; old: number; new: number; healthy: number; instances: number }
  | { app: string; gone: true };

/** Counts an app's tasks by the version it is moving to; healthy = running and passing every health check it has. */
export function rolloutOf(app: AppTasksJson): AppRollout {
  const target = app.versionInfo?.lastConfigChangeAt;
  const tasks = app.tasks ?? [];
  const fresh = tasks.filter((t) => t.version === target);
  const checked = (app.healthChecks?.length ?? 0) > 0;
  const healthy = fresh.filter((t) => t.state === 'TASK_RUNNING' && (!checked || (t.healthCheckResults?.length && t.healthCheckResults.every((h) => h.alive))));
  return { app: app.id, old: tasks.length - fresh.length, new: fresh.length, healthy: healthy.length, instances: app.instances };
}

function rolloutText(r: AppRollout): string {
  if ('gone' in r) return `${r.app} removed`;
  return `${r.app} ${r.old} old, ${r.new}/${r.instances} new, ${r.healthy} healthy`;
}

const ACTIVE = new Set(['running', 'rolling back']);

/** Whether a deployment has ended (succeeded, failed or cancelled). */
export function isFinished(d: DeploymentJson): boolean {
  return !ACTIVE.has(d.status.state);
}

/** The apps worth counting now: the current step's, else all the deployment affects; `max` at most. */
export function watchedApps(d: DeploymentJson, max = 3): string[] {
  const current = [...new Set(d.currentActions.map((a) => a.app))];
  return (current.length ? current : d.affectedApps).slice(0, max);
}

/**
 * `step 1/2 running: /web 2 old, 1/3 new, 1 healthy — blocked: cannot proceed: …`,
 * one line; without `apps` just `step 1/2 failed` (a deployment that failed
 * or was cancelled: its apps are already going back, so their counts would
 * tell of the rollback, not of it).
 */
export function progressLine(d: DeploymentJson, apps: readonly AppRollout[]): string {
  const more = apps.length ? watchedApps(d, Infinity).length - apps.length : 0;
  const counts = [...apps.map(rolloutText), ...(more > 0 ? [`+${more} more app(s)`] : [])].join('; ');
  const blocked = 'blocked' in d.status && d.status.blocked?.length ? ` — blocked: ${d.status.blocked.join('; ')}` : '';
  return `step ${d.currentStep}/${d.totalSteps} ${d.status.state}${counts ? `: ${counts}` : ''}${blocked}`;
}

/** Whether the apps' counts belong on a deployment's line: not once it failed or was cancelled (see `progressLine`). */
export function countsShown(d: DeploymentJson): boolean {
  return !isFinished(d) || d.status.state === 'succeeded';
}

export const DEPLOYMENT_HEADERS = ['ID', 'APPS', 'STEP', 'STATE', 'WHY'];

/** `mezz deployments`: id, apps, step N/M, state, and what blocks it, why it failed or what it rolls back. */
export function deploymentRow(d: DeploymentJson): string[] {
  return [d.id, d.affectedApps.join(',') || '-', `${d.currentStep}/${d.totalSteps}`, d.status.state, truncate(why(d), 100) || '-'];
}

function why(d: DeploymentJson): string {
  const s = d.status;
  const parts = [
    ...(d.rollbackOf ? [`rolls back ${d.rollbackOf}`] : []),
    ...('blocked' in s && s.blocked ? s.blocked : []),
    ...(s.state === 'failed' ? [s.reason] : []),
  ];
  return parts.join('; ');
}

export function deploymentsText(list: readonly DeploymentJson[]): string {
  return list.length ? formatTable(DEPLOYMENT_HEADERS, list.map(deploymentRow)) : 'no deployment is running';
}

/** How a followed deployment ended, and its rollback (`<id>-rollback`) when there was one. */
export interface Ending {
  deployment: DeploymentJson;
  rollback?: DeploymentJson;
}

/** Success, or the one line that says what failed, why, and what became of the rollback. */
export function outcome(e: Ending): { ok: boolean; message: string } {
  const d = e.deployment;
  const s = d.status;
  if (s.state === 'succeeded') return { ok: true, message: `deployment ${d.id} succeeded` };
  const what = s.state === 'failed' ? `deployment ${d.id} failed: ${s.reason}` : `deployment ${d.id} was ${s.state}`;
  const r = e.rollback;
  if (!r) {
    const none = d.rollbackOf ? '' : s.state === 'cancelled' ? ' in place (forced, or superseded by a forced change): no rollback' : '; no rollback was started';
    return { ok: false, message: `${what}${none}` };
  }
  const rs = r.status;
  if (rs.state === 'succeeded') return { ok: false, message: `${what}; rolled back to the previous version (${r.id} succeeded)` };
  if (rs.state === 'failed') return { ok: false, message: `${what}; its rollback ${r.id} failed too: ${rs.reason}` };
  return { ok: false, message: `${what}; its rollback ${r.id} was ${rs.state}` };
}

/** What to say when `--wait` ran out: the deployment carries on, and how to watch or cancel it. */
export function stillRunning(d: DeploymentJson, waited: string): string {
  return `deployment ${d.id} is still ${d.status.state} after ${waited} (step ${d.currentStep}/${d.totalSteps}); it keeps running: `
    + `watch it with 'mezz deployments watch ${d.id}', cancel it with 'mezz deployments rm ${d.id}'`;
}

/** A 409: `app /web is locked by deployment D; use --force` (which supersedes D). */
export function lockedMessage(app: string, deployments: readonly { id: string }[] | undefined): string {
  const ids = (deployments ?? []).map((x) => x.id);
  const by = ids.length ? `deployment${ids.length > 1 ? 's' : ''} ${ids.join(', ')}` : 'a running deployment';
  return `app ${app} is locked by ${by}; use --force to supersede it, or wait for it ('mezz deployments')`;
}

/** `GET /v2/apps/{id}/versions/{v}` without `version`: the definition, to compare two versions. */
export function definitionOf(v: Record<string, unknown>): string {
  const { version: _v, versionInfo: _i, ...rest } = v;
  return JSON.stringify(rest);
}

export const VERSION_HEADERS = ['VERSION', 'CURRENT', 'INSTANCES', 'COMMAND'];

/** A stored version of an app, as `mezz app versions` shows it. */
export interface VersionView {
  version: string;
  current: boolean;
  instances: number;
  cmd: string;
}

export function versionView(v: { version: string; instances?: number; cmd?: string; args?: string[] }, current: string): VersionView {
  return { version: v.version, current: v.version === current, instances: v.instances ?? 0, cmd: v.cmd ?? (v.args ?? []).join(' ') };
}

export function versionsText(list: readonly VersionView[]): string {
  return formatTable(VERSION_HEADERS, list.map((v) => [v.version, v.current ? '*' : '', String(v.instances), truncate(v.cmd, 60)]));
}

/** The versions older than `current` (the list is newest first), nearest first: candidates for a rollback. */
export function olderThan(versions: readonly string[], current: string): string[] {
  const i = versions.indexOf(current);
  return i < 0 ? versions.filter((v) => v < current) : versions.slice(i + 1);
}

/** `?force=true&deadlineSeconds=N` (whole seconds, rounded up) and `extra`, as a change's flags say; '' when nothing. */
export function changeQuery(o: { force?: boolean; deadline?: number }, extra: Record<string, string> = {}): string {
  const q = new URLSearchParams(extra);
  if (o.force) q.set('force', 'true');
  if (o.deadline !== undefined) q.set('deadlineSeconds', String(Math.max(1, Math.ceil(o.deadline))));
  const text = q.toString();
  return text ? `?${text}` : '';
}
