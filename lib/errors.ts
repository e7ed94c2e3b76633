/**
 * Errors shared by every process. Each carries a gRPC status code so that
 * the server layer maps it once (`toServiceError`); the message says what
 * was wrong and what to do about it.
 */
import { status as Status } from '@grpc/grpc-js';

export class MezzError extends Error {
  override name = 'MezzError';
  constructor(
    message: string,
    readonly code: Status = Status.INTERNAL,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The caller asked for something malformed or impossible. */
export class InvalidArgumentError extends MezzError {
  override name = 'InvalidArgumentError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, Status.INVALID_ARGUMENT, options);
  }
}

/** The caller may not have what it asked for (e.g. a file outside a task's sandbox). */
export class PermissionDeniedError extends MezzError {
  override name = 'PermissionDeniedError';
  constructor(message: string) {
    super(message, Status.PERMISSION_DENIED);
  }
}

export class NotFoundError extends MezzError {
  override name = 'NotFoundError';
  constructor(message: string) {
    super(message, Status.NOT_FOUND);
  }
}

/** The call is valid but the system is not in a state to accept it. */
export class FailedPreconditionError extends MezzError {
  override name = 'FailedPreconditionError';
  constructor(message: string) {
    super(message, Status.FAILED_PRECONDITION);
  }
}

export class UnavailableError extends MezzError {
  override name = 'UnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, Status.UNAVAILABLE, options);
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
    super(message, Status.UNAVAILABLE, options);
    if (options?.path !== undefined) this.path = options.path;
    if (options?.sysCode !== undefined) this.sysCode = options.sysCode;
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
