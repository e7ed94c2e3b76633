/**
 * The leader's in-memory view of the cluster: agents, frameworks, tasks and
 * outstanding offers. Only `master.ts` mutates it; the operator view and the
 * allocator read it.
 */
import type * as grpc from '@grpc/grpc-js';
import type {
  AgentMessage__Output, Attribute__Output, Call__Output, Event, FrameworkInfo__Output, MasterMessage,
  TaskInfo__Output, TaskStatus,
} from '../lib/proto';
import type { Resources } from '../lib/resources';
import type { OfferConstraint } from './allocator';
import type { Timer } from './clock';

export type AgentStream = grpc.ServerDuplexStream<AgentMessage__Output, MasterMessage>;
export type SchedulerStream = grpc.ServerDuplexStream<Call__Output, Event>;

/**
 * What the master holds of an agent's connection: a way to send and a way
 * to hang up. The gRPC glue makes one per stream (`streamLink`); unit tests
 * hand in recorders. Compared by identity to tell a connection from its
 * successor.
 */
export interface AgentLink {
  send(msg: MasterMessage): void;
  close(): void;
}

/** What the master holds of a framework's connection (see AgentLink). */
export interface FrameworkLink {
  send(event: Event): void;
  close(): void;
}

/** A link over a gRPC server stream: writes go to the stream, close ends it. */
export function streamLink<T>(stream: { write(m: T): unknown; end(): unknown }): { send(m: T): void; close(): void } {
  return { send: (m) => void stream.write(m), close: () => void stream.end() };
}

/**
 * ACTIVE: connected and offered. DISCONNECTED: its stream closed, not
 * offered, waiting for pings to time out. UNREACHABLE: missed pings; its
 * tasks were reported UNREACHABLE/LOST. RECOVERING: admitted in the
 * registry, not yet re-registered with a restarted master.
 */
export type AgentStatus = 'ACTIVE' | 'DISCONNECTED' | 'UNREACHABLE' | 'RECOVERING';

export interface AgentRecord {
  id: string;
  hostname: string;
  /** host:port of the agent's files service. */
  address: string;
  status: AgentStatus;
  total: Resources;
  /** Resources of non-terminal tasks. */
  used: Resources;
  /** Resources in outstanding offers. */
  offered: Resources;
  attributes: Attribute__Output[];
  isolation: string[];
  link?: AgentLink;
  /**
   * Consecutive liveness checks that found no message from the agent since
   * the check before. Counted on the master's own ticks, so a master that
   * stalled (GC, SIGSTOP, a slow disk) does not blame the agents for its
   * own silence: a stall costs at most one missed check.
   */
  missedChecks: number;
  heardSinceCheck: boolean;
  unreachableSince?: number;
  registeredAt: number;
  tasks: Map<string, TaskRecord>;
  offers: Set<string>;
  /** SHA-256 of the token issued with its id; re-registering under the id takes the token. */
  tokenHash?: string;
  /** The token the agent's files service accepts from this master, issued at its registration. */
  filesToken?: string;
}

/** ACTIVE: subscribed. INACTIVE: disconnected, within its failover timeout. */
export type FrameworkStatus = 'ACTIVE' | 'INACTIVE';

export interface FrameworkRecord {
  id: string;
  info: FrameworkInfo__Output;
  roles: string[];
  capabilities: Set<string>;
  /** Role → compiled offer constraints (framework-info.ts `offerConstraintsOf`); replaced whole by SUBSCRIBE and UPDATE_FRAMEWORK. */
  offerConstraints: ReadonlyMap<string, OfferConstraint>;
  failoverTimeout: number;
  status: FrameworkStatus;
  link?: FrameworkLink;
  disconnectedAt?: number;
  failoverTimer?: Timer;
  suppressedRoles: Set<string>;
  /** Per role: offered + used. */
  allocated: Map<string, Resources>;
  tasks: Map<string, TaskRecord>;
  /** Recently ended tasks, oldest first, bounded. */
  completed: TaskRecord[];
  offers: Set<string>;
  registeredAt: number;
  /** Tasks reported LOST while their agent was unreachable: killed if the agent returns with them. */
  lostTaskIds: Set<string>;
  /** Where its current (or last) connection came from, for audit lines. */
  peer?: string;
}

export interface TaskRecord {
  id: string;
  frameworkId: string;
  agentId: string;
  role: string;
  info: TaskInfo__Output;
  resources: Resources;
  status: TaskStatus;
  /** uuids of agent updates already applied, so resends change nothing twice. */
  seenUpdates: Set<string>;
  /** Set for a task of a LAUNCH_GROUP: the ids of the whole group, which lives and dies together. */
  group?: readonly string[];
  /** ms since the epoch when the master sent it to its agent, until the agent first reports on it. */
  stagedAt?: number;
}

export interface OfferRecord {
  id: string;
  frameworkId: string;
  agentId: string;
  role: string;
  resources: Resources;
  createdAt: number;
  timer?: Timer;
}
