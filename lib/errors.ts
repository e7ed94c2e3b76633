/**
 * Errors shared by every process. Each carries an ErrorKind, the wire's own
 * vocabulary (proto `mezzanine.v1.ErrorKind`), which the master sends in
 * Event.Error and in the trailing metadata of refused calls and which the
 * SDK and the CLI read back: callers decide from the kind, never from the
 * message text. Transport codes live in one place, lib/grpc.ts. The message
 * says what was wrong and what to do about it.
 */
import type { ErrorKind__Output } from './proto/generated/mezzanine/v1/ErrorKind';

/** What kind of failure an error is; the same names as on the wire. */
export type ErrorKind = Exclude<ErrorKind__Output, 'ERROR_KIND_UNSPECIFIED'>;

export const ERROR_KINDS: readonly ErrorKind[] = [
  'INVALID', 'NOT_FOUND', 'PERMISSION_DENIED', 'UNAUTHENTICATED', 'FAILED_PRECONDITION', 'UNAVAILABLE',
  'NOT_LEADER', 'FRAMEWORK_REMOVED', 'FRAMEWORK_UNKNOWN', 'FRAMEWORK_FAILED_OVER', 'INTERNAL', 'RESOURCE_EXHAUSTED',
];

/** `kind` when it names a kind, else undefined (an older peer's empty field, or garbage). */
export function asErrorKind(kind: unknown): ErrorKind | undefined {
  return ERROR_KINDS.includes(kind as ErrorKind) ? (kind as ErrorKind) : undefined;
}

export class MezzError extends Error {
  override name = 'MezzError';
  constructor(
    message: string,
    readonly kind: ErrorKind = 'INTERNAL',
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The caller asked for something malformed or impossible. */
export class InvalidArgumentError extends MezzError {
  override name = 'InvalidArgumentError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'INVALID', options);
  }
}

/** The caller may not have what it asked for (e.g. a file outside a task's sandbox). */
export class PermissionDeniedError extends MezzError {
  override name = 'PermissionDeniedError';
  constructor(message: string) {
    super(message, 'PERMISSION_DENIED');
  }
}

/** The caller sent no credentials, or ones no principal holds. */
export class UnauthenticatedError extends MezzError {
  override name = 'UnauthenticatedError';
  constructor(message: string) {
    super(message, 'UNAUTHENTICATED');
  }
}

/** A limit was reached; the message names it and what to do. */
export class LimitExceededError extends MezzError {
  override name = 'LimitExceededError';
  constructor(message: string) {
    super(message, 'RESOURCE_EXHAUSTED');
  }
}

export class NotFoundError extends MezzError {
  override name = 'NotFoundError';
  constructor(message: string) {
    super(message, 'NOT_FOUND');
  }
}

/** The call is valid but the system is not in a state to accept it. */
export class FailedPreconditionError extends MezzError {
  override name = 'FailedPreconditionError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'FAILED_PRECONDITION', options);
  }
}

export class UnavailableError extends MezzError {
  override name = 'UnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'UNAVAILABLE', options);
  }
}

/** This master is a standby. `leader`: the leader's HOST:PORT, when one is known; clients retry there. */
export class NotLeaderError extends MezzError {
  override name = 'NotLeaderError';
  constructor(message: string, readonly leader?: string) {
    super(message, 'NOT_LEADER');
  }
}

/** A bug or an unexpected failure inside Mezzanine (the cause says which). */
export class InternalError extends MezzError {
  override name = 'InternalError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'INTERNAL', options);
  }
}

/**
 * The durable store could not be read or written. `path`: the data
 * directory or file concerned, when there is one; `sysCode`: the system
 * error behind it (EROFS, ENOSPC, EACCES, …), when there is one.
 */
export class StoreError extends MezzError {
  override name = 'StoreError';
  readonly path?: string;
  readonly sysCode?: string;
  constructor(message: string, options?: { cause?: unknown; path?: string; sysCode?: string }) {
    super(message, 'UNAVAILABLE', options);
    if (options?.path !== undefined) this.path = options.path;
    if (options?.sysCode !== undefined) this.sysCode = options.sysCode;
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
