/**
 * What `mezz fn …` shows of mezz-functions' answers (OpenWhisk's `/api/v1`
 * with Mezzanine's `cold` and scaling annotations): the functions, one
 * function, its versions, activations, and the line an invocation ends
 * with. Pure, so every text is unit-tested with literal API answers.
 *
 * The API's JSON is read here and only here: the `*Json` types below are the
 * fields the CLI uses, so a field the API renames is one edit in this file.
 */
import { duration, formatTable, megabytes } from './table';

export interface KeyValueJson {
  key: string;
  value: unknown;
}

/** OpenWhisk's action (`GET …/actions/NAME`); `code` only when asked for. */
export interface ActionJson {
  namespace: string;
  name: string;
  version: string;
  exec: { kind: string; binary?: boolean; code?: string; main?: string };
  limits?: { timeout?: number; memory?: number; logs?: number; concurrency?: number };
  parameters?: KeyValueJson[];
  annotations?: KeyValueJson[];
  updated?: number;
}

/** Where a call's worker came from: a warm one of its version, a stem of the pool, or one started from nothing. */
export type ColdSource = 'warm' | 'pool' | 'none';

/** OpenWhisk's activation record, with Mezzanine's `cold`. */
export interface ActivationJson {
  activationId: string;
  namespace?: string;
  name: string;
  version?: string;
  start?: number;
  end?: number;
  duration?: number;
  response?: { status?: string; statusCode?: number; success?: boolean; result?: unknown };
  logs?: string[];
  annotations?: KeyValueJson[];
  cold?: ColdSource;
}

/** Mezzanine's scaling annotations and their defaults (frameworks/functions/README.md). */
const SCALING = { minWarm: 0, maxWorkers: 10, idleTimeout: 600 } as const;

function annotation(a: ActionJson, key: string): unknown {
  return a.annotations?.find((x) => x.key === key)?.value;
}

function scalingOf(a: ActionJson): { minWarm: number; maxWorkers: number; idleTimeout: number } {
  const read = (key: keyof typeof SCALING) => {
    const v = annotation(a, key);
    return typeof v === 'number' ? v : SCALING[key];
  };
  return { minWarm: read('minWarm'), maxWorkers: read('maxWorkers'), idleTimeout: read('idleTimeout') };
}

/** `nodejs:20`, `command`; `(zip)` / `(binary)` when the code travels as base64. */
function kindText(a: ActionJson): string {
  if (!a.exec.binary) return a.exec.kind;
  return `${a.exec.kind} (${a.exec.kind.startsWith('nodejs') ? 'zip' : 'binary'})`;
}

function ms(n: number | undefined): string {
  if (n === undefined) return '-';
  return n < 1000 || n % 1000 ? `${n}ms` : duration(n / 1000);
}

