/**
 * gRPC helpers shared by servers and clients: binding a server, channel
 * options, and the one mapping between error kinds (lib/errors.ts) and
 * gRPC: a refused call carries its status code for gRPC's sake and, in
 * trailing metadata, the kind (`mezz-error-kind`) and, for NOT_LEADER, the
 * leader's address (`mezz-leader`), which clients read back with
 * `errorKindOf` and `leaderOf`.
 */
import * as grpc from '@grpc/grpc-js';
import { type ErrorKind, MezzError, NotLeaderError, UnavailableError, asErrorKind, errorMessage } from './errors';
import { truncate } from './limits';

/** Trailing metadata keys of a refused call. */
export const ERROR_KIND_KEY = 'mezz-error-kind';
export const LEADER_KEY = 'mezz-leader';

const STATUS_OF: Record<ErrorKind, grpc.status> = {
  INVALID: grpc.status.INVALID_ARGUMENT,
  NOT_FOUND: grpc.status.NOT_FOUND,
  PERMISSION_DENIED: grpc.status.PERMISSION_DENIED,
  UNAUTHENTICATED: grpc.status.UNAUTHENTICATED,
  FAILED_PRECONDITION: grpc.status.FAILED_PRECONDITION,
  UNAVAILABLE: grpc.status.UNAVAILABLE,
  NOT_LEADER: grpc.status.UNAVAILABLE,
  FRAMEWORK_REMOVED: grpc.status.NOT_FOUND,
  FRAMEWORK_UNKNOWN: grpc.status.NOT_FOUND,
  FRAMEWORK_FAILED_OVER: grpc.status.ABORTED,
  INTERNAL: grpc.status.INTERNAL,
  RESOURCE_EXHAUSTED: grpc.status.RESOURCE_EXHAUSTED,
};

/** For a peer that sent no kind (not a Mezzanine server, or a transport failure): the kind its status implies. */
const KIND_OF_STATUS: Partial<Record<grpc.status, ErrorKind>> = {
  [grpc.status.INVALID_ARGUMENT]: 'INVALID',
  [grpc.status.OUT_OF_RANGE]: 'INVALID',
  [grpc.status.NOT_FOUND]: 'NOT_FOUND',
  [grpc.status.PERMISSION_DENIED]: 'PERMISSION_DENIED',
  [grpc.status.UNAUTHENTICATED]: 'UNAUTHENTICATED',
  [grpc.status.FAILED_PRECONDITION]: 'FAILED_PRECONDITION',
  [grpc.status.UNAVAILABLE]: 'UNAVAILABLE',
  [grpc.status.DEADLINE_EXCEEDED]: 'UNAVAILABLE',
  [grpc.status.CANCELLED]: 'UNAVAILABLE',
  [grpc.status.RESOURCE_EXHAUSTED]: 'RESOURCE_EXHAUSTED',
  [grpc.status.ABORTED]: 'UNAVAILABLE',
};

/** Keepalives so that a dead peer on a long-lived stream is noticed. */
export const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.keepalive_time_ms': 10_000,
  'grpc.keepalive_timeout_ms': 5_000,
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.max_receive_message_length': 64 * 1024 * 1024,
  'grpc.max_send_message_length': 64 * 1024 * 1024,
};

/**
 * The most a master takes in one message; a larger one ends its call or
 * stream with RESOURCE_EXHAUSTED ("Received message larger than max (N vs.
 * 16777216)"), so one caller cannot make the master buffer and decode
 * without bound. The largest legitimate messages: an agent's registration
 * page (at most REGISTRATION_PAGE_BYTES of tasks, agent/registration.ts), an
 * ACCEPT of MAX_TASKS_PER_ACCEPT tasks of a few KB each, a framework message
 * (MAX_MESSAGE_BYTES, 256 KB), a single task at every lib/limits maximum
 * (about 700 KB: command 64 KB, environment 64 KB, 64 labels of 4 KB, 64
 * URIs of 4 KB). 16 MB is four times the largest page.
 */
export const MAX_MASTER_MESSAGE_BYTES = 16 * 1024 * 1024;
/** The most an agent's file server takes in one request: a ReadFileRequest is a few ids, a path and two numbers. */
export const MAX_FILES_REQUEST_BYTES = 1024 * 1024;

/** The master's server: requests capped at MAX_MASTER_MESSAGE_BYTES. */
export const SERVER_OPTIONS: grpc.ServerOptions = {
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.http2.min_ping_interval_without_data_ms': 5_000,
  'grpc.max_receive_message_length': MAX_MASTER_MESSAGE_BYTES,
  'grpc.max_send_message_length': 64 * 1024 * 1024,
};

