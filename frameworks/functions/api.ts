/**
 * The function runner's HTTP API: OpenWhisk's `/api/v1` actions and
 * activations, with its paths, status codes and bodies (what the `openwhisk`
 * npm client and `wsk` send and read), written against FunctionsService
 * (service.ts) only.
 *
 *   PUT    …/actions/{name}[?overwrite=true]   parseFunction ─ checkCode (deploy time) ─ putFunction ─ 200 action
 *   GET    …/actions[?skip&limit]              latest versions, without code
 *   GET    …/actions/{name}[?code=false][&version=0.0.N]
 *   DELETE …/actions/{name}                    200 the action as it was
 *   POST   …/actions/{name}[?blocking=true[&result=true]][&timeout=ms][&version=…]
 *            non-blocking 202 {activationId}; blocking 200 success, 502 application or
 *            developer error, 500 internal error, 202 {activationId} when the wait passed
 *   GET    …/activations[?name&skip&limit&since&upto&docs]  and  …/activations/{id}[/logs|/result]
 *
 * Errors the routes answer are OpenWhisk's `{error, code}` (code: the
 * request id); refusals before a handler runs (authentication, a body over
 * the API's cap, a bad query) are the foundation's `{message, details}`, with
 * `error` and `code` added.
 *
 * Namespaces: `_` is the caller's own, its principal, or `guest` when
 * authentication is off (OpenWhisk's default namespace for its guest key).
 * Any other name is used as given; the ACLs decide who may use it, on
 * objects `functions:NS/NAME` (`NS/*` for listings and activations):
 * framework_read to read, framework_write to create, update and invoke,
 * framework_delete to delete.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { addLeaderRoutes, type Api, type ErrorDetail, type Leadership } from '../foundation/index';
import { MezzError, NotFoundError, UnavailableError } from '../../lib/errors';
import { httpStatusOf } from '../../lib/http-status';
import type { Activation, ActivationResponse } from './activation';
import { activationJson, activationSummary, owError, resultJson } from './api-json';
import { invalidFunctionBody, parseFunction } from './function-spec';
import { checkCode } from './load-check';
import type { FunctionsService } from './service';
import { actionJson, parseVersion, semver, type StoredVersion } from './versions';

/** Largest invocation body (the parameters as JSON), OpenWhisk's `MAX_ACTIVATION_ENTITY_LIMIT`. */
export const INVOKE_BODY_LIMIT = 1024 * 1024;
/**
 * The body cap to create the API with: an action's code may be 48 MB, with
 * parameters and annotations of 1 MB each beside it. Invocations are held
 * to INVOKE_BODY_LIMIT by their route.
 */
export const FUNCTIONS_BODY_LIMIT = 52 * 1024 * 1024;
/** The longest a blocking invoke waits before answering 202 with the id (OpenWhisk's 60 s). */
export const MAX_BLOCKING_WAIT_MS = 60_000;
/** Listing sizes, OpenWhisk's: 30 by default, 200 at most (0 asks for the most). */
export const DEFAULT_LIST_LIMIT = 30;
export const MAX_LIST_LIMIT = 200;
/** The namespace `_` stands for when authentication is off. */
export const DEFAULT_NAMESPACE = 'guest';

const Any = Type.Any();
const NsParams = Type.Object({ ns: Type.String() });
const ActionParams = Type.Object({ ns: Type.String(), name: Type.String() });
const ActivationParams = Type.Object({ ns: Type.String(), id: Type.String() });
const Paging = {
  skip: Type.Optional(Type.Integer({ minimum: 0 })),
  limit: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_LIST_LIMIT })),
};
const ListQuery = Type.Object(Paging);
const GetQuery = Type.Object({ code: Type.Optional(Type.Boolean()), version: Type.Optional(Type.String()) });
const PutQuery = Type.Object({ overwrite: Type.Optional(Type.Boolean()) });
const InvokeQuery = Type.Object({
  blocking: Type.Optional(Type.Boolean()),
  result: Type.Optional(Type.Boolean()),
  timeout: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_BLOCKING_WAIT_MS })),
  version: Type.Optional(Type.String()),
});
const ActivationsQuery = Type.Object({
  ...Paging,
  name: Type.Optional(Type.String()),
  since: Type.Optional(Type.Integer({ minimum: 0 })),
  upto: Type.Optional(Type.Integer({ minimum: 0 })),
  docs: Type.Optional(Type.Boolean()),
});

