/**
 * The services framework's HTTP API: Marathon's /v2 paths, status codes and
 * JSON shapes (/work/shared/reference/framework-apis.md), served by the
 * leader. App bodies are read by `parseApp` (Marathon's 422 shape, YAML
 * accepted), not by a route schema; a refused body changes nothing. Every
 * change is a deployment (`scheduler.deploy`): 409 while another holds the
 * app, unless `force`.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { addLeaderRoutes, type Api, type Leadership } from '../foundation/index';
import { NotFoundError } from '../../lib/errors';
import { invalidBody, mergeApp, parseApp, type ParseResult } from './app-spec';
import { resolveAppId } from './app-id';
import type { App } from './app-schema';
import { appJson, appListJson, queueJson, taskJson } from './api-json';
import { addGroupRoutes } from './api-groups';
import { deploymentJson, type DeploymentJson } from './deployments/index';
import type { AppChange, DeployResult, ServicesScheduler } from './scheduler';

const Any = Type.Any();
const Wildcard = Type.Object({ '*': Type.String() });
const IdParam = Type.Object({ id: Type.String() });
const AppsQuery = Type.Object({ id: Type.Optional(Type.String()), embed: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())])) });
/** `deadlineSeconds`: this request's deadline for a deployment without progress (Mezzanine's; 600 s by default). */
const Deadline = Type.Optional(Type.Integer({ minimum: 1, maximum: 86400 }));
const ChangeQuery = Type.Object({ force: Type.Optional(Type.Boolean()), deadlineSeconds: Deadline });
const PutQuery = Type.Object({ partialUpdate: Type.Optional(Type.Boolean()), force: Type.Optional(Type.Boolean()), deadlineSeconds: Deadline });
const KillQuery = Type.Object({ scale: Type.Optional(Type.Boolean()), wipe: Type.Optional(Type.Boolean()), force: Type.Optional(Type.Boolean()), host: Type.Optional(Type.String()) });
const TaskIds = Type.Object({ ids: Type.Array(Type.String({ minLength: 1, maxLength: 512 }), { maxItems: 1000 }) }, { additionalProperties: false });
/** Bulk updates at most this many apps at once. */
const MAX_BULK = 100;

/** An app id from a path (`shop/web` → `/shop/web`), or '/' if it does not resolve (the handler then refuses it). */
function pathId(path: string): string {
  const r = resolveAppId(`/${path.replace(/\/+$/, '')}`);
  return 'id' in r ? r.id : '/';
}

/** The id a body names, for the ACL check (the body is validated after). */
function bodyId(body: unknown): string {
  const id = body && typeof body === 'object' ? (body as { id?: unknown }).id : undefined;
  const r = typeof id === 'string' ? resolveAppId(id) : undefined;
  return r && 'id' in r ? r.id : '/';
}

/**
 * What a path under `/v2/apps/` names: the app, its tasks (or one task), its
 * versions (or one), or its restart. Marathon reads these suffixes the same way.
 */
type AppPath = { id: string; sub?: 'tasks' | 'versions' | 'restart'; arg?: string };
function appPath(wildcard: string): AppPath {
  const m = /^(.*?)\/(tasks|versions)(?:\/([^/]+))?\/?$/.exec(wildcard) ?? /^(.*?)\/(restart)\/?$/.exec(wildcard);
  if (!m) return { id: pathId(wildcard) };
  return { id: pathId(m[1]!), sub: m[2] as AppPath['sub'], ...(m[3] ? { arg: decodeURIComponent(m[3]) } : {}) };
}

const rawBody = (request: unknown) => (request as FastifyRequest).body;

function withId(body: unknown, id: string): unknown {
  return body && typeof body === 'object' && !Array.isArray(body) ? { ...body, id } : body;
}

