/**
 * The one error shape of the three frameworks' HTTP APIs, Marathon's
 * (what Marathon clients parse):
 *
 *   { "message": "Object is not valid",
 *     "details": [ { "path": "/upgradeStrategy/minimumHealthCapacity", "errors": ["must be <= 1"] } ] }
 *
 * and the mapping of everything a request can fail with onto it: a body
 * that does not parse (400, the path and line/column where it broke), a body
 * that breaks its schema (422, every offending path), a body over the cap
 * (413, naming the cap), MezzErrors by kind (lib/http-status.ts), and
 * anything else as 500 with a generic message — the error itself goes to
 * the log, never to the client.
 */
import { InvalidArgumentError, MezzError } from '../../lib/errors';
import { httpStatusOf } from '../../lib/http-status';

export interface ErrorDetail {
  /** A JSON pointer into the part named by the message (`/` is the whole body). */
  path: string;
  errors: string[];
}

export interface ErrorBody {
  message: string;
  details?: ErrorDetail[];
}

export interface ErrorReply {
  status: number;
  body: ErrorBody;
  headers?: Record<string, string>;
}

/** Details listed in one reply; the rest are counted (allErrors on a large body could list thousands). */
export const MAX_ERROR_DETAILS = 50;

/** A body that is not JSON (or YAML): where it broke, as a JSON path and a line and column. */
export class BodySyntaxError extends InvalidArgumentError {
  override name = 'BodySyntaxError';
  constructor(
    readonly format: 'JSON' | 'YAML',
    readonly path: string,
    readonly problem: string,
  ) {
    super(`Invalid ${format}: ${problem} (at ${path})`);
  }
}

/** One validation error as Ajv and TypeBox both report them. */
export interface SchemaError {
  keyword: string;
  instancePath: string;
  schemaPath: string;
  params: Record<string, unknown>;
  message?: string;
}

/** `''` (the root) as Marathon writes it, `/`. */
const shown = (pointer: string): string => pointer || '/';

