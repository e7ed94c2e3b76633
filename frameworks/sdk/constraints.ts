/**
 * Placement predicates: attribute checks and Marathon-style constraints, as
 * `Where` functions that `pack`, `spread` and `gang` take.
 *
 *   ["rack", "GROUP_BY", "3"] ──parseConstraint──▶ Constraint ──constraints([...])──▶ Where
 *   (offer, placed) ──Where──▶ {ok: true} | {ok: false, reason: 'rack:GROUP_BY:3: rack=r1 already has 2 tasks, …'}
 *
 * A constraint reads one *field* of an agent: `hostname` (or `@hostname`) is
 * the offer's hostname, any other name is a text attribute (`rack:r1`). An
 * agent without the field satisfies only UNLIKE. Counting operators (UNIQUE,
 * CLUSTER without a value, GROUP_BY, MAX_PER) count the `placed` tasks by
 * their value of the field; tasks without it are not counted.
 *
 * Pure: no I/O, no clock. Bad constraints throw ConstraintError when parsed,
 * never later while placing.
 */
import { describe } from '../../lib/limits';
import { ConstraintError } from './errors';
import type { AnyOffer, Placed, Verdict, Where } from './match';

/** The operators, as Marathon spells them. `EQ` (Metronome's spelling) is read as `IS`. */
export const OPERATORS = ['UNIQUE', 'CLUSTER', 'GROUP_BY', 'LIKE', 'UNLIKE', 'MAX_PER', 'IS'] as const;
export type Operator = (typeof OPERATORS)[number];

/**
 * A constraint as written in an app's JSON: Marathon's `[field, operator,
 * value?]`, or Metronome's `{attribute, operator, value?}`.
 */
export type ConstraintSpec =
  | readonly [string, string]
  | readonly [string, string, string]
  | readonly string[]
  | { attribute: string; operator: string; value?: string };

/** A parsed, validated constraint: checks one more task against an offer and the tasks placed. */
export interface Constraint {
  field: string;
  operator: Operator;
  value?: string;
  /** `rack:GROUP_BY:3`, the prefix of every reason it gives. */
  label: string;
  check: Where;
}

/** Longest field name and value accepted; far above any real attribute, small enough for messages. */
const MAX_FIELD = 128;
const MAX_VALUE = 1024;

/** Values are shown up to this many characters in reasons. */
const SHOWN = 40;

const OK: Verdict = { ok: true };

/**
 * Parses and validates one constraint. Throws ConstraintError naming the
 * constraint and what is wrong: not a 2- or 3-element array of strings, an
 * empty or unknown `@` field, an unknown operator, a missing or unexpected
 * value, a regex that does not compile, a MAX_PER or GROUP_BY value that is
 * not a whole number ≥ 1.
 */
export function parseConstraint(spec: ConstraintSpec | unknown): Constraint {
  const [field, op, value] = fields(spec);
  const name = `constraint ${label(field, op, value)}`;
  if (!field) throw new ConstraintError(`${name}: the field is empty; name an attribute or hostname`);
  if (field.length > MAX_FIELD) throw new ConstraintError(`${name}: the field is ${field.length} characters; the limit is ${MAX_FIELD}`);
  if (field.startsWith('@') && field !== '@hostname') {
    throw new ConstraintError(`${name}: unknown field ${describe(field)}; of the @ fields only @hostname exists here (attributes are named without @)`);
  }
  const operator = op === 'EQ' ? 'IS' : op;
  if (!(OPERATORS as readonly string[]).includes(operator)) {
    throw new ConstraintError(`${name}: unknown operator ${describe(op)}; use one of ${OPERATORS.join(', ')}`);
  }
  if (value !== undefined && value.length > MAX_VALUE) {
    throw new ConstraintError(`${name}: the value is ${value.length} characters; the limit is ${MAX_VALUE}`);
  }
  const c = { field, operator: operator as Operator, value, label: label(field, operator, value) };
  return { ...c, check: checker(c, name) };
}

/**
 * All of `specs` as one predicate: yes when every constraint says yes,
 * otherwise every refusal's reason, joined by `; `. Parses them all first,
 * so a bad one throws here (ConstraintError), not during placement.
 */
export function constraints(specs: readonly (ConstraintSpec | Constraint)[]): Where {
  const parsed = specs.map((s) => (isConstraint(s) ? s : parseConstraint(s)));
  return allOf(...parsed.map((c) => c.check));
}