const ACTIONS = '/api/v1/namespaces/:ns/actions';
const ACTIVATIONS = '/api/v1/namespaces/:ns/activations';
const NOT_FOUND = 'The requested resource does not exist.';

type Params = { ns: string; name?: string };
const rawBody = (request: unknown) => (request as FastifyRequest).body;

/** The namespace a path names: `_` is the caller's own. */
function namespaceOf(request: { params: Params; caller: FastifyRequest['caller'] }): string {
  return request.params.ns === '_' ? (request.caller.principal ?? DEFAULT_NAMESPACE) : request.params.ns;
}

const actionObject = (request: { params: Params; caller: FastifyRequest['caller'] }) => `${namespaceOf(request)}/${request.params.name ?? '*'}`;

/**
 * Runs a handler, answering the refusals it throws (MezzErrors) as OpenWhisk
 * does, `{error, code}`, with `Retry-After` on a 429 whose error carries
 * `retryAfterSeconds`. Anything else goes to the foundation (a logged 500).
 */
async function ow(request: FastifyRequest, reply: FastifyReply, run: () => Promise<unknown>): Promise<unknown> {
  try {
    return await run();
  } catch (err) {
    const status = httpStatusOf(err);
    if (!(err instanceof MezzError) || status === 500) throw err;
    const retry = (err as { retryAfterSeconds?: unknown }).retryAfterSeconds;
    if (status === 429 && typeof retry === 'number') void reply.header('retry-after', String(Math.max(1, Math.ceil(retry))));
    return reply.code(status).send(owError(err.message, request.id));
  }
}

/**
 * Refusals made before a route runs (401, a body over the cap, a malformed
 * query) come from the foundation as `{message, details}`; OpenWhisk's
 * clients show `error`. They get `error` and `code` beside what was there.
 */
function answerRefusalsAsOpenWhisk(api: Api): void {
  api.server.addHook('onSend', async (request, reply, payload) => {
    if (reply.statusCode < 400 || !request.url.startsWith('/api/v1/') || typeof payload !== 'string') return payload;
    let body: unknown;
    try {
      body = JSON.parse(payload);
    } catch {
      return payload;
    }
    if (!isObject(body) || 'error' in body || typeof body.message !== 'string') return payload;
    const details = Array.isArray(body.details) ? (body.details as ErrorDetail[]).map((d) => `${d.path}: ${d.errors.join(', ')}`) : [];
    return JSON.stringify({ error: [body.message, ...details].join('; '), code: request.id, ...body });
  });
}

/** Reads wait for the state: before the leader has loaded it, an empty list would be a wrong answer. */
function requireLeading(service: FunctionsService): void {
  if (!service.leading()) throw new UnavailableError('this instance does not lead, or has not loaded its functions yet: try again');
}

/** A version pin as given (`3` or `0.0.3`); a malformed one is a 404 naming it, as an unknown one is. */
function requireFunction(service: FunctionsService, ns: string, name: string, version?: string): StoredVersion {
  requireLeading(service);
  if (version !== undefined) {
    const n = parseVersion(version);
    const stored = n === undefined ? undefined : service.function(ns, name, String(n));
    if (stored) return stored;
    const latest = service.function(ns, name);
    if (!latest) throw new NotFoundError(`${NOT_FOUND} (action ${ns}/${name})`);
    throw new NotFoundError(`${NOT_FOUND} (version ${version} of action ${ns}/${name}; the latest is ${semver(latest.version)})`);
  }
  const stored = service.function(ns, name);
  if (!stored) throw new NotFoundError(`${NOT_FOUND} (action ${ns}/${name})`);
  return stored;
}

function requireActivation(service: FunctionsService, ns: string, id: string): Activation {
  requireLeading(service);
  const a = service.activation(ns, id);
  if (!a) throw new NotFoundError(`${NOT_FOUND} (activation ${id})`);
  return a;
}

