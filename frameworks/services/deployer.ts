/**
 * The deployments a leader drives: the pure logic of `deployments/` held in
 * memory beside what is stored. Planning answers with the state writes to
 * make (the caller stores them before acting); each tick advances every
 * running deployment and answers with the counts per app and version the
 * reconciler should aim for, the events, and the writes. No I/O here.
 */
import type { StateOp } from '../foundation/index';
import { deleteDeploymentOps, putDeploymentOps, type StoredApp } from './app-store';
import {
  advance,
  cancelDeployment,
  isActive,
  planDeployment,
  type DeployedApp,
  type Deployment,
  type DeploymentEvent,
  type DesiredCount,
  type Observed,
} from './deployments/index';

/** Finished deployments kept for `GET /v2/deployments/{id}` (how did my deployment end?); the oldest go first. */
export const KEEP_FINISHED = 50;

/** A label giving the app's own deadline for a deployment without progress, in seconds (Marathon has no field for it). */
export const DEADLINE_LABEL = 'MEZZ_DEPLOYMENT_DEADLINE_SECONDS';

/** What a deployment needs of a stored app: its task version (`configVersion`), and its `version` to restore it by. */
export function deployedApp(s: StoredApp): DeployedApp {
  const deadline = Number(s.app.labels[DEADLINE_LABEL]);
  return {
    id: s.app.id,
    instances: s.app.instances,
    upgradeStrategy: s.app.upgradeStrategy,
    dependencies: s.app.dependencies,
    version: s.configVersion,
    definition: s.version,
    ...(Number.isFinite(deadline) && deadline > 0 ? { deadlineSeconds: deadline } : {}),
  };
}

export interface DeployOptions {
  force?: boolean;
  deadlineSeconds?: number;
}

export type DeployPlan =
  | { kind: 'planned'; deployment: Deployment; ops: StateOp[]; events: DeploymentEvent[] }
  | { kind: 'conflict'; message: string; deployments: { id: string }[] }
  | { kind: 'invalid'; message: string };

export interface Tick {
  /** Per app in a running deployment: the groups to ask for (versions not listed are killed). */
  desired: Map<string, DesiredCount[]>;
  events: DeploymentEvent[];
  /** Deployments that changed this tick: store them. */
  ops: StateOp[];
  /** Rollbacks started this tick: the caller restores their apps' definitions (`target[app].definition`). */
  rollbacks: Deployment[];
}

export class Deployer {
  #all = new Map<string, Deployment>();

  constructor(private readonly newId: () => string) {}

  load(deployments: ReadonlyMap<string, Deployment>): void {
    this.#all = new Map(deployments);
  }

  /** The running deployments, oldest first (what `GET /v2/deployments` lists). */
  running(): Deployment[] {
    return [...this.#all.values()].filter(isActive).sort((a, b) => (a.version < b.version ? -1 : 1));
  }

  get(id: string): Deployment | undefined {
    return this.#all.get(id);
  }

  /** The running deployment that holds `app`, if any. */
  holding(app: string): Deployment | undefined {
    return this.running().find((d) => d.affectedApps.includes(app));
  }

  /** Versions that running deployments still need, per app: the task versions and the definitions of their originals and targets. */
  versionsInUse(): Map<string, Set<string>> {
    const out = new Map<string, Set<string>>();
    for (const d of this.running()) {
      for (const a of [...Object.values(d.original), ...Object.values(d.target)]) {
        if (!a) continue;
        const used = out.get(a.id) ?? out.set(a.id, new Set()).get(a.id)!;
        used.add(a.version);
        if (a.definition !== undefined) used.add(a.definition);
      }
    }
    return out;
  }

  /**
   * Plans the move from `current` to `target` (and `remove`). Nothing
   * changes here until `commit` is called with the answer, after its ops
   * are stored.
   */
  plan(current: readonly DeployedApp[], target: readonly DeployedApp[], remove: readonly string[], now: number, options: DeployOptions = {}): DeployPlan {
    const planned = planDeployment(current, target, {
      id: this.newId(),
      now,
      remove,
      running: this.running(),
      ...(options.force ? { force: true } : {}),
      ...(options.deadlineSeconds !== undefined ? { deadlineSeconds: options.deadlineSeconds } : {}),
    });
    if (planned.kind !== 'planned') return planned;
    const superseded: Deployment[] = [];
    const events: DeploymentEvent[] = [];
    for (const id of planned.superseded) {
      const r = cancelDeployment(this.#all.get(id)!, { force: true, now });
      if (r.kind === 'not running') continue;
      superseded.push(r.cancelled);
      events.push(...r.events.map((e) => ({ ...e, message: `${e.message}: superseded by ${planned.deployment.id}` })));
    }
    return { kind: 'planned', deployment: planned.deployment, ops: putDeploymentOps([planned.deployment, ...superseded]), events };
  }

  /** Takes a stored plan (its ops written) as running. */
  commit(plan: Extract<DeployPlan, { kind: 'planned' }>): void {
    for (const op of plan.ops) if (op.op === 'put') this.#remember(op.value as Deployment);
  }

  /**
   * DELETE /v2/deployments/{id}: a rollback (200) or, with `force`, a cancel
   * in place (202). Answers the ops to store, then `commitCancel`.
   */
  cancel(id: string, force: boolean, now: number) {
    const d = this.#all.get(id);
    if (!d) return { kind: 'not running' as const, message: `DeploymentPlan ${id} does not exist` };
    const r = cancelDeployment(d, { force, now });
    if (r.kind === 'not running') return r;
    const stored = r.kind === 'rolled back' ? [r.cancelled, r.rollback] : [r.cancelled];
    return { ...r, ops: putDeploymentOps(stored) };
  }

  commitCancel(deployments: readonly Deployment[]): void {
    for (const d of deployments) this.#remember(d);
  }

  /** One tick of every running deployment at `now`, given what is observed. */
  tick(observed: Observed, now: number): Tick {
    const desired = new Map<string, DesiredCount[]>();
    const events: DeploymentEvent[] = [];
    const changed: Deployment[] = [];
    const rollbacks: Deployment[] = [];
    for (const d of this.running()) {
      const r = advance(d, observed, now);
      events.push(...r.events);
      for (const next of [r.deployment, ...(r.rollback ? [r.rollback] : [])]) {
        if (JSON.stringify(next) !== JSON.stringify(this.#all.get(next.id))) changed.push(next);
      }
      if (r.rollback) rollbacks.push(r.rollback);
      for (const c of r.desired) (desired.get(c.app) ?? desired.set(c.app, []).get(c.app)!).push(c);
      // An app the deployment leaves out of `desired` (stopped) still belongs to it: none of its versions are wanted.
      for (const app of d.affectedApps) if (!desired.has(app)) desired.set(app, []);
    }
    for (const d of changed) this.#remember(d);
    return { desired, events, ops: [...putDeploymentOps(changed), ...this.#forget()], rollbacks };
  }

  #remember(d: Deployment): void {
    this.#all.set(d.id, d);
  }

  /** Drops the oldest finished deployments beyond KEEP_FINISHED; answers the deletes to store. */
  #forget(): StateOp[] {
    const finished = [...this.#all.values()].filter((d) => !isActive(d)).sort((a, b) => (a.version < b.version ? -1 : 1));
    const drop = finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED)).map((d) => d.id);
    for (const id of drop) this.#all.delete(id);
    return deleteDeploymentOps(drop);
  }
}