/** An agent's file server: requests capped at MAX_FILES_REQUEST_BYTES (answers carry up to 1 MB of a file). */
export const FILES_SERVER_OPTIONS: grpc.ServerOptions = {
  ...SERVER_OPTIONS,
  'grpc.max_receive_message_length': MAX_FILES_REQUEST_BYTES,
};

/** Binds `server` on host:port (port 0: any free port) and resolves the bound port; credentials from lib/auth/transport (plaintext by default). */
export function bindServer(server: grpc.Server, host: string, port: number, credentials = grpc.ServerCredentials.createInsecure()): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(`${host}:${port}`, credentials, (err, bound) => {
      if (err) reject(new UnavailableError(`cannot listen on ${host}:${port}: ${err.message}`, { cause: err }));
      else resolve(bound);
    });
  });
}

/**
 * The most characters of a status's details. They travel in an HTTP/2
 * trailer (`grpc-message`), and a trailer above the client's header list
 * limit is never delivered: the call would hang until its deadline instead
 * of failing. Messages name values shortly (lib/limits `shown`, `describe`);
 * this cut holds whatever slips through.
 */
export const MAX_STATUS_DETAILS = 4096;

/** The one place where errors become gRPC statuses, with their kind (and leader) in trailing metadata. Unexpected errors are INTERNAL. */
export function toServiceError(err: unknown): Partial<grpc.ServiceError> {
  const kind: ErrorKind = err instanceof MezzError ? err.kind : 'INTERNAL';
  const details = truncate(err instanceof MezzError ? err.message : `internal error: ${errorMessage(err)}`, MAX_STATUS_DETAILS);
  const metadata = new grpc.Metadata();
  metadata.set(ERROR_KIND_KEY, kind);
  if (err instanceof NotLeaderError && err.leader) metadata.set(LEADER_KEY, err.leader);
  return { code: STATUS_OF[kind], details, message: details, metadata };
}

/** The kind of a failed call: the server's own word when it sent one, else what the status implies (INTERNAL when nothing fits). */
export function errorKindOf(err: unknown): ErrorKind {
  const e = err as Partial<grpc.ServiceError> | undefined;
  const sent = asErrorKind(e?.metadata?.get?.(ERROR_KIND_KEY)[0]);
  if (sent) return sent;
  if (typeof e?.code === 'number') return KIND_OF_STATUS[e.code] ?? 'INTERNAL';
  return 'INTERNAL';
}

/** The leader's HOST:PORT that a standby named when it refused a call, if any. */
export function leaderOf(err: unknown): string | undefined {
  const e = err as Partial<grpc.ServiceError> | undefined;
  const v = e?.metadata?.get?.(LEADER_KEY)[0];
  return typeof v === 'string' && v ? v : undefined;
}

/** Wraps an async unary handler so that throws become statuses. */
export function unary<Req, Res>(
  fn: (req: Req, call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res> | Res,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    Promise.resolve()
      .then(() => fn(call.request, call))
      .then((res) => callback(null, res), (err) => callback(toServiceError(err) as grpc.ServiceError));
  };
}

/** The IP of a call's peer, e.g. `127.0.0.1` from `ipv4:127.0.0.1:53422`. */
export function peerHost(peer: string): string {
  const p = peer.replace(/^ipv[46]:/, '');
  const m = /^\[(.*)\]:\d+$/.exec(p) ?? /^(.*):\d+$/.exec(p);
  return m ? m[1]! : p;
}

/** grpc-js connection details without their noise: `No connection established. Last error: Error: connect ECONNREFUSED …` → `connect ECONNREFUSED …`. */
export function tidyDetails(details: string): string {
  return details
    .replace(/\s*Resolution note:\s*$/, '')
    .replace(/^No connection established\. Last error: (Error: )?/, '')
    .replace(/\.$/, '')
    .trim();
}

/** `14 UNAVAILABLE: No connection established …` → `UNAVAILABLE: connect ECONNREFUSED …`, the part a person needs. */
export function describeGrpcError(err: unknown): string {
  const e = err as Partial<grpc.ServiceError>;
  if (e && typeof e.code === 'number') {
    const name = grpc.status[e.code] ?? String(e.code);
    return `${name}: ${tidyDetails(e.details || e.message || '')}`;
  }
  return errorMessage(err);
}

export function waitForReady(client: grpc.Client, deadlineMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    client.waitForReady(Date.now() + deadlineMs, (err) => (err ? reject(err) : resolve()));
  });
}
