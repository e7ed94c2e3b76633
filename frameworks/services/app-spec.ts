/**
 * Reading Marathon's app JSON, as the services framework accepts it.
 *
 *   body (object, JSON text or YAML text)
 *     ──schema (app-schema.ts: unknown, misplaced, unsupported fields refused)──▶
 *     ──rules (app-rules.ts: cmd xor args, ports, checks, constraints, ids)──▶
 *     ──defaults (Marathon's)──▶ {app: App} | {errors: [{path, errors[]}]}
 *
 * A typo or a field in the wrong place (`minimumHealthCapacity` outside
 * `upgradeStrategy`) is named in a 422 instead of silently ignored as
 * Marathon did. Pure: no I/O.
 */
import type { TSchema } from 'typebox';
import type { TLocalizedValidationError } from 'typebox/error';
import { Value } from 'typebox/value';
import { readBodyText } from '../foundation/index';
import { parentGroup, resolveAppId } from './app-id';
import { escape, HTTP_PROTOCOLS, portList, rules } from './app-rules';
import { AppDefinition, AppUpdate, UNSUPPORTED, type App, type AppDefinitionInput, type AppUpdateInput, type FieldErrors, type HealthCheckSpec } from './app-schema';

export type ParseResult<T> = { app: T; errors?: undefined } | { app?: undefined; errors: FieldErrors[] };

export interface ParseOptions {
  /** Parse a PUT/PATCH body: every field optional, no defaults, `id` may be absent. */
  partial?: boolean;
  /** The group relative ids (the app's and its dependencies') are resolved against; `/` unless given. */
  base?: string;
}

/** Marathon's 422 body for `errors`. */
export function invalidBody(errors: readonly FieldErrors[]): { message: string; details: FieldErrors[] } {
  return { message: 'Object is not valid', details: [...errors] };
}

/**
 * Reads an app from a request body: an object already parsed, or JSON or
 * YAML text. Returns the normalized app, or every problem found, each with
 * the JSON path it is at. Never throws on bad input.
 */
export function parseApp(body: unknown, opts: { partial: true; base?: string }): ParseResult<AppUpdateInput>;
export function parseApp(body: unknown, opts?: ParseOptions & { partial?: false }): ParseResult<App>;
export function parseApp(body: unknown, opts: ParseOptions = {}): ParseResult<App | AppUpdateInput> {
  const doc = typeof body === 'string' ? readBodyText(body) : { value: body };
  if ('error' in doc) return { errors: [{ path: '/', errors: [doc.error] }] };
  const schema = opts.partial ? AppUpdate : AppDefinition;
  const errors = schemaErrors(schema, doc.value);
  if (errors.length) return { errors };
  const input = doc.value as AppUpdateInput;
  const ruleErrors = rules(input, opts);
  if (ruleErrors.length) return { errors: ruleErrors };
  if (opts.partial) return { app: input };
  return { app: withDefaults(input as AppDefinitionInput, opts.base ?? '/') };
}

/**
 * Marathon's PUT with `partialUpdate` (the default): the fields `update`
 * gives replace the stored app's, whole (an `upgradeStrategy` given replaces
 * the stored one; its missing fields take defaults, not the old values);
 * the rest stay. The result is parsed again, so a merge that breaks a rule
 * (cmd from the update, args from the store) comes back as errors.
 * With `partialUpdate=false` parse the body as a full app instead; an
 * update that gives `version` is a rollback, to be looked up, not merged.
 */
export function mergeApp(stored: App, update: AppUpdateInput): ParseResult<App> {
  const merged: Record<string, unknown> = { ...stored };
  for (const [key, value] of Object.entries(update)) if (value !== undefined && key !== 'version') merged[key] = value;
  // The stored app is normalized: `uris`/`ports` in an update take the place of its fetch/portDefinitions.
  if (update.uris !== undefined && update.fetch === undefined) delete merged.fetch;
  if (update.ports !== undefined && update.portDefinitions === undefined) delete merged.portDefinitions;
  merged.id = stored.id;
  return parseApp(merged, { base: parentGroup(stored.id) });
}

/** Most fields a 422 names; the rest of a body that bad is not worth reading. */
const MAX_REPORTED = 50;

/**
 * The schema's complaints, grouped by path, with unknown and unsupported
 * fields named as such. Each top-level field is checked on its own because
 * TypeBox stops collecting at 8 errors per check (its DoS guard): one field's
 * union branches must not hide another field's error.
 */
