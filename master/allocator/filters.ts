/**
 * Decline filters: "framework f wants no offer of agent a until t". The
 * master keeps them in a `DeclineFilters`; the allocation walk reads them
 * through `FilterView` (types.ts). No clock here: the caller says what `now` is.
 *
 * The same pairs are kept twice, each way for the one who reads it:
 *
 *   frameworks  f ─► {slot, a ─► t}     decline, revive, and checking an expiry
 *   agents      a ─► bitset over slots  the walk: "did f filter a?" is one bit
 *   due         min-heap of times t,    expire(now) visits only the pairs
 *               t ─► pairs lapsing at t   that lapse, not every filter
 *
 * Why a bitset: the walk asks "did f filter a?" once per candidate it tries.
 * Asked of per-framework hash maps, every question was a cache miss somewhere
 * in all the filters there are: ≈ 0.1 µs each with 10,000 filters, ≈ 0.5 µs
 * with 98,000, so rounds slowed as filters piled up (bench/allocator.ts,
 * declining rounds). An agent's bitset is one word per 32 frameworks that
 * hold filters (a cache line for up to 512), read once per agent.
 *
 * Why a heap: the master used to drop lapsed filters by scanning them all
 * every round, O(all filters) — 3 ms a round at 98,000. The bits must be
 * exact at a round's `now`, so the master calls `expire(now)` before every
 * round; `allocate` refuses a snapshot whose filters were not expired.
 */
import { InvalidArgumentError } from '../../lib/errors';
import type { FilterView } from './types';

interface FrameworkFilters {
  /** This framework's bit in every agent's bitset; reused once it has no filters left. */
  readonly slot: number;
  /** agentId → expiry (seconds): the framework's filters. */
  readonly until: Map<string, number>;
}

interface AgentFilters {
  /** Bit `slot` is set ⇔ the framework with that slot filters this agent. */
  bits: Uint32Array;
  /** Bits set; the entry is dropped at 0, so `declinedBy` is undefined for an unfiltered agent. */
  count: number;
}

export class DeclineFilters implements FilterView {
  private readonly frameworks = new Map<string, FrameworkFilters>();
  private readonly agents = new Map<string, AgentFilters>();
  private readonly freeSlots: number[] = [];
  private slots = 0;
  private live = 0;
  /** Distinct times in `due`, as a binary min-heap. */
  private readonly times: number[] = [];
  /** time → [frameworkId, agentId, frameworkId, agentId, …]: the pairs filtered until then when queued. */
  private readonly due = new Map<number, string[]>();
  /** Pairs in `due`, including stale ones (re-filtered to another time, or cleared). */
  private queued = 0;

  /** Filters in force (not yet expired). */
  get size(): number {
    return this.live;
  }

  /**
   * Framework `frameworkId` declines agent `agentId` until `until` (seconds
   * since the epoch), replacing an earlier filter on the same pair. A filter
   * whose time has come is dropped by the next `expire`. Throws
   * InvalidArgumentError for a NaN time, which would never expire.
   */
  add(frameworkId: string, agentId: string, until: number): void {
    if (Number.isNaN(until)) throw new InvalidArgumentError(`filter of agent ${agentId} by framework ${frameworkId}: expiry is NaN`);
    let fw = this.frameworks.get(frameworkId);
    if (fw === undefined) {
      fw = { slot: this.freeSlots.pop() ?? this.slots++, until: new Map() };
      this.frameworks.set(frameworkId, fw);
    }
    const before = fw.until.get(agentId);
    if (before === until) return;
    fw.until.set(agentId, until);
    if (before === undefined) {
      this.setBit(agentId, fw.slot);
      this.live++;
    }
    // The entry queued for `before`, if any, is now stale: expire() skips it.
    this.enqueue(until, frameworkId, agentId);
    if (this.queued > 2 * this.live + 1024) this.requeue();
  }

  /** The expiry of the pair's filter, or undefined if there is none (expired or never set). */
  until(frameworkId: string, agentId: string): number | undefined {
    return this.frameworks.get(frameworkId)?.until.get(agentId);
  }

