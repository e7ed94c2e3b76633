/**
 * One validation of a FrameworkInfo, for every entry that takes one
 * (SUBSCRIBE and UPDATE_FRAMEWORK), so neither can store what the other
 * refuses (a negative failover timeout once slipped through UPDATE_FRAMEWORK
 * and removed its framework at the next disconnect).
 */
import {
  describe, idProblem, labelsProblem, lengthProblem, MAX_NAME_LENGTH, MAX_ROLES, roleProblem,
} from '../lib/limits';
import { FRAMEWORK_CAPABILITIES, type FrameworkInfo__Output } from '../lib/proto';

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
  if (info.capabilities.length > CAPABILITIES) problems.push(`framework has ${info.capabilities.length} capabilities; the limit is ${CAPABILITIES}`);
  else for (const c of info.capabilities) problems.push(capabilityProblem(c));
  problems.push(labelsProblem('framework labels', info.labels));
  return problems.filter((p): p is string => p !== undefined);
}

const KNOWN_CAPABILITIES: ReadonlySet<string> = new Set(FRAMEWORK_CAPABILITIES);

function capabilityProblem(c: string): string | undefined {
  if (KNOWN_CAPABILITIES.has(c)) return undefined;
  return lengthProblem('capability', c, MAX_NAME_LENGTH)
    ?? `capability ${describe(c)} is unknown; the known ones are ${FRAMEWORK_CAPABILITIES.join(', ')}`;
}

/** The roles a framework acts in: its own, or `*`. */
export function rolesOf(info: FrameworkInfo__Output): string[] {
  return info.roles.length ? [...info.roles] : ['*'];
}
