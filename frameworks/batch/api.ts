/**
 * The batch framework's HTTP API: Metronome's /v1 paths, status codes and
 * JSON shapes (/work/shared/reference/framework-apis.md §2.1; api-json.ts),
 * written against the BatchService contract (service.ts) only.
 *
 *   body (JSON or YAML, parsed by the foundation) ─ parseJob (cron checked by cron.ts)
 *     ─ 422 Metronome's `Object is not valid` with every path, nothing stored
 *     ─ service.putJob ─ 422 (dependencies) | 404 | 409 | 503 thrown by the service
 *
 * Schedules are part of the job here: the schedule routes change the job's
 * `schedules` and replace the job, so a schedule is checked by the same rules
 * as a job body (errors answered at the schedule's own paths).
 * Authorization as the services API: framework_read to read,
 * framework_write to change (runs and schedules included), framework_delete
 * to delete a job, each on `batch:<job id>`; lists on `batch:*`.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { addLeaderRoutes, type Api, type Leadership } from '../foundation/index';
import { FailedPreconditionError, InvalidArgumentError, NotFoundError, UnavailableError } from '../../lib/errors';
import { EMBEDS, type Embed, jobJson, queueJson, runJson, scheduleJson } from './api-json';
import { parseSchedule } from './cron';
import type { FieldErrors, Job } from './job-schema';
import { invalidJobBody, parseJob, type ParseJobResult } from './job-spec';
import type { StoredJob } from './run-store';
import type { BatchService } from './service';

const Any = Type.Any();
const JobParams = Type.Object({ id: Type.String() });
const RunParams = Type.Object({ id: Type.String(), runId: Type.String() });
const ScheduleParams = Type.Object({ id: Type.String(), scheduleId: Type.String() });
const EmbedQuery = Type.Object({ embed: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())])) });
const DeleteQuery = Type.Object({ stopCurrentJobRuns: Type.Optional(Type.Boolean()) });

/**
 * parseJob's cron hook: every problem cron.ts finds with a schedule's
 * expression or time zone, in one message (parseJob answers it at the
 * schedule's `cron`; a time zone's problem says it is the time zone's).
 */
export function validateCron(cron: string, timezone: string): string | undefined {
  const r = parseSchedule(cron, timezone);
  if (!r.errors) return undefined;
  return r.errors.flatMap((e) => e.errors.map((m) => (e.path === '/timezone' ? `timezone: ${m}` : m))).join('; ');
}

/** A job body read with the API's cron rules. */
export function parseJobBody(body: unknown): ParseJobResult {
  return parseJob(body, { validateCron });
}

const rawBody = (request: unknown) => (request as FastifyRequest).body;

