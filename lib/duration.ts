/**
 * Durations as people write them: `90`, `90s`, `1500ms`, `5m`, `1h`, `7d`.
 * A bare number is seconds.
 */
const UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** Seconds in `text`; throws naming the accepted forms. */
export function parseDuration(text: string | number): number {
  if (typeof text === 'number') return text;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$/.exec(text);
  if (!m) throw new Error(`bad duration "${text}": write a number of seconds or e.g. 500ms, 30s, 5m, 1h, 7d`);
  const n = Number(m[1]);
  // Divided, not multiplied by 0.001: 1100 / 1000 is exactly the double 1.1, 1100 * 0.001 is not.
  return m[2] === 'ms' ? n / 1000 : n * UNITS[m[2] ?? 's']!;
}

/** Whole units tried in turn; weeks are left out, since `7d` reads better than `1w`. */
const WHOLE_UNITS: [string, number][] = [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]];

/**
 * `seconds` written so that `parseDuration` reads it back exactly: in the
 * largest unit that holds it a whole number of times (3 → `3s`, 600 →
 * `10m`, 604800 → `7d`), else in whole milliseconds (0.5 → `500ms`, 1.5 →
 * `1500ms`), else in decimal seconds. Throws a RangeError for a negative,
 * infinite or NaN value, or one no such text reads back as (under 1 µs,
 * or beyond 10^21 s).
 */
export function formatDuration(seconds: number): string {
  if (!(Number.isFinite(seconds) && seconds >= 0)) throw new RangeError(`cannot write ${seconds} as a duration: it must be a finite number of seconds ≥ 0`);
  if (seconds === 0) return '0s';
  const candidates = [
    ...WHOLE_UNITS.filter(([, size]) => Number.isInteger(seconds / size)).map(([unit, size]) => `${seconds / size}${unit}`),
    `${Math.round(seconds * 1000)}ms`,
    // String(x) is the shortest decimal that reads back as x (written with an exponent below 1e-6 and from 1e21).
    `${seconds}s`,
  ];
  const text = candidates.find((c) => !c.includes('e') && parseDuration(c) === seconds);
  if (text === undefined) throw new RangeError(`cannot write ${seconds} seconds as a duration: under 1 µs or over 10^21 s`);
  return text;
}
