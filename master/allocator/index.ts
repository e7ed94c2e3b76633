/**
 * The allocator: a pure function from a snapshot of agents, frameworks,
 * weights and filters to proposals, ordered by hierarchical DRF; and the
 * decline filters the master keeps for it. See README.md.
 */
export type { AllocateOptions, AllocatorAgent, AllocatorFramework, AllocatorSnapshot, FilterView, Proposal } from './types';
export { DEFAULT_MIN_ALLOCATABLE } from './types';
export { allocate } from './allocate';
export type { AgentProfile, ConstraintPredicate, ConstraintSelector, ConstraintTest } from './offer-constraints';
export { EMPTY_PROFILE, OfferConstraint, wholeValueRegex } from './offer-constraints';
export { DeclineFilters } from './filters';
export type { Quantities, Sorter, SorterKind, SorterOptions } from './sorter';
export { DrfSorter, dominantShare } from './sorter-drf';
export { RandomSorter } from './sorter-random';
export { seededRng } from './rng';
export {
  AllocationUnderflowError,
  DuplicateClientError,
  InvalidRoleError,
  InvalidSnapshotError,
  InvalidWeightError,
  UnknownClientError,
} from './errors';
