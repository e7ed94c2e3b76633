/**
 * Durations as people write them: `90`, `90s`, `1500ms`, `5m`, `1h`, `7d`.
 * A bare number is seconds.
 */
const UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

export function parseDuration(text: string | number): number {
  if (typeof text === 'number') return text;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$/.exec(text);
  if (!m) throw new Error(`bad duration "${text}": write a number of seconds or e.g. 500ms, 30s, 5m, 1h, 7d`);
  return Number(m[1]) * UNITS[m[2] ?? 's']!;
}
