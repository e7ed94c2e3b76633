/**
 * Reading OpenWhisk's action document, as the functions framework accepts it
 * on `PUT /api/v1/namespaces/{ns}/actions/{name}`.
 *
 *   body (object, JSON text or YAML text)
 *     ──fields (OpenWhisk's; unknown ones named)──▶
 *     ──exec (kind, code ≤ 48 MB, main, binary)──▶ ──limits (OpenWhisk's ranges)──▶
 *     ──merge with the previous version (an update: OpenWhisk's rules)──▶
 *     ──rules (concurrency by kind, scaling annotations, sizes)──▶
 *     {spec: FunctionSpec} | {errors: [{path, errors[]}]}
 *
 * Pure: no I/O. Whether the code loads is load-check.ts's question.
 * OpenWhisk ignores `namespace`, `name`, `version` and `updated` in the body
 * (the URL names the action; the platform numbers versions); so does
 * Mezzanine, after checking their types, so a document read by GET can be
 * PUT back.
 */
import { childPointer, type ErrorDetail, readBodyText } from '../foundation/index';
import {
  ENTITY_NAME_PATTERN, type FunctionSpec, KINDS, type KeyValue, LIMIT_UNITS, LIMITS, type LimitName, type Limits, MAX_ANNOTATIONS_BYTES,
  MAX_CODE_BYTES, MAX_ENTITY_NAME, MAX_PARAMETERS_BYTES, runtimeOf, SCALING_ANNOTATIONS, type Scaling, type ScalingName, UNSUPPORTED_KINDS,
} from './function-schema';

export type ParseFunctionResult = { spec: FunctionSpec; errors?: undefined } | { spec?: undefined; errors: ErrorDetail[] };

export interface ParseFunctionOptions {
  /** The action's name and namespace, from the URL. */
  name: string;
  namespace: string;
  /** The latest version, when this PUT updates (`?overwrite=true`): fields the body leaves out keep its values. */
  previous?: FunctionSpec;
}

type Add = (path: string, why: string) => void;
type Doc = Record<string, unknown>;

const TOP_FIELDS = new Set(['namespace', 'name', 'exec', 'parameters', 'annotations', 'delAnnotations', 'limits', 'version', 'publish', 'updated']);
const EXEC_FIELDS = new Set(['kind', 'code', 'main', 'binary']);
/** Fields of other kinds' exec, refused with the kind they belong to. */
const OTHER_KIND_FIELDS: Readonly<Record<string, string>> = { image: 'blackbox', components: 'sequence' };
const SEMVER = /^\d+\.\d+\.\d+$/;
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
const ZIP_ENTRY = /^([\w$-]+\.)?[A-Za-z_$][\w$]*$/;
/** OpenWhisk's test for base64 code (`Exec.isBinaryCode`). */
const BASE64 = /^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2}==)$/;

/**
 * Reads a function from a PUT body: an object already parsed, or JSON or
 * YAML text. Returns the normalized function, or every problem found, each
 * at its JSON path with the limit it broke. Never throws on bad input.
 */
export function parseFunction(body: unknown, opts: ParseFunctionOptions): ParseFunctionResult {
  const doc = typeof body === 'string' ? readBodyText(body) : { value: body };
  if ('error' in doc) return { errors: [{ path: '/', errors: [doc.error] }] };
  if (!isObject(doc.value)) return { errors: [{ path: '/', errors: ['an action must be a JSON object'] }] };
  const { add, result } = collector();
  nameRule('/name', 'name', opts.name, add);
  nameRule('/namespace', 'namespace', opts.namespace, add);
  const input = readFields(doc.value, opts.previous === undefined, add);
  if (result().length) return { errors: result() };
  const spec = merged(input, opts);
  rules(spec, doc.value, add);
  return result().length ? { errors: result() } : { spec };
}

/**
 * OpenWhisk's error body for a refused document: `{error, code}`, `code`
 * being the request's transaction id. Every path and problem is in `error`,
 * since OpenWhisk's clients show that text and nothing else.
 */
export function invalidFunctionBody(errors: readonly ErrorDetail[], code: string): { error: string; code: string } {
  const lines = errors.map((e) => `${e.path}: ${e.errors.join('; ')}`);
  return { error: `The request content was malformed: ${lines.join('; ')}`, code };
}

