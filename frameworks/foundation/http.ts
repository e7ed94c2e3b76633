/**
 * The HTTP API server every shipped framework serves its dialect on
 * (Marathon's /v2, Metronome's /v1, OpenWhisk's /api/v1): fastify with
 * TypeBox schemas, one error shape (errors.ts), authentication and ACLs
 * (http-auth.ts), optional mutual TLS, `GET /health` and `GET /metrics`.
 *
 *   request ─ onRequest: authenticate ─ parse JSON/YAML (≤ bodyLimit) ─ validate
 *           ─ preHandler: authorize ─ handler ─ serialize by the response schema
 *   any failure ─ errorReply ─ {message, details:[{path, errors}]}
 *
 * Validation: TypeBox's compiler (the type provider's), not fastify's
 * default Ajv. Both refuse unknown fields when a schema says
 * `additionalProperties: false` and can report every error, but one Ajv
 * instance either coerces every part — so `"instances": "3"`, or `true`,
 * would pass as a number — or none, and then `?force=true` fails. TypeBox's
 * checks the body exactly as sent (never coerced, never stripped, every
 * error reported) and converts only the query string, path parameters and
 * headers, which arrive as strings.
 *
 * It is the type provider's TypeBoxValidatorCompiler but for one thing:
 * TypeBox's Value.Convert of an object reads property names as regular
 * expressions (typebox 1.4), so a `*` parameter — Marathon's app ids hold
 * slashes, `/v2/apps/*` — throws; converting property by property does not.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { inspect } from 'node:util';
import { registerAjvFormats, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, {
  type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifySchema,
  type FastifySchemaCompiler, type FastifySchemaValidationError, type RawServerDefault,
} from 'fastify';
import type { Static, TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { Value } from 'typebox/value';
import { type Acls, type Action, type Authenticator, Authorizer, CallerAuth, type TlsMaterial } from '../../lib/auth';
import { InvalidArgumentError, MezzError } from '../../lib/errors';
import type { Logger } from '../../lib/log';
import { errorReply, type ErrorContext } from './errors';
import { type Authz, HttpAuth } from './http-auth';
import { JSON_TYPES, parseJsonBody, parseYamlBody, YAML_TYPES } from './http-body';
import { createHttpMetrics, type HttpMetrics } from './metrics';

registerAjvFormats();

/** The largest request body read by default: 1 MiB, far above any app, job or function definition. */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;

/**
 * The fastify instance of an API. With TLS it is an https server; its
 * requests and replies are the same IncomingMessage and ServerResponse, which
 * is all routes see, so it is typed as the plain one.
 */
export type ApiServer = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, TypeBoxTypeProvider>;

export interface ApiOptions {
  /** The API's name (`services`): ACL objects are `NAME:ID`, and messages name it. */
  name: string;
  log: Logger;
  /** Principals and secrets; without it every caller is anonymous and let through (authentication off). */
  authenticator?: Authenticator;
  /** ACL rules for framework_read/write/delete; without them every authenticated principal may do everything. */
  acls?: Acls;
  /** Mutual TLS: serve https and require client certificates signed by `tls.ca`. */
  tls?: TlsMaterial;
  /** Largest request body in bytes (default DEFAULT_BODY_LIMIT); a larger one is 413. */
  bodyLimit?: number;
  /** Which of the built-in routes need no token (default both: probes and Prometheus scrapers carry none). */
  open?: { health?: boolean; metrics?: boolean };
  /** Added to `GET /health`'s `{status: "ok"}` (e.g. `{leader: true}`); called per request. */
  health?: () => Record<string, unknown>;
}

/** Request schemas and the response schema of each status a route answers with. */
export interface RouteSchemas {
  body?: TSchema;
  querystring?: TSchema;
  params?: TSchema;
  headers?: TSchema;
  response: Record<number, TSchema>;
}

type Part<S, K extends keyof RouteSchemas> = S extends { [P in K]: infer T extends TSchema } ? Static<T> : undefined;

/** A request as a route's handler sees it: body, query and params typed by its schemas. */
export type RouteRequest<S extends RouteSchemas> = Omit<FastifyRequest, 'body' | 'query' | 'params'> & {
  body: Part<S, 'body'>;
  query: Part<S, 'querystring'>;
  params: Part<S, 'params'>;
};

/** What a handler may return: the body of one of its declared responses. */
export type RouteResponse<S extends RouteSchemas> = { [C in keyof S['response']]: S['response'][C] extends TSchema ? Static<S['response'][C]> : never }[keyof S['response']];

export interface RouteSpec<S extends RouteSchemas> {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  schema: S;
  /** `public`, or the action the caller needs on `NAME:object(request)`. */
  authz: 'public' | { action: Action; object?: (request: RouteRequest<S>) => string };
  /** Returns the body; sets another status than 200 with `reply.code()`. Throw MezzErrors for refusals. */
  handler(request: RouteRequest<S>, reply: FastifyReply): Promise<RouteResponse<S>>;
}

export interface Api {
  readonly name: string;
  readonly server: ApiServer;
  /** This API's own registry: add a framework's metrics here. */
  readonly metrics: HttpMetrics['registry'];
  /** Declares a route; its response is serialized by its response schema (undeclared fields are dropped). */
  route<const S extends RouteSchemas>(spec: RouteSpec<S>): void;
  /** Listens on `host:port` (0: any free port); resolves to `http(s)://HOST:PORT`. */
  listen(host: string, port: number): Promise<string>;
  close(): Promise<void>;
}