/** `2026-11-28 15:04:05Z` from epoch milliseconds. */
export function instantMs(t: number | undefined): string {
  return t === undefined ? '-' : `${new Date(t).toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

/** `mezz fn list`: NAME, VERSION, KIND, MEMORY, TIMEOUT, CONCURRENCY, WARM/MAX (the scaling annotations), UPDATED. */
export function actionsText(actions: readonly ActionJson[]): string {
  if (!actions.length) return "no functions (deploy one with 'mezz fn deploy NAME FILE')";
  const rows = [...actions].sort((a, b) => (a.name < b.name ? -1 : 1)).map((a) => {
    const s = scalingOf(a);
    return [a.name, a.version, kindText(a), a.limits?.memory ? megabytes(a.limits.memory) : '-', ms(a.limits?.timeout),
      String(a.limits?.concurrency ?? '-'), `${s.minWarm}/${s.maxWorkers}`, instantMs(a.updated)];
  });
  return formatTable(['NAME', 'VERSION', 'KIND', 'MEMORY', 'TIMEOUT', 'CONCURRENCY', 'WARM/MAX', 'UPDATED'], rows);
}

/** The size of an action's code in bytes (decoded when it travels as base64); undefined when the answer left the code out. */
export function codeSize(a: ActionJson): number | undefined {
  if (a.exec.code === undefined) return undefined;
  return a.exec.binary ? Buffer.from(a.exec.code, 'base64').length : Buffer.byteLength(a.exec.code);
}

function bytesText(n: number): string {
  if (n < 1024) return `${n} B`;
  return n < 1024 * 1024 ? `${Math.round(n / 102.4) / 10} KB` : `${Math.round(n / (1024 * 102.4)) / 10} MB`;
}

function valueText(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** `mezz fn show`: kind, version, limits, scaling, code size, parameters and other annotations. */
export function actionText(a: ActionJson): string {
  const s = scalingOf(a);
  const size = codeSize(a);
  const l = a.limits ?? {};
  const other = (a.annotations ?? []).filter((x) => !(x.key in SCALING));
  const head: [string, string][] = [
    ['function', `${a.namespace}/${a.name}`],
    ['version', a.version],
    ['kind', kindText(a)],
    ...(a.exec.main ? [['main', a.exec.main] as [string, string]] : []),
    ['code', size === undefined ? '-' : bytesText(size)],
    ['limits', `timeout ${ms(l.timeout)}, memory ${l.memory ? megabytes(l.memory) : '-'}, concurrency ${l.concurrency ?? '-'}, logs ${l.logs !== undefined ? megabytes(l.logs) : '-'}`],
    ['scaling', `min warm ${s.minWarm}, max workers ${s.maxWorkers}, idle ${duration(s.idleTimeout)}`],
    ['parameters', a.parameters?.length ? a.parameters.map((p) => `${p.key}=${valueText(p.value)}`).join(', ') : '-'],
    ...(other.length ? [['annotations', other.map((x) => `${x.key}=${valueText(x.value)}`).join(', ')] as [string, string]] : []),
    ['updated', instantMs(a.updated)],
  ];
  const width = Math.max(...head.map(([k]) => k.length));
  return head.map(([k, v]) => `${k.padEnd(width)}   ${v}`).join('\n');
}

/**
 * The versions of a function from `GET …/actions/NAME/versions`, newest
 * first: the one place that reads that answer, which may be a list of
 * actions or `{versions: [...]}` of actions or version strings.
 */
export function versionsOf(answer: unknown): ActionJson[] | string[] {
  const list = Array.isArray(answer) ? answer : (answer as { versions?: unknown } | null)?.versions;
  if (!Array.isArray(list)) return [];
  if (list.every((v) => typeof v === 'string')) return [...list as string[]].sort((a, b) => versionNumber(b) - versionNumber(a));
  return [...list as ActionJson[]].sort((a, b) => versionNumber(b.version) - versionNumber(a.version));
}

/** `0.0.7` → 7: OpenWhisk's patch number is Mezzanine's version. */
function versionNumber(v: string): number {
  return Number(/(\d+)$/.exec(v)?.[1] ?? 0);
}

/** `mezz fn versions`: VERSION, KIND, CODE, MEMORY, TIMEOUT, UPDATED; the newest is the one invoked. */
export function versionsText(name: string, versions: ActionJson[] | string[]): string {
  if (!versions.length) return `function ${name} has no versions`;
  if (typeof versions[0] === 'string') return formatTable(['VERSION'], (versions as string[]).map((v) => [v]));
  const rows = (versions as ActionJson[]).map((a) => {
    const size = codeSize(a);
    return [a.version, kindText(a), size === undefined ? '-' : bytesText(size), a.limits?.memory ? megabytes(a.limits.memory) : '-', ms(a.limits?.timeout), instantMs(a.updated)];
  });
  return formatTable(['VERSION', 'KIND', 'CODE', 'MEMORY', 'TIMEOUT', 'UPDATED'], rows);
}

/** `cold: pool`, `warm`; `-` for a record without Mezzanine's field (OpenWhisk's own: cold iff it has `initTime`). */
function coldText(act: ActivationJson): string {
  if (act.cold) return act.cold === 'warm' ? 'warm' : `cold: ${act.cold}`;
  return act.annotations?.some((x) => x.key === 'initTime') ? 'cold' : '-';
}

/** `mezz fn activations`: ID, NAME, VERSION, STATUS, COLD, START, DURATION — newest first, as the API lists them. */
export function activationsText(acts: readonly ActivationJson[]): string {
  if (!acts.length) return 'no activations';
  return formatTable(['ID', 'NAME', 'VERSION', 'STATUS', 'COLD', 'START', 'DURATION'], acts.map((a) => [
    a.activationId, a.name, a.version ?? '-', a.response?.status ?? '-', coldText(a).replace(/^cold: /, ''), instantMs(a.start), ms(a.duration),
  ]));
}

/** A worker as `GET …/actions/NAME/workers` lists it. */
export interface WorkerJson {
  id: string;
  state: string;
  version: string;
  inflight: number;
  idleSince: number;
}

/** `mezz fn workers`: TASK, STATE, VERSION, IN FLIGHT, IDLE (how long without a call, for one with none in flight). */
export function workersText(name: string, workers: readonly WorkerJson[], now: number): string {
  if (!workers.length) return `no workers for ${name}: it has scaled to zero (the next call starts one)`;
  return formatTable(['TASK', 'STATE', 'VERSION', 'IN FLIGHT', 'IDLE'], workers.map((w) => [
    w.id, w.state, w.version, String(w.inflight), w.inflight > 0 ? '-' : duration(Math.max(0, Math.round((now - w.idleSince) / 1000))),
  ]));
}

/** The line `mezz fn invoke` ends with on stderr: `activation ID (cold: pool, 23 ms)`, `activation ID (warm, 4 ms)`. */
export function invokeSummary(act: ActivationJson): string {
  const parts = [coldText(act), ...(act.duration !== undefined ? [`${act.duration} ms`] : [])].filter((p) => p !== '-');
  return `activation ${act.activationId}${parts.length ? ` (${parts.join(', ')})` : ''}`;
}

/** A failed activation as one line: `activation ID of hello 0.0.3: application error: <its error>` (without the function when only its result was read). */
export function activationFailure(act: Pick<ActivationJson, 'activationId' | 'response'> & { name?: string; version?: string }): string {
  const r = act.response ?? {};
  const error = (r.result as { error?: unknown } | undefined)?.error;
  const why = error === undefined ? JSON.stringify(r.result ?? null) : valueText(error);
  const of = act.name ? ` of ${act.name}${act.version ? ` ${act.version}` : ''}` : '';
  return `activation ${act.activationId}${of}: ${r.status ?? 'failed'}: ${why}`;
}

/** A JSON value as `mezz fn invoke` and `result` print it: indented, for people and for `jq` alike. */
export function resultText(result: unknown): string {
  return JSON.stringify(result ?? {}, null, 2);
}