function schemaErrors(schema: typeof AppDefinition | typeof AppUpdate, value: unknown): FieldErrors[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return [{ path: '/', errors: ['an app must be a JSON object'] }];
  }
  const out = new Map<string, string[]>();
  const add = (path: string, why: string) => {
    const list = out.get(path || '/') ?? [];
    if (!list.includes(why)) list.push(why);
    if (out.size < MAX_REPORTED || out.has(path || '/')) out.set(path || '/', list);
  };
  const properties: Record<string, TSchema> = schema.properties;
  for (const name of schema.required ?? []) if (!(name in value)) add(`/${name}`, 'is required');
  for (const [name, field] of Object.entries(value)) {
    const at = `/${escape(name)}`;
    if (!Object.hasOwn(properties, name)) add(at, unknownField('', name));
    else for (const e of Value.Errors(properties[name]!, field)) fieldError(at, e, add);
  }
  return [...out].map(([path, errors]) => ({ path, errors }));
}

/** One TypeBox error inside the top-level field at `at`, in words. */
function fieldError(at: string, e: TLocalizedValidationError, add: (path: string, why: string) => void): void {
  const path = at + e.instancePath;
  // A union's branches each complain; the union's own error says it once, in words.
  if (e.schemaPath.includes('/anyOf/')) return;
  const unsupported = UNSUPPORTED_VALUES.find(([re]) => re.test(path));
  if (unsupported && (e.keyword === 'enum' || e.keyword === 'const')) {
    add(path, `not supported: ${unsupported[1]}`);
  } else if (e.keyword === 'additionalProperties') {
    for (const name of (e.params as { additionalProperties: string[] }).additionalProperties) add(`${path}/${escape(name)}`, unknownField(path, name));
  } else if (e.keyword === 'anyOf') {
    add(path, anyOfMessage(path));
  } else if (e.keyword === 'enum') {
    add(path, `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`);
  } else if ((e.keyword === 'minItems' || e.keyword === 'maxItems') && /^\/constraints\/\d+$/.test(path)) {
    add(path, 'a constraint is [field, operator] or [field, operator, value]');
  } else if (e.keyword === 'required') {
    for (const name of (e.params as { requiredProperties?: string[] }).requiredProperties ?? []) add(`${path}/${name}`, 'is required');
  } else if (e.keyword !== 'boolean') {
    // (`boolean`: the `false` schema of an extra field repeats the additionalProperties error.)
    add(path, e.message);
  }
}

/** Names a field the schema does not know: unsupported, misplaced, or unknown. */
function unknownField(at: string, name: string): string {
  if (at === '' && UNSUPPORTED[name]) return `not supported: ${UNSUPPORTED[name]}`;
  if (at === '' && READ_ONLY.has(name)) return 'is status that GET /v2/apps adds; leave it out of what you send';
  const home = MISPLACED[name];
  if (home && home !== at) return `unknown field here; it belongs in ${home} (Marathon ignored it silently, Mezzanine refuses it)`;
  return 'unknown field (Marathon ignored unknown fields silently; Mezzanine refuses them, check the spelling)';
}

/** Values Marathon allows that Mezzanine cannot honour, by path. */
const UNSUPPORTED_VALUES: readonly [RegExp, string][] = [
  [/^\/networks\/\d+\/mode$/, 'only host networking (mode "host")'],
  [/^\/executor$/, 'only the command executor ("" or "//cmd")'],
];

/** Fields Marathon's GET adds to an app: sent back after an edit, they are named as such. */
const READ_ONLY = new Set([
  'versionInfo',
  'tasksStaged',
  'tasksRunning',
  'tasksHealthy',
  'tasksUnhealthy',
  'deployments',
  'tasks',
  'lastTaskFailure',
  'taskStats',
  'readinessCheckResults',
]);

/** Where fields that belong inside an object live, for "belongs in" hints. */
const MISPLACED: Readonly<Record<string, string>> = {
  minimumHealthCapacity: '/upgradeStrategy',
  maximumOverCapacity: '/upgradeStrategy',
  inactiveAfterSeconds: '/unreachableStrategy',
  expungeAfterSeconds: '/unreachableStrategy',
  gracePeriodSeconds: '/healthChecks/<n>',
  maxConsecutiveFailures: '/healthChecks/<n>',
  portIndex: '/healthChecks/<n>',
  protocol: '/healthChecks/<n> or /portDefinitions/<n>',
  uri: '/fetch/<n>',
  httpStatusCodesForReady: '/readinessChecks/<n>',
  portName: '/readinessChecks/<n>',
};

