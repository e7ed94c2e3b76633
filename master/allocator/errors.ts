/**
 * The allocator's named errors. Bad input from outside (a malformed role
 * path, a non-positive weight) is an InvalidArgumentError; a caller that
 * breaks a sorter's bookkeeping contract (an unknown client, taking back
 * more than was given) gets a loud internal error, because the master's
 * accounting is then wrong and must be fixed, not retried.
 */
import { InvalidArgumentError, MezzError } from '../../lib/errors';

/** A role path that cannot name a node of the role tree. */
export class InvalidRoleError extends InvalidArgumentError {
  override name = 'InvalidRoleError';
  constructor(
    readonly role: string,
    readonly reason: string,
  ) {
    super(`role "${role}" is invalid: ${reason}; write a path of non-empty names separated by '/', e.g. eng/ml`);
  }
}

/** Weights scale shares, so they must be finite and positive. */
export class InvalidWeightError extends InvalidArgumentError {
  override name = 'InvalidWeightError';
  constructor(
    readonly path: string,
    readonly weight: number,
  ) {
    super(`weight ${weight} for role "${path}" is invalid; a weight must be a finite number greater than 0`);
  }
}

/** A sorter was asked about a client it was never given (or was already removed). */
export class UnknownClientError extends MezzError {
  override name = 'UnknownClientError';
  constructor(readonly client: string) {
    super(`sorter has no client "${client}"; add it before allocating to it`);
  }
}

/** A client was added twice. */
export class DuplicateClientError extends MezzError {
  override name = 'DuplicateClientError';
  constructor(readonly client: string) {
    super(`sorter already has a client "${client}"; remove it first`);
  }
}

/** Taking back more than a client holds: the caller's accounting has drifted. */
export class AllocationUnderflowError extends MezzError {
  override name = 'AllocationUnderflowError';
  constructor(
    readonly client: string,
    readonly detail: string,
  ) {
    super(`cannot unallocate from "${client}": ${detail}; the caller's accounting has drifted from the sorter's`);
  }
}

/** The snapshot handed to `allocate` breaks one of its own invariants. */
export class InvalidSnapshotError extends MezzError {
  override name = 'InvalidSnapshotError';
  constructor(readonly reason: string) {
    super(`allocator snapshot is inconsistent: ${reason}`);
  }
}
