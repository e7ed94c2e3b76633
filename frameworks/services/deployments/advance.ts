/**
 * One tick of a deployment: the stored deployment, what is observed and the
 * clock in; the next deployment, the counts per app and version the
 * reconciler should aim for, the status and the events out. A step is done
 * when each of its actions is; a dependent's step starts only then, in the
 * same tick. An action whose progress score has not grown for its deadline
 * fails the deployment, which then rolls back by itself (see `rollbackOf`).
 */
import { isActive, planDeployment } from './plan';
import { cannotProceed, isDone, progressScore, rollingCounts, type AppView } from './rolling';
import {
  DEFAULT_DEADLINE_SECONDS,
  type ActionProgress,
  type DeployedApp,
  type Deployment,
  type DeploymentEvent,
  type DeploymentStatus,
  type DesiredCount,
  type Observed,
} from './types';

export interface AdvanceResult {
  /** Store this in place of the one given. */
  deployment: Deployment;
  /**
   * For every affected app, the groups the reconciler should be asked for
   * now. Versions of an affected app not listed are to be killed (as the
   * reconciler does with versions nobody asks for).
   */
  desired: DesiredCount[];
  status: DeploymentStatus;
  events: DeploymentEvent[];
  /** When this tick failed the deployment: the rollback, already advanced one tick (its `desired` is the one above). Store it too. */
  rollback?: Deployment;
}

/**
 * Advances `deployment` to `now` given `observed`. Pure and idempotent for an
 * unchanged world: a second call with the same inputs on its result changes
 * nothing and sends no event. A finished deployment (succeeded, failed,
 * cancelled) is returned as it is, with its target as `desired`.
 */
export function advance(deployment: Deployment, observed: Observed, now: number): AdvanceResult {
  if (!isActive(deployment)) return { deployment, desired: settled(deployment), status: deployment.status, events: [] };
  const events: DeploymentEvent[] = [];
  const event = (eventType: DeploymentEvent['eventType'], message: string, app?: string): void => {
    events.push({ eventType, deploymentId: deployment.id, timestamp: now, message, ...(app ? { app } : {}) });
  };
  let d = deployment;
  if (d.currentStep === 0) {
    event('deployment_info', `deployment of ${d.affectedApps.join(', ') || 'nothing'} started, ${d.steps.length} step(s)`);
    d = enterStep(d, 1, now);
  }
  // Each finished step lets the next start in the same tick: a dependent starts as soon as what it depends on is done.
  while (d.currentStep <= d.steps.length && d.current.every((p) => isDone(d.target[p.app] ?? null, viewOf(d, p.app, observed)))) {
    event('deployment_step_success', `step ${d.currentStep} of ${d.steps.length} done`);
    d = enterStep(d, d.currentStep + 1, now);
  }
  if (d.currentStep > d.steps.length) {
    event('deployment_success', `deployment of ${d.affectedApps.join(', ') || 'nothing'} succeeded`);
    d = { ...d, status: { state: 'succeeded' } };
    return { deployment: d, desired: settled(d), status: d.status, events };
  }

  const current = d.current.map((p) => track(d, p, viewOf(d, p.app, observed), now));
  const blocked = current.flatMap((p) => (p.blocked ? [p.blocked] : []));
  for (const p of current) if (p.blocked && p.blocked !== d.current.find((q) => q.app === p.app)?.blocked) event('deployment_blocked', p.blocked, p.app);
  const state = d.status.state === 'rolling back' ? 'rolling back' : 'running';
  d = { ...d, current, status: { state, ...(blocked.length ? { blocked } : {}) } };

  const late = current.find((p) => now - p.progressAt >= deadlineOf(d, p.app) * 1000);
  if (late) return fail(d, late, viewOf(d, late.app, observed), observed, now, events);
  return { deployment: d, desired: desiredOf(d, observed), status: d.status, events };
}

/** Starts step `n` (1-based): its actions' clocks start now. */
function enterStep(d: Deployment, n: number, now: number): Deployment {
  const actions = d.steps[n - 1]?.actions ?? [];
  return { ...d, currentStep: n, current: actions.map((a) => ({ app: a.app, startedAt: now, progressAt: now })) };
}

/** An action's progress and "cannot proceed" this tick. The score is kept as its best so far; a new best resets the deadline. */
function track(d: Deployment, p: ActionProgress, view: AppView, now: number): ActionProgress {
  const target = d.target[p.app] ?? null;
  const score = progressScore(target, view);
  const better = p.progress === undefined || score > p.progress;
  // The first observation sets the baseline; only growth after it counts as progress.
  const progressAt = better && p.progress !== undefined ? now : p.progressAt;
  const blocked = target ? cannotProceed(target, view) : undefined;
  return { app: p.app, startedAt: p.startedAt, progress: better ? score : p.progress, progressAt, ...(blocked ? { blocked } : {}) };
}

/** The request's deadline, else the app's (target, then original), else 10 minutes. */
function deadlineOf(d: Deployment, app: string): number {
  return d.deadlineSeconds ?? d.target[app]?.deadlineSeconds ?? d.original[app]?.deadlineSeconds ?? DEFAULT_DEADLINE_SECONDS;
}

