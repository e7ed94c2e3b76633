/**
 * The capacity rules of one app's action, as arithmetic on counts: how many
 * of the target version and of the old versions to ask for now, given what
 * is alive and healthy; whether the action is done; its progress score; and
 * whether it can never proceed. Marathon's TaskReplaceActor, made
 * level-triggered: each tick recomputes from what is observed, nothing is
 * remembered but the deployment itself.
 */
import type { DeployedApp, VersionObserved } from './types';

/** The bounds of a rolling action toward `n` instances. */
export interface Capacity {
  /** ⌈n · minimumHealthCapacity⌉: healthy instances, old and new together, to keep. */
  minHealthy: number;
  /** n + ⌊n · maximumOverCapacity⌋: alive instances, old and new together, at most. */
  maxAlive: number;
}

// Fractions such as 0.1 · 30 are not exact in binary; without the nudge ⌈3.0000000000000004⌉ would be 4.
const EPSILON = 1e-9;

/**
 * The bounds for `target`. When old instances exist and the minimum reaches
 * the maximum (minimumHealthCapacity 1, maximumOverCapacity 0), no instance
 * could be started nor killed; Marathon allows one instance more, and so do we.
 */
export function capacity(target: DeployedApp, hasOld: boolean): Capacity {
  const n = target.instances;
  const { minimumHealthCapacity, maximumOverCapacity } = target.upgradeStrategy;
  const minHealthy = Math.ceil(n * minimumHealthCapacity - EPSILON);
  const maxAlive = n + Math.floor(n * maximumOverCapacity + EPSILON);
  return { minHealthy, maxAlive: hasOld && n > 0 && maxAlive <= minHealthy ? minHealthy + 1 : maxAlive };
}

/** What one app shows this tick, split into the target version and every other one. */
export interface AppView {
  target: VersionObserved;
  /** Other versions, alive counts only: they are being replaced. */
  oldAlive: number;
}

/** How many of the target version, and how many old ones in all, to ask for now. */
export interface RollingCounts {
  newCount: number;
  oldCount: number;
}

/**
 * Old instances may go while the healthy new ones make up the minimum:
 * `old = min(oldAlive, max(0, minHealthy − newHealthy))` (the reconciler kills
 * unhealthy ones first, so the healthy stay). New instances may start in the
 * room the old leave: `new = min(n, maxAlive − oldAlive)`, counting an old
 * instance until its end is reported. Old counts never exceed what is alive,
 * so an old instance that dies is not replaced; `oldAlive` thus only falls,
 * and `new` only grows.
 */
export function rollingCounts(target: DeployedApp, view: AppView): RollingCounts {
  const n = target.instances;
  const { minHealthy, maxAlive } = capacity(target, view.oldAlive > 0);
  const newHealthy = Math.min(view.target.healthy, n);
  return {
    oldCount: Math.min(view.oldAlive, Math.max(0, minHealthy - newHealthy)),
    newCount: Math.min(n, Math.max(0, maxAlive - view.oldAlive)),
  };
}

/**
 * Done: every wanted instance of the target is healthy (and ready), none
 * beyond them is alive, and no old one is left. For `target` null (a stop):
 * nothing alive.
 */
export function isDone(target: DeployedApp | null, view: AppView): boolean {
  if (!target) return view.oldAlive === 0 && view.target.alive === 0;
  const n = target.instances;
  return view.oldAlive === 0 && view.target.healthy >= n && view.target.alive <= n;
}

/**
 * A score that grows with every useful change: a new instance healthy, an
 * old one gone, an excess one gone. The deadline runs from the last time it
 * grew. (The "healthy new instances growing", extended so that
 * stopping and scaling down count as progress too.)
 */
export function progressScore(target: DeployedApp | null, view: AppView): number {
  const n = target?.instances ?? 0;
  return Math.min(view.target.healthy, n) - view.oldAlive - Math.max(0, view.target.alive - n);
}

// Waiting reasons that say the cluster may yet offer room (time, or another offer), not that old instances hold it.
const TRANSIENT = new Set(['backoff', 'no offers', 'max over-capacity']);

/** Reasons that name what the old instances hold: a constraint's slot or a fixed port. */
function heldByOld(reason: string): boolean {
  return reason === 'ports' || reason.startsWith('constraint ');
}

/**
 * "Cannot proceed", declared at once when all four hold:
 * 1. a target instance is wanted and waits, and every waiting instance was
 *    refused by a constraint or for ports (what the old instances hold), and
 *    none waits for time or offers (`backoff`, `no offers`, `max over-capacity`);
 * 2. no target instance is on its way (alive but not yet healthy), which
 *    could become healthy and let an old one go;
 * 3. the capacity rules keep every old instance: `minHealthy − newHealthy ≥ oldAlive`;
 * 4. old instances exist (else nothing is held by them).
 * It is recomputed each tick, so it clears when an agent joins or a port frees.
 * Returns the reason, or undefined.
 */
export function cannotProceed(target: DeployedApp, view: AppView): string | undefined {
  const waiting = view.target.waiting ?? [];
  if (view.oldAlive === 0 || waiting.length === 0) return undefined;
  if (view.target.alive > view.target.healthy) return undefined;
  const blocked = waiting.every((r) => Object.keys(r).some(heldByOld) && !Object.keys(r).some((k) => TRANSIENT.has(k)));
  if (!blocked) return undefined;
  const { minHealthy } = capacity(target, true);
  const newHealthy = Math.min(view.target.healthy, target.instances);
  if (minHealthy - newHealthy < view.oldAlive) return undefined;
  const refused = new Map<string, number>();
  for (const r of waiting) for (const [k, v] of Object.entries(r)) if (heldByOld(k)) refused.set(k, (refused.get(k) ?? 0) + v);
  const why = [...refused].map(([k, v]) => `${k} ×${v}`).join(', ');
  return (
    `cannot proceed: ${target.id} version ${target.version} cannot place ${waiting.length} instance(s) ` +
    `(offers refused: ${why}), and minimumHealthCapacity ${target.upgradeStrategy.minimumHealthCapacity} keeps all ` +
    `${view.oldAlive} old instance(s) until a new one is healthy (${minHealthy} healthy needed, ${newHealthy} new healthy); ` +
    'add an agent, free the port, or lower upgradeStrategy.minimumHealthCapacity'
  );
}
