/**
 * One reconciliation round: desired groups and actual tasks in, launches,
 * kills and the reasons for every instance still waiting out.
 *
 *   tasks ──standing──▶ counted / inactive (+kill) / ended
 *   per group: counted ──duplicates, excess (kill selection)──▶ kept
 *              instances missing ──backoff?──▶ waiting | candidates
 *   candidates ──placement chain over offers──▶ launches | waiting {reason: count}
 *
 * Services and batch are two configurations of this one core (a group's
 * `restart`), as Nomad's GenericScheduler runs service and batch jobs: they
 * differ only in which instances are missing and what an end means.
 *
 * Pure and deterministic: no clock but `input.now`, no randomness, offers
 * tried in the order given, groups in the order given.
 */
import type { AnyOffer, Placed, TaskInfo } from '../../sdk/index';
import { ReconcileInputError } from './errors';
import { backoffUntil, isFailure, nextAttempt, standing } from './history';
import { type Check, checksFor, cut, refusals } from './placement';
import {
  DEFAULT_MAX_RETRIES,
  type GroupSummary,
  type Input,
  type Kill,
  type Launch,
  type Plan,
  type TaskGroup,
  type TaskRecord,
  type Waiting,
} from './types';

/** Marathon's task_launch_timeout: a launch with no update after 5 minutes is given up. */
export const DEFAULT_LAUNCH_TIMEOUT_SECONDS = 300;

/** An instance to launch this round. */
interface Candidate {
  group: TaskGroup;
  instance: number;
  attempt: number;
}

/** What one group's records decide before placement. */
interface GroupState {
  kept: TaskRecord[];
  kills: Kill[];
  candidates: Candidate[];
  waiting: Waiting[];
  summary: GroupSummary;
}

/**
 * Plans one round. Same input, same plan. Throws ReconcileInputError when a
 * group (id and version) is asked for twice, has a count that is not a
 * whole number ≥ 0, a maxOverCapacity outside [0, 1] or exact ports that
 * are not distinct ports, and ConstraintError
 * for a bad constraint.
 */
export function reconcile(input: Input): Plan {
  checkGroups(input.groups);
  const launchTimeoutMs = (input.launchTimeoutSeconds ?? DEFAULT_LAUNCH_TIMEOUT_SECONDS) * 1000;
  const tasks = [...input.tasks].sort(byInstanceAttempt);
  const kills = undesired(input.groups, tasks, input.now, launchTimeoutMs);
  const byGroup = new Map<string, TaskRecord[]>();
  for (const t of tasks) (byGroup.get(key(t)) ?? byGroup.set(key(t), []).get(key(t))!).push(t);
  const states = input.groups.map((g) => planGroup(g, byGroup.get(key(g)) ?? [], input.now, launchTimeoutMs));
  // Constraints count a group id's tasks of every version kept, so a deployment's two versions share UNIQUE.
  const placed = new Map<string, Placed[]>();
  for (const s of states) for (const t of s.kept) (placed.get(t.group) ?? placed.set(t.group, []).get(t.group)!).push(t);
  const placement = place(states.flatMap((s) => s.candidates), input.offers, placed, input.now);
  const summaries = states.map((s) => ({ ...s.summary, active: s.summary.active + (placement.launched.get(key(s.summary)) ?? 0) }));
  return {
    launches: placement.launches,
    kills: [...kills, ...states.flatMap((s) => s.kills)],
    waiting: [...states.flatMap((s) => s.waiting), ...placement.waiting],
    summaries,
    unused: input.offers.filter((o) => !placement.launches.some((l) => l.offerId === o.id)).map((o) => o.id ?? ''),
  };
}

/** The deterministic task id of an attempt: `web_api.v2.0.1` for `/web/api` version `v2`, instance 0, attempt 1. */
export function taskIdOf(group: string, version: string, instance: number, attempt: number): string {
  return `${slug(group)}.${slug(version)}.${instance}.${attempt}`;
}

/** A task id part: leading slashes dropped, anything the master refuses (or our `.` separator) as `_`. */
function slug(text: string): string {
  return text.replace(/^\/+/, '').replace(/[^A-Za-z0-9_:@-]/g, '_');
}

function key(g: { group?: string; id?: string; version: string }): string {
  return `${g.group ?? g.id}@${g.version}`;
}

function byInstanceAttempt(a: TaskRecord, b: TaskRecord): number {
  return cmp(a.group, b.group) || cmp(a.version, b.version) || a.instance - b.instance || a.attempt - b.attempt || cmp(a.taskId, b.taskId);
}