function anyOfMessage(path: string): string {
  if (/^\/env\//.test(path)) return 'must be a string';
  if (path === '/unreachableStrategy') return 'must be "disabled" or {inactiveAfterSeconds, expungeAfterSeconds}';
  if (path.endsWith('/command')) return 'must be {shell} or {argv}, not both';
  return 'is not one of the allowed values';
}

/** Archives the Mesos fetcher extracts, for `uris` (which carry no `extract` flag), as Marathon's FetchUri.isExtract. */
const ARCHIVE = /\.(tgz|tar\.gz|tbz2|tar\.bz2|txz|tar\.xz|zip)$/;

/** Marathon's defaults (app.raml, AppDefinition.scala, healthCheck.raml, readinessCheck.raml). */
function withDefaults(a: AppDefinitionInput, base: string): App {
  const id = (resolveAppId(a.id, base) as { id: string }).id;
  const app: App = {
    id,
    ...(a.cmd !== undefined ? { cmd: a.cmd } : { args: a.args ?? [] }),
    ...(a.user !== undefined && { user: a.user }),
    cpus: a.cpus ?? 1,
    mem: a.mem ?? 128,
    disk: a.disk ?? 0,
    gpus: a.gpus ?? 0,
    instances: a.instances ?? 1,
    env: (a.env ?? {}) as Record<string, string>,
    labels: a.labels ?? {},
    fetch: (a.fetch ?? []).map((f) => ({ uri: f.uri, extract: f.extract ?? true, executable: f.executable ?? false, cache: f.cache ?? false, ...(f.destPath !== undefined && { destPath: f.destPath }) })),
    constraints: (a.constraints ?? []).map((c) => [...c]),
    healthChecks: (a.healthChecks ?? []).map(healthCheckDefaults),
    readinessChecks: (a.readinessChecks ?? []).map((r) => ({
      name: r.name ?? 'readinessCheck',
      protocol: r.protocol ?? 'HTTP',
      path: r.path ?? '/',
      portName: r.portName ?? 'http-api',
      intervalSeconds: r.intervalSeconds ?? 30,
      timeoutSeconds: r.timeoutSeconds ?? 10,
      httpStatusCodesForReady: r.httpStatusCodesForReady ?? [200],
      preserveLastResponse: r.preserveLastResponse ?? false,
    })),
    ...(a.check !== undefined && { check: { ...a.check, intervalSeconds: a.check.intervalSeconds ?? 60, timeoutSeconds: a.check.timeoutSeconds ?? 20, delaySeconds: a.check.delaySeconds ?? 15 } }),
    portDefinitions: portList(a),
    requirePorts: a.requirePorts ?? false,
    upgradeStrategy: { minimumHealthCapacity: a.upgradeStrategy?.minimumHealthCapacity ?? 1, maximumOverCapacity: a.upgradeStrategy?.maximumOverCapacity ?? 1 },
    backoffSeconds: a.backoffSeconds ?? 1,
    backoffFactor: a.backoffFactor ?? 1.15,
    maxLaunchDelaySeconds: a.maxLaunchDelaySeconds ?? 300,
    ...(a.taskKillGracePeriodSeconds !== undefined && { taskKillGracePeriodSeconds: a.taskKillGracePeriodSeconds }),
    killSelection: a.killSelection ?? 'YOUNGEST_FIRST',
    unreachableStrategy:
      a.unreachableStrategy === 'disabled'
        ? 'disabled'
        : { inactiveAfterSeconds: a.unreachableStrategy?.inactiveAfterSeconds ?? 0, expungeAfterSeconds: a.unreachableStrategy?.expungeAfterSeconds ?? 0 },
    dependencies: (a.dependencies ?? []).map((d) => (resolveAppId(d, parentGroup(id)) as { id: string }).id),
    ...(a.role !== undefined && { role: a.role }),
    ...(a.acceptedResourceRoles !== undefined && { acceptedResourceRoles: a.acceptedResourceRoles }),
  };
  if (a.uris?.length) app.fetch = a.uris.map((uri) => ({ uri, extract: ARCHIVE.test(uri), executable: false, cache: false }));
  return app;
}

function healthCheckDefaults(hc: NonNullable<AppDefinitionInput['healthChecks']>[number]): HealthCheckSpec {
  const protocol = hc.protocol ?? 'HTTP';
  const out: HealthCheckSpec = {
    protocol,
    gracePeriodSeconds: hc.gracePeriodSeconds ?? 300,
    intervalSeconds: hc.intervalSeconds ?? 60,
    timeoutSeconds: hc.timeoutSeconds ?? 20,
    maxConsecutiveFailures: hc.maxConsecutiveFailures ?? 3,
    delaySeconds: hc.delaySeconds ?? 15,
    ignoreHttp1xx: hc.ignoreHttp1xx ?? false,
    ipProtocol: 'IPv4',
  };
  if (hc.command) out.command = hc.command;
  if (HTTP_PROTOCOLS.has(protocol)) out.path = hc.path ?? '/';
  if (hc.port !== undefined) out.port = hc.port;
  // Marathon's normalization: no port and no portIndex means the app's first port.
  else if (protocol !== 'COMMAND') out.portIndex = hc.portIndex ?? 0;
  return out;
}

