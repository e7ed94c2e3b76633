/**
 * Planning: the apps as they are and as they should be in, a deployment of
 * steps out, in Marathon's shape. Removed apps stop first; then the apps to
 * start, scale or restart, a step per level of `dependencies`, so that an app
 * starts only after everything it depends on is done (healthy). A dependency
 * cycle is refused, named; an app already in a running deployment is a
 * conflict (409) unless `force`, which supersedes that deployment.
 */
import { findCycle } from '../../foundation/index';
import type { Action, ActionKind, DeployedApp, Deployment, Step } from './types';

export interface PlanOptions {
  /** The new deployment's id (the caller draws it: this code has no randomness). */
  id: string;
  /** Clock, ms since the epoch. */
  now: number;
  /** Supersede running deployments that touch the same apps instead of refusing. */
  force?: boolean;
  /** This request's deadline for no progress, overriding each app's and the default. */
  deadlineSeconds?: number;
  /** Ids of apps to stop and remove. */
  remove?: readonly string[];
  /** Deployments in progress, to find conflicts. */
  running?: readonly Deployment[];
  /** Set when planning a rollback (see `advance` and `cancelDeployment`). */
  rollbackOf?: string;
}

/**
 * `planned`: store the deployment; `superseded` (with `force` only) are the
 * running deployments it replaces — cancel each in place (`cancelDeployment`
 * with `force`). `conflict`: answer 409 with `message` and `deployments`.
 * `invalid`: answer 422 with `message`.
 */
export type PlanResult =
  | { kind: 'planned'; deployment: Deployment; superseded: string[] }
  | { kind: 'conflict'; message: string; deployments: { id: string }[] }
  | { kind: 'invalid'; message: string };

/**
 * Plans a deployment from `current` (every app as it runs now, at its last
 * good version) to `target` (the apps to create or change; apps not named
 * are left alone) and `options.remove`. An app whose version and instances
 * are unchanged is not affected. Never throws for bad input: a cycle, an
 * unknown app to remove, or an app both changed and removed is `invalid`.
 */
export function planDeployment(current: readonly DeployedApp[], target: readonly DeployedApp[], options: PlanOptions): PlanResult {
  const now = new Map(current.map((a) => [a.id, a]));
  const remove = options.remove ?? [];
  const bad = badInput(now, target, remove);
  if (bad) return { kind: 'invalid', message: bad };

  const world = new Map(now);
  for (const id of remove) world.delete(id);
  for (const a of target) world.set(a.id, a);
  const kinds = new Map<string, ActionKind>();
  for (const a of target) {
    const kind = actionOf(now.get(a.id), a);
    if (kind) kinds.set(a.id, kind);
  }
  for (const id of remove) kinds.set(id, 'StopApplication');

  const cycle = findCycle((id) => (world.has(id) ? (world.get(id)!.dependencies ?? []) : undefined), [...kinds.keys()]);
  if (cycle) return { kind: 'invalid', message: `dependency cycle: ${cycle.join(' → ')}` };

  const affected = [...kinds.keys()].sort();
  const clashing = (options.running ?? []).filter((d) => isActive(d) && d.affectedApps.some((id) => kinds.has(id)));
  if (clashing.length > 0 && !options.force) {
    return {
      kind: 'conflict',
      message: `App is locked by one or more deployments. Override with the option '?force=true'. View details at '/v2/deployments/${clashing.map((d) => d.id).join(', ')}'.`,
      deployments: clashing.map((d) => ({ id: d.id })),
    };
  }

  // The last good version of an app in a superseded deployment is that deployment's, not the half-done one.
  const original: Record<string, DeployedApp | null> = {};
  const wanted: Record<string, DeployedApp | null> = {};
  for (const id of affected) {
    const before = clashing.find((d) => id in d.original);
    original[id] = before ? (before.original[id] ?? null) : (now.get(id) ?? null);
    wanted[id] = world.get(id) ?? null;
  }
  const steps = stepsOf(kinds, world);
  const deployment: Deployment = {
    id: options.id,
    version: new Date(options.now).toISOString(),
    affectedApps: affected,
    steps,
    currentStep: 0,
    original,
    target: wanted,
    ...(options.deadlineSeconds !== undefined ? { deadlineSeconds: options.deadlineSeconds } : {}),
    ...(options.rollbackOf !== undefined ? { rollbackOf: options.rollbackOf } : {}),
    current: [],
    status: options.rollbackOf !== undefined ? { state: 'rolling back' } : { state: 'running' },
  };
  return { kind: 'planned', deployment, superseded: clashing.map((d) => d.id) };
}

/** Whether a deployment still runs (and so holds its apps). */
export function isActive(d: Deployment): boolean {
  return d.status.state === 'running' || d.status.state === 'rolling back';
}

function badInput(now: ReadonlyMap<string, DeployedApp>, target: readonly DeployedApp[], remove: readonly string[]): string | undefined {
  const seen = new Set<string>();
  for (const [i, a] of target.entries()) {
    if (seen.has(a.id)) return `target/${i}: app ${a.id} given twice`;
    if (!Number.isSafeInteger(a.instances) || a.instances < 0) return `target/${i}/instances: must be a whole number ≥ 0; got ${a.instances}`;
    seen.add(a.id);
  }
  for (const [i, id] of remove.entries()) {
    if (!now.has(id)) return `remove/${i}: app ${id} does not exist`;
    if (seen.has(id)) return `remove/${i}: app ${id} is both changed and removed`;
  }
  return undefined;
}

/** Marathon's action for one app: new → start; new version → rolling restart; new count → scale; else none. */
function actionOf(before: DeployedApp | undefined, after: DeployedApp): ActionKind | undefined {
  if (!before) return 'StartApplication';
  if (before.version !== after.version) return 'RestartApplication';
  if (before.instances !== after.instances) return 'ScaleApplication';
  return undefined;
}

/**
 * Stops first, in one step; then one step per dependency level: an app's
 * level is one more than the highest level among the affected apps it
 * depends on (apps not in this deployment are already running: level 0).
 */
function stepsOf(kinds: ReadonlyMap<string, ActionKind>, world: ReadonlyMap<string, DeployedApp>): Step[] {
  const steps: Step[] = [];
  const stops = [...kinds].filter(([, k]) => k === 'StopApplication').map(([app]) => app).sort();
  if (stops.length > 0) steps.push({ actions: stops.map((app) => ({ action: 'StopApplication', app })) });
  const level = new Map<string, number>();
  const levelOf = (id: string): number => {
    const known = level.get(id);
    if (known !== undefined) return known;
    const deps = (world.get(id)?.dependencies ?? []).filter((d) => kinds.has(d) && kinds.get(d) !== 'StopApplication');
    const l = 1 + Math.max(0, ...deps.map(levelOf));
    level.set(id, l);
    return l;
  };
  const byLevel = new Map<number, Action[]>();
  for (const [app, action] of [...kinds].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (action === 'StopApplication') continue;
    const l = levelOf(app);
    byLevel.set(l, [...(byLevel.get(l) ?? []), { action, app }]);
  }
  for (const l of [...byLevel.keys()].sort((a, b) => a - b)) steps.push({ actions: byLevel.get(l) ?? [] });
  return steps;
}
