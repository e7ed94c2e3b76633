/**
 * Where the services framework keeps what it was asked for and what it
 * launched, in the leader's fenced FrameworkState: `apps/<id>` (the app with
 * its version and assigned service ports) and `tasks/<task id>` (the
 * reconciler's records). Written BEFORE anything acts on them, so a next
 * leader finds every app and every task a previous one may have launched.
 */
import type { FrameworkState, TaskRecord } from '../foundation/index';
import { LimitExceededError } from '../../lib/errors';
import type { App } from './app-schema';

/** An app as stored: the definition (service ports filled in) and when it last changed. */
export interface StoredApp {
  app: App;
  /** Marathon's `version`: the ISO time of the last change. */
  version: string;
  /**
   * The last change other than `instances` (Marathon's
   * `versionInfo.lastConfigChangeAt`): the version tasks run, so a scale
   * keeps the running tasks and a real change replaces them.
   */
  configVersion: string;
}

/** Whether `next` differs from `previous` in more than its instance count. */
export function configChanged(previous: App, next: App): boolean {
  return JSON.stringify({ ...previous, instances: 0 }) !== JSON.stringify({ ...next, instances: 0 });
}

/** A task record as stored: the reconciler's, plus the host ports it was given (for /v2/tasks). */
export interface ServiceTask extends TaskRecord {
  ports?: number[];
}

/** Marathon assigns service ports from here up (its `local_port_min`). */
export const SERVICE_PORT_MIN = 10000;
export const SERVICE_PORT_MAX = 20000;

const appKey = (id: string) => `apps/${encodeURIComponent(id)}`;
const taskKey = (taskId: string) => `tasks/${taskId}`;

export async function loadApps(state: FrameworkState): Promise<Map<string, StoredApp>> {
  return new Map((await state.list<StoredApp>('apps/')).map((e) => [e.value.app.id, e.value]));
}

export async function loadTasks(state: FrameworkState): Promise<Map<string, ServiceTask>> {
  return new Map((await state.list<ServiceTask>('tasks/')).map((e) => [e.value.taskId, e.value]));
}

export const putApp = (state: FrameworkState, stored: StoredApp) => state.put(appKey(stored.app.id), stored);
export const deleteApp = (state: FrameworkState, id: string) => state.delete(appKey(id));
export const putTasks = (state: FrameworkState, records: readonly ServiceTask[]) =>
  state.txn(records.map((r) => ({ op: 'put' as const, key: taskKey(r.taskId), value: r })));
export const deleteTask = (state: FrameworkState, taskId: string) => state.delete(taskKey(taskId));

/**
 * `app` with every `port: 0` replaced by the lowest service port no other
 * app holds (cluster-unique, as Marathon's). Ports the app already holds in
 * `previous` are kept, so an update does not move them.
 */
export function assignServicePorts(app: App, others: Iterable<StoredApp>, previous?: App): App {
  const taken = new Set<number>();
  for (const o of others) if (o.app.id !== app.id) for (const p of o.app.portDefinitions) taken.add(p.port);
  for (const p of app.portDefinitions) if (p.port) taken.add(p.port);
  const kept = (previous?.portDefinitions ?? []).map((p) => p.port).filter((p) => p >= SERVICE_PORT_MIN && !taken.has(p));
  let next = SERVICE_PORT_MIN;
  const fresh = () => {
    const reuse = kept.shift();
    if (reuse !== undefined) return taken.add(reuse), reuse;
    while (taken.has(next)) next++;
    if (next > SERVICE_PORT_MAX) throw new LimitExceededError(`no free service port left in ${SERVICE_PORT_MIN}–${SERVICE_PORT_MAX}: give the port definition a port, or delete an app`);
    taken.add(next);
    return next;
  };
  return { ...app, portDefinitions: app.portDefinitions.map((p) => (p.port ? p : { ...p, port: fresh() })) };
}
