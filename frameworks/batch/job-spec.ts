/**
 * Reading Metronome's job JSON (or YAML), as the batch framework accepts it.
 *
 *   body (object, JSON text or YAML text)
 *     ──unsupported (docker, ucr, secrets, volumes, non-host networks)──▶
 *     ──schema (job-schema.ts: unknown and misplaced fields named)──▶
 *     ──rules (ids, cmd xor args, completions, duplicate schedules, cron hook)──▶
 *     ──defaults (Metronome's)──▶ {job: Job} | {errors: [{path, errors[]}]}
 *
 * Pure: no I/O. Cron expressions and time zones are checked only by the
 * caller's `validateCron` hook (frameworks/batch/cron.ts), so this file does
 * not depend on the cron engine.
 */
import type { TSchema } from 'typebox';
import type { TLocalizedValidationError } from 'typebox/error';
import { Value } from 'typebox/value';
import { readBodyText } from '../foundation/index';
import { JOB_ID_PATTERN, JobSpec, RunSpec, UNSUPPORTED_RUN, type FieldErrors, type Job, type JobSpecInput, type ScheduleInput } from './job-schema';

export type ParseJobResult = { job: Job; errors?: undefined } | { job?: undefined; errors: FieldErrors[] };

export interface ParseJobOptions {
  /** Says what is wrong with a schedule's cron expression or time zone, or undefined when both are good. */
  validateCron?: (cron: string, timezone: string) => string | undefined;
}

/** Most paths a reply names; the rest of a body that bad is not worth reading. */
const MAX_REPORTED = 50;

type Add = (path: string, why: string) => void;

/**
 * Reads a job from a request body: an object already parsed, or JSON or
 * YAML text. Returns the normalized job, or every problem found, each at its
 * JSON path. Never throws on bad input.
 */
export function parseJob(body: unknown, opts: ParseJobOptions = {}): ParseJobResult {
  const doc = typeof body === 'string' ? readBodyText(body) : { value: body };
  if ('error' in doc) return { errors: [{ path: '/', errors: [doc.error] }] };
  const value = doc.value;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { errors: [{ path: '/', errors: ['a job must be a JSON object'] }] };
  const { add, result } = collector();
  const input = withoutEmptyUnsupported(value as Record<string, unknown>, add);
  checkSchema(input, add);
  if (result().length) return { errors: result() };
  rules(input as JobSpecInput, opts, add);
  if (result().length) return { errors: result() };
  return { job: withDefaults(input as JobSpecInput) };
}

/** Metronome's 422 body for `errors`. */
export function invalidJobBody(errors: readonly FieldErrors[]): { message: string; details: FieldErrors[] } {
  return { message: 'Object is not valid', details: [...errors] };
}

function collector(): { add: Add; result: () => FieldErrors[] } {
  const out = new Map<string, string[]>();
  const add: Add = (path, why) => {
    const at = path || '/';
    const list = out.get(at) ?? [];
    if (!list.includes(why)) list.push(why);
    if (out.size < MAX_REPORTED || out.has(at)) out.set(at, list);
  };
  return { add, result: () => [...out].map(([path, errors]) => ({ path, errors })) };
}

/**
 * A copy of the job without `run` fields that ask for nothing (empty
 * `volumes`/`secrets`, host-only `networks`); the ones that ask for what
 * Mezzanine cannot do are refused as not supported, by name.
 */
function withoutEmptyUnsupported(job: Record<string, unknown>, add: Add): Record<string, unknown> {
  const run = job.run;
  if (typeof run !== 'object' || run === null || Array.isArray(run)) return job;
  const kept: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(run)) {
    if (!Object.hasOwn(UNSUPPORTED_RUN, name)) kept[name] = value;
    else if (!asksForNothing(name, value)) add(`/run/${escape(name)}`, `not supported: ${UNSUPPORTED_RUN[name]}`);
  }
  return { ...job, run: kept };
}

