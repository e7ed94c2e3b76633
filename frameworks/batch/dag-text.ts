/**
 * The job DAG as text, for `mezz job graph`: Graphviz DOT and an indented
 * tree. Apart from dag.ts (which needs the foundation for its cycle search)
 * so that the CLI can draw what mezz-batch answers without loading the
 * foundation; it imports nothing, and the lint keeps it so.
 */

/** A job as the DAG sees it. */
export interface DagJob {
  id: string;
  dependencies: readonly string[];
}

/** The jobs that depend on `id` (its children), sorted. */
export function childrenOf(id: string, jobs: readonly DagJob[]): string[] {
  return jobs.filter((j) => j.dependencies.includes(id)).map((j) => j.id).sort();
}

/** The DAG in Graphviz DOT: an edge from each parent to each child. */
export function graphDot(jobs: readonly DagJob[]): string {
  const q = (id: string) => JSON.stringify(id);
  const lines = [...jobs].sort((a, b) => (a.id < b.id ? -1 : 1)).flatMap((j) => (j.dependencies.length ? [...j.dependencies].sort().map((p) => `  ${q(p)} -> ${q(j.id)};`) : [`  ${q(j.id)};`]));
  return `digraph jobs {\n${lines.join('\n')}\n}\n`;
}

/**
 * The DAG as an indented tree from its roots (jobs without parents): a child
 * with several parents appears under each, marked `(also after …)` after the
 * first, so the text stays a tree.
 */
export function graphTree(jobs: readonly DagJob[]): string {
  const byId = new Map(jobs.map((j) => [j.id, j]));
  const out: string[] = [];
  const shown = new Set<string>();
  const walk = (id: string, prefix: string, last: boolean, depth: number): void => {
    const parents = byId.get(id)?.dependencies ?? [];
    const again = shown.has(id);
    const note = parents.length > 1 ? ` (after ${[...parents].sort().join(', ')})` : '';
    out.push(depth === 0 ? `${id}${note}` : `${prefix}${last ? '└── ' : '├── '}${id}${note}${again ? ' …' : ''}`);
    if (again) return;
    shown.add(id);
    const kids = childrenOf(id, jobs);
    const next = depth === 0 ? '' : `${prefix}${last ? '    ' : '│   '}`;
    kids.forEach((k, i) => walk(k, next, i === kids.length - 1, depth + 1));
  };
  for (const root of jobs.filter((j) => j.dependencies.length === 0).map((j) => j.id).sort()) walk(root, '', true, 0);
  return out.join('\n') + (out.length ? '\n' : '');
}
