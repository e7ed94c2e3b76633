/**
 * Placement beyond `pack`: spreading over an attribute, gangs that go on
 * one agent whole or not at all, and one ACCEPT that mixes LAUNCH with
 * LAUNCH_GROUP.
 *
 *   offers ──spread(count, shape, {by: 'rack'})──▶ PackResult (tasks even over racks)
 *   offers ──gang(shapes)──▶ {ok, agentId, offers, tasks} | {ok: false, reason}
 *   tasks + groups ──launchOperations──▶ Operation[] for fw.accept(offers, ops)
 *
 * Each step checks an offer in the same order as `pack`: resources first
 * (the usual reason, and the cheaper check), then the caller's `where`.
 * Resource accounting is match.ts's, so a shape fits here exactly when it
 * fits there. Pure: no I/O, no clock.
 */
import type { Operation, TaskInfo } from '../../lib/proto';
import { fieldValue } from './constraints';
import { PlacementError } from './errors';
import {
  type AnyOffer,
  type MakeTask,
  type PackOptions,
  type PackResult,
  type Placed,
  type Slot,
  type TaskShape,
  admits,
  buildTask,
  packResult,
  slot,
} from './match';

/** Options of `spread`: `pack`'s, and the attribute (or `hostname`) to spread over. */
export interface SpreadOptions extends PackOptions {
  by: string;
}

/**
 * Places up to `count` tasks of `shape` so that they spread evenly over the
 * values of attribute `by` (or `hostname`): each task goes to the value with
 * the fewest tasks so far — counting `options.placed` — that still has an
 * offer with room, the first such offer in the order given. Offers without
 * the attribute take nothing. Same result shape as `pack`, with a reason for
 * every offer that took no (more) tasks.
 *
 * Deterministic; the cost is count × offers checks. Throws
 * InvalidResourceError when an offer holds malformed resources.
 */
export function spread(offers: readonly AnyOffer[], count: number, shape: TaskShape, makeTask: MakeTask, options: SpreadOptions): PackResult {
  const { by, where } = options;
  const placed: Placed[] = [...(options.placed ?? [])];
  const perValue = new Map<string, number>();
  for (const p of placed) bump(perValue, fieldValue(p, by));
  const slots = offers.map((o) => slot(o));
  for (const s of slots) {
    if (fieldValue(s.offer, by) !== undefined) continue;
    s.full = true;
    s.why = `spread by ${by}: agent has no ${by === 'hostname' ? 'hostname' : `attribute ${by}`}`;
  }
  let n = 0;
  while (n < count) {
    let best: Slot | undefined;
    for (const s of slots) {
      if (s.full || !admits(s, shape, placed, where)) continue;
      if (!best || load(perValue, s.offer, by) < load(perValue, best.offer, by)) best = s;
    }
    if (!best) break;
    best.tasks.push(buildTask(best.ps, shape, best.offer, n++, makeTask));
    placed.push(best.offer);
    bump(perValue, fieldValue(best.offer, by));
  }
  return packResult(slots, count, n);
}

function bump(m: Map<string, number>, v: string | undefined): void {
  if (v !== undefined) m.set(v, (m.get(v) ?? 0) + 1);
}

function load(m: Map<string, number>, offer: AnyOffer, by: string): number {
  return m.get(fieldValue(offer, by)!) ?? 0;
}

/** A gang placed on one agent: launch `tasks` with `fw.launchGroup(offers, tasks)`. */
export interface GangPlaced {
  ok: true;
  agentId: string;
  /** The offers of that agent, all of them: one ACCEPT uses them together. */
  offers: AnyOffer[];
  tasks: TaskInfo[];
  /** Offers of other agents: decline them or use them for other work. */
  unused: AnyOffer[];
}

/** No agent had room for the whole gang; `reason` says, per agent, which task did not fit and why. */
export interface GangRefused {
  ok: false;
  reason: string;
  unused: AnyOffer[];
}