function asksForNothing(name: string, value: unknown): boolean {
  if (name === 'networks') return Array.isArray(value) && value.every((n) => typeof n === 'object' && n !== null && (n as { mode?: unknown }).mode === 'host');
  if (name === 'volumes' || name === 'secrets') return (Array.isArray(value) && value.length === 0) || (isPlainObject(value) && Object.keys(value).length === 0);
  return false;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The schema's complaints. Each top-level field (and each field of `run`) is
 * checked on its own because TypeBox stops at 8 errors per check: one
 * field's errors must not hide another's.
 */
function checkSchema(job: Record<string, unknown>, add: Add): void {
  checkObject(JobSpec.properties, JobSpec.required ?? [], job, '', add);
  if (isPlainObject(job.run)) checkObject(RunSpec.properties, [], job.run, '/run', add);
}

function checkObject(properties: Record<string, TSchema>, required: readonly string[], value: Record<string, unknown>, at: string, add: Add): void {
  for (const name of required) if (!(name in value)) add(`${at}/${name}`, 'is required');
  for (const [name, field] of Object.entries(value)) {
    const path = `${at}/${escape(name)}`;
    if (!Object.hasOwn(properties, name)) add(path, unknownField(at, name));
    else if (!(at === '' && name === 'run' && isPlainObject(field))) for (const e of Value.Errors(properties[name]!, field)) fieldError(path, e, add);
  }
}

function fieldError(at: string, e: TLocalizedValidationError, add: Add): void {
  const path = at + e.instancePath;
  if (e.keyword === 'additionalProperties') {
    for (const name of (e.params as { additionalProperties: string[] }).additionalProperties) add(`${path}/${escape(name)}`, unknownField(path, name));
  } else if (e.keyword === 'enum') {
    add(path, `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`);
  } else if (e.keyword === 'required') {
    for (const name of (e.params as { requiredProperties?: string[] }).requiredProperties ?? []) add(`${path}/${name}`, 'is required');
  } else if (e.keyword !== 'boolean') {
    // (`boolean`: the `false` schema of an extra field repeats the additionalProperties error.)
    add(path, e.message);
  }
}

/** Where fields that belong inside an object live, for "belongs in" hints. */
const MISPLACED: Readonly<Record<string, string>> = {
  cmd: '/run',
  args: '/run',
  cpus: '/run',
  mem: '/run',
  disk: '/run',
  gpus: '/run',
  env: '/run',
  artifacts: '/run',
  constraints: '/run/placement',
  placement: '/run',
  maxLaunchDelay: '/run',
  restart: '/run',
  policy: '/run/restart',
  activeDeadlineSeconds: '/run/restart',
  taskKillGracePeriodSeconds: '/run',
  user: '/run',
  cron: '/schedules/<n>',
  timezone: '/schedules/<n>',
  startingDeadlineSeconds: '/schedules/<n>',
  concurrencyPolicy: '/schedules/<n>',
  parallelism: '/ (the job, beside run)',
  completions: '/ (the job, beside run)',
  completionMode: '/ (the job, beside run)',
  backoffLimit: '/ (the job, beside run)',
  gang: '/ (the job, beside run)',
};

function unknownField(at: string, name: string): string {
  if (at !== '/run' && Object.hasOwn(UNSUPPORTED_RUN, name)) return `not supported: ${UNSUPPORTED_RUN[name]}`;
  const home = MISPLACED[name];
  const here = at === '' ? '/ (the job, beside run)' : at.replace(/\/\d+$/, '/<n>').replace(/\/\d+\//g, '/<n>/');
  if (home && home !== here) return `unknown field here; it belongs in ${home}`;
  return 'unknown field (Metronome ignored unknown fields; Mezzanine refuses them, check the spelling)';
}

/** The rules a schema cannot say. */
function rules(job: JobSpecInput, opts: ParseJobOptions, add: Add): void {
  idRule('/id', job.id, add);
  const run = job.run;
  if (run.cmd === undefined && run.args === undefined) add('/run', 'give cmd or args');
  if (run.cmd !== undefined && run.args !== undefined) add('/run/args', 'give cmd or args, not both');
  for (const [i, c] of (run.placement?.constraints ?? []).entries()) {
    if (c.value === undefined) add(`/run/placement/constraints/${i}/value`, `is required for ${c.operator}`);
    else if (c.operator === 'LIKE' || c.operator === 'UNLIKE') regexRule(`/run/placement/constraints/${i}/value`, c.value, add);
  }
  const parallelism = job.parallelism ?? 1;
  if (job.completions !== undefined && job.completions < parallelism) {
    add('/completions', `is ${job.completions}, below parallelism ${parallelism}: tasks beyond completions would never run; lower parallelism or raise completions`);
  }
  schedulesRule(job.schedules ?? [], opts, add);
  const seen = new Set<string>();
  for (const [i, d] of (job.dependencies ?? []).entries()) {
    const at = `/dependencies/${i}/id`;
    idRule(at, d.id, add);
    if (d.id === job.id) add(at, 'a job cannot depend on itself');
    if (seen.has(d.id)) add(at, `${d.id} is listed twice`);
    seen.add(d.id);
  }
}

function idRule(at: string, id: string, add: Add): void {
  if (!JOB_ID_PATTERN.test(id)) {
    add(at, 'must be lowercase letters, digits and dashes, in dot-separated parts that start and end with a letter or digit (Metronome\'s id rule), e.g. prod.reports-daily');
  }
}

function regexRule(at: string, pattern: string, add: Add): void {
  try {
    new RegExp(pattern);
  } catch {
    add(at, 'must be a regular expression');
  }
}

function schedulesRule(schedules: readonly ScheduleInput[], opts: ParseJobOptions, add: Add): void {
  const seen = new Set<string>();
  for (const [i, s] of schedules.entries()) {
    idRule(`/schedules/${i}/id`, s.id, add);
    if (seen.has(s.id)) add(`/schedules/${i}/id`, `schedule ${s.id} is given twice; schedule ids are unique within a job`);
    seen.add(s.id);
    const problem = opts.validateCron?.(s.cron, s.timezone ?? 'UTC');
    if (problem) add(`/schedules/${i}/cron`, problem);
  }
}

/** JSON Pointer escaping of one property name. */
function escape(name: string): string {
  return name.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Metronome's defaults (job.raml, schedule.raml), and Mezzanine's for its additions. */
function withDefaults(j: JobSpecInput): Job {
  const r = j.run;
  const parallelism = j.parallelism ?? 1;
  return {
    id: j.id,
    description: j.description ?? '',
    labels: j.labels ?? {},
    run: {
      ...(r.cmd !== undefined ? { cmd: r.cmd } : { args: [...r.args!] }),
      cpus: r.cpus ?? 1,
      mem: r.mem ?? 128,
      disk: r.disk ?? 0,
      gpus: r.gpus ?? 0,
      env: r.env ?? {},
      artifacts: (r.artifacts ?? []).map((a) => ({ uri: a.uri, extract: a.extract ?? true, executable: a.executable ?? false, cache: a.cache ?? false })),
      placement: { constraints: (r.placement?.constraints ?? []).map((c) => ({ ...c })) },
      maxLaunchDelay: r.maxLaunchDelay ?? 3600,
      restart: { policy: r.restart?.policy ?? 'NEVER', ...(r.restart?.activeDeadlineSeconds !== undefined && { activeDeadlineSeconds: r.restart.activeDeadlineSeconds }) },
      ...(r.taskKillGracePeriodSeconds !== undefined && { taskKillGracePeriodSeconds: r.taskKillGracePeriodSeconds }),
      ...(r.user !== undefined && { user: r.user }),
    },
    schedules: (j.schedules ?? []).map((s) => ({
      id: s.id,
      cron: s.cron,
      timezone: s.timezone ?? 'UTC',
      startingDeadlineSeconds: s.startingDeadlineSeconds ?? 900,
      concurrencyPolicy: s.concurrencyPolicy ?? 'ALLOW',
      enabled: s.enabled ?? true,
    })),
    parallelism,
    // Unset, every task started must complete: as many completions as parallel tasks.
    completions: j.completions ?? parallelism,
    completionMode: j.completionMode ?? 'NonIndexed',
    backoffLimit: j.backoffLimit ?? 6,
    gang: j.gang ?? false,
    dependencies: (j.dependencies ?? []).map((d) => ({ id: d.id })),
    historyLimits: { successful: j.historyLimits?.successful ?? 100, failed: j.historyLimits?.failed ?? 100 },
  };
}
