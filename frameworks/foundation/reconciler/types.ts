/**
 * The reconciler's vocabulary: what is wanted (task groups), what is
 * (task records), what it is offered, and what it answers (launches, kills,
 * waiting instances with reasons).
 *
 * Everything here is plain data, so a round can be written down in a test,
 * stored, or replayed: the same Input always gives the same Plan.
 */
import type { AnyOffer, ConstraintSpec, Placed, TaskInfo, TaskShape, TaskState } from '../../sdk/index';

/**
 * `service`: always keep `count` instances running; any end is replaced
 * (Marathon apps, warm pools). `batch`: run `count` instances to completion,
 * retrying a failed one up to `maxRetries` times (Metronome job runs).
 */
export type RestartPolicy = 'service' | 'batch';

/** Which tasks go first when there are too many: the most recently started, or the longest running. */
export type KillSelection = 'YOUNGEST_FIRST' | 'OLDEST_FIRST';

/**
 * Crash-loop backoff: after the n-th end in a row (n ≥ 1) the next launch of
 * that instance waits `min(maxSeconds, initialSeconds · factor^(n-1))`.
 */
export interface Backoff {
  initialSeconds: number;
  factor: number;
  maxSeconds: number;
}

/** Marathon's defaults: backoffSeconds 1, backoffFactor 1.15, maxLaunchDelaySeconds 300. */
export const SERVICE_BACKOFF: Readonly<Backoff> = { initialSeconds: 1, factor: 1.15, maxSeconds: 300 };
/** Batch retries: 10 s, doubling, capped at 6 minutes. */
export const BATCH_BACKOFF: Readonly<Backoff> = { initialSeconds: 10, factor: 2, maxSeconds: 360 };
/** Retries of a failed batch instance when the group names none. */
export const DEFAULT_MAX_RETRIES = 3;

/**
 * What to do with a task whose agent is unreachable (Marathon's
 * unreachableStrategy): after `inactiveAfterSeconds` it no longer counts and
 * a replacement is launched; after `expungeAfterSeconds` it is killed.
 * Marathon's default is 0/0: replace at once.
 */
export interface UnreachableStrategy {
  inactiveAfterSeconds: number;
  expungeAfterSeconds: number;
}

export const DEFAULT_UNREACHABLE: Readonly<UnreachableStrategy> = { inactiveAfterSeconds: 0, expungeAfterSeconds: 0 };

/** The command and metadata every task of a group carries; the reconciler adds ids, agent and resources. */
export interface TaskTemplate {
  /** A shell command line. */
  command: string;
  env?: Record<string, string>;
  labels?: Record<string, string>;
  /** SIGTERM, then SIGKILL after this many seconds (0: the agent's default). */
  killGraceSeconds?: number;
}

/**
 * One desired set of identical instances. A group is keyed by `id` *and*
 * `version`: a deployment keeps N of version A and M of version B by asking
 * for two groups with the same id. Tasks of an id whose version is not asked
 * for are killed.
 */
export interface TaskGroup {
  /** An app id, a job run id or a warm pool's id; `/` is allowed (`/web/api`). */
  id: string;
  version: string;
  /** service: instances to keep running; batch: instances to run to completion. */
  count: number;
  restart: RestartPolicy;
  /**
   * Per task. `ports` is a number of ports, assigned from the offer lowest
   * first, or the exact port numbers every task must get (Marathon's
   * requirePorts); either way they are PORT0, PORT1 … in the env. An offer
   * without them is refused with reason `ports`.
   */
  resources: TaskShape;
  task: TaskTemplate;
  /** Only offers allocated to this role are used; any offer when left out. */
  role?: string;
  /**
   * Only offers whose allocation role (`*` when the offer has none) is one of
   * these are used (Marathon's acceptedResourceRoles); any offer when left
   * out. With `role` as well, an offer must pass both.
   */
  roles?: readonly string[];
  /** Marathon-style constraints, checked with the SDK's `parseConstraint`. */
  constraints?: readonly ConstraintSpec[];
  /** Defaults: SERVICE_BACKOFF or BATCH_BACKOFF by `restart`. */
  backoff?: Backoff;
  /** Failures that ended at or before this time (ms since the epoch) do not count toward the backoff. */
  backoffResetAt?: number;
  /** batch only: at most this many instances live at once (Kubernetes' parallelism); the rest wait with reason `parallelism`. All at once when left out. */
  parallelism?: number;
  /**
   * All of this round's instances of the group are placed, or none is (a
   * gang, for work that needs every member up): when the offers at hand
   * cannot hold them all, each waits with reason `gang: k of n placeable`
   * and nothing of the group launches.
   */
  gang?: boolean;
  /** batch only: how many times a failed instance is launched again (DEFAULT_MAX_RETRIES). */
  maxRetries?: number;
  /** YOUNGEST_FIRST by default, as in Marathon. */
  killSelection?: KillSelection;
  unreachable?: UnreachableStrategy;
  /**
   * How many tasks beyond `count` may be alive at once, as a fraction of
   * `count` (Marathon's maximumOverCapacity): a replacement waits, with
   * reason `max over-capacity`, while the task it replaces may still run
   * (unreachable, or being killed). 0 for a service that must never run
   * twice; unbounded when left out.
   */
  maxOverCapacity?: number;
}

