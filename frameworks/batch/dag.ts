/**
 * Job DAGs (issue 12, `dependencies: [{id}]`), as pure functions of the jobs
 * and their runs' history: which dependencies are refused (an unknown parent,
 * a cycle, named), which children are due (a child runs when every parent has
 * succeeded since the child's own last run — so D of A → {B, C} → D does not
 * run when C fails); the graph as text for `mezz job graph` is dag-text.ts'.
 */
import { findCycle } from '../foundation/index';
import type { DagJob } from './dag-text';

// The graph as text lives apart, free of the foundation, for the CLI to draw.
export { childrenOf, type DagJob, graphDot, graphTree } from './dag-text';

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
