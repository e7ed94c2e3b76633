/**
 * What the gRPC services need from a master node: the Master while it
 * leads, and otherwise the answer that points callers to the leader.
 */
import type { UnavailableError } from '../lib/errors';
import type { Master } from './master';

/** What the gRPC services need from a node: the Master while leading, and the answer otherwise. */
export interface LeaderSource {
  leading(): Master | undefined;
  notLeader(): UnavailableError;
  readonly address: string;
  readonly cluster: string;
  leaderAddress(): string | undefined;
  candidates(): Promise<string[]>;
}
