/**
 * Offer constraints as a framework author writes them, and their wire form
 * (FrameworkInfo.offer_constraints). The master's allocator evaluates them:
 * per role, the framework is offered only agents that pass, so it never
 * spends a decline cycle on an agent it would refuse.
 *
 *   offerConstraints: {
 *     '*': [
 *       [{ attribute: 'rack', equals: 'r1' }, { attribute: 'gpu', notExists: true }],  // r1 without gpus,
 *       [{ hostname: true, matches: 'build-[0-9]+' }],                                 // or a build host
 *     ],
 *   }
 *
 * Role → groups; an agent passes when ANY group passes, a group when ALL its
 * constraints do. A missing attribute fails `exists`, `equals` and `matches`
 * and passes their negations. `matches` is a JavaScript regex that must
 * match the whole value.
 */
import type { OfferConstraint, OfferConstraints } from '../../lib/proto';

type Only<T, K extends keyof T> = Pick<T, K> & { [P in Exclude<keyof T, K>]?: never };

interface Selectors {
  /** The agent attribute of this name (`mezz-agent --attributes 'rack:r1'`). */
  attribute: string;
  /** The agent's hostname. */
  hostname: true;
}

interface Predicates {
  exists: true;
  notExists: true;
  equals: string;
  notEquals: string;
  /** A regex the whole value must match. */
  matches: string;
  notMatches: string;
}

/** What a constraint reads: exactly one of `attribute` or `hostname`. */
export type OfferConstraintSelector = { [K in keyof Selectors]: Only<Selectors, K> }[keyof Selectors];
/** What it asks of that value: exactly one of the predicates. */
export type OfferConstraintPredicate = { [K in keyof Predicates]: Only<Predicates, K> }[keyof Predicates];
/** One test of an agent, e.g. `{ attribute: 'rack', equals: 'r1' }`. */
export type OfferConstraintSpec = OfferConstraintSelector & OfferConstraintPredicate;
/** Role → groups (ORed) of constraints (ANDed). A role left out takes any agent. */
export type OfferConstraintsOption = Record<string, OfferConstraintSpec[][]>;

/**
 * The wire form of `option`. Throws TypeError for a constraint that selects
 * nothing or asks nothing (the master refuses the rest — unknown roles, bad
 * regexes, limits — as an INVALID subscription, naming what was wrong).
 */
export function offerConstraintsToProto(option: OfferConstraintsOption): Record<string, OfferConstraints> {
  const out: Record<string, OfferConstraints> = {};
  for (const [role, groups] of Object.entries(option)) {
    out[role] = { groups: groups.map((g) => ({ constraints: g.map((c) => constraintToProto(role, c)) })) };
  }
  return out;
}

function constraintToProto(role: string, c: OfferConstraintSpec): OfferConstraint {
  const selector: OfferConstraint = c.hostname === true ? { hostname: true }
    : typeof c.attribute === 'string' ? { attribute: c.attribute }
      : fail(role, 'selects nothing: give `attribute: name` or `hostname: true`');
  if (c.exists === true) return { ...selector, exists: {} };
  if (c.notExists === true) return { ...selector, notExists: {} };
  if (typeof c.equals === 'string') return { ...selector, textEquals: c.equals };
  if (typeof c.notEquals === 'string') return { ...selector, textNotEquals: c.notEquals };
  if (typeof c.matches === 'string') return { ...selector, textMatches: c.matches };
  if (typeof c.notMatches === 'string') return { ...selector, textNotMatches: c.notMatches };
  return fail(role, 'asks nothing: give one of exists, notExists, equals, notEquals, matches, notMatches');
}

function fail(role: string, why: string): never {
  throw new TypeError(`connectFramework: an offer constraint of role ${JSON.stringify(role.slice(0, 100))} ${why}`);
}
