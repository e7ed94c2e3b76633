/**
 * What the gRPC services need from a master node: the Master while it
 * leads, and otherwise the answer that points callers to the leader.
 */
import type { UnavailableError } from '../lib/errors';
import { toServiceError } from '../lib/grpc';
import type { Master } from './master';
import type { AgentStream, SchedulerStream } from './state';

/** What the gRPC services need from a node: the Master while leading, and the answer otherwise. */
export interface LeaderSource {
  leading(): Master | undefined;
  notLeader(): UnavailableError;
  readonly address: string;
  readonly cluster: string;
  leaderAddress(): string | undefined;
  candidates(): Promise<string[]>;
}

/**
 * A stream belongs to the Master that leads when it opens, and ends with
 * it. On a standby the stream is refused at once with UNAVAILABLE and the
 * leader's address, and undefined is returned.
 */
export function streamMaster(node: LeaderSource, stream: AgentStream | SchedulerStream): Master | undefined {
  const master = node.leading();
  if (!master) {
    stream.on('data', () => undefined);
    stream.emit('error', toServiceError(node.notLeader()));
    return undefined;
  }
  master.ownStream(stream);
  return master;
}
