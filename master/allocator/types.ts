/**
 * What the master hands the allocator and what it gets back. The snapshot is
 * read-only and complete: `allocate` reads nothing else, so any round can be
 * replayed from a recorded snapshot, `now` and seed.
 */
import type { Resources } from '../../lib/resources';
import type { AgentProfile, OfferConstraint } from './offer-constraints';
import type { SorterKind } from './sorter';

export interface AllocatorAgent {
  id: string;
  /** What is neither used by tasks nor held in outstanding offers: what a proposal hands out. */
  free: Resources;
  /** Everything the agent has; `total.gpus > 0` makes it a GPU agent. */
  total: Resources;
  /** Hostname and attributes, read by offer constraints; absent: neither. */
  profile?: AgentProfile;
}

export interface AllocatorFramework {
  id: string;
  /** Role paths it subscribed with, e.g. ['eng/ml', 'dev']; '/' separates levels. */
  roles: readonly string[];
  /** Declared capability GPU_RESOURCES: only such frameworks are offered GPU agents. */
  gpuCapable: boolean;
  /** Roles for which it wants no offers (it keeps what it holds there). */
  suppressedRoles: ReadonlySet<string>;
  /**
   * Per role: resources offered to or used by it now. May name a role it no
   * longer holds; that still counts towards the role's share.
   */
  allocated: ReadonlyMap<string, Resources>;
  /** Role → the only agents it is offered in that role (offer constraints); a role not in it takes any agent. */
  offerConstraints?: ReadonlyMap<string, OfferConstraint>;
}

/**
 * Decline filters as the allocation walk reads them: one bit per (framework,
 * agent) question, so a check costs the same however many filters there are
 * (filters.ts says why). Read-only; `DeclineFilters` implements it.
 */
export interface FilterView {
  /** The framework's bit in `declinedBy` bitsets, or -1 if it filters no agent. */
  slotOf(frameworkId: string): number;
  /**
   * Who filters the agent: bit `slotOf(f)` is set ⇔ framework f does; bits
   * past the end are 0. Undefined if no framework filters it.
   */
  declinedBy(agentId: string): ArrayLike<number> | undefined;
  /** No filter held expires before this (Infinity if none is held). A filter lapses when expiry ≤ now. */
  nextExpiry(): number;
}

export interface AllocatorSnapshot {
  agents: readonly AllocatorAgent[];
  frameworks: readonly AllocatorFramework[];
  /** Role path -> weight (> 0); missing = 1. */
  weights: ReadonlyMap<string, number>;
  /**
   * Decline filters in force at the round's `now`: the agent is not proposed
   * to a framework that filtered it. The master's `DeclineFilters`, expired
   * at `now` first (allocate throws InvalidSnapshotError otherwise).
   */
  filters: FilterView;
  /** Cluster total: the denominator of every share. */
  total: Resources;
}

/** One agent's free resources, proposed whole to one framework for one role. The leader checks and commits it. */
export interface Proposal {
  frameworkId: string;
  agentId: string;
  role: string;
  /**
   * The agent's `free` from the snapshot — the same object, not a copy. Like
   * the snapshot it is read-only: resource arithmetic (lib/resources) never
   * mutates, and callers must not either.
   */
  resources: Resources;
}

export interface AllocateOptions {
  /** Seconds since epoch; compared with filter expiries. */
  now: number;
  /** Uniform in [0, 1); seeded by the caller (see `seededRng`). Shuffles agents and drives the random sorter. */
  rng: () => number;
  /** Default 'drf'. */
  sorter?: SorterKind;
  /** An agent is offered only if free cpus >= cpus OR free mem >= mem. Default {cpus: 0.01, mem: 32} (Mesos' MIN_CPUS, MIN_MEM). */
  minAllocatable?: { cpus: number; mem: number };
}

export const DEFAULT_MIN_ALLOCATABLE: Readonly<{ cpus: number; mem: number }> = Object.freeze({ cpus: 0.01, mem: 32 });
