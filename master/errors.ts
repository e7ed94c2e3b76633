/**
 * The master's named errors. Each maps to a gRPC status in one place
 * (lib/grpc.ts `toServiceError`) and says what was wrong and what to do.
 */
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from '../lib/errors';
import { shown } from '../lib/limits';

export class UnknownFrameworkError extends NotFoundError {
  override name = 'UnknownFrameworkError';
  constructor(readonly frameworkId: string) {
    super(`framework ${shown(frameworkId)} is not known to this master; list frameworks with 'mezz frameworks'`);
  }
}

export class UnknownTaskError extends NotFoundError {
  override name = 'UnknownTaskError';
  constructor(readonly taskId: string, which = '') {
    super(`${which}task ${shown(taskId)} is not known to this master; list tasks with 'mezz tasks'`);
  }
}

export class UnknownAgentError extends NotFoundError {
  override name = 'UnknownAgentError';
  constructor(readonly agentId: string) {
    super(`agent ${shown(agentId)} is not known to this master; list agents with 'mezz agents'`);
  }
}

export class InvalidCallError extends InvalidArgumentError {
  override name = 'InvalidCallError';
}

export class AgentUnavailableError extends FailedPreconditionError {
  override name = 'AgentUnavailableError';
}