export function addServiceRoutes(api: Api, scheduler: ServicesScheduler, runner: Leadership): void {
  /** Answers a deployment's result: 409 for a conflict, 422 for a plan refused, else `ok`. */
  const answer = (reply: FastifyReply, r: DeployResult, ok: (deploymentId: string) => unknown) => {
    if (r.kind === 'conflict') return reply.code(409).send({ message: r.message, deployments: r.deployments });
    if (r.kind === 'invalid') return reply.code(422).send({ message: r.message });
    void reply.header('marathon-deployment-id', r.deployment.id);
    return ok(r.deployment.id);
  };
  /** A change answered as Marathon's PUT, restart and DELETE are: `{deploymentId, version}` (the app's new version). */
  const change = (reply: FastifyReply, c: AppChange, q: { force?: boolean; deadlineSeconds?: number }, code = 200) =>
    scheduler.deploy(c, options(q)).then((r) =>
      answer(reply.code(r.kind === 'deployed' ? code : 200), r, (deploymentId) => ({ deploymentId, version: r.kind === 'deployed' ? (r.apps[0]?.version ?? r.deployment.version) : '' })));

  addGroupRoutes(api, scheduler);

  api.route({
    method: 'POST', url: '/v2/apps', schema: { querystring: ChangeQuery, response: { 201: Any, 409: Any, 422: Any } },
    authz: { action: 'framework_write', object: (r) => bodyId(rawBody(r)) },
    handler: async (request, reply) => {
      const parsed = parseApp(rawBody(request));
      if (parsed.errors) return reply.code(422).send(invalidBody(parsed.errors));
      if (scheduler.app(parsed.app.id)) return reply.code(409).send({ message: `An app with id [${parsed.app.id}] already exists.` });
      const r = await scheduler.deploy({ put: [parsed.app] }, options(request.query));
      return answer(reply, r, (id) => {
        const stored = scheduler.app(parsed.app.id)!;
        void reply.code(201).header('location', `/v2/apps${stored.app.id}`);
        return { ...appJson(scheduler, stored), deployments: [{ id }] };
      });
    },
  });

  api.route({
    method: 'GET', url: '/v2/apps', schema: { querystring: AppsQuery, response: { 200: Any } },
    authz: { action: 'framework_read' },
    handler: async (request, reply) => {
      const embed = [request.query.embed ?? []].flat().flatMap((e) => e.split(','));
      const apps = scheduler.apps().filter((s) => !request.query.id || s.app.id.includes(request.query.id));
      if (embed.includes('apps.tasks')) return { apps: apps.map((s) => appJson(scheduler, s, true)) };
      return reply.type('application/json').send(appListJson(scheduler, apps));
    },
  });

  // Bulk PUT and PATCH: several apps (each with its id) in one deployment; PATCH is always partial.
  for (const method of ['PUT', 'PATCH'] as const) {
    api.route({
      method, url: '/v2/apps', schema: { querystring: PutQuery, response: { 200: Any, 409: Any, 422: Any } },
      authz: { action: 'framework_write' },
      handler: async (request, reply) => {
        const body = rawBody(request);
        if (!Array.isArray(body)) return reply.code(422).send(invalidBody([{ path: '/', errors: ['expected an array of apps, each with its id'] }]));
        if (body.length > MAX_BULK) return reply.code(422).send(invalidBody([{ path: '/', errors: [`at most ${MAX_BULK} apps at once; got ${body.length}`] }]));
        const apps: App[] = [];
        const errors = body.flatMap((item, i) => {
          const parsed = updated(scheduler, bodyId(item), item, method === 'PATCH' || request.query.partialUpdate !== false);
          if (parsed.app) apps.push(parsed.app);
          return (parsed.errors ?? []).map((e) => ({ ...e, path: `/${i}${e.path === '/' ? '' : e.path}` }));
        });
        if (errors.length) return reply.code(422).send(invalidBody(errors));
        return change(reply, { put: apps }, request.query);
      },
    });
  }

  api.route({
    method: 'GET', url: '/v2/apps/*', schema: { params: Wildcard, response: { 200: Any } },
    authz: { action: 'framework_read', object: (r) => appPath(r.params['*']).id },
    handler: async (request) => {
      const { id, sub, arg } = appPath(request.params['*']);
      const stored = scheduler.app(id);
      if (!stored) throw new NotFoundError(`App '${id}' does not exist`);
      if (sub === 'tasks') return { tasks: scheduler.tasks(id).map(taskJson) };
      if (sub === 'versions' && !arg) return { versions: scheduler.versions(id).map((v) => v.version) };
      if (sub === 'versions') return { ...storedVersion(scheduler, id, arg!).app, version: arg };
      if (sub) throw new NotFoundError(`GET /v2/apps/${request.params['*']}: no such resource`);
      return { app: appJson(scheduler, stored, true) };
    },
  });

  for (const method of ['PUT', 'PATCH'] as const) {
    api.route({
      method, url: '/v2/apps/*', schema: { params: Wildcard, querystring: PutQuery, response: { 200: Any, 201: Any, 409: Any, 422: Any } },
      authz: { action: 'framework_write', object: (r) => pathId(r.params['*']) },
      handler: async (request, reply) => {
        const id = pathId(request.params['*']);
        const exists = scheduler.app(id) !== undefined;
        const parsed = updated(scheduler, id, rawBody(request), method === 'PATCH' || request.query.partialUpdate !== false);
        if (parsed.errors) return reply.code(422).send(invalidBody(parsed.errors));
        return change(reply, { put: [parsed.app] }, request.query, exists ? 200 : 201);
      },
    });
  }

  api.route({
    method: 'POST', url: '/v2/apps/*', schema: { params: Wildcard, querystring: ChangeQuery, response: { 200: Any, 409: Any } },
    authz: { action: 'framework_write', object: (r) => appPath(r.params['*']).id },
    handler: async (request, reply) => {
      const { id, sub } = appPath(request.params['*']);
      if (sub !== 'restart') throw new NotFoundError(`POST /v2/apps/${request.params['*']}: no such resource (did you mean POST /v2/apps or …/restart?)`);
      return change(reply, { restart: [id] }, request.query);
    },
  });

  api.route({
    method: 'DELETE', url: '/v2/apps/*', schema: { params: Wildcard, querystring: Type.Intersect([ChangeQuery, KillQuery]), response: { 200: Any, 409: Any } },
    authz: { action: 'framework_delete', object: (r) => appPath(r.params['*']).id },
    handler: async (request, reply) => {
      const { id, sub, arg } = appPath(request.params['*']);
      // Marathon's DELETE of an app always wins: it supersedes a running deployment.
      if (!sub) return change(reply, { remove: [id] }, { ...request.query, force: true });
      if (sub !== 'tasks') throw new NotFoundError(`DELETE /v2/apps/${request.params['*']}: no such resource`);
      scheduler.requireApp(id);
      const ids = arg ? [arg] : scheduler.tasks(id).filter((t) => !request.query.host || t.hostname === request.query.host).map((t) => t.taskId);
      for (const taskId of ids) if (!scheduler.tasks(id).some((t) => t.taskId === taskId)) throw new NotFoundError(`Task '${taskId}' of app '${id}' does not exist`);
      const killed = await scheduler.killTasks(ids, request.query.scale === true);
      if (request.query.scale) return { deploymentId: scheduler.deploymentOf(id)?.id ?? null, version: scheduler.app(id)?.version };
      return arg ? { task: taskJson(killed[0]!) } : { tasks: killed.map(taskJson) };
    },
  });

  api.route({
    method: 'GET', url: '/v2/tasks', schema: { response: { 200: Any } },
    authz: { action: 'framework_read' },
    handler: async () => ({ tasks: scheduler.tasks().map(taskJson) }),
  });

  api.route({
    method: 'POST', url: '/v2/tasks/delete', schema: { body: TaskIds, querystring: KillQuery, response: { 200: Any } },
    authz: { action: 'framework_delete' },
    handler: async (request) => {
      const killed = await scheduler.killTasks(request.body.ids, request.query.scale === true);
      return { tasks: killed.map(taskJson) };
    },
  });

  api.route({
    method: 'GET', url: '/v2/queue', schema: { response: { 200: Any } },
    authz: { action: 'framework_read' },
    handler: async () => ({ queue: queueJson(scheduler, Date.now()) }),
  });

  api.route({
    method: 'DELETE', url: '/v2/queue/*', schema: { params: Wildcard, response: { 204: Any } },
    authz: { action: 'framework_write', object: (r) => pathId(r.params['*'].replace(/\/delay\/?$/, '')) },
    handler: async (request, reply) => {
      const m = /^(.*)\/delay\/?$/.exec(request.params['*']);
      if (!m) throw new NotFoundError(`DELETE /v2/queue/${request.params['*']}: no such resource (DELETE /v2/queue/{appId}/delay resets a delay)`);
      await scheduler.resetDelay(pathId(m[1]!));
      return reply.code(204).send();
    },
  });

  api.route({
    method: 'GET', url: '/v2/deployments', schema: { response: { 200: Any } },
    authz: { action: 'framework_read' },
    handler: async () => scheduler.deployments().map((d) => withReadiness(scheduler, deploymentJson(d))),
  });

  // Mezzanine's: one deployment, running or finished (the last 50 are kept), so a client can learn how it ended.
  api.route({
    method: 'GET', url: '/v2/deployments/:id', schema: { params: IdParam, response: { 200: Any } },
    authz: { action: 'framework_read' },
    handler: async (request) => {
      const d = scheduler.deployment(request.params.id);
      if (!d) throw new NotFoundError(`DeploymentPlan ${request.params.id} does not exist`);
      return withReadiness(scheduler, deploymentJson(d));
    },
  });

  api.route({
    method: 'DELETE', url: '/v2/deployments/:id', schema: { params: IdParam, querystring: Type.Object({ force: Type.Optional(Type.Boolean()) }), response: { 200: Any, 202: Any } },
    authz: { action: 'framework_write' },
    handler: async (request, reply) => {
      const { rollback } = await scheduler.cancel(request.params.id, request.query.force === true);
      if (!rollback) return reply.code(202).send({});
      void reply.header('marathon-deployment-id', rollback.id);
      return { deploymentId: rollback.id, version: rollback.version };
    },
  });

  api.route({
    method: 'GET', url: '/v2/info', schema: { response: { 200: Any } },
    authz: { action: 'framework_read' },
    handler: async () => ({ name: 'mezz-services', version: '0.1.0', elected: scheduler.leading(), leader: runner.leaderAddress() ?? null }),
  });

  addLeaderRoutes(api, runner, ['/v2/leader']);
}

