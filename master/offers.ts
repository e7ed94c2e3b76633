/**
 * Offers: the allocation round (snapshot → pure allocator → checked
 * proposals → OFFERS events), decline filters, and taking offers back
 * (rescind, timeout).
 *
 *   change ─▶ schedule (coalesced, allocationBatchMs) ─▶ snapshot ─▶ allocate() ─▶ re-check ─▶ OFFERS
 */
import * as res from '../lib/resources';
import { type AgentProfile, allocate, type AllocatorSnapshot, DeclineFilters } from './allocator';
import type { Cluster } from './cluster';
import type { Timer } from './clock';
import type { AgentRecord, FrameworkRecord, OfferRecord } from './state';

/** Used when a decline sets no refuse_seconds (as in Mesos). */
export const DEFAULT_REFUSE_SECONDS = 5;

export interface OffersOptions {
  /** Seconds an offer may be held before it is rescinded; 0: forever. */
  offerTimeout: number;
  /** Window in ms within which changes are coalesced into one allocation round. */
  allocationBatchMs: number;
  /** Identifies this master's offers (offer ids are unique across leaders). */
  idPrefix: string;
}

export class Offers {
  /**
   * Every framework's decline filters, in the layout the allocator reads
   * (allocator/filters.ts); expired at the start of each round.
   */
  readonly filters = new DeclineFilters();
  private seq = 0;
  private rngState = 0x9e3779b9;
  private timer?: Timer;
  /** Each agent's free bag with the bags it was computed from; bags are never changed in place, only replaced. */
  private readonly freeBags = new WeakMap<AgentRecord, { total: res.Resources; used: res.Resources; offered: res.Resources; free: res.Resources }>();
  /** Each agent's profile for offer constraints, kept while its hostname and attributes stay, so no Map is built per round. */
  private readonly profiles = new WeakMap<AgentRecord, { hostname: string; attributes: AgentRecord['attributes']; profile: AgentProfile }>();

  constructor(private readonly c: Cluster, private readonly opts: OffersOptions) {}

  /** Coalesces changes within a short window into one allocation round. */
  schedule(): void {
    if (this.timer || this.c.stopped) return;
    this.timer = this.c.clock.after(this.opts.allocationBatchMs, () => {
      this.timer = undefined;
      this.allocateNow();
    });
  }

  stop(): void {
    this.timer?.cancel();
    for (const o of this.c.offers.values()) o.timer?.cancel();
  }

