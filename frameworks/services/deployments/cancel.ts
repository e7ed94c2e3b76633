/**
 * DELETE /v2/deployments/{id}, as functions. By default the deployment stops
 * and a rollback deployment takes its apps back to their last good versions
 * under the same capacity rules (Marathon answers 200 with the rollback's
 * id). With `force` it is cancelled in place (Marathon answers 202): no
 * rollback; the apps stay defined as the deployment's target and the
 * reconciler is asked for that directly, without the capacity rules.
 */
import { rollbackOf } from './advance';
import { isActive } from './plan';
import type { Deployment, DeploymentEvent } from './types';

export type CancelResult =
  /** 200: store both; drive `rollback` from now on. */
  | { kind: 'rolled back'; cancelled: Deployment; rollback: Deployment; events: DeploymentEvent[] }
  /** 202: store `cancelled`; its apps are now at their target (see `settled`). */
  | { kind: 'cancelled'; cancelled: Deployment; events: DeploymentEvent[] }
  /** A deployment already finished cannot be cancelled: the caller answers 404 as for an unknown one. */
  | { kind: 'not running'; message: string };

/** Cancels `d` at `now`; `force` cancels in place, otherwise it rolls back. */
export function cancelDeployment(d: Deployment, options: { force?: boolean; now: number }): CancelResult {
  if (!isActive(d)) return { kind: 'not running', message: `DeploymentPlan ${d.id} does not exist` };
  const how = options.force ? 'cancelled in place (force)' : 'cancelled, rolling back';
  const cancelled: Deployment = { ...d, status: { state: 'cancelled' } };
  const events: DeploymentEvent[] = [{ eventType: 'deployment_failed', deploymentId: d.id, timestamp: options.now, message: `deployment ${d.id} ${how}` }];
  if (options.force) return { kind: 'cancelled', cancelled, events };
  const rollback = rollbackOf(d, options.now);
  events.push({ eventType: 'deployment_rollback', deploymentId: d.id, timestamp: options.now, message: `rolling back ${d.affectedApps.join(', ')} as ${rollback.id}` });
  return { kind: 'rolled back', cancelled, rollback, events };
}
