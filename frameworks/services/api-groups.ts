/**
 * Marathon's `/v2/groups`: a group of apps read, created, replaced and
 * deleted as one deployment. Groups are not stored: a group is the apps
 * whose ids lie under it, so GET builds the tree from the app ids, and a
 * change becomes `scheduler.deploy({put, remove})` — whose plan starts the
 * apps one dependency level at a time, each level once the one before is
 * healthy. Each route is authorized on `services:<group id>/*` (`services:/*`
 * for the root): the object a rule granting the whole group names.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Api } from '../foundation/index';
import { NotFoundError } from '../../lib/errors';
import { appJson } from './api-json';
import { parentGroup, resolveGroupId } from './app-id';
import { invalidBody } from './app-spec';
import type { StoredApp } from './app-store';
import { groupChange, isUnder, parseGroup } from './group-spec';
import type { AppChange, ServicesScheduler } from './scheduler';

const Any = Type.Any();
const Wildcard = Type.Object({ '*': Type.String() });
/** `deadlineSeconds`: as on /v2/apps, this request's deadline for a deployment without progress. */
const ChangeQuery = Type.Object({ force: Type.Optional(Type.Boolean()), deadlineSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 86400 })) });
const EmbedQuery = Type.Object({ embed: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())])) });
/** Embeds that show an app as GET /v2/apps does (counts, versionInfo, deployments); `group.apps.tasks` adds its tasks. */
const APP_STATUS_EMBEDS = ['group.apps.counts', 'group.apps.deployments', 'group.apps.tasks'];

/** A group id from a URL path (`shop/` → `/shop`, `` → `/`), or undefined when it is not a valid id. */
function urlGroup(path: string | undefined): string | undefined {
  const r = resolveGroupId(`/${path ?? ''}`);
  return 'id' in r ? r.id : undefined;
}

/** The group a body names, resolved against `base` (for the ACL check: the body is validated after). */
function bodyGroup(body: unknown, base: string): string {
  const id = body && typeof body === 'object' ? (body as { id?: unknown }).id : undefined;
  if (typeof id !== 'string') return base;
  const r = resolveGroupId(id, base);
  return 'id' in r ? r.id : '/';
}

/** The ACL object for a group: everything under it. */
function groupObject(id: string): string {
  return `${id === '/' ? '' : id}/*`;
}

const rawBody = (request: unknown) => (request as FastifyRequest).body;
const wildcard = (request: unknown) => ((request as FastifyRequest).params as { '*'?: string })['*'];