/** The id a body names, for the ACL check (the body is validated after). */
function bodyId(body: unknown): string {
  const id = isObject(body) ? body.id : undefined;
  return typeof id === 'string' ? id : '';
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `embed` as Metronome reads it: repeated or comma-separated; an unknown one is refused by name. */
function embedsOf(embed: string | string[] | undefined): Set<Embed> {
  const asked = [embed ?? []].flat().flatMap((e) => e.split(',')).map((e) => e.trim()).filter(Boolean);
  const unknown = asked.filter((e) => !(EMBEDS as readonly string[]).includes(e));
  if (unknown.length) throw new InvalidArgumentError(`embed: unknown ${unknown.join(', ')}; known: ${EMBEDS.join(', ')}`);
  return new Set(asked as Embed[]);
}

/**
 * Reads wait for the state as writes do: before the leader has loaded it,
 * an empty list would be an answer, and a wrong one (503 says try again).
 */
function requireLoaded(service: BatchService): void {
  if (!service.leading()) throw new UnavailableError('this instance does not lead, or has not loaded its jobs yet: try again');
}

function requireJob(service: BatchService, id: string): StoredJob {
  requireLoaded(service);
  const stored = service.job(id);
  if (!stored) throw new NotFoundError(`Job not found: ${id}`);
  return stored;
}

/** A body's `id` must be absent or the path's; the refusal at `/id`, or undefined. */
function idMismatch(body: unknown, id: string, what: string): FieldErrors | undefined {
  const given = isObject(body) ? body.id : undefined;
  if (given === undefined || given === id) return undefined;
  return { path: '/id', errors: [`is ${JSON.stringify(given)} but the path names ${what} ${id}: leave it out or make them equal`] };
}

/**
 * Adds Metronome's /v1 routes (and `/leader`) to `api`, served from `service`.
 * Every read answers 503 until `service.leading()`; writes get the service's
 * own refusals. Call once per API, before it listens.
 */
export function addBatchRoutes(api: Api, service: BatchService, leadership: Leadership): void {
  addJobRoutes(api, service);
  addRunRoutes(api, service);
  addScheduleRoutes(api, service);
  // Metronome's `/leader`, and `/v1/leader` beside it for clients that keep to /v1.
  addLeaderRoutes(api, leadership, ['/v1/leader', '/leader']);

  api.route({
    method: 'GET', url: '/v1/queue', schema: { response: { 200: Any } },
    authz: { action: 'framework_read' },
    handler: async () => {
      requireLoaded(service);
      return queueJson(service.queue());
    },
  });
}

function addJobRoutes(api: Api, service: BatchService): void {
  /** Stores a job; a refusal by the service (dependencies) is a 422 like a bad body. */
  const put = async (reply: FastifyReply, job: Job, mode: 'create' | 'replace') => {
    const r = await service.putJob(job, mode);
    if (r.errors) return reply.code(422).send(invalidJobBody(r.errors));
    if (mode === 'create') void reply.code(201).header('location', `/v1/jobs/${r.job.job.id}`);
    return jobJson(service, r.job);
  };

  api.route({
    method: 'GET', url: '/v1/jobs', schema: { querystring: EmbedQuery, response: { 200: Any } },
    authz: { action: 'framework_read' },
    handler: async (request) => {
      const embed = embedsOf(request.query.embed);
      requireLoaded(service);
      return service.jobs().map((s) => jobJson(service, s, embed));
    },
  });

  api.route({
    method: 'POST', url: '/v1/jobs', schema: { response: { 201: Any, 409: Any, 422: Any } },
    authz: { action: 'framework_write', object: (r) => bodyId(rawBody(r)) },
    handler: async (request, reply) => {
      const parsed = parseJobBody(rawBody(request));
      if (parsed.errors) return reply.code(422).send(invalidJobBody(parsed.errors));
      return put(reply, parsed.job, 'create');
    },
  });

  api.route({
    method: 'GET', url: '/v1/jobs/:id', schema: { params: JobParams, querystring: EmbedQuery, response: { 200: Any } },
    authz: { action: 'framework_read', object: (r) => r.params.id },
    handler: async (request) => jobJson(service, requireJob(service, request.params.id), embedsOf(request.query.embed)),
  });

  // PUT replaces the job. Metronome's PUT keeps the job's schedules (its job
  // body has none: they have their own routes); here a body with `schedules`
  // replaces them too, and one without keeps them, so a Metronome client's
  // update never drops a schedule.
  api.route({
    method: 'PUT', url: '/v1/jobs/:id', schema: { params: JobParams, response: { 200: Any, 404: Any, 422: Any } },
    authz: { action: 'framework_write', object: (r) => r.params.id },
    handler: async (request, reply) => {
      const id = request.params.id;
      const stored = requireJob(service, id);
      const body = rawBody(request);
      const mismatch = idMismatch(body, id, 'job');
      if (mismatch) return reply.code(422).send(invalidJobBody([mismatch]));
      const parsed = parseJobBody(isObject(body) ? { ...body, id } : body);
      if (parsed.errors) return reply.code(422).send(invalidJobBody(parsed.errors));
      const keep = isObject(body) && body.schedules === undefined;
      return put(reply, keep ? { ...parsed.job, schedules: stored.job.schedules } : parsed.job, 'replace');
    },
  });

  api.route({
    method: 'DELETE', url: '/v1/jobs/:id', schema: { params: JobParams, querystring: DeleteQuery, response: { 200: Any, 409: Any } },
    authz: { action: 'framework_delete', object: (r) => r.params.id },
    handler: async (request) => jobJson(service, await service.deleteJob(request.params.id, request.query.stopCurrentJobRuns === true)),
  });

  // Mezzanine's: why a job with dependencies has not run, or that it is due.
  api.route({
    method: 'GET', url: '/v1/jobs/:id/dependencies/status', schema: { params: JobParams, response: { 200: Any } },
    authz: { action: 'framework_read', object: (r) => r.params.id },
    handler: async (request) => {
      const { job } = requireJob(service, request.params.id);
      return { jobId: job.id, dependencies: job.dependencies, ...service.dependencyStatus(job.id) };
    },
  });
}

function addRunRoutes(api: Api, service: BatchService): void {
  api.route({
    method: 'GET', url: '/v1/jobs/:id/runs', schema: { params: JobParams, response: { 200: Any } },
    authz: { action: 'framework_read', object: (r) => r.params.id },
    handler: async (request) => {
      requireJob(service, request.params.id);
      return service.activeRuns(request.params.id).map((r) => runJson(service, r));
    },
  });

  // Metronome starts a run of the job as it is; a body, if any, is not read.
  api.route({
    method: 'POST', url: '/v1/jobs/:id/runs', schema: { params: JobParams, response: { 201: Any } },
    authz: { action: 'framework_write', object: (r) => r.params.id },
    handler: async (request, reply) => {
      const run = await service.startRun(request.params.id);
      void reply.code(201).header('location', `/v1/jobs/${run.jobId}/runs/${run.id}`);
      return runJson(service, run);
    },
  });

  api.route({
    method: 'GET', url: '/v1/jobs/:id/runs/:runId', schema: { params: RunParams, response: { 200: Any } },
    authz: { action: 'framework_read', object: (r) => r.params.id },
    handler: async (request) => {
      const { id, runId } = request.params;
      requireLoaded(service);
      const run = service.run(id, runId);
      if (!run) throw new NotFoundError(`Job Run not found: ${runId} of job ${id}`);
      return runJson(service, run);
    },
  });

  api.route({
    method: 'POST', url: '/v1/jobs/:id/runs/:runId/actions/stop', schema: { params: RunParams, response: { 200: Any } },
    authz: { action: 'framework_write', object: (r) => r.params.id },
    handler: async (request) => runJson(service, await service.stopRun(request.params.id, request.params.runId)),
  });
}

/**
 * The job with its schedules changed, read as a whole job body, so a
 * schedule is held to every rule a job's is; errors about the schedule at
 * `index` are answered at its own paths (`/cron`, not `/schedules/0/cron`).
 */
function withSchedules(stored: StoredJob, schedules: unknown[], index: number): ParseJobResult {
  const parsed = parseJobBody({ ...stored.job, schedules });
  return parsed.errors ? { errors: atSchedule(parsed.errors, index) } : parsed;
}

function atSchedule(errors: readonly FieldErrors[], index: number): FieldErrors[] {
  const prefix = `/schedules/${index}`;
  return errors.map((e) => (e.path === prefix || e.path.startsWith(`${prefix}/`) ? { ...e, path: e.path.slice(prefix.length) || '/' } : e));
}

const NOT_A_SCHEDULE = invalidJobBody([
  { path: '/', errors: ['a schedule must be a JSON object: {id, cron, timezone?, startingDeadlineSeconds?, concurrencyPolicy?, enabled?}'] },
]);

function requireSchedule(stored: StoredJob, scheduleId: string): number {
  const index = stored.job.schedules.findIndex((s) => s.id === scheduleId);
  if (index < 0) throw new NotFoundError(`Schedule not found: ${scheduleId} of job ${stored.job.id}`);
  return index;
}

function addScheduleRoutes(api: Api, service: BatchService): void {
  /** Replaces the job with its changed schedules; answers the schedule `scheduleId` as stored, or 422 at the schedule's paths. */
  const change = async (reply: FastifyReply, stored: StoredJob, schedules: unknown[], index: number, code = 200) => {
    const parsed = withSchedules(stored, schedules, index);
    if (parsed.errors) return reply.code(422).send(invalidJobBody(parsed.errors));
    const r = await service.putJob(parsed.job, 'replace');
    if (r.errors) return reply.code(422).send(invalidJobBody(atSchedule(r.errors, index)));
    return reply.code(code).send(scheduleJson(r.job.job.schedules[index]!, Date.now()));
  };

  api.route({
    method: 'GET', url: '/v1/jobs/:id/schedules', schema: { params: JobParams, response: { 200: Any } },
    authz: { action: 'framework_read', object: (r) => r.params.id },
    handler: async (request) => {
      const now = Date.now();
      return requireJob(service, request.params.id).job.schedules.map((s) => scheduleJson(s, now));
    },
  });

  api.route({
    method: 'POST', url: '/v1/jobs/:id/schedules', schema: { params: JobParams, response: { 201: Any, 409: Any, 422: Any } },
    authz: { action: 'framework_write', object: (r) => r.params.id },
    handler: async (request, reply) => {
      const stored = requireJob(service, request.params.id);
      const body = rawBody(request);
      if (!isObject(body)) return reply.code(422).send(NOT_A_SCHEDULE);
      if (stored.job.schedules.some((s) => s.id === body.id)) throw new FailedPreconditionError(`A schedule with id ${String(body.id)} already exists`);
      return change(reply, stored, [...stored.job.schedules, body], stored.job.schedules.length, 201);
    },
  });

  api.route({
    method: 'GET', url: '/v1/jobs/:id/schedules/:scheduleId', schema: { params: ScheduleParams, response: { 200: Any } },
    authz: { action: 'framework_read', object: (r) => r.params.id },
    handler: async (request) => {
      const stored = requireJob(service, request.params.id);
      return scheduleJson(stored.job.schedules[requireSchedule(stored, request.params.scheduleId)]!, Date.now());
    },
  });

  // As Metronome's: the body's id, if given, must be the path's.
  api.route({
    method: 'PUT', url: '/v1/jobs/:id/schedules/:scheduleId', schema: { params: ScheduleParams, response: { 200: Any, 422: Any } },
    authz: { action: 'framework_write', object: (r) => r.params.id },
    handler: async (request, reply) => {
      const { id, scheduleId } = request.params;
      const stored = requireJob(service, id);
      const index = requireSchedule(stored, scheduleId);
      const body = rawBody(request);
      if (!isObject(body)) return reply.code(422).send(NOT_A_SCHEDULE);
      const mismatch = idMismatch(body, scheduleId, 'schedule');
      if (mismatch) return reply.code(422).send(invalidJobBody([mismatch]));
      return change(reply, stored, stored.job.schedules.map((s, i) => (i === index ? { ...body, id: scheduleId } : s)), index);
    },
  });

  // Answers the schedule removed (Metronome's body is empty).
  api.route({
    method: 'DELETE', url: '/v1/jobs/:id/schedules/:scheduleId', schema: { params: ScheduleParams, response: { 200: Any, 422: Any } },
    authz: { action: 'framework_write', object: (r) => r.params.id },
    handler: async (request, reply) => {
      const stored = requireJob(service, request.params.id);
      const index = requireSchedule(stored, request.params.scheduleId);
      const r = await service.putJob({ ...stored.job, schedules: stored.job.schedules.filter((_, i) => i !== index) }, 'replace');
      if (r.errors) return reply.code(422).send(invalidJobBody(r.errors));
      return scheduleJson(stored.job.schedules[index]!, Date.now());
    },
  });
}
