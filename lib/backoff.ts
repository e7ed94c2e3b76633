/**
 * Reconnection delays: exponential with jitter, so that a hundred
 * frameworks that lost the same master do not come back in lock step.
 */

export interface BackoffOptions {
  /** First delay, in ms (default 200). */
  initialMs?: number;
  /** Cap, in ms (default 5000). */
  maxMs?: number;
}

export const DEFAULT_BACKOFF: Required<BackoffOptions> = { initialMs: 200, maxMs: 5000 };

/**
 * The delay before retry number `attempt` (0-based): `initial · 2^attempt`
 * capped at `max`, then jittered into [d/2, d] ("equal jitter") so that it
 * never collapses to zero. `random` returns a number in [0, 1).
 */
export function backoffDelay(attempt: number, random: () => number, opts: BackoffOptions = {}): number {
  const { initialMs, maxMs } = { ...DEFAULT_BACKOFF, ...opts };
  const d = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  return jitter(d, random);
}

/** `ms` jittered into [ms/2, ms] ("equal jitter"), rounded to whole ms. */
export function jitter(ms: number, random: () => number): number {
  return Math.round(ms / 2 + random() * (ms / 2));
}
