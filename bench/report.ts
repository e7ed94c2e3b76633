/** What benches report, and the one table they are printed in. */

/** One figure a bench reports; `goal` is what it must meet, in words (e.g. "≤ 50 ms"). */
export interface BenchRow {
  name: string;
  value: number;
  unit: string;
  goal?: string;
  note?: string;
  /** Why the figure could not be measured here (e.g. etcd is not installed); the row then shows "skipped". */
  skipped?: string;
}

export function formatTable(rows: readonly BenchRow[]): string {
  const cells = rows.map((r) => [
    r.name,
    r.skipped ? 'skipped' : `${r.value < 10 ? r.value.toFixed(2) : r.value.toFixed(1)} ${r.unit}`,
    r.goal ?? '',
    r.skipped ? '' : r.goal ? (meets(r) ? 'ok' : 'MISSED') : '',
    r.skipped ?? r.note ?? '',
  ]);
  const head = ['figure', 'value', 'goal', '', 'note'];
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((x, i) => x.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

/** Reads goals of the form "≤ N" or "≥ N" against the value in the row's own unit; a figure that could not be measured (NaN) misses. */
export function meets(row: BenchRow): boolean {
  if (row.skipped) return true;
  const g = goalBound(row.goal);
  if (!g) return true;
  return g.op === '≤' ? row.value <= g.bound : row.value >= g.bound;
}

/** The comparison and the number of a goal "≤ N" / "≥ N" (thousands separators allowed), or undefined for none. */
export function goalBound(goal: string | undefined): { op: '≤' | '≥'; bound: number } | undefined {
  const m = /^([≤≥])\s*([\d.,]+)/.exec(goal ?? '');
  return m ? { op: m[1] as '≤' | '≥', bound: Number(m[2]!.replace(/,/g, '')) } : undefined;
}

/**
 * The figure as a share of its goal, for a note: "0.42× the goal". Below 1
 * meets a "≤" goal, above 1 a "≥" one; '' without a goal.
 */
export function ofGoal(value: number, goal: string): string {
  const g = goalBound(goal);
  return g && g.bound > 0 ? `${(value / g.bound).toFixed(2)}× the goal` : '';
}