function collector(): { add: Add; result: () => ErrorDetail[] } {
  const out = new Map<string, string[]>();
  const add: Add = (path, why) => {
    const list = out.get(path) ?? [];
    if (!list.includes(why)) list.push(why);
    out.set(path, list);
  };
  return { add, result: () => [...out].map(([path, errors]) => ({ path, errors })) };
}

function isObject(v: unknown): v is Doc {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function nameRule(at: string, what: string, value: string, add: Add): void {
  if (value.length > MAX_ENTITY_NAME) add(at, `the ${what} is ${value.length} characters long; the limit is ${MAX_ENTITY_NAME}`);
  else if (!ENTITY_NAME_PATTERN.test(value)) {
    add(at, `the ${what} ${JSON.stringify(value.slice(0, 40))} is not allowed: use letters, digits and _, with @ . & - and spaces inside (OpenWhisk's entity name rule)`);
  }
}

/** The body's fields as OpenWhisk reads them, each type-checked; undefined where absent. */
interface Input {
  exec?: FunctionSpec['exec'];
  parameters?: KeyValue[];
  annotations?: KeyValue[];
  delAnnotations?: string[];
  limits: Partial<Limits>;
  publish?: boolean;
}

function readFields(body: Doc, creating: boolean, add: Add): Input {
  for (const name of Object.keys(body)) if (!TOP_FIELDS.has(name)) add(childPointer('', name), unknownField());
  for (const name of ['namespace', 'name', 'version'] as const) {
    if (body[name] !== undefined && typeof body[name] !== 'string') add(`/${name}`, 'must be a string');
  }
  if (typeof body.version === 'string' && !SEMVER.test(body.version)) add('/version', 'must be a version such as 0.0.1 (major.minor.patch)');
  if (body.updated !== undefined && typeof body.updated !== 'number') add('/updated', 'must be a number (milliseconds since the epoch)');
  if (body.publish !== undefined && typeof body.publish !== 'boolean') add('/publish', 'must be true or false');
  if (body.exec === undefined && creating) add('/exec', 'is required to create an action (OpenWhisk: exec undefined)');
  return {
    ...(body.exec !== undefined && { exec: readExec(body.exec, add) }),
    ...(body.parameters !== undefined && { parameters: readKeyValues('/parameters', body.parameters, true, add) }),
    ...(body.annotations !== undefined && { annotations: readKeyValues('/annotations', body.annotations, false, add) }),
    ...(body.delAnnotations !== undefined && { delAnnotations: readStrings('/delAnnotations', body.delAnnotations, add) }),
    limits: readLimits(body.limits, add),
    ...(typeof body.publish === 'boolean' && { publish: body.publish }),
  };
}

function unknownField(): string {
  return 'unknown field (OpenWhisk ignores unknown fields; Mezzanine refuses them, check the spelling)';
}

function readExec(exec: unknown, add: Add): FunctionSpec['exec'] | undefined {
  if (!isObject(exec)) return void add('/exec', 'must be an object: {kind, code, main?, binary?}');
  const kind = readKind(exec.kind, add);
  for (const name of Object.keys(exec)) {
    if (EXEC_FIELDS.has(name)) continue;
    const other = OTHER_KIND_FIELDS[name];
    add(childPointer('/exec', name), other ? `belongs to kind ${other}, which is not supported: ${UNSUPPORTED_KINDS[other]}` : unknownField());
  }
  const code = readCode(exec.code, add);
  if (exec.binary !== undefined && typeof exec.binary !== 'boolean') add('/exec/binary', 'must be true or false');
  const binary = typeof exec.binary === 'boolean' ? exec.binary : code !== undefined && isBase64(code);
  if (exec.binary === true && code !== undefined && !isBase64(code)) add('/exec/binary', 'is true but code is not base64');
  const main = readMain(exec.main, kind, binary, add);
  if (kind === undefined || code === undefined) return undefined;
  return { kind, code, binary, ...(main !== undefined && { main }) };
}

function readKind(kind: unknown, add: Add): string | undefined {
  if (typeof kind !== 'string') return void add('/exec/kind', `is required: one of ${Object.keys(KINDS).join(', ')}`);
  // OpenWhisk trims and lower-cases the kind before looking it up.
  const k = kind.trim().toLowerCase();
  if (Object.hasOwn(KINDS, k)) return KINDS[k];
  if (Object.hasOwn(UNSUPPORTED_KINDS, k)) return void add('/exec/kind', `not supported: ${UNSUPPORTED_KINDS[k]}`);
  return void add('/exec/kind', `kind ${JSON.stringify(kind.slice(0, 40))} is not supported; use one of ${Object.keys(KINDS).join(', ')}`);
}

function readCode(code: unknown, add: Add): string | undefined {
  if (typeof code !== 'string') return void add('/exec/code', 'is required: the source text, or base64 when binary');
  if (code.trim() === '') return void add('/exec/code', 'is empty; give the source text, or base64 when binary');
  const bytes = Buffer.byteLength(code);
  if (bytes > MAX_CODE_BYTES) return void add('/exec/code', `is ${bytes} bytes; the limit is ${limitText(MAX_CODE_BYTES)}`);
  return code;
}

function readMain(main: unknown, kind: string | undefined, binary: boolean, add: Add): string | undefined {
  if (main === undefined) return undefined;
  if (kind === 'command') return void add('/exec/main', 'a command function has no entry function; leave main out');
  // The worker looks the entry up by name in the code; inside a zip, `file.entry` names a module and its export.
  if (typeof main !== 'string' || !(binary ? ZIP_ENTRY : IDENTIFIER).test(main)) {
    return void add('/exec/main', `must be the name of the entry function, a JavaScript identifier such as main${binary ? ", or file.entry for a module in the zip" : ''}`);
  }
  return main;
}

function isBase64(code: string): boolean {
  const t = code.trim();
  return t.length % 4 === 0 && BASE64.test(t);
}

function readKeyValues(at: string, list: unknown, withInit: boolean, add: Add): KeyValue[] | undefined {
  if (!Array.isArray(list)) return void add(at, 'must be an array of {key, value}');
  const seen = new Set<string>();
  const out: KeyValue[] = [];
  for (const [i, kv] of list.entries()) {
    const here = `${at}/${i}`;
    if (!isObject(kv)) {
      add(here, 'must be an object {key, value}');
      continue;
    }
    for (const name of Object.keys(kv)) if (name !== 'key' && name !== 'value' && !(withInit && name === 'init')) add(childPointer(here, name), unknownField());
    if (typeof kv.key !== 'string' || kv.key === '') add(`${here}/key`, 'must be a non-empty string');
    else if (seen.has(kv.key)) add(`${here}/key`, `${JSON.stringify(kv.key.slice(0, 40))} is given twice`);
    if (!('value' in kv)) add(`${here}/value`, 'is required (any JSON value)');
    if (kv.init !== undefined && typeof kv.init !== 'boolean') add(`${here}/init`, 'must be true or false');
    if (typeof kv.key !== 'string') continue;
    seen.add(kv.key);
    out.push({ key: kv.key, value: kv.value, ...(kv.init === true && { init: true }) });
  }
  return out;
}

function readStrings(at: string, list: unknown, add: Add): string[] | undefined {
  if (!Array.isArray(list) || !list.every((s) => typeof s === 'string')) return void add(at, 'must be an array of annotation keys');
  return list as string[];
}

function readLimits(limits: unknown, add: Add): Partial<Limits> {
  if (limits === undefined) return {};
  const out: Partial<Limits> = {};
  if (!isObject(limits)) {
    add('/limits', 'must be an object: {timeout, memory, logs, concurrency}');
    return out;
  }
  for (const [name, value] of Object.entries(limits)) {
    const at = childPointer('/limits', name);
    if (!Object.hasOwn(LIMITS, name)) add(at, unknownField());
    else if (!Number.isInteger(value)) add(at, `must be a whole number of ${LIMIT_UNITS[name as LimitName] || 'activations'}`);
    else {
      const problem = rangeProblem(name as LimitName, value as number);
      if (problem) add(at, problem);
      else out[name as LimitName] = value as number;
    }
  }
  return out;
}

/** OpenWhisk's own words for a limit out of range (`Messages.scala`). */
function rangeProblem(name: LimitName, value: number): string | undefined {
  const { min, max } = LIMITS[name];
  const unit = LIMIT_UNITS[name];
  const what = name === 'memory' || name === 'logs' ? `${name} size` : name;
  const show = (n: number) => (unit ? `${n} ${unit}` : `${n}`);
  if (value > max) return `${what} ${show(value)} exceeds allowed threshold of ${show(max)}`;
  if (value < min) return `${what} ${show(value)} below allowed threshold of ${show(min)}`;
  return undefined;
}

/**
 * The new version's content: the body's fields over the previous version's,
 * as OpenWhisk's `updateWhiskAction` merges them (limits field by field,
 * parameters replaced whole, annotations merged by key after delAnnotations),
 * and OpenWhisk's defaults where neither says.
 */
function merged(input: Input, opts: ParseFunctionOptions): FunctionSpec {
  const prev = opts.previous;
  const limits = { ...defaults(LIMITS), ...prev?.limits, ...input.limits } as Limits;
  const kept = (prev?.annotations ?? []).filter((a) => !input.delAnnotations?.includes(a.key));
  const annotations = mergeByKey(kept, input.annotations ?? []);
  return {
    namespace: opts.namespace,
    name: opts.name,
    exec: (input.exec ?? prev?.exec)!,
    parameters: input.parameters ?? prev?.parameters ?? [],
    annotations,
    limits,
    publish: input.publish ?? prev?.publish ?? false,
    scaling: scalingOf(annotations),
  };
}

function defaults<K extends string>(ranges: Readonly<Record<K, { default: number }>>): Record<K, number> {
  return Object.fromEntries(Object.entries<{ default: number }>(ranges).map(([k, r]) => [k, r.default])) as Record<K, number>;
}

function mergeByKey(base: readonly KeyValue[], over: readonly KeyValue[]): KeyValue[] {
  const out = new Map(base.map((kv) => [kv.key, kv]));
  for (const kv of over) out.set(kv.key, kv);
  return [...out.values()];
}

/** Scaling from annotations; values are range-checked by `rules`, which runs before the spec is returned. */
function scalingOf(annotations: readonly KeyValue[]): Scaling {
  const out = defaults(SCALING_ANNOTATIONS);
  for (const { key, value } of annotations) if (Object.hasOwn(SCALING_ANNOTATIONS, key)) out[key as ScalingName] = value as number;
  return out;
}

/** The rules that need the whole function: after the merge, so an update is checked as the version it makes. */
function rules(spec: FunctionSpec, body: Doc, add: Add): void {
  if (spec.limits.concurrency > 1 && runtimeOf(spec.exec.kind) === 'command') {
    // Named where the body asked for it: the kind, when the concurrency is the previous version's.
    const concurrencyGiven = isObject(body.limits) && body.limits.concurrency !== undefined;
    add(isObject(body.exec) && !concurrencyGiven ? '/exec/kind' : '/limits/concurrency', `concurrency ${spec.limits.concurrency} is for Node.js kinds only; a command function runs one activation at a time (1)`);
  }
  const at = (key: string) => annotationPath(body, key);
  for (const { key, value } of spec.annotations) {
    if (!Object.hasOwn(SCALING_ANNOTATIONS, key)) continue;
    const { min, max } = SCALING_ANNOTATIONS[key as ScalingName];
    if (!Number.isInteger(value) || (value as number) < min || (value as number) > max) {
      add(at(key), `${key} must be a whole number from ${min} to ${max}${key === 'idleTimeout' ? ' (seconds)' : ''}`);
    }
  }
  if (spec.scaling.minWarm > spec.scaling.maxWorkers) {
    add(at('minWarm'), `minWarm ${spec.scaling.minWarm} is above maxWorkers ${spec.scaling.maxWorkers}`);
  }
  sizeRule('/parameters', 'parameters', spec.parameters, MAX_PARAMETERS_BYTES, add);
  sizeRule('/annotations', 'annotations', spec.annotations, MAX_ANNOTATIONS_BYTES, add);
}

/** The path of annotation `key`'s value in the body, or of the whole list when it came from the previous version. */
function annotationPath(body: Doc, key: string): string {
  const list = Array.isArray(body.annotations) ? (body.annotations as unknown[]) : [];
  const i = list.findIndex((a) => isObject(a) && a.key === key);
  return i === -1 ? '/annotations' : `/annotations/${i}/value`;
}

function sizeRule(at: string, what: string, list: readonly KeyValue[], limit: number, add: Add): void {
  const bytes = Buffer.byteLength(JSON.stringify(list));
  if (bytes > limit) add(at, `${what} are ${bytes} bytes as JSON; the limit is ${limitText(limit)}`);
}

function limitText(bytes: number): string {
  return `${bytes / (1024 * 1024)} MB (${bytes} bytes)`;
}