/** The target version's counts, and the alive of every other version. */
function viewOf(d: Deployment, app: string, observed: Observed): AppView {
  const version = d.target[app]?.version;
  const seen = observed[app] ?? {};
  let oldAlive = 0;
  for (const [v, o] of Object.entries(seen)) if (v !== version) oldAlive += o.alive;
  const target = version !== undefined ? (seen[version] ?? { alive: 0, healthy: 0 }) : { alive: 0, healthy: 0 };
  return { target, oldAlive };
}

/**
 * Per affected app: before its step, the original at its count; in its
 * step, the rolling counts; after it, the target. Old instances are kept
 * original version first, then the other old versions by most alive.
 */
function desiredOf(d: Deployment, observed: Observed): DesiredCount[] {
  const out: DesiredCount[] = [];
  for (const app of d.affectedApps) {
    const step = d.steps.findIndex((s) => s.actions.some((a) => a.app === app)) + 1;
    const target = d.target[app];
    const original = d.original[app];
    if (step > d.currentStep) {
      if (original) out.push({ app, version: original.version, count: original.instances });
      continue;
    }
    if (step < d.currentStep) {
      if (target) out.push({ app, version: target.version, count: target.instances });
      continue;
    }
    const view = viewOf(d, app, observed);
    const { newCount, oldCount } = target ? rollingCounts(target, view) : { newCount: 0, oldCount: 0 };
    if (target) out.push({ app, version: target.version, count: newCount });
    out.push(...shareOld(app, target?.version, original?.version, observed[app] ?? {}, oldCount));
  }
  return out;
}

function shareOld(app: string, targetVersion: string | undefined, originalVersion: string | undefined, seen: Observed[string], total: number): DesiredCount[] {
  const old = Object.entries(seen)
    .filter(([v]) => v !== targetVersion)
    .sort(([va, a], [vb, b]) => Number(vb === originalVersion) - Number(va === originalVersion) || b.alive - a.alive || (va < vb ? -1 : 1));
  let left = total;
  return old.map(([version, o]) => {
    const count = Math.min(o.alive, left);
    left -= count;
    return { app, version, count };
  });
}

/** What a finished deployment leaves: each app at its target. */
export function settled(d: Deployment): DesiredCount[] {
  return d.affectedApps.flatMap((app) => {
    const t = d.target[app];
    return t ? [{ app, version: t.version, count: t.instances }] : [];
  });
}

function fail(d: Deployment, late: ActionProgress, view: AppView, observed: Observed, now: number, events: DeploymentEvent[]): AdvanceResult {
  const target = d.target[late.app];
  const seconds = deadlineOf(d, late.app);
  const state = target
    ? `${Math.min(view.target.healthy, target.instances)} of ${target.instances} instance(s) of version ${target.version} healthy, ${view.oldAlive} old alive`
    : `${view.oldAlive + view.target.alive} instance(s) still alive`;
  const reason = `${late.app}: no progress within ${seconds} s (${state})${late.blocked ? `; ${late.blocked}` : ''}`;
  const failed: Deployment = { ...d, status: { state: 'failed', reason } };
  const at = (eventType: DeploymentEvent['eventType'], message: string): DeploymentEvent => ({ eventType, deploymentId: d.id, timestamp: now, app: late.app, message });
  events.push(at('deployment_step_failure', reason), at('deployment_failed', reason));
  if (d.rollbackOf !== undefined) return { deployment: failed, desired: settled(failed), status: failed.status, events };

  const rollback = rollbackOf(failed, now);
  events.push(at('deployment_rollback', `rolling back ${d.affectedApps.join(', ')} to the last good version as ${rollback.id}`));
  const next = advance(rollback, observed, now);
  return { deployment: failed, desired: next.desired, status: failed.status, events: [...events, ...next.events], rollback: next.deployment };
}

/**
 * The deployment that takes `d`'s apps back to their originals, under the
 * same rules: apps `d` created are removed, apps it removed start again.
 * Its id is `d.id` + `-rollback`, so that planning it twice gives one id.
 */
export function rollbackOf(d: Deployment, now: number): Deployment {
  const current = Object.values(d.target).filter((a): a is DeployedApp => a !== null);
  const back = Object.values(d.original).filter((a): a is DeployedApp => a !== null);
  const remove = d.affectedApps.filter((id) => d.original[id] === null && d.target[id] !== null);
  const planned = planDeployment(current, back, {
    id: `${d.id}-rollback`,
    now,
    remove,
    rollbackOf: d.id,
    ...(d.deadlineSeconds !== undefined ? { deadlineSeconds: d.deadlineSeconds } : {}),
  });
  // The originals were a valid world (they ran); planning them back cannot be refused.
  if (planned.kind !== 'planned') throw new Error(`rollback of ${d.id} could not be planned: ${planned.kind === 'invalid' ? planned.message : 'conflict'}`);
  return planned.deployment;
}
