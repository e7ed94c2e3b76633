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
    /** A gRPC status name such as `UNAVAILABLE` or `NOT_FOUND`, when known. */
    readonly code: string = 'UNAVAILABLE',
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
