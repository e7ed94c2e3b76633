/**
 * Matching helpers: what an offer holds, how many tasks of one shape fit into
 * a set of offers, and building a wire `TaskInfo` from a few plain fields.
 *
 *   offers ──offerResources──▶ bag per role ──pack(count, shape)──▶ launches + unused
 *
 * Everything here is pure: no network, no clock, so a scheduler's placement
 * can be unit-tested with literal offers.
 */
import type { CommandInfo, Offer, Offer__Output, Resource, TaskInfo } from '../../lib/proto';
import {
  type PortRange,
  type Resources,
  type ScalarName,
  SCALARS,
  empty,
  fromProto,
  make,
  portCount,
  subtract,
  toProto,
} from '../../lib/resources';

/** An offer as received (`Offer__Output`) or as written in a test (`Offer`). */
export type AnyOffer = Offer | Offer__Output;

/**
 * The resources one task needs. Scalars as in `Resources` (mem and disk in
 * MB); `ports` is a *number* of ports, which `pack` turns into concrete port
 * numbers taken from the offer.
 */
export interface TaskShape {
  cpus?: number;
  mem?: number;
  disk?: number;
  gpus?: number;
  ports?: number;
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
 */
interface Pool {
  role: string;
  free: Resources;
}

/** Splits an offer by role, reserved roles first: a framework should use what is set aside for it before the shared pool. */
function pools(offer: AnyOffer): Pool[] {
  const byRole = new Map<string, Resource[]>();
  for (const r of offer.resources ?? []) {
    const role = r.role || '*';
    byRole.set(role, [...(byRole.get(role) ?? []), r]);
  }
  return [...byRole.entries()]
    .sort(([a], [b]) => (a === '*' ? 1 : 0) - (b === '*' ? 1 : 0) || a.localeCompare(b))
    .map(([role, list]) => ({ role, free: fromProto(list) }));
}

function fits(ps: readonly Pool[], shape: TaskShape): boolean {
  for (const k of SCALARS) {
    const have = ps.reduce((sum, p) => sum + p.free[k], 0);
    if (have + EPSILON < (shape[k] ?? 0)) return false;
  }
  return ps.reduce((n, p) => n + portCount(p.free.ports), 0) >= (shape.ports ?? 0);
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
  let portsNeeded = shape.ports ?? 0;
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
    pool.free = subtract(pool.free, taken);
    resources.push(...toProto(taken, pool.role));
  }
  return { resources, ports };
}

/**
 * Greedily places up to `count` tasks of one `shape` into `offers`: as many
 * as fit into the first offer, then the next, and so on. Each task gets the
 * offer's agent id, its share of the offer's resources (with concrete port
 * numbers) and whatever `makeTask` returns.
 *
 * Pure and deterministic: offers are visited in the order given, ports are
 * assigned lowest first. A shape that asks for nothing fits any number of
 * times; give every task at least some cpus or mem. Throws
 * InvalidResourceError when an offer holds malformed resources.
 */
export function pack(offers: readonly AnyOffer[], count: number, shape: TaskShape, makeTask: MakeTask): PackResult {
  const launches: Launch[] = [];
  const unused: AnyOffer[] = [];
  let placed = 0;
  for (const offer of offers) {
    const ps = pools(offer);
    const tasks: TaskInfo[] = [];
    while (placed < count && fits(ps, shape)) {
      const { resources, ports } = take(ps, shape);
      const task = makeTask(placed, offer, ports);
      tasks.push({ name: task.taskId, ...task, agentId: offer.agentId ?? '', resources });
      placed++;
    }
    if (tasks.length) launches.push({ offer, tasks });
    else unused.push(offer);
  }
  return { launches, remaining: Math.max(0, count - placed), unused };
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
  };
}
