/**
 * A small seeded random source (mulberry32) for the `rng` the allocator is
 * handed: the same seed gives the same sequence on every platform, so a
 * round can be replayed. Not for anything secret.
 */
export function seededRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
