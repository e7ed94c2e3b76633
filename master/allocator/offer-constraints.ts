/**
 * Offer constraints (Mesos 1.9's FrameworkInfo.offer_constraints): per
 * (framework, role), the agents it wants offers of. Groups are ORed,
 * the tests inside a group ANDed:
 *
 *   admits(agent) = ∃ group . ∀ test ∈ group . test(agent)
 *
 * The master compiles a framework's constraints once, when it subscribes or
 * updates (regexes included); the allocation walk only calls `admits`.
 * Answers are not remembered: a per-profile WeakMap cost more than the tests
 * it saved (bench/allocator.ts, 10,000 agents × 500 constrained frameworks:
 * 268 ms a round with it, 129 ms without), as the tests are a Map lookup
 * and a string compare, and regexes are short and run on short values.
 */

/** What constraints read of an agent: its hostname and attributes. Immutable; the master replaces it when either changes, and keeps it otherwise (no Map built per round). */
export interface AgentProfile {
  readonly hostname: string;
  /** Attribute name → text. */
  readonly attributes: ReadonlyMap<string, string>;
}

/** Which value a test reads: the hostname, or an attribute by name. */
export type ConstraintSelector = { hostname: true } | { attribute: string };

/**
 * What a test asks of the selected value. A missing attribute fails `exists`,
 * `equals` and `matches`, and passes their negations (as in Mesos). A
 * `matches` regex must match the whole value: compile it with `wholeValueRegex`.
 */
export type ConstraintPredicate =
  | { exists: true } | { notExists: true }
  | { equals: string } | { notEquals: string }
  | { matches: RegExp } | { notMatches: RegExp };

export type ConstraintTest = ConstraintSelector & ConstraintPredicate;

/** `source` anchored so it must match the whole value; throws SyntaxError for a bad regex. */
export function wholeValueRegex(source: string): RegExp {
  // Compiled alone first: `a)|(b` is invalid, but would pass once wrapped in (?:…).
  new RegExp(source, 'u');
  return new RegExp(`^(?:${source})$`, 'u');
}

type AgentTest = (agent: AgentProfile) => boolean;

function compileTest(t: ConstraintTest): AgentTest {
  const read: (a: AgentProfile) => string | undefined =
    'hostname' in t ? (a) => a.hostname : ((name) => (a: AgentProfile) => a.attributes.get(name))(t.attribute);
  if ('exists' in t) return (a) => read(a) !== undefined;
  if ('notExists' in t) return (a) => read(a) === undefined;
  if ('equals' in t) { const v = t.equals; return (a) => read(a) === v; }
  if ('notEquals' in t) { const v = t.notEquals; return (a) => read(a) !== v; }
  if ('matches' in t) {
    const re = t.matches;
    return (a) => { const v = read(a); return v !== undefined && re.test(v); };
  }
  const re = t.notMatches;
  return (a) => { const v = read(a); return v === undefined || !re.test(v); };
}

/** One role's constraints, compiled. Immutable once built; `admits` is pure. */
export class OfferConstraint {
  private readonly groups: readonly (readonly AgentTest[])[];

  /** `groups`: ORed groups of ANDed tests; at least one group, each with at least one test (the master validates that). */
  constructor(groups: readonly (readonly ConstraintTest[])[]) {
    this.groups = groups.map((g) => g.map(compileTest));
  }

  /** Whether the agent passes some group. Plain loops: this runs once per skipped candidate in the walk. */
  admits(agent: AgentProfile): boolean {
    const groups = this.groups;
    for (let g = 0; g < groups.length; g++) {
      const tests = groups[g]!;
      let all = true;
      for (let t = 0; t < tests.length && all; t++) all = tests[t]!(agent);
      if (all) return true;
    }
    return false;
  }
}

/** The profile of an agent that declared nothing: hostname '' and no attributes. */
export const EMPTY_PROFILE: AgentProfile = Object.freeze({ hostname: '', attributes: new Map<string, string>() });
