// Deployments of the services framework: plans of steps driven tick by tick, pure (clock injected).
export { planDeployment, isActive, type PlanOptions, type PlanResult } from './plan';
export { advance, rollbackOf, settled, type AdvanceResult } from './advance';
export { cancelDeployment, type CancelResult } from './cancel';
export { observeTasks } from './observe';
export { deploymentJson, type DeploymentJson } from './view';
export { capacity, cannotProceed, rollingCounts, type Capacity, type RollingCounts, type AppView } from './rolling';
export {
  DEFAULT_DEADLINE_SECONDS,
  type Action,
  type ActionKind,
  type ActionProgress,
  type DeployedApp,
  type Deployment,
  type DeploymentEvent,
  type DeploymentEventType,
  type DeploymentStatus,
  type DesiredCount,
  type Observed,
  type Step,
  type VersionObserved,
} from './types';