  private random(): number {
    // mulberry32: seeded, so a round can be replayed from the master's state.
    let t = (this.rngState = (this.rngState + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Builds the snapshot, asks the allocator, and commits its proposals as offers. */
  allocateNow(): void {
    if (this.c.stopped) return;
    const nowSec = this.c.now() / 1000;
    const snapshot = this.snapshot(nowSec);
    if (!snapshot.agents.length || !snapshot.frameworks.length) return;
    const proposals = allocate(snapshot, { now: nowSec, rng: () => this.random() });
    const byFramework = new Map<FrameworkRecord, OfferRecord[]>();
    for (const p of proposals) {
      const fw = this.c.frameworks.get(p.frameworkId);
      const agent = this.c.agents.get(p.agentId);
      // Re-check what the allocator proposed before committing it.
      if (!fw?.link || !agent?.link || agent.status !== 'ACTIVE') continue;
      const free = this.freeOf(agent);
      if (!res.contains(free, p.resources)) {
        this.c.log.error(`allocator proposed ${res.format(p.resources)} on agent ${agent.id} with only ${res.format(free)} free; skipped`);
        continue;
      }
      const offer: OfferRecord = {
        id: `${this.opts.idPrefix}-o${++this.seq}`, frameworkId: fw.id, agentId: agent.id, role: p.role,
        resources: p.resources, createdAt: this.c.now(),
      };
      this.c.offers.set(offer.id, offer);
      agent.offered = res.add(agent.offered, offer.resources);
      agent.offers.add(offer.id);
      fw.offers.add(offer.id);
      this.c.addAllocation(fw, offer.role, offer.resources);
      if (this.opts.offerTimeout > 0) {
        offer.timer = this.c.clock.after(this.opts.offerTimeout * 1000, () => this.expire(offer));
      }
      const list = byFramework.get(fw) ?? [];
      list.push(offer);
      byFramework.set(fw, list);
    }
    for (const [fw, offers] of byFramework) {
      this.c.send(fw, {
        offers: {
          offers: offers.map((o) => {
            const agent = this.c.agents.get(o.agentId)!;
            return {
              id: o.id, frameworkId: fw.id, agentId: o.agentId, hostname: agent.hostname, resources: res.toProto(o.resources),
              attributes: agent.attributes, allocationRole: o.role,
            };
          }),
        },
      });
    }
  }

  /**
   * Rounds run every few milliseconds while anything changes, so the
   * snapshot costs O(agents) cheap steps: agents with nothing free are left
   * out (the allocator would skip them), an agent's free bag is recomputed
   * only when one of its bags changed (see `freeOf`), and the total sums
   * scalars only (the allocator reads nothing else of it: shares).
   * Measured at 10,000 agents all offered: 42 ms a round before, 3 ms after.
   * Filters are expired by visiting only those that lapse, not all of them
   * (3 ms a round at 98,000 filters when every one was scanned).
   */
  private snapshot(nowSec: number): AllocatorSnapshot {
    const agents: AllocatorSnapshot['agents'][number][] = [];
    const frameworks: AllocatorSnapshot['frameworks'][number][] = [];
    const filters = this.filters;
    filters.expire(nowSec);
    const total: res.Resources = { cpus: 0, mem: 0, disk: 0, gpus: 0, ports: [] };
    const weights = this.c.weights;
    for (const fw of this.c.frameworks.values()) {
      if (fw.status !== 'ACTIVE' || !fw.link) continue;
      frameworks.push({
        id: fw.id, roles: fw.roles, gpuCapable: fw.capabilities.has('GPU_RESOURCES'), suppressedRoles: fw.suppressedRoles,
        allocated: fw.allocated, offerConstraints: fw.offerConstraints,
      });
    }
    if (!frameworks.length) return { agents, frameworks, weights, filters, total };
    for (const a of this.c.agents.values()) {
      if (a.status !== 'ACTIVE') continue;
      total.cpus += a.total.cpus;
      total.mem += a.total.mem;
      total.disk += a.total.disk;
      total.gpus += a.total.gpus;
      if (!a.link) continue;
      const free = this.freeOf(a);
      if (free.cpus <= 0 && free.mem <= 0 && free.disk <= 0 && free.gpus <= 0 && free.ports.length === 0) continue;
      agents.push({ id: a.id, total: a.total, free, profile: this.profileOf(a) });
    }
    return { agents, frameworks, weights, filters, total };
  }

  /** The agent's hostname and attributes as offer constraints read them; a new object only when either was replaced. */
  private profileOf(a: AgentRecord): AgentProfile {
    const cached = this.profiles.get(a);
    if (cached && cached.hostname === a.hostname && cached.attributes === a.attributes) return cached.profile;
    const profile: AgentProfile = { hostname: a.hostname, attributes: new Map(a.attributes.map((x) => [x.name, x.text])) };
    this.profiles.set(a, { hostname: a.hostname, attributes: a.attributes, profile });
    return profile;
  }

  /** total − used − offered, recomputed only when one of the three was replaced since the last call. Read-only. */
  private freeOf(a: AgentRecord): res.Resources {
    const cached = this.freeBags.get(a);
    if (cached && cached.total === a.total && cached.used === a.used && cached.offered === a.offered) return cached.free;
    const free = res.subtract(res.subtract(a.total, a.used), a.offered);
    this.freeBags.set(a, { total: a.total, used: a.used, offered: a.offered, free });
    return free;
  }

  /** Filters `agentId` from `fw` for `refuseSeconds` (default 5; 0 or less: no filter). */
  filter(fw: FrameworkRecord, agentId: string, refuseSeconds: number | undefined): void {
    const secs = refuseSeconds ?? DEFAULT_REFUSE_SECONDS;
    if (!(secs > 0)) return;
    this.filters.add(fw.id, agentId, this.c.now() / 1000 + secs);
  }

  /** Forgets an offer (accepted, declined or taken back): its resources return to the agent's free pool. */
  remove(offer: OfferRecord): void {
    if (!this.c.offers.delete(offer.id)) return;
    offer.timer?.cancel();
    const agent = this.c.agents.get(offer.agentId);
    if (agent) {
      agent.offered = res.subtract(agent.offered, offer.resources);
      agent.offers.delete(offer.id);
    }
    const fw = this.c.frameworks.get(offer.frameworkId);
    if (fw) {
      fw.offers.delete(offer.id);
      this.c.subtractAllocation(fw, offer.role, offer.resources);
    }
  }

  /** Takes an offer back and tells its framework. */
  rescind(offer: OfferRecord, reason: string): void {
    if (!this.c.offers.has(offer.id)) return;
    this.remove(offer);
    const fw = this.c.frameworks.get(offer.frameworkId);
    if (fw) this.c.send(fw, { rescind: { offerId: offer.id, reason } });
    this.schedule();
  }

  /**
   * An offer held past --offer-timeout goes back, and its agent is filtered
   * from the holder as if declined: otherwise DRF, finding the holder still
   * the neediest, offers it right back and an idle framework hoards for ever.
   */
  private expire(offer: OfferRecord): void {
    this.rescind(offer, `the offer was held longer than ${this.opts.offerTimeout}s (master flag --offer-timeout)`);
    const fw = this.c.frameworks.get(offer.frameworkId);
    if (fw) this.filter(fw, offer.agentId, undefined);
  }

  rescindAll(ids: Iterable<string>, reason: string): void {
    for (const id of [...ids]) {
      const o = this.c.offers.get(id);
      if (o) this.rescind(o, reason);
    }
  }
}
