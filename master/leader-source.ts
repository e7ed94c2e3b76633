/**
 * What the gRPC services need from a master node: the Master while it
 * leads, and otherwise the answer that points callers to the leader.
 */
import type { Caller, CallerAuth, TlsMaterial } from '../lib/auth';
import type { NotLeaderError } from '../lib/errors';
import type { Logger } from '../lib/log';
import { toServiceError } from '../lib/grpc';
import type { Master } from './master';
import type { AgentStream, SchedulerStream } from './state';

/** What the gRPC services need from a node: the Master while leading, and the answer otherwise. */
export interface LeaderSource {
  leading(): Master | undefined;
  notLeader(): NotLeaderError;
  readonly address: string;
  readonly cluster: string;
  readonly log: Logger;
  leaderAddress(): string | undefined;
  candidates(): Promise<string[]>;
  /**
   * Resolves at the next change of leadership as this node sees it (it
   * starts or stops leading, or etcd names another leader), after
   * `timeoutMs`, or when `signal` aborts, whichever comes first.
   */
  leadershipChange(timeoutMs: number, signal: AbortSignal): Promise<void>;
  /** Who is calling (every service authenticates each call or stream with it). */
  readonly auth: CallerAuth;
  /** This master's TLS material, for its calls to agents' file services; undefined: plaintext. */
  readonly tls?: TlsMaterial;
}

/**
 * A stream belongs to the Master that leads when it opens, and ends with
 * it. On a standby the stream is refused at once with UNAVAILABLE and the
 * leader's address, and undefined is returned.
 */
export function streamMaster(node: LeaderSource, stream: AgentStream | SchedulerStream): Master | undefined {
  const master = node.leading();
  if (!master) {
    refuseStream(node, stream);
    return undefined;
  }
  master.ownStream(stream);
  return master;
}

/** Ends a stream that reached a standby with UNAVAILABLE and the leader's address. */
export function refuseStream(node: LeaderSource, stream: AgentStream | SchedulerStream): void {
  stream.on('data', () => undefined);
  stream.emit('error', toServiceError(node.notLeader()));
}

/**
 * The caller of a stream, authenticated once as it opens; a stream without
 * valid credentials ends at once with UNAUTHENTICATED (the server's interceptor, lib/auth authInterceptor, refuses and audits such a call before it gets here).
 */
export function streamCaller(node: LeaderSource, stream: AgentStream | SchedulerStream): Caller | undefined {
  try {
    return node.auth.fromGrpc(stream);
  } catch (err) {
    stream.on('data', () => undefined);
    stream.emit('error', toServiceError(err));
    return undefined;
  }
}