export function addGroupRoutes(api: Api, scheduler: ServicesScheduler): void {
  /** Plans the change as one deployment; answers Marathon's `{deploymentId, version}` with `code`, or 409/422. */
  const deploy = async (reply: FastifyReply, change: AppChange, q: { force?: boolean; deadlineSeconds?: number }, code: number) => {
    const r = await scheduler.deploy(change, { force: q.force === true, ...(q.deadlineSeconds ? { deadlineSeconds: q.deadlineSeconds } : {}) });
    if (r.kind === 'conflict') return reply.code(409).send({ message: r.message, deployments: r.deployments });
    if (r.kind === 'invalid') return reply.code(422).send({ message: r.message });
    void reply.code(code).header('marathon-deployment-id', r.deployment.id);
    return { deploymentId: r.deployment.id, version: r.deployment.version };
  };
  const existing = () => scheduler.apps().map((s) => ({ id: s.app.id, dependencies: s.app.dependencies }));

  for (const url of ['/v2/groups', '/v2/groups/*']) {
    api.route({
      method: 'GET', url, schema: { params: Type.Partial(Wildcard), querystring: EmbedQuery, response: { 200: Any } },
      authz: { action: 'framework_read', object: (r) => groupObject(urlGroup(wildcard(r)) ?? '/') },
      handler: async (request) => {
        const id = urlGroup(request.params['*']);
        const apps = scheduler.apps().filter((s) => id !== undefined && isUnder(s.app.id, id));
        if (id === undefined || (id !== '/' && apps.length === 0)) throw new NotFoundError(`Group '${id ?? `/${request.params['*']}`}' does not exist`);
        const embed = [request.query.embed ?? []].flat().flatMap((e) => e.split(','));
        const show = (s: StoredApp) =>
          APP_STATUS_EMBEDS.some((e) => embed.includes(e)) ? appJson(scheduler, s, embed.includes('group.apps.tasks')) : { ...s.app, version: s.version };
        return groupJson(id, apps, show);
      },
    });

    // POST creates the group the body names, relative to the URL's group; PUT replaces the URL's group (the body's at /v2/groups).
    api.route({
      method: 'POST', url, schema: { params: Type.Partial(Wildcard), querystring: ChangeQuery, response: { 201: Any, 409: Any, 422: Any } },
      authz: { action: 'framework_write', object: (r) => groupObject(bodyGroup(rawBody(r), urlGroup(wildcard(r)) ?? '/')) },
      handler: async (request, reply) => {
        const base = urlGroup(request.params['*']);
        if (base === undefined) throw new NotFoundError(`Group '/${request.params['*']}' does not exist`);
        const parsed = parseGroup(rawBody(request), { base });
        if (parsed.errors) return reply.code(422).send(invalidBody(parsed.errors));
        const id = parsed.group.id;
        if (id === '/' || scheduler.apps().some((s) => isUnder(s.app.id, id))) {
          return reply.code(409).send({ message: `Group ${id} is already created. Use PUT to change this group.` });
        }
        const change = groupChange(parsed.group, existing(), { replace: false });
        if (change.errors) return reply.code(422).send(invalidBody(change.errors));
        if (change.put.length === 0) return reply.code(422).send(invalidBody([{ path: '/apps', errors: ['the group holds no app: Mezzanine keeps no empty groups (a group is the apps under it)'] }]));
        const taken = change.put.find((a) => scheduler.app(a.id));
        if (taken) return reply.code(409).send({ message: `An app with id [${taken.id}] already exists.` });
        void reply.header('location', `/v2/groups${id}`);
        return deploy(reply, { put: change.put }, request.query, 201);
      },
    });

    api.route({
      method: 'PUT', url, schema: { params: Type.Partial(Wildcard), querystring: ChangeQuery, response: { 200: Any, 409: Any, 422: Any } },
      authz: { action: 'framework_write', object: (r) => groupObject(wildcard(r) === undefined ? bodyGroup(rawBody(r), '/') : (urlGroup(wildcard(r)) ?? '/')) },
      handler: async (request, reply) => {
        const inUrl = request.params['*'] !== undefined;
        const id = inUrl ? urlGroup(request.params['*']) : bodyGroup(rawBody(request), '/');
        if (id === undefined) throw new NotFoundError(`Group '/${request.params['*']}' does not exist`);
        const parsed = parseGroup(rawBody(request), inUrl ? { id } : {});
        if (parsed.errors) return reply.code(422).send(invalidBody(parsed.errors));
        const change = groupChange(parsed.group, existing(), { replace: true });
        if (change.errors) return reply.code(422).send(invalidBody(change.errors));
        return deploy(reply, change, request.query, 200);
      },
    });

    api.route({
      method: 'DELETE', url, schema: { params: Type.Partial(Wildcard), querystring: ChangeQuery, response: { 200: Any, 409: Any } },
      authz: { action: 'framework_delete', object: (r) => groupObject(urlGroup(wildcard(r)) ?? '/') },
      handler: async (request, reply) => {
        const id = urlGroup(request.params['*']);
        const remove = scheduler.apps().filter((s) => id !== undefined && isUnder(s.app.id, id)).map((s) => s.app.id);
        if (id === undefined || (id !== '/' && remove.length === 0)) throw new NotFoundError(`Group '${id ?? `/${request.params['*']}`}' does not exist`);
        return deploy(reply, { remove }, request.query, 200);
      },
    });
  }
}

/**
 * Marathon's group JSON for `id` from the apps under it: its own apps, a
 * child group per next path segment, each built the same way. `dependencies`
 * is always empty: group dependencies live in the apps (see group-spec.ts).
 * `version` is the newest of its apps' (absent for an empty root).
 */
export function groupJson<T>(id: string, apps: readonly StoredApp[], show: (s: StoredApp) => T): GroupJson<T> {
  const own = apps.filter((s) => parentGroup(s.app.id) === id);
  const children = [...new Set(apps.filter((s) => parentGroup(s.app.id) !== id).map((s) => childOf(id, s.app.id)))].sort();
  const newest = apps.reduce<string | undefined>((v, s) => (v === undefined || s.version > v ? s.version : v), undefined);
  return {
    id,
    apps: own.map(show),
    groups: children.map((c) => groupJson(c, apps.filter((s) => isUnder(s.app.id, c)), show)),
    dependencies: [],
    ...(newest !== undefined ? { version: newest } : {}),
  };
}

export interface GroupJson<T> {
  id: string;
  apps: T[];
  groups: GroupJson<T>[];
  dependencies: string[];
  version?: string;
}

/** The child group of `group` that holds the app `id`: `/shop`, `/shop/back/db` → `/shop/back`. */
function childOf(group: string, id: string): string {
  const rest = id.slice(group === '/' ? 1 : group.length + 1);
  return `${group === '/' ? '' : group}/${rest.split('/')[0]}`;
}