/** Code-unit order: unlike localeCompare, the same on every machine and locale. */
function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function checkGroups(groups: readonly TaskGroup[]): void {
  const seen = new Set<string>();
  groups.forEach((g, i) => {
    const k = key(g);
    if (seen.has(k)) throw new ReconcileInputError(`groups[${i}]: group ${g.id} version ${g.version} is asked for twice`);
    seen.add(k);
    if (!Number.isSafeInteger(g.count) || g.count < 0) throw new ReconcileInputError(`groups[${i}].count: must be a whole number ≥ 0; got ${g.count}`);
    const p = g.parallelism;
    if (p !== undefined && !(Number.isSafeInteger(p) && p >= 1)) throw new ReconcileInputError(`groups[${i}].parallelism: must be a whole number ≥ 1; got ${p}`);
    const over = g.maxOverCapacity;
    if (over !== undefined && !(over >= 0 && over <= 1)) throw new ReconcileInputError(`groups[${i}].maxOverCapacity: must be between 0 and 1; got ${over}`);
    const ports = g.resources.ports;
    if (typeof ports === 'object' && (new Set(ports).size !== ports.length || !ports.every((p) => Number.isInteger(p) && p >= 1 && p <= 65535))) {
      throw new ReconcileInputError(`groups[${i}].resources.ports: exact ports must be distinct integers 1-65535; got ${ports.join(', ')}`);
    }
  });
}

/** Kills for live tasks whose group and version nobody asks for any more. */
function undesired(groups: readonly TaskGroup[], tasks: readonly TaskRecord[], now: number, launchTimeoutMs: number): Kill[] {
  const wanted = new Set(groups.map(key));
  return tasks
    .filter((t) => !wanted.has(key(t)) && standing(t, undefined, now, launchTimeoutMs).kind !== 'ended')
    .map((t) => kill(t, 'not desired'));
}

function kill(t: TaskRecord, reason: Kill['reason']): Kill {
  return { taskId: t.taskId, agentId: t.agentId, reason };
}

/** Decides one group before placement: what it keeps, kills, launches, and why some instances wait. */
function planGroup(group: TaskGroup, records: readonly TaskRecord[], now: number, launchTimeoutMs: number): GroupState {
  const kills: Kill[] = [];
  const counted: TaskRecord[] = [];
  for (const t of records) {
    const s = standing(t, group, now, launchTimeoutMs);
    if (s.kind === 'counted') counted.push(t);
    else if (s.kind === 'inactive' && s.kill) kills.push(kill(t, s.kill));
  }
  const kept = onePerInstance(counted, kills);
  const outcome = group.restart === 'batch' ? batchOutcome(group, records) : { succeeded: new Set<number>(), failed: new Set<number>() };
  const excess = excessOf(group, kept, outcome.succeeded);
  for (const t of excess) kills.push(kill(t, 'scale down'));
  const live = kept.filter((t) => !excess.includes(t));
  const waiting: Waiting[] = [];
  const candidates: Candidate[] = [];
  let room = roomOf(group, records, now, launchTimeoutMs);
  let slots = group.parallelism === undefined ? Infinity : group.parallelism - live.length;
  for (const instance of missing(group, live, outcome)) {
    const attempts = records.filter((t) => t.instance === instance);
    const until = backoffUntil(attempts, group);
    const wait = (reasons: Record<string, number>, backoffUntil?: number) =>
      waiting.push({ group: group.id, version: group.version, instance, reasons, ...(backoffUntil !== undefined ? { backoffUntil } : {}) });
    if (until !== undefined && now < until) wait({ backoff: 1 }, until);
    else if (room <= 0) wait({ 'max over-capacity': 1 });
    else if (slots <= 0) wait({ parallelism: 1 });
    else {
      room--;
      slots--;
      candidates.push({ group, instance, attempt: nextAttempt(attempts) });
    }
  }
  const summary = { group: group.id, version: group.version, active: live.length, succeeded: outcome.succeeded.size, failed: outcome.failed.size };
  return { kept: live, kills, candidates, waiting, summary };
}

/**
 * How many more tasks may launch under `maxOverCapacity`: `count + ⌊count ·
 * maxOverCapacity⌋` less every task that may still be alive, counted or not
 * (an unreachable one, one being killed). Infinity without the bound.
 */
