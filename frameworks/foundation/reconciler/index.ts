/**
 * The reconciler: desired task groups and actual task records in, launches,
 * kills and "why is this not running?" out, with the clock injected. The
 * services, batch and warm-pool schedulers are configurations of this core.
 */
export { reconcile, taskIdOf, DEFAULT_LAUNCH_TIMEOUT_SECONDS } from './reconcile';
export { backoffSeconds } from './history';
export { ReconcileInputError } from './errors';
export {
  BATCH_BACKOFF,
  DEFAULT_MAX_RETRIES,
  DEFAULT_UNREACHABLE,
  SERVICE_BACKOFF,
  type Backoff,
  type GroupSummary,
  type Input,
  type Kill,
  type KillReason,
  type KillSelection,
  type Launch,
  type Plan,
  type RestartPolicy,
  type TaskGroup,
  type TaskRecord,
  type TaskTemplate,
  type UnreachableStrategy,
  type Waiting,
} from './types';
