/**
 * Checks an ACCEPT before anything is committed, after Mesos' master
 * validation: the offers must exist, belong to the caller and sit on one
 * agent; each task must be well formed, have a fresh id and fit in what
 * the offers hold (tasks are fitted in order, so the one that over-commits
 * is the one refused). Pure: it reads the records and returns verdicts.
 *
 * GPUs: a task that counts GPUs without naming them (`gpus: 2`) is given
 * concrete ones here, the lowest-index free GPUs of the offers, and its
 * verdict's TaskInfo carries their ids (`set` of the gpus resource), so the
 * agent knows which to expose and the ids stay used until the task ends.
 * This is the one place where GPUs are committed.
 */
import * as res from '../lib/resources';
import { taskHealthCheckProblems } from '../lib/health-check-spec';
import { taskCheckProblems } from '../lib/check-spec';
import { idProblem, taskInfoSizeProblems } from '../lib/limits';
import type { Operation__Output, Resource__Output, TaskInfo__Output } from '../lib/proto';
import type { OfferRecord } from './state';

export interface TaskVerdict {
  /** The task as it launches: GPUs it only counted are named (see above). */
  task: TaskInfo__Output;
  /** Empty when the task may launch. */
  reasons: string[];
  resources: res.Resources;
  /** Index of the LAUNCH_GROUP the task belongs to, if any. */
  group?: number;
}

export interface AcceptVerdict {
  /** Set when the offers themselves are unusable: no task may launch. */
  offerError?: string;
  /** Offers that exist and belong to the caller: they are consumed either way. */
  offers: OfferRecord[];
  agentId?: string;
  tasks: TaskVerdict[];
}

export interface AcceptContext {
  frameworkId: string;
  offerIds: readonly string[];
  operations: readonly Operation__Output[];
  findOffer(id: string): OfferRecord | undefined;
  /** True when the framework already has a live task with this id. */
  taskIdInUse(id: string): boolean;
  /** Why the framework may not run this task as its user (ACL run_task_as), or undefined. */
  userProblem?(task: TaskInfo__Output): string | undefined;
}

