/**
 * The agent's named errors. Each carries an ErrorKind (lib/errors.ts), which
 * the server layer maps to a gRPC status once (lib/grpc.ts `toServiceError`).
 */
import { InvalidArgumentError, MezzError, NotFoundError, PermissionDeniedError } from '../lib/errors';
import { shown } from '../lib/limits';

/** A malformed `--attributes` value; the message names the bad part. */
export class AttributeParseError extends InvalidArgumentError {
  override name = 'AttributeParseError';
}

/** A sandbox read asked for a malformed path (empty, NUL, bad offset) or for something that is not a file. */
export class SandboxPathError extends InvalidArgumentError {
  override name = 'SandboxPathError';
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(message);
  }
}

/** A sandbox read asked for a file outside the sandbox: `..`, an absolute path, or a symlink leading out. */
export class SandboxEscapeError extends PermissionDeniedError {
  override name = 'SandboxEscapeError';
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(message);
  }
}

/**
 * `--isolation cgroups` was asked for but this host does not allow it; the
 * message says which controller or file failed and what to do.
 */
export class IsolationUnavailableError extends MezzError {
  override name = 'IsolationUnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'FAILED_PRECONDITION', options);
  }
}

/** A task's cgroup could not be made or limited (the OS error is the cause). */
export class CgroupError extends MezzError {
  override name = 'CgroupError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'INTERNAL', options);
  }
}

/** The agent neither runs the task nor remembers its sandbox. */
export class UnknownTaskError extends NotFoundError {
  override name = 'UnknownTaskError';
  constructor(readonly taskId: string, agentId: string) {
    super(`task ${shown(taskId)} is not known on agent ${agentId || '(unregistered)'}`);
  }
}

/** The file exists in no sandbox of the task. */
export class SandboxFileNotFoundError extends NotFoundError {
  override name = 'SandboxFileNotFoundError';
}

/** The task's process could not be started (the OS error is the cause). */
export class LaunchError extends MezzError {
  override name = 'LaunchError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'INTERNAL', options);
  }
}
