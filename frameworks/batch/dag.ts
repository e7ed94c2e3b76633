/**
 * Job DAGs (issue 12, `dependencies: [{id}]`), as pure functions of the jobs
 * and their runs' history: which dependencies are refused (an unknown parent,
 * a cycle, named), which children are due (a child runs when every parent has
 * succeeded since the child's own last run — so D of A → {B, C} → D does not
 * run when C fails), and the graph as text for `mezz job graph`.
 */
import { findCycle } from '../foundation/index';

/** A job as the DAG sees it. */
export interface DagJob {
  id: string;
  dependencies: readonly string[];
}

/** What the history says of one job: times in ms since the epoch. */
export interface DagHistory {
  /** When its latest successful run ended. */
  lastSuccessAt?: number;
  /** When its latest run (of any outcome) started. */
  lastStartAt?: number;
  /** A run of it is active now. */
  active?: boolean;
}

export interface FieldError {
  path: string;
  errors: string[];
}

/**
 * The refusals for `job` joining (or changing in) `jobs`: each unknown
 * parent at `/dependencies/<i>/id`, a dependency on itself, and a cycle the
 * change would close, named as its path.
 */
export function dependencyErrors(job: DagJob, jobs: readonly DagJob[]): FieldError[] {
  const world = new Map(jobs.map((j) => [j.id, j.dependencies]));
  world.set(job.id, job.dependencies);
  const errors: FieldError[] = [];
  job.dependencies.forEach((parent, i) => {
    if (parent === job.id) errors.push({ path: `/dependencies/${i}/id`, errors: [`job ${job.id} cannot depend on itself`] });
    else if (!world.has(parent)) errors.push({ path: `/dependencies/${i}/id`, errors: [`no job ${parent}: create it first, or remove the dependency`] });
  });
  if (errors.length) return errors;
  const cycle = findCycle((id) => world.get(id), [job.id]);
  return cycle ? [{ path: '/dependencies', errors: [`dependency cycle: ${cycle.join(' → ')}`] }] : [];
}

/** The jobs that depend on `id` (its children), sorted. */
export function childrenOf(id: string, jobs: readonly DagJob[]): string[] {
  return jobs.filter((j) => j.dependencies.includes(id)).map((j) => j.id).sort();
}

/**
 * Whether a child with parents is due: not running, and every parent has
 * succeeded after the child's last run started (or at all, for a child that
 * never ran). A job without parents is never due this way (it runs on demand
 * or by schedule). Answers the reason when it is not, for "why did D not run?".
 */
export function isDue(job: DagJob, history: (id: string) => DagHistory): { due: true } | { due: false; why: string } {
  if (job.dependencies.length === 0) return { due: false, why: 'it has no dependencies: it runs on demand or by schedule' };
  const own = history(job.id);
  if (own.active) return { due: false, why: 'a run of it is active' };
  const since = own.lastStartAt ?? -Infinity;
  const waiting = job.dependencies.filter((p) => (history(p).lastSuccessAt ?? -Infinity) <= since);
  if (waiting.length === 0) return { due: true };
  const when = own.lastStartAt === undefined ? 'yet' : 'since its last run';
  return { due: false, why: `waiting for ${waiting.join(', ')} to succeed ${when}` };
}

/** The children of `parent` due now that it succeeded: each only once all its parents have. */
export function dueAfterSuccess(parent: string, jobs: readonly DagJob[], history: (id: string) => DagHistory): string[] {
  return jobs.filter((j) => j.dependencies.includes(parent) && isDue(j, history).due).map((j) => j.id).sort();
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
