/**
 * AgentFiles: the gRPC service through which the master, the CLI and
 * dashboards read a task's sandbox (`stdout`, `stderr`, any file in it),
 * served on the agent's own port. Reads are confined to the sandbox
 * (sandbox.ts); errors become gRPC statuses once, in `unary`.
 */
import type * as grpc from '@grpc/grpc-js';
import { InvalidArgumentError } from '../lib/errors';
import { unary } from '../lib/grpc';
import type { ReadFileRequest__Output, ReadFileResponse } from '../lib/proto';
import { UnknownTaskError } from './errors';
import { readSandboxFile } from './sandbox';

export interface SandboxLookup {
  /** The sandbox directory of the task (running or finished), or undefined when none is known. */
  findSandbox(taskId: string, frameworkId?: string): Promise<string | undefined>;
  /** For error messages. */
  readonly agentId: string;
}

/**
 * Handlers for `mezzanine.v1.AgentFiles`. ReadFile answers PERMISSION_DENIED
 * for a path that is absolute, holds `..` or resolves (through symlinks)
 * outside the sandbox, INVALID_ARGUMENT for one that is empty or names no
 * regular file, and NOT_FOUND for an unknown task or file.
 */
export function filesHandlers(lookup: SandboxLookup): {
  ReadFile: grpc.handleUnaryCall<ReadFileRequest__Output, ReadFileResponse>;
} {
  return {
    ReadFile: unary<ReadFileRequest__Output, ReadFileResponse>(async (req) => {
      if (!req.taskId) throw new InvalidArgumentError('task_id is required');
      const sandbox = await lookup.findSandbox(req.taskId, req.frameworkId || undefined);
      if (!sandbox) throw new UnknownTaskError(req.taskId, lookup.agentId);
      const read = await readSandboxFile(
        sandbox, req.path, Number(req.offset), Number(req.length), `the sandbox of task ${req.taskId}`,
      );
      return { data: read.data, offset: read.offset, size: read.size };
    }),
  };
}
