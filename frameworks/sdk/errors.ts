import type { ErrorKind } from '../../lib/errors';

/**
 * The SDK's named errors. Expected, recoverable trouble (a dropped call, a
 * master that went away) arrives as an `'error'` or `'disconnected'` event,
 * not as a throw; these classes are for what ends a framework's session or
 * is a bug in the caller.
 */

/**
 * `connectFramework` could not subscribe, or the master ended the
 * subscription for good (a fatal ERROR event, e.g. the framework was torn
 * down or removed after its failover timeout).
 */
export class SubscribeError extends Error {
  override name = 'SubscribeError';
  constructor(
    message: string,
    /**
     * What kind of refusal: FRAMEWORK_REMOVED or FRAMEWORK_UNKNOWN mean "subscribe
     * without a framework id to start afresh"; INVALID, a bad FrameworkInfo;
     * UNAVAILABLE, no master answered in time.
     */
    readonly kind: ErrorKind = 'UNAVAILABLE',
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A call was made on a framework after `close()` or `teardown()`: a bug in the caller. */
export class FrameworkClosedError extends Error {
  override name = 'FrameworkClosedError';
  constructor(call: string) {
    super(`cannot ${call}: the framework connection is closed`);
  }
}

/**
 * A placement constraint that cannot mean anything: an unknown operator, a
 * missing value, a regex that does not compile. Thrown when the constraint
 * is parsed (`parseConstraint`, `constraints`), so an app with a bad
 * constraint is refused when it is submitted, not while offers wait.
 */
export class ConstraintError extends Error {
  override name = 'ConstraintError';
}

/**
 * `launchOperations` was given tasks it cannot put in one ACCEPT (tasks of
 * different agents, an empty group), or a shape names a port that no task
 * could get (not 1-65535, or twice).
 */
export class PlacementError extends Error {
  override name = 'PlacementError';
}

/**
 * A call that answers (`updateFramework`, `readTaskFile`, `tail`) failed:
 * `kind` says why (INVALID: fix the arguments; NOT_FOUND: no such task or
 * file; UNAVAILABLE: not connected, or the master or agent could not be
 * reached, so try again).
 */
export class CallError extends Error {
  override name = 'CallError';
  constructor(
    /** The call that failed, e.g. UPDATE_FRAMEWORK or READ_TASK_FILE. */
    readonly call: string,
    message: string,
    readonly kind: ErrorKind,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