  /**
   * Drops every filter whose expiry is ≤ `now`; returns how many. Costs
   * O(log distinct times) per time that has come plus O(1) per pair queued
   * for it, whatever the number of filters in force.
   */
  expire(now: number): number {
    let dropped = 0;
    while (this.times.length > 0 && this.times[0]! <= now) {
      const t = popMin(this.times);
      const pairs = this.due.get(t)!;
      this.due.delete(t);
      this.queued -= pairs.length / 2;
      for (let i = 0; i < pairs.length; i += 2) {
        const frameworkId = pairs[i]!;
        const agentId = pairs[i + 1]!;
        // Still filtered until t (not re-filtered or cleared since it was queued)?
        if (this.frameworks.get(frameworkId)?.until.get(agentId) === t) {
          this.delete(frameworkId, agentId);
          dropped++;
        }
      }
    }
    return dropped;
  }

  /** Drops all of a framework's filters: it revived, or it is gone. */
  clearFramework(frameworkId: string): void {
    const fw = this.frameworks.get(frameworkId);
    if (fw === undefined) return;
    for (const agentId of fw.until.keys()) this.clearBit(agentId, fw.slot);
    this.live -= fw.until.size;
    this.frameworks.delete(frameworkId);
    this.freeSlots.push(fw.slot);
  }

  /** Drops every filter on an agent that is gone. O(frameworks holding filters). */
  clearAgent(agentId: string): void {
    for (const [frameworkId, fw] of this.frameworks) if (fw.until.has(agentId)) this.delete(frameworkId, agentId);
  }

  slotOf(frameworkId: string): number {
    return this.frameworks.get(frameworkId)?.slot ?? -1;
  }

  declinedBy(agentId: string): Uint32Array | undefined {
    return this.agents.get(agentId)?.bits;
  }

  nextExpiry(): number {
    return this.times.length > 0 ? this.times[0]! : Infinity;
  }

  /** Every filter in force, [frameworkId, agentId, until]: for views, tests and recording a round. */
  *entries(): IterableIterator<[string, string, number]> {
    for (const [frameworkId, fw] of this.frameworks) for (const [agentId, until] of fw.until) yield [frameworkId, agentId, until];
  }

  private delete(frameworkId: string, agentId: string): void {
    const fw = this.frameworks.get(frameworkId)!;
    fw.until.delete(agentId);
    this.live--;
    this.clearBit(agentId, fw.slot);
    if (fw.until.size === 0) {
      this.frameworks.delete(frameworkId);
      this.freeSlots.push(fw.slot);
    }
  }

  private setBit(agentId: string, slot: number): void {
    let agent = this.agents.get(agentId);
    const words = (this.slots + 31) >>> 5;
    if (agent === undefined) {
      agent = { bits: new Uint32Array(words), count: 0 };
      this.agents.set(agentId, agent);
    } else if (agent.bits.length <= slot >>> 5) {
      // Slots handed out since this bitset was made: widen it (old bits kept, new ones 0).
      const wider = new Uint32Array(words);
      wider.set(agent.bits);
      agent.bits = wider;
    }
    agent.bits[slot >>> 5]! |= 1 << (slot & 31);
    agent.count++;
  }

  private clearBit(agentId: string, slot: number): void {
    const agent = this.agents.get(agentId)!;
    agent.bits[slot >>> 5]! &= ~(1 << (slot & 31));
    if (--agent.count === 0) this.agents.delete(agentId);
  }

  private enqueue(until: number, frameworkId: string, agentId: string): void {
    let pairs = this.due.get(until);
    if (pairs === undefined) {
      pairs = [];
      this.due.set(until, pairs);
      pushMin(this.times, until);
    }
    pairs.push(frameworkId, agentId);
    this.queued++;
  }

  /** Rebuilds the queue from the filters in force, when stale entries (left by revives and re-filters) outnumber them. */
  private requeue(): void {
    this.times.length = 0;
    this.due.clear();
    this.queued = 0;
    for (const [frameworkId, agentId, until] of this.entries()) this.enqueue(until, frameworkId, agentId);
  }
}

function pushMin(heap: number[], x: number): void {
  let i = heap.length;
  heap.push(x);
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (heap[p]! <= x) break;
    heap[i] = heap[p]!;
    i = p;
  }
  heap[i] = x;
}

function popMin(heap: number[]): number {
  const top = heap[0]!;
  const last = heap.pop()!;
  const n = heap.length;
  if (n === 0) return top;
  let i = 0;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= n) break;
    const c = l + 1 < n && heap[l + 1]! < heap[l]! ? l + 1 : l;
    if (heap[c]! >= last) break;
    heap[i] = heap[c]!;
    i = c;
  }
  heap[i] = last;
  return top;
}
