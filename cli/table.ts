/**
 * Plain-text tables and the number formats they use. Pure functions, so the
 * CLI's output can be tested without a master.
 */

/** Columns separated by three spaces, left-aligned, no trailing blanks. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('   ').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** `2`, `0.5`, `0.33`: at most two decimals, no trailing zeros. */
export function num(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  return String(Math.round(x * 100) / 100);
}

/** Megabytes for people: `512MB`, `1.5GB`, `2TB`. */
export function megabytes(mb: number): string {
  if (mb >= 1024 * 1024) return `${num(mb / (1024 * 1024))}TB`;
  if (mb >= 1024) return `${num(mb / 1024)}GB`;
  return `${num(mb)}MB`;
}

/** `used/total`, each formatted with `f`. */
export function usedOf(used: number, total: number, f: (x: number) => string = num): string {
  return `${f(used)}/${f(total)}`;
}

/** Seconds for people: `45s`, `1m30s`, `2h`, `7d`, `1d2h`. Two units at most. */
export function duration(seconds: number): string {
  let s = Math.max(0, Math.round(seconds));
  if (s === 0) return '0s';
  const parts: string[] = [];
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    if (s >= size) {
      parts.push(`${Math.floor(s / size)}${unit}`);
      s %= size;
    }
  }
  return parts.slice(0, 2).join('');
}

/** Cuts `text` to `max` characters with an ellipsis, and keeps it on one line. */
export function truncate(text: string, max: number): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length <= max ? one : `${one.slice(0, max - 1)}…`;
}
