/**
 * From the reconciler's world to a deployment's: the task records and the
 * last plan's waiting instances, counted per app and version, as `advance`
 * reads them. The one place that decides what "alive" means here.
 */
import type { TaskRecord, Waiting } from '../../foundation/index';
import type { Observed, VersionObserved } from './types';
import { hasEnded } from '../../foundation/index';

/**
 * Counts `tasks` per app (`group`) and version: alive = not ended (staging,
 * running, unreachable, being killed); healthy = alive and `isHealthy(task)`,
 * which the caller answers from the app's checks: running, passing its
 * health checks and its readiness checks (just running, for an app with
 * none). `waiting` (the last `Plan.waiting`) gives each version its waiting
 * instances' reasons.
 */
export function observeTasks(tasks: readonly TaskRecord[], waiting: readonly Waiting[], isHealthy: (task: TaskRecord) => boolean): Observed {
  const out: Observed = {};
  const at = (app: string, version: string): VersionObserved => ((out[app] ??= {})[version] ??= { alive: 0, healthy: 0 });
  for (const t of tasks) {
    if (hasEnded(t.state)) continue;
    const v = at(t.group, t.version);
    v.alive++;
    if (isHealthy(t)) v.healthy++;
  }
  for (const w of waiting) {
    const v = at(w.group, w.version);
    v.waiting = [...(v.waiting ?? []), w.reasons];
  }
  return out;
}
