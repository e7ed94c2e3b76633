/**
 * A deployment as `GET /v2/deployments` shows it (Marathon's
 * `deployments.raml`), plus Mezzanine's `status`: why it is blocked, why it
 * failed, which deployment it rolls back.
 */
import type { Action, Deployment, DeploymentStatus, Step } from './types';

export interface DeploymentJson {
  id: string;
  version: string;
  affectedApps: string[];
  affectedPods: string[];
  steps: Step[];
  currentActions: (Action & { readinessCheckResults: unknown[] })[];
  currentStep: number;
  totalSteps: number;
  status: DeploymentStatus;
  rollbackOf?: string;
}

/** The JSON body for one deployment; `currentStep` counts from 1 and stays within `totalSteps`. */
export function deploymentJson(d: Deployment): DeploymentJson {
  // A deployment not yet advanced (currentStep 0) is about to run its first step: show it as running.
  const step = d.steps[Math.max(d.currentStep, 1) - 1];
  const running = step && (d.status.state === 'running' || d.status.state === 'rolling back') ? step.actions : [];
  return {
    id: d.id,
    version: d.version,
    affectedApps: d.affectedApps,
    affectedPods: [],
    steps: d.steps,
    currentActions: running.map((a) => ({ ...a, readinessCheckResults: [] })),
    currentStep: Math.min(Math.max(d.currentStep, d.steps.length > 0 ? 1 : 0), d.steps.length),
    totalSteps: d.steps.length,
    status: d.status,
    ...(d.rollbackOf !== undefined ? { rollbackOf: d.rollbackOf } : {}),
  };
}