const limitOf = (limit: number | undefined) => (limit === undefined ? DEFAULT_LIST_LIMIT : limit === 0 ? MAX_LIST_LIMIT : limit);

/**
 * Adds OpenWhisk's /api/v1 actions and activations routes (and Mezzanine's
 * `/leader`) to `api`, served from `service`. Create the API with
 * `bodyLimit: FUNCTIONS_BODY_LIMIT` so code up to OpenWhisk's 48 MB fits.
 */
export function addFunctionRoutes(api: Api, service: FunctionsService, leadership: Leadership): void {
  answerRefusalsAsOpenWhisk(api);
  addActionRoutes(api, service);
  addInvokeRoute(api, service);
  addActivationRoutes(api, service);
  addLeaderRoutes(api, leadership, ['/leader']);
}

function addActionRoutes(api: Api, service: FunctionsService): void {
  api.route({
    method: 'GET', url: ACTIONS, schema: { params: NsParams, querystring: ListQuery, response: { 200: Any } },
    authz: { action: 'framework_read', object: actionObject },
    handler: async (request, reply) => ow(request as FastifyRequest, reply, async () => {
      requireLeading(service);
      const skip = request.query.skip ?? 0;
      return service.functions(namespaceOf(request)).slice(skip, skip + limitOf(request.query.limit)).map((s) => actionJson(s, { code: false }));
    }),
  });

  api.route({
    method: 'GET', url: `${ACTIONS}/:name`, schema: { params: ActionParams, querystring: GetQuery, response: { 200: Any } },
    authz: { action: 'framework_read', object: actionObject },
    handler: async (request, reply) => ow(request as FastifyRequest, reply, async () => {
      const stored = requireFunction(service, namespaceOf(request), request.params.name, request.query.version);
      return actionJson(stored, { code: request.query.code ?? true });
    }),
  });

  // Mezzanine's: every stored version, newest first (`mezz fn versions`), without their code.
  api.route({
    method: 'GET', url: `${ACTIONS}/:name/versions`, schema: { params: ActionParams, response: { 200: Any } },
    authz: { action: 'framework_read', object: actionObject },
    handler: async (request, reply) => ow(request as FastifyRequest, reply, async () => {
      requireFunction(service, namespaceOf(request), request.params.name, undefined);
      return service.versions(namespaceOf(request), request.params.name).map((s) => actionJson(s, { code: false }));
    }),
  });

  api.route({
    method: 'GET', url: `${ACTIONS}/:name/workers`, schema: { params: ActionParams, response: { 200: Any } },
    authz: { action: 'framework_read', object: actionObject },
    handler: async (request, reply) => ow(request as FastifyRequest, reply, async () => {
      requireFunction(service, namespaceOf(request), request.params.name, undefined);
      return service.workers(namespaceOf(request), request.params.name);
    }),
  });

  api.route({
    method: 'PUT', url: `${ACTIONS}/:name`, schema: { params: ActionParams, querystring: PutQuery, response: { 200: Any } },
    authz: { action: 'framework_write', object: actionObject },
    handler: async (request, reply) => ow(request as FastifyRequest, reply, async () => {
      requireLeading(service);
      const namespace = namespaceOf(request);
      const { name } = request.params;
      const overwrite = request.query.overwrite === true;
      const latest = service.function(namespace, name);
      if (latest && !overwrite) return reply.code(409).send(owError('resource already exists', request.id));
      const parsed = parseFunction(rawBody(request), { name, namespace, previous: latest?.spec });
      if (parsed.errors) return reply.code(400).send(invalidFunctionBody(parsed.errors, request.id));
      const { spec } = parsed;
      // An update without `exec` keeps the stored code, which was checked when it came.
      if (spec.exec !== latest?.spec.exec) {
        const check = await checkCode(spec.exec.kind, spec.exec.code, spec.exec.main, spec.exec.binary, { memoryMb: spec.limits.memory });
        if (check.error !== undefined) {
          const line = check.line !== undefined && !check.error.includes(`line ${check.line}`) ? ` (line ${check.line})` : '';
          return reply.code(400).send(owError(`The action's code does not load: ${check.error}${line}`, request.id));
        }
      }
      return actionJson(await service.putFunction(spec, overwrite), { code: true });
    }),
  });

  // Answers the action as it was, without its code (which may be 48 MB).
  api.route({
    method: 'DELETE', url: `${ACTIONS}/:name`, schema: { params: ActionParams, response: { 200: Any } },
    authz: { action: 'framework_delete', object: actionObject },
    handler: async (request, reply) => ow(request as FastifyRequest, reply, async () => {
      requireFunction(service, namespaceOf(request), request.params.name);
      return actionJson(await service.deleteFunction(namespaceOf(request), request.params.name), { code: false });
    }),
  });
}

