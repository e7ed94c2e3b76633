/**
 * One validation of a FrameworkInfo, for every entry that takes one
 * (SUBSCRIBE and UPDATE_FRAMEWORK), so neither can store what the other
 * refuses (a negative failover timeout once slipped through UPDATE_FRAMEWORK
 * and removed its framework at the next disconnect).
 */
import {
  describe, idProblem, labelsProblem, lengthProblem, MAX_NAME_LENGTH, MAX_ROLES, roleProblem,
} from '../lib/limits';
import { errorMessage } from '../lib/errors';
import { FRAMEWORK_CAPABILITIES, type FrameworkInfo__Output, type OfferConstraint__Output } from '../lib/proto';
import { type ConstraintSelector, type ConstraintTest, OfferConstraint, wholeValueRegex } from './allocator';

/** Used when a framework sets no failover timeout: a week, so a blip never kills tasks. */
export const DEFAULT_FAILOVER_TIMEOUT = 7 * 24 * 3600;
/** The longest failover timeout taken: a year (longer is surely a unit mistake). */
export const MAX_FAILOVER_TIMEOUT = 365 * 24 * 3600;
const CAPABILITIES = 64;

/** Every problem with `info`, each naming the field and the limit; empty when it is valid. */
export function frameworkInfoProblems(info: FrameworkInfo__Output): string[] {
  const problems: (string | undefined)[] = [];
  if (!info.name.trim()) problems.push('framework name must not be empty');
  problems.push(lengthProblem('framework name', info.name, MAX_NAME_LENGTH));
  if (info.id) problems.push(idProblem('framework id', info.id));
  if (info.roles.length > MAX_ROLES) problems.push(`framework has ${info.roles.length} roles; the limit is ${MAX_ROLES}`);
  else for (const r of info.roles) problems.push(roleProblem(r));
  const timeout = info.failoverTimeout;
  if (timeout !== undefined && timeout !== null && !(Number.isFinite(timeout) && timeout >= 0 && timeout <= MAX_FAILOVER_TIMEOUT)) {
    problems.push(`failover_timeout must be 0-${MAX_FAILOVER_TIMEOUT} seconds (a year), got ${timeout}`);
  }
  problems.push(lengthProblem('framework user', info.user, MAX_NAME_LENGTH));
  problems.push(lengthProblem('framework hostname', info.hostname, MAX_NAME_LENGTH));
  problems.push(webuiUrlProblem(info.webuiUrl));
  if (info.capabilities.length > CAPABILITIES) problems.push(`framework has ${info.capabilities.length} capabilities; the limit is ${CAPABILITIES}`);
  else for (const c of info.capabilities) problems.push(capabilityProblem(c));
  problems.push(labelsProblem('framework labels', info.labels));
  problems.push(...offerConstraintProblems(info));
  return problems.filter((p): p is string => p !== undefined);
}

const KNOWN_CAPABILITIES: ReadonlySet<string> = new Set(FRAMEWORK_CAPABILITIES);

/** Longest `webui_url` a framework may name. */
export const MAX_WEBUI_URL = 2048;

/** `webui_url` must be empty or an http(s) URL: `mezz` sends requests (and a token) there. */
function webuiUrlProblem(url: string | undefined): string | undefined {
  if (!url) return undefined;
  const long = lengthProblem('webui_url', url, MAX_WEBUI_URL);
  if (long) return long;
  let ok = false;
  try {
    ok = ['http:', 'https:'].includes(new URL(url).protocol);
  } catch { /* not a URL */ }
  return ok ? undefined : `webui_url must be an http:// or https:// URL, got ${describe(url, 80)}`;
}

function capabilityProblem(c: string): string | undefined {
  if (KNOWN_CAPABILITIES.has(c)) return undefined;
  return lengthProblem('capability', c, MAX_NAME_LENGTH)
    ?? `capability ${describe(c)} is unknown; the known ones are ${FRAMEWORK_CAPABILITIES.join(', ')}`;
}

/** The roles a framework acts in: its own, or `*`. */
export function rolesOf(info: FrameworkInfo__Output): string[] {
  return info.roles.length ? [...info.roles] : ['*'];
}

/** Most groups in one role's offer constraints (ORed: more is a sign of a list that belongs in one regex). */
export const MAX_OFFER_CONSTRAINT_GROUPS = 16;
/** Most constraints in one group. */
export const MAX_OFFER_CONSTRAINTS_PER_GROUP = 16;
/** Longest regex in a constraint: regexes run on the allocator's path, so they stay small. */
export const MAX_OFFER_CONSTRAINT_REGEX = 256;