function roomOf(group: TaskGroup, records: readonly TaskRecord[], now: number, launchTimeoutMs: number): number {
  if (group.maxOverCapacity === undefined) return Infinity;
  const alive = records.filter((t) => standing(t, group, now, launchTimeoutMs).kind !== 'ended').length;
  // 1e-9: 100 · 0.29 is 28.999999999999996 in floating point, and must give 29.
  return group.count + Math.floor(group.count * group.maxOverCapacity + 1e-9) - alive;
}

/**
 * At most one counted task per instance (an unreachable task that came back
 * after its replacement launched): keep the one furthest along, the earlier
 * attempt on a tie, and kill the others.
 */
function onePerInstance(counted: readonly TaskRecord[], kills: Kill[]): TaskRecord[] {
  const best = new Map<number, TaskRecord>();
  for (const t of counted) {
    const b = best.get(t.instance);
    if (!b || progress(t) > progress(b)) best.set(t.instance, t);
  }
  for (const t of counted) if (best.get(t.instance) !== t) kills.push(kill(t, 'duplicate instance'));
  return counted.filter((t) => best.get(t.instance) === t);
}

/** How far along a counted task is: running and healthy beats running beats starting, and so on. */
function progress(t: TaskRecord): number {
  switch (t.state) {
    case 'TASK_RUNNING': return t.healthy === false ? 3 : 4;
    case 'TASK_STARTING': return 2;
    case 'TASK_STAGING': return 1;
    default: return 0; // TASK_KILLING, TASK_UNREACHABLE: on their way out, or out of sight
  }
}

/** batch: instances that finished, and those that failed for good (TASK_ERROR, or more failures than maxRetries). */
function batchOutcome(group: TaskGroup, records: readonly TaskRecord[]): { succeeded: Set<number>; failed: Set<number> } {
  const succeeded = new Set(records.filter((t) => t.state === 'TASK_FINISHED').map((t) => t.instance));
  const failed = new Set<number>();
  const retries = group.maxRetries ?? DEFAULT_MAX_RETRIES;
  for (let i = 0; i < group.count; i++) {
    if (succeeded.has(i)) continue;
    const failures = records.filter((t) => t.instance === i && isFailure(t, group));
    if (failures.some((t) => t.state === 'TASK_ERROR') || failures.length > retries) failed.add(i);
  }
  return { succeeded, failed };
}

/**
 * The tasks to kill because there are too many. service: beyond `count`,
 * chosen by kill selection. batch: those of instances ≥ count or already
 * succeeded. Tasks out of sight, not yet running or unhealthy go first,
 * as they serve least.
 */
function excessOf(group: TaskGroup, kept: readonly TaskRecord[], succeeded: ReadonlySet<number>): TaskRecord[] {
  if (group.restart === 'batch') return kept.filter((t) => t.instance >= group.count || succeeded.has(t.instance));
  const n = kept.length - group.count;
  if (n <= 0) return [];
  const youngestFirst = (group.killSelection ?? 'YOUNGEST_FIRST') === 'YOUNGEST_FIRST';
  const age = (t: TaskRecord) => t.startedAt ?? t.launchedAt;
  return [...kept]
    // On a tie the higher instance goes, so that instance numbers stay low.
    .sort((a, b) => progress(a) - progress(b) || (youngestFirst ? age(b) - age(a) : age(a) - age(b)) || b.instance - a.instance || cmp(a.taskId, b.taskId))
    .slice(0, n);
}

/**
 * The instances that want a task: service, the lowest free numbers until
 * `count` are live; batch, every instance below `count` neither live nor
 * finished nor failed for good.
 */
function missing(group: TaskGroup, live: readonly TaskRecord[], outcome: { succeeded: Set<number>; failed: Set<number> }): number[] {
  const busy = new Set(live.map((t) => t.instance));
  const out: number[] = [];
  if (group.restart === 'batch') {
    for (let i = 0; i < group.count; i++) if (!busy.has(i) && !outcome.succeeded.has(i) && !outcome.failed.has(i)) out.push(i);
    return out;
  }
  for (let i = 0; out.length < group.count - live.length; i++) if (!busy.has(i)) out.push(i);
  return out;
}

/**
 * Places candidates in order, each on the first offer every check passes,
 * taking what it uses out of that offer. A candidate placed nowhere waits
 * with each check's count of refused offers. A gang's candidates are tried
 * together: unless all of them fit, none is placed and each waits.
 */
