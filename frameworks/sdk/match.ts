/**
 * Matching helpers: what an offer holds, how many tasks of one shape fit into
 * a set of offers, and building a wire `TaskInfo` from a few plain fields.
 *
 *   offers ──offerResources──▶ bag per role ──pack(count, shape, {where})──▶ launches + unused + refused
 *
 * The resource accounting here (pools, fits, take) is the one every placement
 * helper uses: placement.ts spreads and gangs with it, so "fits" means the
 * same thing everywhere.
 *
 * Everything here is pure: no network, no clock, so a scheduler's placement
 * can be unit-tested with literal offers.
 */
import type { Attribute, Attribute__Output, CheckInfo, CommandInfo, HealthCheck, Offer, Offer__Output, Resource, TaskInfo } from '../../lib/proto';
import { PlacementError } from './errors';
import {
  type PortRange,
  type Resources,
  type ScalarName,
  SCALARS,
  empty,
  fromProto,
  make,
  portCount,
  rangesContain,
  shortfall,
  subtract,
  toProto,
} from '../../lib/resources';

/** An offer as received (`Offer__Output`) or as written in a test (`Offer`). */
export type AnyOffer = Offer | Offer__Output;

/**
 * The resources one task needs. Scalars as in `Resources` (mem and disk in
 * MB). `ports` is either a *number* of ports, which `pack` picks from the
 * offer lowest first, or the exact port numbers the task must get (a server
 * that listens on a well-known port, Marathon's `requirePorts`): an offer
 * without every one of them does not fit. Either way `makeTask` receives the
 * ports in order, for PORT0, PORT1 …
 */
export interface TaskShape {
  cpus?: number;
  mem?: number;
  disk?: number;
  gpus?: number;
  ports?: number | readonly number[];
}

/** The tasks to launch on one offer. */
export interface Launch {
  offer: AnyOffer;
  tasks: TaskInfo[];
}

/** What `pack` placed, what it could not place, and which offers it left untouched. */
export interface PackResult {
  /** One entry per offer that received at least one task, in offer order. */
  launches: Launch[];
  /** Tasks of `count` that did not fit anywhere. */
  remaining: number;
  /** Offers that received no task: decline them (or keep them for other work). */
  unused: AnyOffer[];
  /**
   * Why offers took no more tasks: one entry for every unused offer, and one
   * for every used offer that stopped while tasks were still wanted. The
   * answer to "why is this task not running?".
   */
  refused: Refusal[];
}

/** An offer that took no (more) tasks, and why, e.g. `needs 1 cpus, 0.5 available`. */
export interface Refusal {
  offer: AnyOffer;
  reason: string;
}

/** A placement check's answer: yes, or no with a reason a person can act on. */
export type Verdict = { ok: true } | { ok: false; reason: string };

/**
 * Where a task runs, as far as placement cares: its agent, hostname and
 * attributes. An offer is one, so the tasks a framework already runs can be
 * described by the offers they were launched on.
 */
export interface Placed {
  agentId?: string;
  hostname?: string;
  attributes?: readonly (Attribute | Attribute__Output)[] | null;
}

/**
 * A placement predicate: may one more task go on `offer`, given the tasks
 * already `placed` (those running before, and those placed so far in this
 * call)? Must be pure; it is called once per task per offer tried.
 */
export type Where = (offer: AnyOffer, placed: readonly Placed[]) => Verdict;

/** Options of `pack`. */
export interface PackOptions {
  /** Checked before each task is placed; an offer refused by it gets no more tasks. */
  where?: Where;
  /** Tasks already running, for `where` to count (UNIQUE, MAX_PER, GROUP_BY …). */
  placed?: readonly Placed[];
}

/**
 * Builds the task placed as number `index` (0-based within this `pack` call)
 * on `offer`. `ports` are the concrete ports assigned to it, in order.
 * `agentId` and `resources` are set by `pack` (whatever you return for them
 * is replaced); the rest is yours.
 */
export type MakeTask = (index: number, offer: AnyOffer, ports: number[]) => Partial<TaskInfo> & { taskId: string };

/** Floating point slack, as in lib/resources: 0.1 + 0.2 cpus fit in 0.3. */
const EPSILON = 1e-9;

