/**
 * Where the services framework keeps what it was asked for and what it
 * launched, in the leader's fenced FrameworkState: `apps/<id>` (the app with
 * its version and assigned service ports), `versions/<id>/<version>` (every
 * definition it had, for rollbacks and for the old tasks of a rolling
 * update), `deployments/<id>` and `tasks/<task id>` (the reconciler's
 * records). Written BEFORE anything acts on them, so a next leader finds
 * every app, deployment and task a previous one may have started.
 */
import { writeAll, type FrameworkState, type StateOp, type TaskRecord } from '../foundation/index';
import { LimitExceededError } from '../../lib/errors';
import type { App } from './app-schema';
import type { CheckResult } from './app-task';
import type { Deployment } from './deployments/index';

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
  /** When an operator last reset the crash-loop delay (`DELETE /v2/queue/{id}/delay`), ms since the epoch. */
  delayResetAt?: number;
}

/** Whether `next` differs from `previous` in more than its instance count. */
export function configChanged(previous: App, next: App): boolean {
  return JSON.stringify({ ...previous, instances: 0 }) !== JSON.stringify({ ...next, instances: 0 });
}

/** A task record as stored: the reconciler's, plus the host ports it was given and its check's latest result (for /v2/tasks). */
export interface ServiceTask extends TaskRecord {
  ports?: number[];
  checkResult?: CheckResult;
}

/** Marathon assigns service ports from here up (its `local_port_min`). */
export const SERVICE_PORT_MIN = 10000;
export const SERVICE_PORT_MAX = 20000;

/** Versions kept per app, as Marathon's `max_versions` default; the oldest go first. */
export const MAX_VERSIONS = 50;

const appKey = (id: string) => `apps/${encodeURIComponent(id)}`;
const versionKey = (id: string, version: string) => `versions/${encodeURIComponent(id)}/${version}`;
const deploymentKey = (id: string) => `deployments/${id}`;
const taskKey = (taskId: string) => `tasks/${taskId}`;

export async function loadApps(state: FrameworkState): Promise<Map<string, StoredApp>> {
  return new Map((await state.list<StoredApp>('apps/')).map((e) => [e.value.app.id, e.value]));
}

export async function loadTasks(state: FrameworkState): Promise<Map<string, ServiceTask>> {
  return new Map((await state.list<ServiceTask>('tasks/')).map((e) => [e.value.taskId, e.value]));
}

/** Every stored version of every app, oldest first per app. */
export async function loadVersions(state: FrameworkState): Promise<Map<string, StoredApp[]>> {
  const out = new Map<string, StoredApp[]>();
  for (const { value } of await state.list<StoredApp>('versions/')) (out.get(value.app.id) ?? out.set(value.app.id, []).get(value.app.id)!).push(value);
  for (const list of out.values()) list.sort((a, b) => (a.version < b.version ? -1 : 1));
  return out;
}

export async function loadDeployments(state: FrameworkState): Promise<Map<string, Deployment>> {
  return new Map((await state.list<Deployment>('deployments/')).map((e) => [e.value.id, e.value]));
}

/** The ops that store an app as its current definition and as a version. */
export const putAppOps = (stored: StoredApp): StateOp[] => [
  { op: 'put', key: appKey(stored.app.id), value: stored },
  { op: 'put', key: versionKey(stored.app.id, stored.version), value: stored },
];
export const deleteAppOps = (id: string): StateOp[] => [{ op: 'delete', key: appKey(id) }];
export const deleteVersionOps = (id: string, versions: readonly string[]): StateOp[] => versions.map((v) => ({ op: 'delete', key: versionKey(id, v) }));
export const putDeploymentOps = (deployments: readonly Deployment[]): StateOp[] => deployments.map((d) => ({ op: 'put', key: deploymentKey(d.id), value: d }));
export const deleteDeploymentOps = (ids: readonly string[]): StateOp[] => ids.map((id) => ({ op: 'delete', key: deploymentKey(id) }));


export const putTasks = (state: FrameworkState, records: readonly ServiceTask[]) =>
  writeAll(state, records.map((r) => ({ op: 'put' as const, key: taskKey(r.taskId), value: r })));
export const deleteTaskOps = (taskIds: readonly string[]): StateOp[] => taskIds.map((id) => ({ op: 'delete', key: taskKey(id) }));

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