/** Every predicate must agree; the reasons of all that refuse are joined by `; `. */
export function allOf(...checks: readonly Where[]): Where {
  return (offer, placed) => {
    const reasons: string[] = [];
    for (const check of checks) {
      const v = check(offer, placed);
      if (!v.ok) reasons.push(v.reason);
    }
    return reasons.length ? { ok: false, reason: reasons.join('; ') } : OK;
  };
}

/** The agent has attribute `name` with text exactly `text`. */
export function attributeEquals(name: string, text: string): Where {
  return (offer) => {
    const v = fieldValue(offer, name);
    if (v === undefined) return no(`attribute ${name}=${show(text)}`, `agent has no attribute ${name}`);
    return v === text ? OK : no(`attribute ${name}=${show(text)}`, `${name}=${show(v)}`);
  };
}

/** The agent has attribute `name`, whatever its text. */
export function attributeExists(name: string): Where {
  return (offer) => (fieldValue(offer, name) === undefined ? no(`attribute ${name}`, `agent has no attribute ${name}`) : OK);
}

/**
 * The agent's attribute `name` matches `pattern` as a whole (`r1` does not
 * match `r10`; write `r1.*` for a prefix). Throws ConstraintError when
 * `pattern` is not a valid regular expression.
 */
export function attributeMatches(name: string, pattern: string): Where {
  const re = wholeMatch(pattern, `attribute ${name}~${show(pattern)}`);
  return (offer) => {
    const v = fieldValue(offer, name);
    if (v === undefined) return no(`attribute ${name}~${show(pattern)}`, `agent has no attribute ${name}`);
    return re.test(v) ? OK : no(`attribute ${name}~${show(pattern)}`, `${name}=${show(v)} does not match`);
  };
}

/**
 * The agent's value of `field`: its hostname for `hostname`/`@hostname`,
 * else the text of the attribute of that name (the first, if repeated).
 */
export function fieldValue(agent: Placed | AnyOffer, field: string): string | undefined {
  if (field === 'hostname' || field === '@hostname') return agent.hostname || undefined;
  return agent.attributes?.find((a) => a.name === field)?.text ?? undefined;
}

function isConstraint(s: unknown): s is Constraint {
  return typeof s === 'object' && s !== null && typeof (s as Constraint).check === 'function';
}

/** [field, operator, value?] out of either written form, or a ConstraintError. */
function fields(spec: unknown): [string, string, string | undefined] {
  if (Array.isArray(spec)) {
    const [field, op, value] = spec as unknown[];
    if ((spec.length === 2 || spec.length === 3) && typeof field === 'string' && typeof op === 'string' && (value === undefined || typeof value === 'string')) {
      return [field, op, value === '' ? undefined : value];
    }
    throw new ConstraintError(`constraint ${describe(JSON.stringify(spec) ?? '')} must be [field, operator] or [field, operator, value], all strings`);
  }
  if (typeof spec === 'object' && spec !== null) {
    const o = spec as Record<string, unknown>;
    if (typeof o.attribute === 'string' && typeof o.operator === 'string' && (o.value === undefined || typeof o.value === 'string')) {
      return [o.attribute, o.operator, o.value === '' ? undefined : (o.value as string | undefined)];
    }
  }
  throw new ConstraintError(`constraint ${describe(JSON.stringify(spec) ?? String(spec))} must be [field, operator, value?] or {attribute, operator, value?} with string parts`);
}

/** `rack:GROUP_BY:3`, parts shortened for messages. */
function label(field: string, op: string, value?: string): string {
  return [field, op, value].filter((x) => x !== undefined).map((x) => show(x!)).join(':');
}

function show(text: string): string {
  const printable = text.replace(/[^\x20-\x7e]/g, '?');
  return printable.length <= SHOWN ? printable : `${printable.slice(0, SHOWN)}…`;
}

function no(label: string, why: string): Verdict {
  return { ok: false, reason: `${label}: ${why}` };
}

/** A regex that must match the whole value, as Marathon's LIKE does. */
function wholeMatch(pattern: string, name: string): RegExp {
  try {
    return new RegExp(`^(?:${pattern})$`);
  } catch (err) {
    throw new ConstraintError(`${name}: ${describe(pattern)} is not a valid regular expression (${(err as Error).message.slice(0, 200)})`);
  }
}