function place(candidates: readonly Candidate[], offers: readonly AnyOffer[], placed: Map<string, Placed[]>, now: number) {
  let work = [...offers];
  const byOffer = new Map<string, Launch>();
  const waiting: Waiting[] = [];
  const launched = new Map<string, number>();
  for (const batch of consecutiveByGroup(candidates)) {
    const group = batch[0]!.group;
    const chain = checksFor(group);
    const mine = placed.get(group.id) ?? placed.set(group.id, []).get(group.id)!;
    const trial = tryPlace(batch, chain, work, mine, now);
    if (group.gang && trial.refused.length > 0) {
      const gang = `gang: ${trial.placed.length} of ${batch.length} placeable`;
      const reasons = new Map(trial.refused.map((w) => [w.instance, w.reasons]));
      for (const c of batch) waiting.push({ group: group.id, version: group.version, instance: c.instance, reasons: { ...reasons.get(c.instance), [gang]: 1 } });
      continue;
    }
    work = trial.offers;
    waiting.push(...trial.refused);
    for (const { task, record, offer } of trial.placed) {
      mine.push(record);
      launched.set(key(group), (launched.get(key(group)) ?? 0) + 1);
      const id = offer.id ?? '';
      const l = byOffer.get(id) ?? byOffer.set(id, { offerId: id, agentId: offer.agentId ?? '', tasks: [], records: [] }).get(id)!;
      l.tasks.push(task);
      l.records.push(record);
    }
  }
  return { launches: [...byOffer.values()], waiting, launched };
}

/** Runs of candidates of one group, in order (candidates come group by group). */
function consecutiveByGroup(candidates: readonly Candidate[]): Candidate[][] {
  const out: Candidate[][] = [];
  for (const c of candidates) {
    const last = out[out.length - 1];
    if (last && last[0]!.group === c.group) last.push(c);
    else out.push([c]);
  }
  return out;
}

/** Places `batch` on a copy of `offers`: what would launch, what would wait, and the offers left. Changes nothing given. */
function tryPlace(batch: readonly Candidate[], chain: readonly Check[], offers: readonly AnyOffer[], mine: readonly Placed[], now: number) {
  const work = [...offers];
  const seen = [...mine];
  const placed: { task: TaskInfo; record: TaskRecord; offer: AnyOffer }[] = [];
  const refused: Waiting[] = [];
  for (const c of batch) {
    const at = work.findIndex((o) => refusals(chain, o, seen).length === 0);
    if (at < 0) {
      refused.push({ group: c.group.id, version: c.group.version, instance: c.instance, reasons: tally(chain, work, seen) });
      continue;
    }
    const { task, rest } = cut(work[at]!, c.group.resources, (ports) => taskFields(c, ports));
    work[at] = rest;
    const record = recordOf(c, task, rest, now);
    seen.push(record);
    placed.push({ task, record, offer: rest });
  }
  return { placed, refused, offers: work };
}

/** Per reason, how many offers it refused; `no offers` when there were none. */
function tally(chain: readonly Check[], offers: readonly AnyOffer[], placed: readonly Placed[]): Record<string, number> {
  if (!offers.length) return { 'no offers': 1 };
  const out: Record<string, number> = {};
  for (const o of offers) for (const r of refusals(chain, o, placed)) out[r] = (out[r] ?? 0) + 1;
  return out;
}

/** The task's own fields: id, name, command with PORT/PORT0… in its env, labels naming group, version and instance. */
function taskFields(c: Candidate, ports: number[]): Partial<TaskInfo> & { taskId: string } {
  const { id, version, task } = c.group;
  const env: Record<string, string> = { ...(task.env ?? {}) };
  ports.forEach((p, i) => (env[`PORT${i}`] = String(p)));
  if (ports.length) {
    env.PORT = String(ports[0]);
    env.PORTS = ports.join(',');
  }
  return {
    taskId: taskIdOf(id, version, c.instance, c.attempt),
    name: id,
    command: { value: task.command, shell: true, environment: env },
    labels: { ...(task.labels ?? {}), 'mezz.group': id, 'mezz.version': version, 'mezz.instance': String(c.instance) },
    killGraceSeconds: task.killGraceSeconds ?? 0,
  };
}

/** The record to store before launching: TASK_STAGING, present (pending) from now on. */
function recordOf(c: Candidate, task: TaskInfo, offer: AnyOffer, now: number): TaskRecord {
  return {
    taskId: task.taskId ?? '',
    group: c.group.id,
    version: c.group.version,
    instance: c.instance,
    attempt: c.attempt,
    state: 'TASK_STAGING',
    launchedAt: now,
    updatedAt: now,
    agentId: offer.agentId ?? '',
    hostname: offer.hostname ?? '',
    attributes: offer.attributes ?? [],
  };
}