/** OpenWhisk's status for a blocking invoke's outcome (`WhiskActionsApi`): 502 for the action's own failures. */
function invokeStatus(response: ActivationResponse): number {
  if (response.success) return 200;
  return response.status === 'whisk internal error' ? 500 : 502;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function addInvokeRoute(api: Api, service: FunctionsService): void {
  api.route({
    method: 'POST', url: `${ACTIONS}/:name`, schema: { params: ActionParams, querystring: InvokeQuery, response: { 200: Any } },
    authz: { action: 'framework_write', object: actionObject },
    handler: async (request, reply) => ow(request as FastifyRequest, reply, async () => {
      const namespace = namespaceOf(request);
      const { name } = request.params;
      const { blocking = false, result = false, timeout, version } = request.query;
      // Known before anything is stored: an unknown action is a 404, never an accepted 202.
      requireFunction(service, namespace, name, version);
      const body = rawBody(request) ?? {};
      if (!isObject(body)) return reply.code(400).send(owError('The request content was malformed: the parameters must be a JSON object', request.id));
      const bytes = Buffer.byteLength(JSON.stringify(body));
      if (bytes > INVOKE_BODY_LIMIT) return reply.code(413).send(owError(`Request larger than allowed: ${bytes} > ${INVOKE_BODY_LIMIT} bytes.`, request.id));
      const subject = request.caller.principal ?? DEFAULT_NAMESPACE;
      const answer = await service.invoke(
        { namespace, name, ...(version !== undefined && { version }), params: body, subject },
        { blocking, waitMs: Math.min(timeout ?? MAX_BLOCKING_WAIT_MS, MAX_BLOCKING_WAIT_MS) },
      );
      const id = 'pending' in answer ? answer.activationId : answer.activation.activationId;
      void reply.header('x-openwhisk-activation-id', id);
      if (!blocking || 'pending' in answer) return reply.code(202).send({ activationId: id });
      const { activation } = answer;
      return reply.code(invokeStatus(activation.response)).send(result ? activation.response.result : activationJson(activation));
    }),
  });
}

function addActivationRoutes(api: Api, service: FunctionsService): void {
  api.route({
    method: 'GET', url: ACTIVATIONS, schema: { params: NsParams, querystring: ActivationsQuery, response: { 200: Any } },
    authz: { action: 'framework_read', object: actionObject },
    handler: async (request, reply) => ow(request as FastifyRequest, reply, async () => {
      requireLeading(service);
      const { name, since, upto, docs } = request.query;
      const list = service.activations(namespaceOf(request), {
        ...(name !== undefined && { name }), skip: request.query.skip ?? 0, limit: limitOf(request.query.limit),
        ...(since !== undefined && { since }), ...(upto !== undefined && { upto }),
      });
      return docs ? list.map(activationJson) : list.map(activationSummary);
    }),
  });

  const one = (suffix: string, shape: (a: Activation) => unknown) => api.route({
    method: 'GET', url: `${ACTIVATIONS}/:id${suffix}`, schema: { params: ActivationParams, response: { 200: Any } },
    authz: { action: 'framework_read', object: actionObject },
    handler: async (request, reply) => ow(request as FastifyRequest, reply, async () => shape(requireActivation(service, namespaceOf(request), request.params.id))),
  });
  one('', activationJson);
  one('/logs', (a) => ({ logs: a.logs }));
  one('/result', resultJson);
}
