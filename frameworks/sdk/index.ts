/**
 * The Mezzanine framework SDK: everything a framework author imports.
 *
 *   const fw = await connectFramework({ master: '127.0.0.1:5050', name: 'hello' });
 *   fw.on('offers', (offers) => { … fw.launchAll(pack(offers, n, shape, makeTask)) … });
 *   fw.on('update', (status) => { … });   // acknowledged for you
 *
 * Shipped frameworks use exactly this surface; nothing here reaches into
 * the master.
 */
export {
  connectFramework,
  type Acknowledgeable,
  Framework,
  type FrameworkErrorEvent,
  type FrameworkChanges,
  type FrameworkEvents,
  type FrameworkMessage,
  type FrameworkOptions,
  type OfferRef,
  type SdkLogger,
  type SubscribedEvent,
} from './framework';
export {
  offerResources,
  pack,
  taskInfo,
  type AnyOffer,
  type Launch,
  type MakeTask,
  type PackResult,
  type TaskShape,
  type TaskSpec,
} from './match';
// Placement: predicates, Marathon-style constraints, spreading, gangs, mixed ACCEPTs.
export {
  fitCount,
  type PackOptions,
  type Placed,
  type Refusal,
  type Verdict,
  type Where,
} from './match';
export {
  allOf,
  attributeEquals,
  attributeExists,
  attributeMatches,
  constraints,
  parseConstraint,
  fieldValue,
  OPERATORS,
  type Constraint,
  type ConstraintSpec,
  type Operator,
} from './constraints';
export {
  gang,
  launchOperations,
  spread,
  type GangPlaced,
  type GangRefused,
  type LaunchPlan,
  type SpreadOptions,
} from './placement';
export { ConstraintError, PlacementError } from './errors';
export type {
  OfferConstraintPredicate,
  OfferConstraintSelector,
  OfferConstraintSpec,
  OfferConstraintsOption,
} from './offer-constraints';
export type { ReconcileOptions, ReconcileResult, ReconcileTask } from './reconcile';
export type { ReadRange, TaskFileChunk } from './files';
export { backoffDelay, type BackoffOptions } from '../../lib/backoff';
export { formatDuration, parseDuration } from '../../lib/duration';
export { CallError, FrameworkClosedError, SubscribeError } from './errors';
export { ERROR_KINDS, type ErrorKind } from '../../lib/errors';
export { MAX_TASK_HEALTH_CHECKS } from '../../lib/health-check-spec';

// The wire and resource vocabulary an author needs, so that one import suffices.
export { isTerminal, TERMINAL_STATES } from '../../lib/proto';
export type {
  CheckInfo,
  CheckStatusInfo__Output,
  CommandInfo,
  Filters,
  HealthCheck,
  Offer,
  Offer__Output,
  Operation,
  TaskInfo,
  TaskState,
  TaskStatus__Output,
} from '../../lib/proto';
export { format as formatResources, type Resources } from '../../lib/resources';
