/**
 * The services framework's HTTP API: Marathon's /v2 paths, status codes and
 * JSON shapes (/work/shared/reference/framework-apis.md), served by the
 * leader. App bodies are read by `parseApp` (Marathon's 422 shape, YAML
 * accepted), not by a route schema; a refused body changes nothing.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { isTerminal } from '../sdk/index';
import type { Api } from '../foundation/index';
import { NotFoundError } from '../../lib/errors';
import { invalidBody, mergeApp, parseApp } from './app-spec';
import { resolveAppId } from './app-id';
import type { App } from './app-schema';
import type { ServiceTask, StoredApp } from './app-store';
import type { ServicesScheduler } from './scheduler';

/** What the API needs of the runner. */
export interface Leadership {
  leaderAddress(): string | undefined;
  abdicate(): Promise<boolean>;
}

const Any = Type.Any();
const AppPath = Type.Object({ '*': Type.String() });
const AppsQuery = Type.Object({ id: Type.Optional(Type.String()), embed: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())])) });
const PutQuery = Type.Object({ partialUpdate: Type.Optional(Type.Boolean()), force: Type.Optional(Type.Boolean()) });
const DeleteQuery = Type.Object({ force: Type.Optional(Type.Boolean()) });

/** An app id from a path (`/v2/apps/shop/web` → `/shop/web`), or '/' if it does not resolve (the handler then refuses it). */
function pathId(wildcard: string): string {
  const r = resolveAppId(`/${wildcard.replace(/\/+$/, '')}`);
  return 'id' in r ? r.id : '/';
}

/** The id a POST body names, for the ACL check (the body is validated after). */
function bodyId(body: unknown): string {
  const id = body && typeof body === 'object' ? (body as { id?: unknown }).id : undefined;
  const r = typeof id === 'string' ? resolveAppId(id) : undefined;
  return r && 'id' in r ? r.id : '/';
}

const rawBody = (request: unknown) => (request as FastifyRequest).body;

export function addServiceRoutes(api: Api, scheduler: ServicesScheduler, runner: Leadership): void {
  const counts = (id: string) => taskCounts(scheduler.tasks(id));
  const appJson = (s: StoredApp, embedTasks = false) => ({
    ...s.app,
    version: s.version,
    versionInfo: { lastScalingAt: s.version, lastConfigChangeAt: s.configVersion },
    ...counts(s.app.id),
    deployments: [],
    ...(embedTasks ? { tasks: scheduler.tasks(s.app.id).map(taskJson) } : {}),
  });

  api.route({
    method: 'POST', url: '/v2/apps', schema: { response: { 201: Any, 409: Any, 422: Any } },
    authz: { action: 'framework_write', object: (r) => bodyId(rawBody(r)) },
    handler: async (request, reply) => {
      const parsed = parseApp(rawBody(request));
      if (parsed.errors) return reply.code(422).send(invalidBody(parsed.errors));
      if (scheduler.app(parsed.app.id)) return reply.code(409).send({ message: `An app with id [${parsed.app.id}] already exists.` });
      const stored = await scheduler.putApp(parsed.app);
      const deploymentId = randomUUID();
      void reply.code(201).headers({ location: `/v2/apps${stored.app.id}`, 'marathon-deployment-id': deploymentId });
      return { ...appJson(stored), deployments: [{ id: deploymentId }] };
    },
  });

  api.route({
    method: 'GET', url: '/v2/apps', schema: { querystring: AppsQuery, response: { 200: Any } },
    authz: { action: 'framework_read' },
    handler: async (request) => {
      const embed = [request.query.embed ?? []].flat().flatMap((e) => e.split(','));
      const apps = scheduler.apps().filter((s) => !request.query.id || s.app.id.includes(request.query.id));
      return { apps: apps.map((s) => appJson(s, embed.includes('apps.tasks'))) };
    },
  });

  api.route({
    method: 'GET', url: '/v2/apps/*', schema: { params: AppPath, response: { 200: Any } },
    authz: { action: 'framework_read', object: (r) => appOrTasks(r.params['*']).id },
    handler: async (request) => {
      const { id, tasks } = appOrTasks(request.params['*']);
      const stored = scheduler.app(id);
      if (!stored) throw new NotFoundError(`App '${id}' does not exist`);
      return tasks ? { tasks: scheduler.tasks(id).map(taskJson) } : { app: appJson(stored, true) };
    },
  });

  api.route({
    method: 'PUT', url: '/v2/apps/*', schema: { params: AppPath, querystring: PutQuery, response: { 200: Any, 201: Any, 422: Any } },
    authz: { action: 'framework_write', object: (r) => pathId(r.params['*']) },
    handler: async (request, reply) => {
      const id = pathId(request.params['*']);
      const stored = scheduler.app(id);
      const parsed = stored && request.query.partialUpdate !== false
        ? mergeUpdate(stored.app, rawBody(request))
        : parseApp(withId(rawBody(request), id));
      if (parsed.errors) return reply.code(422).send(invalidBody(parsed.errors));
      const next = await scheduler.putApp({ ...parsed.app, id });
      const deploymentId = randomUUID();
      void reply.code(stored ? 200 : 201).header('marathon-deployment-id', deploymentId);
      return { deploymentId, version: next.version };
    },
  });

  api.route({
    method: 'DELETE', url: '/v2/apps/*', schema: { params: AppPath, querystring: DeleteQuery, response: { 200: Any } },
    authz: { action: 'framework_delete', object: (r) => pathId(r.params['*']) },
    handler: async (request, reply) => {
      const gone = await scheduler.deleteApp(pathId(request.params['*']));
      const deploymentId = randomUUID();
      void reply.header('marathon-deployment-id', deploymentId);
      return { deploymentId, version: gone.version };
    },
  });

  api.route({
    method: 'GET', url: '/v2/tasks', schema: { response: { 200: Any } },
    authz: { action: 'framework_read' },
    handler: async () => ({ tasks: scheduler.tasks().map(taskJson) }),
  });

  api.route({
    method: 'GET', url: '/v2/queue', schema: { response: { 200: Any } },
    authz: { action: 'framework_read' },
    handler: async () => ({ queue: queueJson(scheduler) }),
  });

  api.route({
    method: 'GET', url: '/v2/info', schema: { response: { 200: Any } },
    authz: { action: 'framework_read' },
    handler: async () => ({ name: 'mezz-services', version: '0.1.0', elected: scheduler.leading(), leader: runner.leaderAddress() ?? null }),
  });

  api.route({
    method: 'GET', url: '/v2/leader', schema: { response: { 200: Any } },
    authz: { action: 'framework_read' },
    handler: async () => {
      const leader = runner.leaderAddress();
      if (!leader) throw new NotFoundError('There is no leader');
      return { leader };
    },
  });

  api.route({
    method: 'DELETE', url: '/v2/leader', schema: { response: { 200: Any } },
    authz: { action: 'framework_write', object: () => 'leader' },
    handler: async () => {
      if (!(await runner.abdicate())) throw new NotFoundError('There is no leader');
      return { message: 'Leadership abdicated' };
    },
  });
}