/** Everything an offer holds, all roles summed. Throws InvalidResourceError on a malformed offer. */
export function offerResources(offer: AnyOffer): Resources {
  return fromProto(offer.resources ?? []);
}

/**
 * One role's share of an offer. Reserved resources are kept apart from
 * unreserved ones so that a task's resources carry the role they came from.
 * Internal to the SDK (a Slot holds them); not exported from index.ts.
 */
export interface Pool {
  role: string;
  free: Resources;
}

/**
 * Splits offers by role, reserved roles first: a framework should use what is
 * set aside for it before the shared pool. Several offers (of one agent, for
 * a gang) are summed per role.
 */
function pools(offers: readonly AnyOffer[]): Pool[] {
  const byRole = new Map<string, Resource[]>();
  for (const r of offers.flatMap((o) => o.resources ?? [])) {
    const role = r.role || '*';
    byRole.set(role, [...(byRole.get(role) ?? []), r]);
  }
  return [...byRole.entries()]
    .sort(([a], [b]) => (a === '*' ? 1 : 0) - (b === '*' ? 1 : 0) || a.localeCompare(b))
    .map(([role, list]) => ({ role, free: fromProto(list) }));
}

/** Whether one more task of `shape` fits into `ps`, all roles together. */
function fits(ps: readonly Pool[], shape: TaskShape): boolean {
  return lack(ps, shape).length === 0;
}

/** What `ps` lacks for one task of `shape`, one phrase per resource (`needs 1 cpus, 0.5 available`); empty when it fits. */
function lack(ps: readonly Pool[], shape: TaskShape): string[] {
  const have = empty();
  for (const p of ps) for (const k of SCALARS) have[k] += p.free[k];
  const want = make({ cpus: shape.cpus ?? 0, mem: shape.mem ?? 0, disk: shape.disk ?? 0, gpus: shape.gpus ?? 0 });
  const out = shortfall(have, want);
  const ranges = ps.flatMap((p) => p.free.ports);
  const exact = exactPorts(shape);
  if (exact) {
    const missing = exact.filter((port) => !rangesContain(ranges, [{ begin: port, end: port }]));
    if (missing.length) out.push(`needs port${missing.length > 1 ? 's' : ''} ${missing.join(', ')}, not offered`);
  } else {
    const offered = portCount(ranges);
    const asked = portsWanted(shape);
    if (offered < asked) out.push(`needs ${asked} ports, ${offered} available`);
  }
  return out;
}

/**
 * The port numbers `shape` asks for exactly, or undefined when it asks for a
 * number of any ports. Throws PlacementError for a port that is not an
 * integer 1-65535 or is named twice: such a task could never be launched.
 */
function exactPorts(shape: TaskShape): readonly number[] | undefined {
  if (typeof shape.ports === 'number' || shape.ports === undefined) return undefined;
  const seen = new Set<number>();
  for (const [i, port] of shape.ports.entries()) {
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new PlacementError(`shape.ports[${i}]: ${port} is not a port (an integer 1-65535)`);
    if (seen.has(port)) throw new PlacementError(`shape.ports[${i}]: port ${port} is asked for twice`);
    seen.add(port);
  }
  return shape.ports;
}

/** How many ports one task of `shape` takes. */
function portsWanted(shape: TaskShape): number {
  return typeof shape.ports === 'number' ? shape.ports : (shape.ports?.length ?? 0);
}

/** True when `shape` asks for nothing, so that it would fit any number of times. */
function asksNothing(shape: TaskShape): boolean {
  return SCALARS.every((k) => !((shape[k] ?? 0) > 0)) && !(portsWanted(shape) > 0);
}

/** The lowest `n` ports of `ranges`. */
function lowestPorts(ranges: readonly PortRange[], n: number): number[] {
  const out: number[] = [];
  for (const r of ranges) {
    for (let p = r.begin; p <= r.end && out.length < n; p++) out.push(p);
    if (out.length >= n) break;
  }
  return out;
}

/**
 * Takes one task's worth of `shape` out of `ps` (which must fit), pool by
 * pool, and returns the wire resources and the concrete ports taken.
 */