/**
 * Places every task of `shapes` (one entry per task; repeat a shape for
 * identical tasks) on one agent, or none. An agent's offers are combined,
 * since one ACCEPT may use several offers of one agent. Agents are tried in
 * the order their first offer appears; the first with room for all wins.
 * `options.where` is asked before each task, seeing `options.placed` and the
 * gang's tasks placed so far. `makeTask(i, offer, ports)` gets the agent's
 * first offer.
 *
 * Throws PlacementError for an empty `shapes` (a gang of nobody is a bug),
 * InvalidResourceError when an offer holds malformed resources.
 */
export function gang(offers: readonly AnyOffer[], shapes: readonly TaskShape[], makeTask: MakeTask, options: PackOptions = {}): GangPlaced | GangRefused {
  if (!shapes.length) throw new PlacementError('gang: no tasks given; a gang needs at least one task');
  const byAgent = new Map<string, AnyOffer[]>();
  for (const o of offers) byAgent.set(o.agentId ?? '', [...(byAgent.get(o.agentId ?? '') ?? []), o]);
  const reasons: string[] = [];
  for (const [agentId, mine] of byAgent) {
    const placement = onAgent(mine, shapes, makeTask, options);
    if (typeof placement === 'string') {
      reasons.push(`agent ${agentId} (${mine[0]!.hostname || 'no hostname'}): ${placement}`);
      continue;
    }
    return { ok: true, agentId, offers: mine, tasks: placement, unused: offers.filter((o) => !mine.includes(o)) };
  }
  const why = reasons.length ? reasons.join('; ') : 'no offers';
  return { ok: false, reason: `no agent has room for all ${shapes.length} tasks of the gang: ${why}`, unused: [...offers] };
}

/** The gang's tasks on one agent's offers, or why they do not all fit. */
function onAgent(offers: readonly AnyOffer[], shapes: readonly TaskShape[], makeTask: MakeTask, options: PackOptions): TaskInfo[] | string {
  const s = slot(offers[0]!, offers);
  const placed: Placed[] = [...(options.placed ?? [])];
  for (const [i, shape] of shapes.entries()) {
    if (!admits(s, shape, placed, options.where)) return `task ${i + 1} of ${shapes.length}: ${s.why}`;
    s.tasks.push(buildTask(s.ps, shape, s.offer, i, makeTask));
    placed.push(s.offer);
  }
  return s.tasks;
}

/** What one ACCEPT launches: tasks each on their own, and groups that start together. */
export interface LaunchPlan {
  /** One LAUNCH: each task is checked and started on its own. */
  tasks?: readonly TaskInfo[];
  /** One LAUNCH_GROUP per entry: a group starts whole or not at all, and dies together. */
  groups?: readonly (readonly TaskInfo[])[];
}

/**
 * The operations of one ACCEPT that launches `plan.tasks` (one LAUNCH) and
 * each of `plan.groups` (a LAUNCH_GROUP each), for `fw.accept(offers, ops)`.
 * The master takes them in one ACCEPT on the offers of one agent: a bad
 * task of the LAUNCH is refused alone, a bad task of a group refuses its group.
 *
 * Throws PlacementError when the plan launches nothing, has an empty group,
 * or names tasks of different agents (one ACCEPT reaches one agent).
 */
export function launchOperations(plan: LaunchPlan): Operation[] {
  const tasks = plan.tasks ?? [];
  const groups = plan.groups ?? [];
  const empty = groups.findIndex((g) => !g.length);
  if (empty >= 0) throw new PlacementError(`launchOperations: group ${empty} has no tasks`);
  if (!tasks.length && !groups.length) throw new PlacementError('launchOperations: nothing to launch');
  const agents = new Set([...tasks, ...groups.flat()].map((t) => t.agentId).filter((a) => a));
  if (agents.size > 1) {
    throw new PlacementError(`launchOperations: tasks name ${agents.size} agents (${[...agents].slice(0, 5).join(', ')}); one ACCEPT launches on one agent`);
  }
  const ops: Operation[] = [];
  if (tasks.length) ops.push({ launch: { taskInfos: [...tasks] } });
  for (const g of groups) ops.push({ launchGroup: { taskInfos: [...g] } });
  return ops;
}
