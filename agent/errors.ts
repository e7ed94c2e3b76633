/**
 * The agent's named errors. Each maps to a gRPC status once, in the server
 * layer (lib/grpc.ts `toServiceError`), through the code it carries.
 */
import { InvalidArgumentError, MezzError, NotFoundError } from '../lib/errors';
import { status as Status } from '@grpc/grpc-js';

/** A malformed `--attributes` value; the message names the bad part. */
export class AttributeParseError extends InvalidArgumentError {
  override name = 'AttributeParseError';
}

/** A sandbox read asked for a path outside the sandbox, or for something that is not a file. */
export class SandboxPathError extends InvalidArgumentError {
  override name = 'SandboxPathError';
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(message);
  }
}

/** The agent neither runs the task nor remembers its sandbox. */
export class UnknownTaskError extends NotFoundError {
  override name = 'UnknownTaskError';
  constructor(readonly taskId: string, agentId: string) {
    super(`task ${taskId} is not known on agent ${agentId || '(unregistered)'}`);
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
    super(message, Status.INTERNAL, options);
  }
}
