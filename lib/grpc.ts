/**
 * gRPC helpers shared by servers and clients: binding a server, mapping
 * errors to status codes once, and channel options.
 */
import * as grpc from '@grpc/grpc-js';
import { MezzError, errorMessage } from './errors';

/** Keepalives so that a dead peer on a long-lived stream is noticed. */
export const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.keepalive_time_ms': 10_000,
  'grpc.keepalive_timeout_ms': 5_000,
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.max_receive_message_length': 64 * 1024 * 1024,
  'grpc.max_send_message_length': 64 * 1024 * 1024,
};

export const SERVER_OPTIONS: grpc.ServerOptions = {
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.http2.min_ping_interval_without_data_ms': 5_000,
  'grpc.max_receive_message_length': 64 * 1024 * 1024,
  'grpc.max_send_message_length': 64 * 1024 * 1024,
};

/** Binds `server` on host:port (port 0: any free port) and resolves the bound port. */
export function bindServer(server: grpc.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, bound) => {
      if (err) reject(new MezzError(`cannot listen on ${host}:${port}: ${err.message}`, grpc.status.UNAVAILABLE, { cause: err }));
      else resolve(bound);
    });
  });
}

/** The one place where errors become gRPC statuses. Unexpected errors are INTERNAL. */
export function toServiceError(err: unknown): Partial<grpc.ServiceError> {
  if (err instanceof MezzError) return { code: err.code, details: err.message, message: err.message };
  return { code: grpc.status.INTERNAL, details: `internal error: ${errorMessage(err)}`, message: errorMessage(err) };
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
