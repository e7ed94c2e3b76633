/**
 * One allocation round: snapshot in, proposals out. Pure — no clock, no
 * randomness, no I/O but what is passed in.
 *
 *   build sorters ──► shuffle agents ──► for each agent:
 *   (role tree +       (rng)               allocatable? ─► role sorter.first(role ⇒
 *    one framework                                           framework sorter.first(fw ⇒
 *    sorter per role)                                          GPU ok ∧ not filtered))
 *                                                          ─► propose whole agent,
 *                                                             grow both sorters' allocation
 *
 * Suppression is static within a round, so it is applied once, by leaving
 * the (framework, role) client inactive; only the per-agent checks (GPU,
 * filters, offer constraints) run inside the walk, where rejected clients are skipped in order
 * without re-sorting (sorter-drf.ts `search`). A filter check is one bit of
 * the agent's `declinedBy` bitset (filters.ts). In the common case the first
 * candidate takes the agent: O(log frameworks) per agent. Offer constraints
 * cost one `undefined` check for a framework without them; with them, a map
 * lookup and the constraint's tests (offer-constraints.ts).
 */
import { InvalidSnapshotError } from './errors';
import type { Sorter } from './sorter';
import { DrfSorter } from './sorter-drf';
import { RandomSorter } from './sorter-random';
import { type AgentProfile, EMPTY_PROFILE, type OfferConstraint } from './offer-constraints';
import type { AllocateOptions, AllocatorSnapshot, Proposal } from './types';
import { DEFAULT_MIN_ALLOCATABLE } from './types';

interface FrameworkView {
  gpuCapable: boolean;
  /** This framework's bit in an agent's `declinedBy` bitset (-1: it filters nothing), looked up once per round. */
  filterSlot: number;
  /** Role → constraint; undefined when it has none, so unconstrained frameworks pay one check. */
  constraints: ReadonlyMap<string, OfferConstraint> | undefined;
}

/**
 * Proposes each allocatable agent, whole, to the first (framework, role) in
 * hierarchical-DRF order (or random order, with `sorter: 'random'`) that
 * holds the role unsuppressed, has no unexpired filter for the agent, whose
 * offer constraints for that role (if any) the agent passes, and — for an
 * agent with GPUs — declared GPU capability. Every agent appears in
 * at most one proposal; an agent nobody can take gets none.
 *
 * Deterministic: the same snapshot, `now` and rng sequence give the same
 * proposals. Throws InvalidSnapshotError for duplicate framework ids or for
 * filters not expired at `now`, and InvalidRoleError / InvalidWeightError
 * for malformed roles or weights.
 */
