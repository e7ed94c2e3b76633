/**
 * The token bucket of lib/rate-limit.ts on a clock moved by hand: the burst,
 * the refill rate, the time it says to wait, keys kept apart, and a property
 * test that no window lets through more than burst + rate × its length.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { RateLimiter, retryIn } from '../../lib/rate-limit';

function limiter(ratePerSecond: number, burst: number) {
  let t = 1_700_000_000_000;
  const l = new RateLimiter({ ratePerSecond, burst, now: () => t });
  return { l, advance: (ms: number) => (t += ms) };
}

const takes = (l: RateLimiter, key: string, n: number) => Array.from({ length: n }, () => l.take(key).ok).filter(Boolean).length;

describe('RateLimiter', () => {
  test('a burst of `burst` at once, then refused with the time to the next token', () => {
    const { l } = limiter(10, 20);
    assert.equal(takes(l, 'a', 25), 20);
    const d = l.take('a');
    assert.deepEqual(d, { ok: false, retryAfterMs: 100 }); // 1 token at 10/s: 100 ms
  });

  test('refills at the rate, never above the burst', () => {
    const { l, advance } = limiter(10, 20);
    takes(l, 'a', 20);
    advance(250); // 2.5 tokens
    assert.equal(takes(l, 'a', 5), 2);
    assert.deepEqual(l.take('a'), { ok: false, retryAfterMs: 50 }); // 0.5 token left: 0.5 / 10 s
    advance(3_600_000); // an hour: full again, but only 20
    assert.equal(takes(l, 'a', 30), 20);
  });

  test('keys have buckets of their own', () => {
    const { l } = limiter(1, 2);
    assert.equal(takes(l, 'a', 3), 2);
    assert.equal(takes(l, 'b', 3), 2);
  });

  test('a clock that steps back neither adds nor takes tokens', () => {
    const { l, advance } = limiter(1, 1);
    assert.equal(l.take('a').ok, true);
    advance(-10_000);
    assert.equal(l.take('a').ok, false);
    advance(10_000 + 1000);
    assert.equal(l.take('a').ok, true);
  });

  test('rate 0 is no limit', () => {
    const { l } = limiter(0, 1);
    assert.equal(takes(l, 'a', 1000), 1000);
  });

  test('refuses settings that make no bucket', () => {
    for (const [rate, burst] of [[-1, 1], [Number.NaN, 1], [1, 0], [1, Number.POSITIVE_INFINITY]] as const) {
      assert.throws(() => new RateLimiter({ ratePerSecond: rate, burst, now: () => 0 }), RangeError);
    }
  });

  test('keys whose buckets are full again are swept out, so one-off keys do not pile up', () => {
    const { l, advance } = limiter(10, 2);
    for (let i = 0; i < 1023; i++) l.take(`k${i}`);
    advance(1000); // every bucket full again
    l.take('last'); // the 1024th key triggers a sweep
    assert.equal(l.size, 1);
  });

  test('property: no window lets more than burst + rate × its length through', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 50 }), fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 300 }),
      (rate, burst, gaps) => {
        const { l, advance } = limiter(rate, burst);
        const allowedAt: number[] = [];
        let now = 0;
        for (const gap of gaps) {
          advance(gap);
          now += gap;
          if (l.take('k').ok) allowedAt.push(now);
        }
        for (let i = 0; i < allowedAt.length; i++) {
          for (let j = i; j < allowedAt.length; j++) {
            const window = allowedAt[j]! - allowedAt[i]!;
            assert.ok(j - i + 1 <= burst + (window / 1000) * rate + 1e-9, `${j - i + 1} takes in ${window} ms at ${rate}/s, burst ${burst}`);
          }
        }
      },
    ), { seed: 10, numRuns: 200 });
  });

  test('retryIn says ms below a second, seconds above', () => {
    assert.equal(retryIn(100), 'retry in 100 ms');
    assert.equal(retryIn(1500), 'retry in 1.5 s');
  });
});
