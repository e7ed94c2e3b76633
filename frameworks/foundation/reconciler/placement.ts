/**
 * Placing instances on offers, and saying why not: a chain of small checks,
 * each refusing with a short reason, then the SDK's `pack` to cut the task
 * out of the offer chosen.
 *
 *   instance ──for each offer──▶ role ▶ cpus ▶ mem ▶ disk ▶ gpus ▶ ports ▶ constraint … ──all pass──▶ pack([offer], 1) ──▶ task
 *                                 └── every refusal counted: {cpus: 2, 'constraint hostname:UNIQUE': 1}
 *
 * Cheap checks first (the role is a string compare, resources a sum) so a
 * reader of the order sees the cost; every check still runs on every offer,
 * since "why not" wants all the reasons an offer failed, not the first.
 * Resources are counted with the SDK's `offerResources`, constraints are the
 * SDK's `parseConstraint`, and the task is built by the SDK's `pack`, so a
 * check passes here exactly when `pack` would place the task.
 */
import type { Resource } from '../../../lib/proto';
import { type Resources, fromProto, portCount, rangesContain, subtract, toProto } from '../../../lib/resources';
import { offerResources, pack, parseConstraint } from '../../sdk/index';
import type { AnyOffer, Offer, Placed, TaskInfo, TaskShape } from '../../sdk/index';
import type { TaskGroup } from './types';

/** One step of the chain: the reason an offer is refused for one more task of the group, or undefined. */
export type Check = (offer: AnyOffer, placed: readonly Placed[]) => string | undefined;

const SCALAR_CHECKS = ['cpus', 'mem', 'disk', 'gpus'] as const;

/**
 * An offer's resources, summed once: every check of every candidate reads
 * them, and an offer object never changes (`cut` returns a new one).
 */
const summed = new WeakMap<AnyOffer, Resources>();
function resourcesOf(offer: AnyOffer): Resources {
  return summed.get(offer) ?? summed.set(offer, offerResources(offer)).get(offer)!;
}

/**
 * The chain for `group`, in order. Reasons: `role`, `cpus`, `mem`, `disk`,
 * `gpus`, `ports`, and `constraint <label>` per constraint (`constraint
 * hostname:UNIQUE`). Throws ConstraintError for a bad constraint.
 */
export function checksFor(group: TaskGroup): Check[] {
  const shape = group.resources;
  const chain: Check[] = [];
  const roleCheck = roleCheckFor(group);
  if (roleCheck) chain.push(roleCheck);
  for (const k of SCALAR_CHECKS) {
    const want = shape[k] ?? 0;
    // 1e-9: the SDK's floating point slack, so ten 0.1-cpu tasks fit in 1 cpu.
    if (want > 0) chain.push((offer) => (resourcesOf(offer)[k] + 1e-9 >= want ? undefined : k));
  }
  const portCheck = portCheckFor(shape);
  if (portCheck) chain.push(portCheck);
  for (const spec of group.constraints ?? []) {
    const c = parseConstraint(spec);
    chain.push((offer, placed) => (c.check(offer, placed).ok ? undefined : `constraint ${c.label}`));
  }
  return chain;
}

/**
 * The `role` check: the offer's allocation role (`*` when it has none) must
 * be `group.role` when given, and one of `group.roles` when given.
 */
function roleCheckFor(group: TaskGroup): Check | undefined {
  const { role, roles } = group;
  if (role === undefined && roles === undefined) return undefined;
  return (offer) => {
    const of = offer.allocationRole || '*';
    return (role === undefined || of === role) && (roles === undefined || roles.includes(of)) ? undefined : 'role';
  };
}

/** The `ports` check: enough ports for a number of them, or every one of the exact ports named. */
function portCheckFor(shape: TaskShape): Check | undefined {
  const ports = shape.ports ?? 0;
  if (typeof ports === 'number') {
    return ports > 0 ? (offer) => (portCount(resourcesOf(offer).ports) >= ports ? undefined : 'ports') : undefined;
  }
  if (!ports.length) return undefined;
  const wanted = ports.map((p) => ({ begin: p, end: p }));
  return (offer) => (rangesContain(resourcesOf(offer).ports, wanted) ? undefined : 'ports');
}

/** Every check's refusal of `offer`; empty when the instance may go there. */
export function refusals(chain: readonly Check[], offer: AnyOffer, placed: readonly Placed[]): string[] {
  const out: string[] = [];
  for (const check of chain) {
    const reason = check(offer, placed);
    if (reason) out.push(reason);
  }
  return out;
}

/**
 * Cuts one task of `shape` out of `offer` with the SDK's `pack` (reserved
 * resources first, lowest ports first) and returns it with the offer's
 * remainder. Throws when it does not fit: the chain said it would, so that
 * would be a broken invariant.
 */
export function cut(offer: AnyOffer, shape: TaskShape, make: (ports: number[]) => Partial<TaskInfo> & { taskId: string }): { task: TaskInfo; rest: AnyOffer } {
  const plan = pack([offer], 1, shape, (_i, _o, ports) => make(ports));
  const task = plan.launches[0]?.tasks[0];
  if (!task) throw new Error(`reconciler: the checks passed offer ${offer.id} but pack refused it: ${plan.refused[0]?.reason}`);
  return { task, rest: { ...offer, resources: remainder(offer.resources ?? [], task.resources ?? []) } as Offer };
}

/** `have` less `used`, role by role, so reserved resources stay reserved. */
function remainder(have: readonly Resource[], used: readonly Resource[]): Resource[] {
  const roles = [...new Set(have.map((r) => r.role || '*'))];
  return roles.flatMap((role) => {
    const of = (list: readonly Resource[]) => fromProto(list.filter((r) => (r.role || '*') === role));
    return toProto(subtract(of(have), of(used)), role);
  });
}