/** Every problem with `info.offerConstraints`: unknown roles, empty or oversized lists, bad selectors, bad or long regexes. */
function offerConstraintProblems(info: FrameworkInfo__Output): string[] {
  const problems: string[] = [];
  const roles = new Set(rolesOf(info));
  for (const [role, constraints] of Object.entries(info.offerConstraints ?? {})) {
    if (!roles.has(role)) {
      problems.push(`offer constraints name role ${describe(role)}, which the framework does not hold (its roles: ${[...roles].join(', ').slice(0, 200)})`);
      continue;
    }
    const groups = constraints.groups ?? [];
    const where = `offer constraints of role ${describe(role)}`;
    if (groups.length === 0) problems.push(`${where} have no groups; leave the role out to take any agent`);
    if (groups.length > MAX_OFFER_CONSTRAINT_GROUPS) {
      problems.push(`${where} have ${groups.length} groups; the limit is ${MAX_OFFER_CONSTRAINT_GROUPS}`);
      continue;
    }
    groups.forEach((g, i) => {
      const list = g.constraints ?? [];
      const inGroup = `${where}, group ${i + 1}`;
      if (list.length === 0) problems.push(`${inGroup} has no constraints`);
      else if (list.length > MAX_OFFER_CONSTRAINTS_PER_GROUP) {
        problems.push(`${inGroup} has ${list.length} constraints; the limit is ${MAX_OFFER_CONSTRAINTS_PER_GROUP}`);
      } else {
        list.forEach((c, j) => {
          const test = constraintTest(c);
          if (typeof test === 'string') problems.push(`${inGroup}, constraint ${j + 1}: ${test}`);
        });
      }
    });
  }
  return problems;
}

/**
 * The allocator's form of one wire constraint (its regex compiled), or why it
 * has none. Reads which oneof member is present rather than the `selector` and
 * `predicate` case names, which hand-built infos (tests, registry JSON) may lack.
 */
function constraintTest(c: OfferConstraint__Output): ConstraintTest | string {
  let selector: ConstraintSelector;
  if (c.hostname === true) selector = { hostname: true };
  else if (typeof c.attribute === 'string' && c.attribute) {
    const long = lengthProblem('attribute name', c.attribute, MAX_NAME_LENGTH);
    if (long) return long;
    selector = { attribute: c.attribute };
  } else return 'select an attribute by a non-empty name, or the hostname (hostname: true)';
  const text = (v: string): string | undefined => lengthProblem('value', v, MAX_NAME_LENGTH);
  if (c.exists) return { ...selector, exists: true };
  if (c.notExists) return { ...selector, notExists: true };
  if (typeof c.textEquals === 'string') return text(c.textEquals) ?? { ...selector, equals: c.textEquals };
  if (typeof c.textNotEquals === 'string') return text(c.textNotEquals) ?? { ...selector, notEquals: c.textNotEquals };
  if (typeof c.textMatches === 'string') {
    const re = regex(c.textMatches);
    return typeof re === 'string' ? re : { ...selector, matches: re };
  }
  if (typeof c.textNotMatches === 'string') {
    const re = regex(c.textNotMatches);
    return typeof re === 'string' ? re : { ...selector, notMatches: re };
  }
  return 'no predicate: set one of exists, not_exists, text_equals, text_not_equals, text_matches, text_not_matches';
}

/** `source` compiled to match whole values, or why it cannot be. */
function regex(source: string): RegExp | string {
  const long = lengthProblem('regex', source, MAX_OFFER_CONSTRAINT_REGEX);
  if (long) return long;
  try {
    return wholeValueRegex(source);
  } catch (err) {
    // V8's message repeats the whole pattern first; keep only why it failed.
    return `regex ${describe(source)} is invalid: ${errorMessage(err).split(': ').pop()}`;
  }
}

/**
 * Role → compiled offer constraint, for the framework record: built once per
 * SUBSCRIBE or UPDATE_FRAMEWORK, never per offer. Expects info that passed
 * `frameworkInfoProblems`; a constraint that would not (only a registry
 * record from another version could hold one) is left out rather than thrown.
 */
export function offerConstraintsOf(info: FrameworkInfo__Output): Map<string, OfferConstraint> {
  const out = new Map<string, OfferConstraint>();
  for (const [role, constraints] of Object.entries(info.offerConstraints ?? {})) {
    const groups = (constraints.groups ?? []).map((g) =>
      (g.constraints ?? []).map(constraintTest).filter((t): t is ConstraintTest => typeof t !== 'string'));
    if (groups.length && groups.every((g) => g.length)) out.set(role, new OfferConstraint(groups));
  }
  return out;
}