/** A deployment's current actions with their readiness check results, as Marathon shows them. */
function withReadiness(scheduler: ServicesScheduler, d: DeploymentJson): DeploymentJson {
  return { ...d, currentActions: d.currentActions.map((a) => ({ ...a, readinessCheckResults: scheduler.readinessResults(a.app) })) };
}

function options(q: { force?: boolean; deadlineSeconds?: number }) {
  return { force: q.force === true, ...(q.deadlineSeconds ? { deadlineSeconds: q.deadlineSeconds } : {}) };
}

/** A stored version of an app, or 404 naming it. */
function storedVersion(scheduler: ServicesScheduler, id: string, version: string) {
  const s = scheduler.versions(id).find((v) => v.version === version);
  if (!s) throw new NotFoundError(`App '${id}' has no version '${version}' (GET /v2/apps${id}/versions lists them)`);
  return s;
}

/**
 * The app `body` makes of `id`: a partial update merged onto the stored app
 * (Marathon's PUT), a whole definition, or — a body carrying `version` — the
 * stored version it names (a rollback).
 */
function updated(scheduler: ServicesScheduler, id: string, body: unknown, partial: boolean): ParseResult<App> {
  const stored = scheduler.app(id);
  if (!stored || !partial) return mapId(parseApp(withId(body, id)), id);
  const update = parseApp(body, { partial: true });
  if (update.errors) return update;
  if (update.app.version !== undefined) {
    const s = scheduler.versions(id).find((v) => v.version === update.app.version);
    if (!s) return { errors: [{ path: '/version', errors: [`app ${id} has no version ${update.app.version}: GET /v2/apps${id}/versions lists them`] }] };
    return { app: s.app };
  }
  return mergeApp(stored.app, update.app);
}

function mapId(r: ParseResult<App>, id: string): ParseResult<App> {
  return r.app ? { app: { ...r.app, id } } : r;
}