/** A whole number ≥ 1, or a ConstraintError. */
function count(c: { operator: string; value?: string }, name: string): number {
  const n = Number(c.value);
  if (!/^\d+$/.test(c.value ?? '') || n < 1 || !Number.isSafeInteger(n)) {
    throw new ConstraintError(`${name}: ${c.operator} takes a whole number ≥ 1; got ${c.value === undefined ? 'no value' : describe(c.value)}`);
  }
  return n;
}

/** Tasks per value of `field` among `placed`, in first-seen order. */
function tally(placed: readonly Placed[], field: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const p of placed) {
    const v = fieldValue(p, field);
    if (v !== undefined) out.set(v, (out.get(v) ?? 0) + 1);
  }
  return out;
}

type Parts = { field: string; operator: Operator; value?: string; label: string };

/** Validates the operator's value and returns its check. */
function checker(c: Parts, name: string): Where {
  const { field, value, label: at } = c;
  const needsValue = () => {
    if (value === undefined) throw new ConstraintError(`${name}: ${c.operator} needs a value`);
    return value;
  };
  // Every operator but UNLIKE refuses an agent that lacks the field.
  const missing = `agent has no ${field === '@hostname' || field === 'hostname' ? 'hostname' : `attribute ${field}`}`;
  switch (c.operator) {
    case 'UNIQUE': {
      if (value !== undefined) throw new ConstraintError(`${name}: UNIQUE takes no value`);
      return (offer, placed) => {
        const v = fieldValue(offer, field);
        if (v === undefined) return no(at, missing);
        const n = tally(placed, field).get(v) ?? 0;
        return n ? no(at, `${field}=${show(v)} already has ${tasks(n)}`) : OK;
      };
    }
    case 'IS': {
      const want = needsValue();
      return (offer) => {
        const v = fieldValue(offer, field);
        if (v === undefined) return no(at, missing);
        return v === want ? OK : no(at, `${field}=${show(v)}`);
      };
    }
    case 'CLUSTER':
      return (offer, placed) => {
        const v = fieldValue(offer, field);
        if (v === undefined) return no(at, missing);
        // Without a value, the first task placed picks the value for all.
        const want = value ?? tally(placed, field).keys().next().value;
        return want === undefined || v === want ? OK : no(at, `${field}=${show(v)}, tasks run on ${field}=${show(want)}`);
      };
    case 'LIKE':
    case 'UNLIKE': {
      const re = wholeMatch(needsValue(), name);
      const like = c.operator === 'LIKE';
      return (offer) => {
        const v = fieldValue(offer, field);
        if (v === undefined) return like ? no(at, missing) : OK;
        return re.test(v) === like ? OK : no(at, `${field}=${show(v)} ${like ? 'does not match' : 'matches'}`);
      };
    }
    case 'MAX_PER': {
      const max = count(c, name);
      return (offer, placed) => {
        const v = fieldValue(offer, field);
        if (v === undefined) return no(at, missing);
        const n = tally(placed, field).get(v) ?? 0;
        return n < max ? OK : no(at, `${field}=${show(v)} already has ${tasks(n)}`);
      };
    }
    case 'GROUP_BY':
      return groupBy(field, value === undefined ? 0 : count(c, name), at, missing);
  }
}

/**
 * GROUP_BY: spread evenly over the values of `field`. A task may go where
 * the offer's value has no more tasks than the emptiest value. With `groups`
 * (the number of values expected), values not yet seen count as empty, so
 * while fewer than `groups` values hold tasks, only a new value is accepted.
 * Without it only the values seen are known, as in Marathon: the first
 * value seen may take every task until another offer shows up — give the
 * number of racks, or use `spread`.
 */
function groupBy(field: string, groups: number, at: string, missing: string): Where {
  return (offer, placed) => {
    const v = fieldValue(offer, field);
    if (v === undefined) return no(at, missing);
    const counts = tally(placed, field);
    const mine = counts.get(v) ?? 0;
    if (mine === 0) return OK;
    const unseen = Math.max(0, groups - counts.size);
    if (unseen > 0) {
      return no(at, `${field}=${show(v)} already has ${tasks(mine)}, ${unseen} of ${groups} ${field} values have none yet`);
    }
    const [least, fewest] = [...counts.entries()].reduce((a, b) => (b[1] < a[1] ? b : a));
    return mine <= fewest ? OK : no(at, `${field}=${show(v)} already has ${tasks(mine)}, ${field}=${show(least)} has ${fewest}`);
  };
}

function tasks(n: number): string {
  return n === 1 ? '1 task' : `${n} tasks`;
}