const escapeSegment = (s: string): string => s.replace(/~/g, '~0').replace(/\//g, '~1');

/** The JSON pointer of `key` inside the value at `pointer`. */
export function childPointer(pointer: string, key: string | number): string {
  return `${pointer}/${escapeSegment(String(key))}`;
}

/** The property names an object schema declares, found by the schema path of an error about it. */
function knownFields(schema: unknown, schemaPath: string): string[] | undefined {
  let node = schema as Record<string, unknown> | undefined;
  const segments = schemaPath.replace(/^#\/?/, '').replace(/\/?additionalProperties$/, '').split('/').filter(Boolean);
  for (const seg of segments) {
    node = node?.[seg.replace(/~1/g, '/').replace(/~0/g, '~')] as Record<string, unknown> | undefined;
  }
  const props = node?.properties;
  return props && typeof props === 'object' ? Object.keys(props) : undefined;
}

function names(list: unknown, single: unknown): string[] {
  if (Array.isArray(list)) return list.map(String);
  return single === undefined ? [] : [String(single)];
}

/**
 * Schema errors grouped by the path they are about. An unknown field is
 * reported at its own path with the fields that are allowed there (a typo
 * shows at once); a missing one at its own path. The `false` schema errors
 * TypeBox adds beside each unknown field repeat it, and are dropped.
 */
export function schemaErrorDetails(errors: readonly SchemaError[], schema: unknown): ErrorDetail[] {
  const byPath = new Map<string, string[]>();
  const add = (path: string, message: string) => {
    const list = byPath.get(path) ?? [];
    if (!list.includes(message)) list.push(message);
    byPath.set(path, list);
  };
  for (const e of errors) {
    if (e.keyword === 'boolean' && e.schemaPath.endsWith('/additionalProperties')) continue;
    if (e.keyword === 'additionalProperties') {
      const known = knownFields(schema, e.schemaPath);
      const hint = known ? (known.length ? `; known fields here: ${known.slice(0, 30).join(', ')}` : '; no fields are allowed here') : '';
      for (const field of names(e.params.additionalProperties, e.params.additionalProperty)) {
        add(shown(childPointer(e.instancePath, field)), `unknown field${hint}`);
      }
    } else if (e.keyword === 'required') {
      for (const field of names(e.params.requiredProperties, e.params.missingProperty)) {
        add(shown(childPointer(e.instancePath, field)), 'is required');
      }
    } else {
      add(shown(e.instancePath), e.message ?? `fails ${e.keyword}`);
    }
  }
  return [...byPath].map(([path, errs]) => ({ path, errors: errs }));
}

/** At most MAX_ERROR_DETAILS details; a last one says how many more there were. */
export function capDetails(details: ErrorDetail[]): ErrorDetail[] {
  if (details.length <= MAX_ERROR_DETAILS) return details;
  const more = details.length - MAX_ERROR_DETAILS;
  return [...details.slice(0, MAX_ERROR_DETAILS), { path: '/', errors: [`and ${more} more; fix these first`] }];
}

/** What the request part a validation error is about is called in the message. */
const PART_MESSAGES: Record<string, string> = {
  body: 'Object is not valid',
  querystring: 'Query string is not valid',
  params: 'Path parameters are not valid',
  headers: 'Headers are not valid',
};

interface FastifyLikeError {
  code?: string;
  statusCode?: number;
  message?: string;
  validation?: SchemaError[];
  validationContext?: string;
}

export interface ErrorContext {
  /** The API's name, for messages (`services`). */
  service: string;
  /** The route's body schema, to name the known fields beside an unknown one. */
  bodySchema?: unknown;
  /** The body cap in bytes, for 413s. */
  bodyLimit: number;
  /** The content types the API parses, for 415s. */
  contentTypes: readonly string[];
}

/**
 * The reply for an error a request failed with. Validation of the body is
 * 422 as in Marathon ("Object is not valid"); of the query string, path
 * parameters and headers 400. Unexpected errors (no MezzError, no fastify
 * 4xx) are 500 with a message that tells nothing about them: the caller of
 * this function logs them.
 */
export function errorReply(err: unknown, ctx: ErrorContext): ErrorReply {
  const e = (err ?? {}) as FastifyLikeError;
  if (Array.isArray(e.validation)) {
    const part = e.validationContext ?? 'body';
    const schema = part === 'body' ? ctx.bodySchema : undefined;
    return {
      status: part === 'body' ? 422 : 400,
      body: { message: PART_MESSAGES[part] ?? 'Request is not valid', details: capDetails(schemaErrorDetails(e.validation, schema)) },
    };
  }
  if (err instanceof BodySyntaxError) {
    return { status: 400, body: { message: `Invalid ${err.format}`, details: [{ path: err.path, errors: [err.problem] }] } };
  }
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return { status: 413, body: { message: `Request body is larger than the limit of ${ctx.bodyLimit} bytes` } };
  }
  if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return { status: 415, body: { message: `Unsupported Content-Type; send one of ${ctx.contentTypes.join(', ')}` } };
  }
  if (err instanceof MezzError) {
    const status = httpStatusOf(err);
    if (status === 500) return internal(ctx);
    const headers = err.kind === 'UNAUTHENTICATED' ? { 'www-authenticate': `Bearer realm="${ctx.service}"` } : undefined;
    return { status, body: { message: err.message }, ...(headers ? { headers } : {}) };
  }
  // fastify's own refusals (a bad URL, a bad Content-Length, …): their messages say only what was wrong.
  if (e.code?.startsWith('FST_') && e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
    return { status: e.statusCode, body: { message: e.message ?? 'Bad request' } };
  }
  return internal(ctx);
}

function internal(ctx: ErrorContext): ErrorReply {
  return { status: 500, body: { message: `Internal error in ${ctx.service}; the details are in its log` } };
}