function take(ps: Pool[], shape: TaskShape): { resources: Resource[]; ports: number[] } {
  const resources: Resource[] = [];
  const ports: number[] = [];
  const need: Record<ScalarName, number> = { cpus: shape.cpus ?? 0, mem: shape.mem ?? 0, disk: shape.disk ?? 0, gpus: shape.gpus ?? 0 };
  const exact = exactPorts(shape);
  const exactLeft = new Set(exact);
  let portsNeeded = exact ? 0 : portsWanted(shape);
  for (const pool of ps) {
    const taken = empty();
    for (const k of SCALARS) {
      // Within epsilon of enough counts as enough, so that the tenth 0.1-cpu
      // task asks for 0.1, not 0.09999999999999976.
      const amount = pool.free[k] + EPSILON >= need[k] ? need[k] : pool.free[k];
      if (amount <= EPSILON) continue;
      taken[k] = amount;
      need[k] -= amount;
    }
    if (portsNeeded > 0) {
      const got = lowestPorts(pool.free.ports, portsNeeded);
      taken.ports = make({ ports: got.map((p) => ({ begin: p, end: p })) }).ports;
      ports.push(...got);
      portsNeeded -= got.length;
    }
    const here = [...exactLeft].filter((p) => rangesContain(pool.free.ports, [{ begin: p, end: p }]));
    if (here.length) {
      taken.ports = make({ ports: here.map((p) => ({ begin: p, end: p })) }).ports;
      for (const p of here) exactLeft.delete(p);
    }
    pool.free = subtract(pool.free, taken);
    resources.push(...toProto(taken, pool.role));
  }
  // Exact ports keep the order asked for (PORT0 is the first), whichever pool held each.
  return { resources, ports: exact ? [...exact] : ports };
}

/**
 * Builds the task numbered `index` from what `take` gave it: `makeTask`'s
 * fields, then the agent and resources, which are pack's to set.
 */
export function buildTask(ps: Pool[], shape: TaskShape, offer: AnyOffer, index: number, makeTask: MakeTask): TaskInfo {
  const { resources, ports } = take(ps, shape);
  const task = makeTask(index, offer, ports);
  return { name: task.taskId, ...task, agentId: offer.agentId ?? '', resources };
}

/**
 * Greedily places up to `count` tasks of one `shape` into `offers`: as many
 * as fit into the first offer, then the next, and so on. Each task gets the
 * offer's agent id, its share of the offer's resources (with concrete port
 * numbers) and whatever `makeTask` returns.
 *
 * With `options.where`, a task is placed only where the predicate allows
 * (constraints.ts builds predicates from Marathon-style constraints); it sees
 * `options.placed` plus the tasks this call placed so far. An offer the
 * predicate refuses takes no more tasks in this pass; while tasks remain and
 * a pass placed some, offers the predicate refused are tried again, since
 * counting constraints (GROUP_BY) may allow them once others have tasks.
 * Why each offer took no (more) tasks lands in `refused`.
 *
 * Pure and deterministic: offers are visited in the order given, ports are
 * assigned lowest first (or exactly those the shape names). A shape that
 * asks for nothing fits any number of times; give every task at least some
 * cpus or mem. Throws InvalidResourceError when an offer holds malformed
 * resources, PlacementError when the shape names a bad or repeated port.
 */
export function pack(offers: readonly AnyOffer[], count: number, shape: TaskShape, makeTask: MakeTask, options: PackOptions = {}): PackResult {
  const placed: Placed[] = [...(options.placed ?? [])];
  const slots = offers.map((o) => slot(o));
  let n = 0;
  for (let progress = true; progress && n < count;) {
    progress = false;
    for (const s of slots) {
      while (!s.full && n < count && admits(s, shape, placed, options.where)) {
        s.tasks.push(buildTask(s.ps, shape, s.offer, n++, makeTask));
        placed.push(s.offer);
        progress = true;
      }
    }
  }
  return packResult(slots, count, n);
}

/** One offer's state while tasks are placed into it. Internal to the SDK. */
export interface Slot {
  offer: AnyOffer;
  ps: Pool[];
  tasks: TaskInfo[];
  /** No room for one more task: final, since resources only shrink. */
  full: boolean;
  /** Why the last task tried was refused, if it was. */
  why?: string;
}

