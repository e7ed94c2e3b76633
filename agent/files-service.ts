/**
 * AgentFiles: the gRPC service through which the master, the CLI and
 * dashboards read a task's sandbox (`stdout`, `stderr`, any file in it),
 * served on the agent's own port. Reads are confined to the sandbox
 * (sandbox.ts); errors become gRPC statuses once, in `unary`.
 */
import type * as grpc from '@grpc/grpc-js';
import { Authenticator, CallerAuth } from '../lib/auth';
import { InvalidArgumentError, UnauthenticatedError } from '../lib/errors';
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
 * Who may read: the master the agent registered with, which presents the
 * files token it issued at that registration (and checks its own callers'
 * read_sandbox permission first). Before any registration nobody may.
 */
function readerCheck(filesToken: () => string): (call: grpc.ServerUnaryCall<unknown, unknown>) => void {
  let token = '';
  let auth: CallerAuth | undefined;
  return (call) => {
    const current = filesToken();
    if (!current) throw new UnauthenticatedError('this agent is not registered with a master yet; read task files through the master');
    if (current !== token || !auth) {
      token = current;
      auth = new CallerAuth(new Authenticator([{ principal: 'master', secret: token }]), 'this agent\'s file service (read task files through the master: mezz logs)');
    }
    auth.fromGrpc(call);
  };
}

/**
 * Handlers for `mezzanine.v1.AgentFiles`. Every read must present the files
 * token of the master the agent registered with (else UNAUTHENTICATED).
 * ReadFile answers PERMISSION_DENIED
 * for a path that is absolute, holds `..` or resolves (through symlinks)
 * outside the sandbox, INVALID_ARGUMENT for one that is empty or names no
 * regular file, and NOT_FOUND for an unknown task or file.
 */
export function filesHandlers(lookup: SandboxLookup, filesToken?: () => string): {
  ReadFile: grpc.handleUnaryCall<ReadFileRequest__Output, ReadFileResponse>;
} {
  const checkReader = filesToken && readerCheck(filesToken);
  return {
    ReadFile: unary<ReadFileRequest__Output, ReadFileResponse>(async (req, call) => {
      checkReader?.(call);
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
