/**
 * What the framework has seen of the cluster through its offers: the
 * agents offered lately and their attributes. A `GROUP_BY` without a count
 * spreads over the values of its field seen here, as Marathon's does (it
 * learns the values from the offers it gets): without it the SDK knows only
 * the values that already hold tasks, and the first rack offered would take
 * every instance.
 */
import { fieldValue, type AnyOffer, type ConstraintSpec } from '../sdk/index';

/** An agent not offered for this long no longer counts (it left, or is full for good). */
export const SEEN_FOR_MS = 10 * 60_000;

export class SeenValues {
  /** agent id → its latest offer and when it came. */
  #agents = new Map<string, { offer: AnyOffer; at: number }>();

  constructor(private readonly now: () => number) {}

  offered(offers: readonly AnyOffer[]): void {
    const at = this.now();
    for (const o of offers) if (o.agentId) this.#agents.set(o.agentId, { offer: o, at });
  }

  /** The distinct values of `field` among the agents offered in the last SEEN_FOR_MS. */
  values(field: string): Set<string> {
    const since = this.now() - SEEN_FOR_MS;
    const out = new Set<string>();
    for (const [id, a] of this.#agents) {
      if (a.at < since) this.#agents.delete(id);
      else {
        const v = fieldValue(a.offer, field);
        if (v !== undefined) out.add(v);
      }
    }
    return out;
  }

  /** `specs` with each `[field, GROUP_BY]` given the number of values seen (when more than one): the SDK then spreads evenly over them. */
  withGroupCounts(specs: readonly ConstraintSpec[]): ConstraintSpec[] {
    return specs.map((c) => {
      if (!Array.isArray(c) || c.length !== 2 || String(c[1]).toUpperCase() !== 'GROUP_BY') return c;
      const n = this.values(String(c[0])).size;
      return n > 1 ? [c[0]!, c[1]!, String(n)] : c;
    });
  }
}
