/**
 * A token bucket per key (a principal, a peer host): each key may do
 * `burst` things at once and `ratePerSecond` on average. The master limits
 * SUBSCRIBEs with it; the frameworks' HTTP APIs reuse it. Time comes from an
 * injected clock, so a test moves it by hand.
 *
 *   tokens(t) = min(burst, tokens(t0) + (t - t0) / 1000 × ratePerSecond)
 *   a take costs one token; with less than one, it is refused and told when
 *   the next token is due: (1 - tokens) / ratePerSecond seconds.
 */

export interface RateLimitOptions {
  /** Tokens added per second; 0: no limit (every take is allowed). */
  ratePerSecond: number;
  /** Most tokens a key holds: how many takes may come at once after a quiet spell. */
  burst: number;
  /** ms since the epoch. */
  now(): number;
}

export type RateDecision = { ok: true } | { ok: false; retryAfterMs: number };

interface Bucket { tokens: number; at: number }

/** Keys kept before full buckets (as good as absent) are swept out, so that keys seen once do not pile up. */
const SWEEP_FLOOR = 1024;

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private sweepAt = SWEEP_FLOOR;

  constructor(private readonly opts: RateLimitOptions) {
    if (!(opts.ratePerSecond >= 0) || !Number.isFinite(opts.ratePerSecond)) throw new RangeError(`rate must be a finite number ≥ 0, got ${opts.ratePerSecond}`);
    if (!(opts.burst >= 1) || !Number.isFinite(opts.burst)) throw new RangeError(`burst must be a finite number ≥ 1, got ${opts.burst}`);
  }

  /** Takes one token of `key`: allowed, or refused with how long until one is due. Never throws. */
  take(key: string): RateDecision {
    if (this.opts.ratePerSecond === 0) return { ok: true };
    const now = this.opts.now();
    const bucket = this.refill(this.buckets.get(key), now);
    if (bucket.tokens < 1) {
      this.buckets.set(key, bucket);
      return { ok: false, retryAfterMs: Math.ceil(((1 - bucket.tokens) / this.opts.ratePerSecond) * 1000) };
    }
    bucket.tokens -= 1;
    this.buckets.set(key, bucket);
    if (this.buckets.size >= this.sweepAt) this.sweep(now);
    return { ok: true };
  }

  /** Keys currently tracked (for tests and for a bound on memory). */
  get size(): number {
    return this.buckets.size;
  }

  private refill(bucket: Bucket | undefined, now: number): Bucket {
    if (!bucket) return { tokens: this.opts.burst, at: now };
    // A clock that stepped back adds nothing (and takes nothing away).
    const elapsed = Math.max(0, now - bucket.at);
    return { tokens: Math.min(this.opts.burst, bucket.tokens + (elapsed / 1000) * this.opts.ratePerSecond), at: Math.max(now, bucket.at) };
  }

  private sweep(now: number): void {
    for (const [key, b] of this.buckets) if (this.refill(b, now).tokens >= this.opts.burst) this.buckets.delete(key);
    this.sweepAt = Math.max(SWEEP_FLOOR, 2 * this.buckets.size);
  }
}

/** "retry in 1.3 s", for a refusal's message. */
export function retryIn(ms: number): string {
  return `retry in ${ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`}`;
}