export function allocate(snapshot: AllocatorSnapshot, opts: AllocateOptions): Proposal[] {
  const { now, rng } = opts;
  const filters = snapshot.filters;
  // The walk reads filters as bits, which know no time: lapsed ones must be gone already.
  const nextExpiry = filters.nextExpiry();
  if (nextExpiry <= now) {
    throw new InvalidSnapshotError(`a decline filter expiring at ${nextExpiry} is still held at now = ${now}; call expire(now) on the filters before allocating`);
  }
  const min = opts.minAllocatable ?? DEFAULT_MIN_ALLOCATABLE;
  const newSorter = (hierarchical: boolean): Sorter =>
    opts.sorter === 'random' ? new RandomSorter(rng, { hierarchical }) : new DrfSorter({ hierarchical });

  // Roles compete in one hierarchical sorter; inside each role, its frameworks in a flat one.
  const roleSorter = newSorter(true);
  roleSorter.setTotal(snapshot.total);
  for (const [path, weight] of snapshot.weights) roleSorter.setWeight(path, weight);
  const frameworkSorters = new Map<string, Sorter>();
  const activeInRole = new Map<string, number>();
  const frameworkSorterOf = (role: string): Sorter => {
    let sorter = frameworkSorters.get(role);
    if (sorter === undefined) {
      roleSorter.add(role, { active: false });
      sorter = newSorter(false);
      sorter.setTotal(snapshot.total);
      frameworkSorters.set(role, sorter);
      activeInRole.set(role, 0);
    }
    return sorter;
  };

  const views = new Map<string, FrameworkView>();
  let gpuCapableClients = 0;
  let anyConstrained = false;
  for (const fw of snapshot.frameworks) {
    if (views.has(fw.id)) throw new InvalidSnapshotError(`framework ${fw.id} appears twice`);
    const constraints = fw.offerConstraints !== undefined && fw.offerConstraints.size > 0 ? fw.offerConstraints : undefined;
    views.set(fw.id, { gpuCapable: fw.gpuCapable, filterSlot: filters.slotOf(fw.id), constraints });
    if (constraints !== undefined) anyConstrained = true;
    for (const role of new Set(fw.roles)) {
      const active = !fw.suppressedRoles.has(role);
      frameworkSorterOf(role).add(fw.id, { active });
      if (active) {
        activeInRole.set(role, activeInRole.get(role)! + 1);
        if (fw.gpuCapable) gpuCapableClients++;
      }
    }
    for (const [role, resources] of fw.allocated) {
      const sorter = frameworkSorterOf(role);
      if (!sorter.contains(fw.id)) sorter.add(fw.id, { active: false });
      sorter.allocated(fw.id, resources);
      roleSorter.allocated(role, resources);
    }
  }
  // A role competes only while some framework can take offers in it.
  for (const [role, count] of activeInRole) if (count > 0) roleSorter.activate(role);

  const proposals: Proposal[] = [];
  if (snapshot.agents.length === 0 || frameworkSorters.size === 0) return proposals;

  // The agent under consideration, read by the two predicates below (made once, not per agent).
  let gpuAgent = false;
  let declinedBy: ArrayLike<number> | undefined;
  let profile: AgentProfile = EMPTY_PROFILE;
  let role = '';
  let chosen: string | undefined;
  const acceptFramework = (frameworkId: string): boolean => {
    const view = views.get(frameworkId)!;
    if (gpuAgent && !view.gpuCapable) return false;
    const slot = view.filterSlot;
    if (declinedBy !== undefined && slot >= 0) {
      const word = slot >>> 5;
      if (word < declinedBy.length && ((declinedBy[word]! >>> (slot & 31)) & 1) !== 0) return false;
    }
    if (view.constraints !== undefined) {
      const constraint = view.constraints.get(role);
      if (constraint !== undefined && !constraint.admits(profile)) return false;
    }
    return true;
  };
  const acceptRole = (candidate: string): boolean => {
    role = candidate;
    chosen = frameworkSorters.get(candidate)!.first(acceptFramework);
    return chosen !== undefined;
  };

  const order = shuffledIndices(snapshot.agents.length, rng);
  for (let i = 0; i < order.length; i++) {
    const agent = snapshot.agents[order[i]!]!;
    const free = agent.free;
    if (!(free.cpus >= min.cpus || free.mem >= min.mem)) continue;
    if (free.cpus <= 0 && free.mem <= 0 && free.disk <= 0 && free.gpus <= 0 && free.ports.length === 0) continue;
    gpuAgent = agent.total.gpus > 0;
    if (gpuAgent && gpuCapableClients === 0) continue;
    // Once per agent: every candidate tried for it then reads the same few words.
    declinedBy = filters.declinedBy(agent.id);
    if (anyConstrained) profile = agent.profile ?? EMPTY_PROFILE;
    const taken = roleSorter.first(acceptRole);
    if (taken === undefined) continue;
    const frameworkId = chosen!;
    // The agent's own `free` object, not a copy: both are read-only, and copying
    // 10k port lists per round costs more in garbage collection than the rest of the round.
    proposals.push({ frameworkId, agentId: agent.id, role: taken, resources: free });
    // Shares converge because the next agent already sees this one counted.
    roleSorter.allocated(taken, free);
    frameworkSorters.get(taken)!.allocated(frameworkId, free);
  }
  return proposals;
}

/** A uniformly shuffled 0..n-1 (Fisher–Yates), so no agent is always first. */
function shuffledIndices(n: number, rng: () => number): Int32Array {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.min(i, Math.floor(rng() * (i + 1)));
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return order;
}
