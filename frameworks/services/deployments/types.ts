/**
 * The deployments' vocabulary: apps as a deployment sees them, plans of steps
 * in Marathon's shape, what a coordinator observes each tick, and what it is
 * told to aim for. Plain data throughout, so a deployment can be stored as it
 * is and a tick replayed in a test.
 */
import type { App } from '../app-schema';

/** 10 minutes without progress fails a deployment (issue 11), unless the app or the request says otherwise. */
export const DEFAULT_DEADLINE_SECONDS = 600;

/**
 * An app at one version: the fields a deployment reads. A parsed `App` with
 * its `version` fits as it is. `deadlineSeconds` is the app's own deadline
 * for no progress (a request's overrides it).
 */
export type DeployedApp = Pick<App, 'id' | 'instances' | 'upgradeStrategy' | 'dependencies'> & {
  version: string;
  deadlineSeconds?: number;
  /** The caller's name for the whole definition at this point (services: the stored app's `version`), carried as is so a rollback can restore it. */
  definition?: string;
};

/** Marathon's action names (`ResolveArtifacts` has no use here). */
export type ActionKind = 'StartApplication' | 'ScaleApplication' | 'RestartApplication' | 'StopApplication';

export interface Action {
  action: ActionKind;
  app: string;
}

/** The actions of one step run together; the next step starts when all are done. */
export interface Step {
  actions: Action[];
}

/**
 * Where one action stands, kept between ticks. `progress` is the action's
 * measure of work done (healthy target instances + old instances gone); the
 * deadline runs from `progressAt`, the last time it grew.
 */
export interface ActionProgress {
  app: string;
  startedAt: number;
  /** The best score so far; absent until the first tick that observes the action. */
  progress?: number;
  progressAt: number;
  /** The "cannot proceed" reason last reported, so its event is sent once. */
  blocked?: string;
}

export type DeploymentStatus =
  | { state: 'running'; blocked?: string[] }
  | { state: 'rolling back'; blocked?: string[] }
  | { state: 'succeeded' }
  | { state: 'failed'; reason: string }
  | { state: 'cancelled' };

/**
 * A deployment: the plan and where it stands. Stored whole after each tick;
 * `advance` takes the stored one and returns the next.
 */
export interface Deployment {
  id: string;
  /** When it was planned, ISO time (Marathon's deployment `version`). */
  version: string;
  affectedApps: string[];
  steps: Step[];
  /** 1-based, as Marathon shows it; 0 until the first `advance`, `steps.length + 1` once done. */
  currentStep: number;
  /** Each affected app as it was (the last good version), `null` for an app this deployment creates. */
  original: Record<string, DeployedApp | null>;
  /** Each affected app as it should end, `null` for an app it removes. */
  target: Record<string, DeployedApp | null>;
  /** The request's deadline in seconds, when it named one. */
  deadlineSeconds?: number;
  /** The id of the deployment this one rolls back; a failed rollback is not rolled back again. */
  rollbackOf?: string;
  /** The running actions of the current step. */
  current: ActionProgress[];
  status: DeploymentStatus;
}

/**
 * What a coordinator sees of one version of an app this tick.
 * `alive`: tasks not ended (staging, running, unreachable, being killed).
 * `healthy`: running tasks that pass their health checks and readiness
 * checks (or running, for an app without checks).
 * `waiting`: the reconciler's `Plan.waiting[].reasons` of this group, one per waiting instance.
 */
export interface VersionObserved {
  alive: number;
  healthy: number;
  waiting?: readonly Record<string, number>[];
}

/** App id → version → what is seen. Versions with no task may be left out. */
export type Observed = Record<string, Record<string, VersionObserved>>;

/** One reconciler group to ask for: `count` instances of `app` at `version`. */
export interface DesiredCount {
  app: string;
  version: string;
  count: number;
}

export type DeploymentEventType =
  | 'deployment_info'
  | 'deployment_step_success'
  | 'deployment_step_failure'
  | 'deployment_success'
  | 'deployment_failed'
  | 'deployment_blocked'
  | 'deployment_rollback';

/** Events in Marathon's event-stream names, plus `deployment_blocked` and `deployment_rollback`. */
export interface DeploymentEvent {
  eventType: DeploymentEventType;
  deploymentId: string;
  /** Clock time of the tick, ms since the epoch. */
  timestamp: number;
  app?: string;
  message: string;
}
