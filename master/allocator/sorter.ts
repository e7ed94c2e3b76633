/**
 * "Who goes next", separate from "what they get" (Mesos `sorter/sorter.hpp`).
 * A sorter keeps clients — role paths, or framework ids within one role —
 * with what each has been allocated, and orders them. The allocation loop
 * (allocate.ts) asks it for the first client it can use and tells it what
 * that client got; the sorter never sees agents, filters or offers.
 */
import type { Resources } from '../../lib/resources';

/**
 * The scalar part of a bag of resources: what shares are computed from.
 * Ports are not counted, as in Mesos' sorters (a range is not a quantity).
 * A `Resources` is a `Quantities`, so either can be passed in.
 */
export interface Quantities {
  cpus: number;
  mem: number;
  disk: number;
  gpus: number;
}

export type SorterKind = 'drf' | 'random';

export interface SorterOptions {
  /**
   * Whether client names are '/'-separated paths forming a tree (`eng/ml` is
   * a child of `eng`). True for the role sorter; false for the framework
   * sorter of a role, whose clients are opaque framework ids.
   */
  hierarchical: boolean;
}

/**
 * An ordered set of clients with their allocations.
 *
 * Contract shared by every implementation (test/unit/sorter.test.ts runs one
 * suite against each):
 * - Clients are added active unless `{active: false}`; only active clients
 *   appear in `sort()` and `first()`, but every client's allocation counts
 *   towards its ancestors' (a suppressed framework still holds what it holds).
 * - In a hierarchical sorter a client may also be an ancestor of another
 *   client (`eng` and `eng/ml`); both are ordered.
 * - `allocation(path)` and `share(path)` accept a client or an inner role
 *   path; an inner node's allocation is the sum over its subtree.
 * - Methods throw UnknownClientError / DuplicateClientError /
 *   InvalidRoleError / InvalidWeightError / AllocationUnderflowError rather
 *   than silently repairing bad bookkeeping. Nothing is idempotent except
 *   `activate`, `deactivate` and `setWeight`.
 */
export interface Sorter {
  readonly kind: SorterKind;

  /** The cluster total: the denominator of every share. */
  setTotal(total: Quantities): void;

  /** Adds a client with nothing allocated. Throws DuplicateClientError, InvalidRoleError. */
  add(client: string, opts?: { active?: boolean }): void;

  /** Removes a client; what it held no longer counts towards its ancestors. */
  remove(client: string): void;

  contains(client: string): boolean;

  /** Puts a client back into the order. Idempotent. */
  activate(client: string): void;

  /** Keeps a client's allocation but leaves it out of the order. Idempotent. */
  deactivate(client: string): void;

  /**
   * Sets the weight of a role path (client or inner node); missing = 1. May be
   * called before the path exists. Shares are compared as share / weight.
   */
  setWeight(path: string, weight: number): void;

  /** The client (and each ancestor) now holds `resources` more. */
  allocated(client: string, resources: Quantities): void;

  /** The client (and each ancestor) holds `resources` less. Throws AllocationUnderflowError past zero. */
  unallocated(client: string, resources: Quantities): void;

  /**
   * What the subtree at a role path holds: a client's own allocation, or for an
   * inner path (including a client that also has child roles) the sum below it.
   * Zero for a valid path no client lies under.
   */
  allocation(path: string): Quantities;

  /** Dominant share of `allocation(path)` against the total, unweighted. */
  share(path: string): number;

  /** Every active client exactly once, in this sorter's order. For views and tests. */
  sort(): string[];

  /**
   * The first active client in this sorter's order that `accept` takes, or
   * undefined. For DRF this equals `sort().find(accept)`, computed without
   * sorting: the allocation loop calls it once per agent. `accept` must not
   * modify this sorter.
   */
  first(accept: (client: string) => boolean): string | undefined;
}