/** `/v2/apps/<id>/tasks` is the app's tasks; Marathon reads the path the same way. */
function appOrTasks(wildcard: string): { id: string; tasks: boolean } {
  const m = /^(.*)\/tasks\/?$/.exec(wildcard);
  return m ? { id: pathId(m[1]!), tasks: true } : { id: pathId(wildcard), tasks: false };
}

function withId(body: unknown, id: string): unknown {
  return body && typeof body === 'object' && !Array.isArray(body) ? { ...body, id } : body;
}

/** Marathon's partial PUT. One carrying `version` asks for a rollback, which needs the stored versions this slice does not keep: refused, not ignored. */
function mergeUpdate(stored: App, body: unknown) {
  const update = parseApp(body, { partial: true });
  if (update.errors) return update;
  if (update.app.version !== undefined) return { errors: [{ path: '/version', errors: ['rolling back to a stored version is not supported yet'] }] };
  return mergeApp(stored, update.app);
}

function taskCounts(tasks: readonly ServiceTask[]) {
  const staged = tasks.filter((t) => t.state === 'TASK_STAGING' || t.state === 'TASK_STARTING').length;
  const running = tasks.filter((t) => t.state === 'TASK_RUNNING');
  return {
    tasksStaged: staged,
    tasksRunning: running.length,
    tasksHealthy: running.filter((t) => t.healthy === true).length,
    tasksUnhealthy: running.filter((t) => t.healthy === false).length,
  };
}

/** A task as Marathon shows it. */
function taskJson(t: ServiceTask) {
  return {
    id: t.taskId,
    appId: t.group,
    host: t.hostname ?? '',
    ports: t.ports ?? [],
    slaveId: t.agentId ?? '',
    state: t.state,
    stagedAt: new Date(t.launchedAt).toISOString(),
    ...(t.startedAt !== undefined ? { startedAt: new Date(t.startedAt).toISOString() } : {}),
    version: t.version,
    ...(t.healthy !== undefined && !isTerminal(t.state) ? { healthCheckResults: [{ taskId: t.taskId, alive: t.healthy }] } : {}),
  };
}

/** Per app with instances waiting: Marathon's queue entry, plus every refusal counted over its waiting instances. */
function queueJson(scheduler: ServicesScheduler) {
  const now = Date.now();
  const byApp = new Map<string, { count: number; reasons: Record<string, number>; backoffUntil: number }>();
  for (const w of scheduler.waiting()) {
    const e = byApp.get(w.group) ?? byApp.set(w.group, { count: 0, reasons: {}, backoffUntil: 0 }).get(w.group)!;
    e.count++;
    for (const [r, n] of Object.entries(w.reasons)) e.reasons[r] = (e.reasons[r] ?? 0) + n;
    e.backoffUntil = Math.max(e.backoffUntil, w.backoffUntil ?? 0);
  }
  return [...byApp].flatMap(([id, e]) => {
    const stored = scheduler.app(id);
    if (!stored) return [];
    const left = Math.max(0, Math.ceil((e.backoffUntil - now) / 1000));
    return [{
      app: { ...stored.app, version: stored.version },
      count: e.count,
      delay: { timeLeftSeconds: left, overdue: left === 0 },
      reasons: e.reasons,
    }];
  });
}