/**
 * A task the framework launched, as it knows it: the launch's record
 * (from `Plan.launches[].records`) with the latest state applied. Ended tasks
 * stay in the input as history: they give attempts and backoff. The caller
 * may drop an instance's old ended attempts but should keep the latest few.
 * Extends `Placed` (agent id, hostname, attributes) so that constraints count it.
 */
export interface TaskRecord extends Placed {
  taskId: string;
  group: string;
  version: string;
  /** Which of the group's `count` instances this is (0-based). */
  instance: number;
  /** 1 for the first launch of the instance, then 2, 3 … */
  attempt: number;
  /** The latest state; TASK_STAGING from launch until the agent reports. */
  state: TaskState;
  /** false when a health check failed; kills at scale down take unhealthy tasks first. */
  healthy?: boolean;
  /** Clock times in ms since the epoch, as `Input.now`. */
  launchedAt: number;
  /** First TASK_RUNNING. */
  startedAt?: number;
  /** The latest state change: the end of an ended task, the start of TASK_UNREACHABLE. */
  updatedAt: number;
}

/** One round's input. */
export interface Input {
  groups: readonly TaskGroup[];
  tasks: readonly TaskRecord[];
  offers: readonly AnyOffer[];
  /** The clock, ms since the epoch; the reconciler reads no other. */
  now: number;
  /** A launch not reported (still TASK_STAGING) after this long is killed and replaced; 300 s by default, as Marathon. */
  launchTimeoutSeconds?: number;
}

/** The tasks to launch on one offer: hand `tasks` to `fw.launch([offerId], tasks)`, store `records` first. */
export interface Launch {
  offerId: string;
  agentId: string;
  tasks: TaskInfo[];
  /** One per task, state TASK_STAGING: present (pending) from now on. */
  records: TaskRecord[];
}

/** Why a task is to be killed. */
export type KillReason =
  | 'scale down'
  | 'not desired'
  | 'duplicate instance'
  | 'launch timed out'
  | 'unreachable expunged';

export interface Kill {
  taskId: string;
  agentId?: string;
  reason: KillReason;
}

/**
 * An instance that wants a task and has none: the answer to "why is this not
 * running?". `reasons` counts, per check, the offers it refused (an offer
 * may fail several); `backoff` and `no offers` stand alone.
 */
export interface Waiting {
  group: string;
  version: string;
  instance: number;
  reasons: Record<string, number>;
  /** When a backing-off instance may launch again (ms since the epoch). */
  backoffUntil?: number;
}

/** Per group, what a coordinator reports: a batch run is done when `succeeded + failed === count`. */
export interface GroupSummary {
  group: string;
  version: string;
  /** Live tasks that count, including pending launches and those launched in this plan. */
  active: number;
  /** batch: instances that finished. */
  succeeded: number;
  /** batch: instances that failed for good (retry limit, or TASK_ERROR). */
  failed: number;
}

/** One round's answer. Kills are level-triggered: repeated each round until the task ends. */
export interface Plan {
  launches: Launch[];
  kills: Kill[];
  waiting: Waiting[];
  summaries: GroupSummary[];
  /** Offers that received no task: decline them. */
  unused: string[];
}