export function validateAccept(ctx: AcceptContext): AcceptVerdict {
  const offers: OfferRecord[] = [];
  const problems: string[] = [];
  if (ctx.offerIds.length === 0) problems.push('accept names no offer ids');
  const seen = new Set<string>();
  for (const id of ctx.offerIds) {
    if (seen.has(id)) { problems.push(`offer ${id} is named twice`); continue; }
    seen.add(id);
    const offer = ctx.findOffer(id);
    if (!offer) problems.push(`offer ${id} is unknown or no longer valid (accepted, declined, rescinded or timed out); wait for a new offer`);
    else if (offer.frameworkId !== ctx.frameworkId) problems.push(`offer ${id} was made to another framework`);
    else offers.push(offer);
  }
  const agents = new Set(offers.map((o) => o.agentId));
  if (agents.size > 1) problems.push(`offers ${offers.map((o) => o.id).join(', ')} are on different agents (${[...agents].join(', ')}); one accept may use offers of one agent only`);
  const agentId = agents.size === 1 ? [...agents][0] : undefined;

  const tasks: TaskVerdict[] = [];
  ctx.operations.forEach((op, index) => {
    const list = op.launch?.taskInfos ?? op.launchGroup?.taskInfos;
    if (!list) {
      problems.push(`operation ${index} is empty or of an unsupported type; use LAUNCH or LAUNCH_GROUP`);
      return;
    }
    for (const task of list) tasks.push({ task, reasons: [], resources: res.empty(), group: op.launchGroup ? index : undefined });
  });
  const offerError = problems.length ? problems.join('; ') : undefined;
  if (offerError) {
    for (const t of tasks) t.reasons.push(offerError);
    return { offerError, offers, agentId, tasks };
  }

  let remaining = offers.reduce((acc, o) => res.add(acc, o.resources), res.empty());
  const idsInAccept = new Set<string>();
  for (const t of tasks) {
    const id = t.task.taskId;
    const badId = idProblem('task id', id);
    if (badId) {
      // Nothing more is said of it: every other reason would echo the id.
      t.reasons.push(badId);
      continue;
    }
    t.reasons.push(...taskInfoSizeProblems(t.task));
    if (idsInAccept.has(id)) t.reasons.push(`task id ${id} appears twice in this accept`);
    else if (ctx.taskIdInUse(id)) t.reasons.push(`task id ${id} is already used by a live task of this framework`);
    idsInAccept.add(id);
    if (t.task.agentId && t.task.agentId !== agentId) {
      t.reasons.push(`task ${id} names agent ${t.task.agentId} but the offers are on agent ${agentId}`);
    }
    const cmd = t.task.command;
    if (!cmd || !cmd.value.trim()) t.reasons.push(`task ${id} has an empty command`);
    const userProblem = ctx.userProblem?.(t.task);
    if (userProblem) t.reasons.push(`task ${id}: ${userProblem}`);
    try {
      t.resources = res.fromProto(t.task.resources);
    } catch (err) {
      t.reasons.push(`task ${id}: ${(err as Error).message}`);
      continue;
    }
    if (t.resources.cpus <= 0 && t.resources.mem <= 0) t.reasons.push(`task ${id} asks for no cpus and no mem; give it at least one`);
    // Ports are checked as ranges; only checks need them listed, and a task holds at most MAX_TASK_PORTS.
    const tooManyPorts = res.taskPortsProblem(t.resources);
    if (tooManyPorts) t.reasons.push(`task ${id} ${tooManyPorts}`);
    else {
      const ports = res.portList(t.resources.ports);
      for (const p of [...taskHealthCheckProblems(t.task, ports), ...taskCheckProblems(t.task, ports)]) t.reasons.push(`task ${id}: ${p}`);
    }
    if (t.resources.gpus > 0 && res.gpuIdsOf(remaining).length && !Number.isInteger(t.resources.gpus)) {
      t.reasons.push(`task ${id} asks for ${t.resources.gpus} gpus; GPUs are whole devices, ask for a whole number`);
    }
    if (t.reasons.length) continue;
    const lack = res.shortfall(remaining, t.resources);
    if (lack.length) {
      t.reasons.push(`task ${id} does not fit in offer${offers.length > 1 ? 's' : ''} ${offers.map((o) => o.id).join(', ')} ` +
        `on agent ${agentId} (${res.format(remaining)} left): ${lack.join('; ')}`);
      continue;
    }
    if (t.resources.gpus > res.gpuIdsOf(t.resources).length && res.gpuIdsOf(remaining).length) {
      // The agent names its GPUs: name the ones this task gets.
      const ids = res.pickGpuIds(remaining, t.resources);
      if (!ids) {
        t.reasons.push(`task ${id} asks for ${t.resources.gpus} gpus but offer${offers.length > 1 ? 's' : ''} ${offers.map((o) => o.id).join(', ')} ` +
          `name only ${res.gpuIdsOf(remaining).join(', ')} as free`);
        continue;
      }
      t.resources = res.withGpus(t.resources, ids);
      t.task = { ...t.task, resources: withGpuSet(t.task.resources, ids) };
    }
    remaining = res.subtract(remaining, t.resources);
  }
  // A group launches whole or not at all.
  const badGroups = new Set(tasks.filter((t) => t.group !== undefined && t.reasons.length).map((t) => t.group));
  for (const t of tasks) {
    if (t.group !== undefined && badGroups.has(t.group) && !t.reasons.length) {
      t.reasons.push('another task of its LAUNCH_GROUP is invalid, so none of the group launches');
    }
  }
  return { offers, agentId, tasks };
}

/** `resources` with their gpus resources replaced by one that names `ids` (and counts them). */
function withGpuSet(resources: readonly Resource__Output[], ids: readonly string[]): Resource__Output[] {
  const first = resources.find((r) => r.name === 'gpus');
  return [
    ...resources.filter((r) => r.name !== 'gpus'),
    { name: 'gpus', scalar: ids.length, ranges: [], set: [...ids], role: first?.role ?? '' },
  ];
}