/** The API server of a framework, with `GET /health` and `GET /metrics` already routed. */
export function createApi(opts: ApiOptions): Api {
  // As the master's --acls needs --credentials: rules about principals mean nothing when every caller is anonymous.
  if (opts.acls && !opts.authenticator) throw new InvalidArgumentError(`${opts.name}: ACLs need an authenticator (credentials)`);
  const bodyLimit = opts.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const common = { logger: false, bodyLimit, return503OnClosing: true } as const;
  const https = opts.tls && { key: opts.tls.key, cert: opts.tls.cert, ca: opts.tls.ca, requestCert: true, rejectUnauthorized: true };
  const server = (https ? Fastify({ ...common, https }) : Fastify(common)) as unknown as ApiServer;
  server.setValidatorCompiler(validatorCompiler);

  const auth = new HttpAuth(opts.name, new CallerAuth(opts.authenticator, opts.name), new Authorizer(opts.acls, opts.log));
  const metrics = createHttpMetrics();
  const contentTypes = [...JSON_TYPES, ...YAML_TYPES];

  parseBodies(server);
  server.decorateRequest('caller', null as never);
  server.addHook('onRoute', (route) => {
    route.config = { ...route.config, authz: HttpAuth.declared(route.method, route.url, route.config?.authz) };
  });
  server.addHook('onRequest', async (request) => auth.authenticate(request));
  server.addHook('preHandler', async (request) => auth.authorize(request));
  server.addHook('onResponse', async (request, reply) => {
    metrics.observe(request.method, request.routeOptions.url, reply.statusCode, reply.elapsedTime / 1000);
  });
  server.setNotFoundHandler(async (request, reply) => {
    await reply.code(404).send({ message: `No route ${request.method} ${request.url.split('?')[0]!.slice(0, 200)} in ${opts.name}` });
  });
  server.setErrorHandler(async (err, request, reply) => {
    const ctx: ErrorContext = { service: opts.name, bodySchema: request.routeOptions.schema?.body, bodyLimit, contentTypes };
    const out = errorReply(err, ctx);
    // "Not now" (a standby, a leader still loading, the store out of reach) is expected and says why in its message; anything else is a bug worth a stack.
    if (err instanceof MezzError && (err.kind === 'UNAVAILABLE' || err.kind === 'NOT_LEADER')) opts.log.warn(`${opts.name}: ${request.method} ${request.url.slice(0, 200)} answered ${out.status}: ${err.message}`);
    else if (out.status >= 500) opts.log.error(`${opts.name}: ${request.method} ${request.url.slice(0, 200)} failed`, { error: inspect(err, { depth: 4 }) });
    await reply.code(out.status).headers(out.headers ?? {}).send(out.body);
  });

  const open = { health: opts.open?.health ?? true, metrics: opts.open?.metrics ?? true };
  const readAuthz = (what: string): Authz => ({ action: 'framework_read', object: () => what });
  server.get('/health', { config: { authz: open.health ? 'public' : readAuthz('health') } }, async () => ({ status: 'ok', ...opts.health?.() }));
  server.get('/metrics', { config: { authz: open.metrics ? 'public' : readAuthz('metrics') } }, async (_request, reply) => {
    await reply.header('content-type', metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  return {
    name: opts.name,
    server,
    metrics: metrics.registry,
    route(spec) {
      // The handler's request type is RouteRequest<S>, which fastify's own generics spell differently.
      const handler = spec.handler as unknown as (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
      (server as unknown as FastifyInstance).route({ method: spec.method, url: spec.url, schema: spec.schema as FastifySchema, config: { authz: spec.authz as Authz }, handler });
    },
    listen: (host, port) => server.listen({ host, port }),
    close: () => server.close(),
  };
}

/** TypeBox checks: the body as sent, the other parts converted from strings first. */
const validatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const check = Compile(schema);
  return (value: unknown) => {
    const v = httpPart === 'body' ? value : convertFlat(schema, value);
    if (check.Check(v)) return { value: v };
    return { error: check.Errors(v) as unknown as FastifySchemaValidationError[] };
  };
};

/** A query string's, path's or headers' values converted to the types of their properties' schemas. */
function convertFlat(schema: TSchema, value: unknown): unknown {
  const props = (schema as { properties?: Record<string, TSchema> }).properties;
  if (!props || !value || typeof value !== 'object') return value;
  const out: Record<string, unknown> = { ...value };
  for (const [key, sub] of Object.entries(props)) {
    if (Object.hasOwn(out, key)) out[key] = Value.Convert(sub, out[key]);
  }
  return out;
}

/**
 * JSON and YAML bodies, parsed by http-body.ts (its errors name the path and
 * the line and column), and nothing else: fastify's text/plain parser goes
 * too, so a 415 lists exactly what is accepted.
 */
function parseBodies(server: ApiServer): void {
  server.removeAllContentTypeParsers();
  server.addContentTypeParser([...JSON_TYPES], { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (err) {
      done(err as Error);
    }
  });
  server.addContentTypeParser([...YAML_TYPES], { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseYamlBody(body as string));
    } catch (err) {
      done(err as Error);
    }
  });
}