/** A slot for `offer`, or for several offers of its agent combined (a gang). */
export function slot(offer: AnyOffer, combined: readonly AnyOffer[] = [offer]): Slot {
  return { offer, ps: pools(combined), tasks: [], full: false };
}

/**
 * Whether one more task of `shape` may go into `s`; records why not. Resources
 * first: they are the usual reason, and the cheaper check.
 */
export function admits(s: Slot, shape: TaskShape, placed: readonly Placed[], where?: Where): boolean {
  const lacking = lack(s.ps, shape);
  if (lacking.length) {
    s.full = true;
    s.why = lacking.join('; ');
    return false;
  }
  const verdict = where?.(s.offer, placed);
  s.why = verdict && !verdict.ok ? verdict.reason : undefined;
  return !s.why;
}

/** The PackResult of `slots` after `placed` of `count` tasks went into them. */
export function packResult(slots: readonly Slot[], count: number, placed: number): PackResult {
  const launches = slots.filter((s) => s.tasks.length).map((s) => ({ offer: s.offer, tasks: s.tasks }));
  const unused = slots.filter((s) => !s.tasks.length).map((s) => s.offer);
  const refused: Refusal[] = [];
  for (const s of slots) {
    // An offer that stopped only because the count was reached was not refused.
    if (s.why && placed < count) refused.push({ offer: s.offer, reason: s.why });
    else if (!s.tasks.length) refused.push({ offer: s.offer, reason: s.why ?? `not needed: all ${count} tasks were placed` });
  }
  return { launches, remaining: Math.max(0, count - placed), unused, refused };
}

/**
 * How many tasks of `shape` fit into `offer`, counted with the same
 * accounting as `pack` (so `pack(offers, fitCount(o, s), s, …)` places them
 * all on `o`). At most `limit`; the cost grows with the answer, so pass a
 * limit when the shape is tiny. A shape that asks for nothing fits `limit`
 * times (Infinity by default).
 */
export function fitCount(offer: AnyOffer, shape: TaskShape, limit = Infinity): number {
  if (asksNothing(shape)) return limit;
  const ps = pools([offer]);
  let n = 0;
  while (n < limit && fits(ps, shape)) {
    take(ps, shape);
    n++;
  }
  return n;
}

/** The plain fields of a task, for `taskInfo`. */
export interface TaskSpec {
  taskId: string;
  /** Defaults to the task id. */
  name?: string;
  agentId: string;
  resources: Partial<Resources>;
  /** The role the resources are drawn from; `*` (unreserved) by default. */
  role?: string;
  /** A shell command line, or a full CommandInfo. */
  command: string | CommandInfo;
  /** Environment variables, merged over `command.environment`. */
  env?: Record<string, string>;
  labels?: Record<string, string>;
  /** SIGTERM, then SIGKILL after this many seconds (0: the agent's default). */
  killGraceSeconds?: number;
  /** Checks the agent runs beside the task (at most 8); it is healthy while all pass. */
  healthChecks?: HealthCheck[];
  /** A check the agent runs beside the task and reports in `TaskStatus.checkStatus` when its result changes; it never kills nor makes unhealthy. */
  check?: CheckInfo;
}

/** Builds a wire `TaskInfo`; resources go through `toProto`, so zero scalars are left out. */
export function taskInfo(spec: TaskSpec): TaskInfo {
  const command: CommandInfo = typeof spec.command === 'string' ? { value: spec.command, shell: true } : { ...spec.command };
  if (spec.env) command.environment = { ...(command.environment ?? {}), ...spec.env };
  return {
    taskId: spec.taskId,
    name: spec.name ?? spec.taskId,
    agentId: spec.agentId,
    resources: toProto(make(spec.resources), spec.role ?? '*'),
    command,
    labels: spec.labels ?? {},
    killGraceSeconds: spec.killGraceSeconds ?? 0,
    ...(spec.healthChecks?.length ? { healthChecks: spec.healthChecks } : {}),
    ...(spec.check ? { check: spec.check } : {}),
  };
}
