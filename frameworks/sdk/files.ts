/**
 * Reading a task's sandbox files (stdout, stderr, others) for failure
 * reports, through the Operator ReadTaskFile of the master the framework is
 * connected to; that master asks the task's agent. The same path as
 * `mezz logs` (cli/commands/logs.ts).
 */
import type * as grpc from '@grpc/grpc-js';
import { type ClientSecurity, makeClient } from '../../lib/auth';
import { errorKindOf, tidyDetails } from '../../lib/grpc';
import { mezzProto, type OperatorClient, type ReadFileResponse__Output } from '../../lib/proto';
import { CallError } from './errors';

/** What the reader needs from a Framework. */
export interface FileSource {
  readonly connected: boolean;
  /** The master's address. */
  readonly master: string;
  /** The token and TLS material to call it with. */
  readonly security: ClientSecurity;
}

/** Which bytes to read: from `offset`, at most `length` (0: 64 KiB; the agent caps it at 1 MiB). */
export interface ReadRange {
  offset?: number;
  length?: number;
}

/** Bytes read from a sandbox file: `data` starts at `offset`; `size` is the file's size when read. */
export interface TaskFileChunk {
  data: Buffer;
  offset: number;
  size: number;
}

/** A master that does not answer within this time fails the read with UNAVAILABLE. */
const READ_DEADLINE_MS = 15_000;
const CALL = 'READ_TASK_FILE';

/**
 * Reads `path` (relative to the sandbox) of task `taskId`. Rejects with
 * CallError: NOT_FOUND for an unknown task or file, INVALID for a bad path
 * or range, UNAVAILABLE when not connected or the agent cannot be reached.
 */
export async function readTaskFile(src: FileSource, taskId: string, path = 'stdout', range: ReadRange = {}): Promise<TaskFileChunk> {
  const { offset = 0, length = 0 } = range;
  for (const [name, v] of [['offset', offset], ['length', length]] as const) {
    if (!Number.isSafeInteger(v) || v < 0) throw new CallError(CALL, `${name} must be a whole number ≥ 0, got ${String(v).slice(0, 40)}`, 'INVALID');
  }
  if (!src.connected) {
    throw new CallError(CALL, `cannot read ${path} of task ${taskId}: not connected to a master (reconnecting to ${src.master}); try again after 'subscribed'`, 'UNAVAILABLE');
  }
  const client: OperatorClient = makeClient(mezzProto().Operator, src.master, src.security);
  try {
    const res = await new Promise<ReadFileResponse__Output>((resolve, reject) => {
      client.readTaskFile({ taskId, path, offset, length }, { deadline: Date.now() + READ_DEADLINE_MS }, (err, out) =>
        err ? reject(err) : resolve(out!));
    });
    return { data: res.data, offset: Number(res.offset), size: Number(res.size) };
  } catch (err) {
    const e = err as grpc.ServiceError;
    throw new CallError(CALL, `reading ${path} of task ${taskId} at ${src.master} failed: ${tidyDetails(e.details ?? e.message)}`, errorKindOf(e), { cause: err });
  } finally {
    client.close();
  }
}

/**
 * The last `bytes` of a sandbox file as text (e.g. stderr for a failure
 * report): one read for the size, one for the end. Rejects as readTaskFile.
 */
export async function tail(src: FileSource, taskId: string, path = 'stderr', bytes = 4096): Promise<string> {
  if (!Number.isSafeInteger(bytes) || bytes <= 0) throw new CallError(CALL, `tail needs a whole number of bytes > 0, got ${String(bytes).slice(0, 40)}`, 'INVALID');
  const { size } = await readTaskFile(src, taskId, path, { offset: 0, length: 1 });
  const offset = Math.max(0, size - bytes);
  const chunk = await readTaskFile(src, taskId, path, { offset, length: size - offset || 1 });
  return chunk.data.toString('utf8');
}
