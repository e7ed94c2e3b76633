/**
 * The `HealthCheck` message's defaults and checks, in one place for the
 * master (accept validation: a bad check is TASK_ERROR before anything
 * launches) and the agent (which resolves a check into what it runs).
 *
 * Defaults are Mesos': the first check 15 s after the task starts, one
 * every 10 s, each allowed 20 s, failures ignored for the first 10 s
 * (until the first success), and 3 failures in a row make it unhealthy
 * enough to kill when `kill_on_failure` is set.
 *
 * A task may carry several checks (`health_check` and `health_checks`);
 * `taskHealthChecks` lists them and `taskHealthCheckProblems` checks them
 * all, with their number capped.
 */
import type { CommandInfo__Output } from './proto';
import type { HealthCheck__Output } from './proto/generated/mezzanine/v1/HealthCheck';

export const HEALTH_CHECK_DEFAULTS = {
  delaySeconds: 15,
  intervalSeconds: 10,
  timeoutSeconds: 20,
  consecutiveFailures: 3,
  gracePeriodSeconds: 10,
} as const;

/**
 * Most health checks per task, `health_check` and `health_checks`
 * together: each is a timer in the agent (a COMMAND check a process per
 * run), and a handful covers what a service exposes (Marathon apps rarely
 * declare more than two).
 */
export const MAX_TASK_HEALTH_CHECKS = 8;

/** A valid check with every default filled in and its port resolved. */
export interface ResolvedHealthCheck {
  type: 'COMMAND' | 'HTTP' | 'TCP';
  /** COMMAND only. */
  command?: CommandInfo__Output;
  /** HTTP and TCP: the port on 127.0.0.1. */
  port?: number;
  /** HTTP only: starts with "/". */
  path?: string;
  /** HTTP only: "https" is a GET over TLS that does not verify the task's certificate. */
  scheme?: 'http' | 'https';
  delayMs: number;
  intervalMs: number;
  timeoutMs: number;
  gracePeriodMs: number;
  consecutiveFailures: number;
  killOnFailure: boolean;
}

/**
 * The port of an HTTP or TCP check: a number, or an index into `ports`; a
 * problem otherwise. `noun` names the kind of check in the problem (the
 * generalized checks of check-spec.ts share this).
 */
export function checkPort(kind: string, p: { port: number; portIndex?: number } | null, ports: readonly number[], noun = 'health check'): number | string {
  if (!p) return `a ${kind} ${noun} needs its ${kind.toLowerCase()} settings (port or port_index)`;
  if (p.port && p.portIndex !== undefined) return `the ${kind} ${noun} sets both port ${p.port} and port_index ${p.portIndex}; set one`;
  if (p.port) return p.port > 65535 ? `the ${kind} ${noun}'s port ${p.port} is not a port number (1-65535)` : p.port;
  if (p.portIndex === undefined) return `the ${kind} ${noun} names no port: set port, or port_index into the task's ports`;
  if (p.portIndex >= ports.length) {
    return `the ${kind} ${noun}'s port_index ${p.portIndex} is out of range: the task has ${ports.length} port(s)` +
      (ports.length ? ` (${ports.slice(0, 8).join(', ')}${ports.length > 8 ? ', …' : ''})` : '; give it a ports resource');
  }
  return ports[p.portIndex]!;
}

/**
 * Shortest interval and timeout: 100 ms. A check runs a probe (a COMMAND
 * check spawns a shell) per task; ten a second is already more than any
 * health signal needs, and a timeout below 100 ms fails a healthy task on a
 * loaded host (one scheduling hiccup). Delays and grace periods may be 0.
 */
export const MIN_HEALTH_CHECK_PERIOD_SECONDS = 0.1;
/**
 * Longest of any duration: Node timers take at most 2^31 - 1 ms (about
 * 24.8 days); a longer one fires after 1 ms, so the check would run in a
 * tight loop instead of rarely.
 */
export const MAX_HEALTH_CHECK_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

/** A duration field in seconds (`fallback` when unset), its problem pushed onto `out`; shared with check-spec.ts. */
export function checkSeconds(name: string, v: number | undefined, fallback: number, min: 'period' | 'non-negative', out: string[], noun = 'health check'): number {
  const s = v ?? fallback;
  const least = min === 'period' ? MIN_HEALTH_CHECK_PERIOD_SECONDS : 0;
  if (!Number.isFinite(s) || s < least || s > MAX_HEALTH_CHECK_SECONDS) {
    out.push(`${noun} ${name} ${Number.isFinite(s) ? s : String(s)} must be between ${least} and ${MAX_HEALTH_CHECK_SECONDS} seconds`
      + (s > MAX_HEALTH_CHECK_SECONDS ? ' (timers cannot wait longer than 2^31 ms)' : ''));
  }
  return s;
}

/** The path of an HTTP check, "/" when empty; a problem when it cannot go into a request line. */
export function checkPath(path: string | undefined, out: string[], noun = 'health check'): string {
  const p = path || '/';
  if (!p.startsWith('/')) out.push(`the HTTP ${noun}'s path "${p}" must start with "/"`);
  else if (/[\s\u0000-\u001f]/.test(p)) out.push(`the HTTP ${noun}'s path "${p}" holds a space or a control character`);
  return p;
}

/** The scheme of an HTTP check, "http" when empty; undefined (and a problem) when neither "http" nor "https". */
export function checkScheme(scheme: string | undefined, out: string[], noun = 'health check'): 'http' | 'https' | undefined {
  const s = scheme || 'http';
  if (s === 'http' || s === 'https') return s;
  out.push(`the HTTP ${noun}'s scheme "${s.slice(0, 32)}" must be "http" or "https"`);
  return undefined;
}

/**
 * Resolves `check` against the task's assigned ports (in order, as
 * PORT0, PORT1, … in its environment). Returns the check, or the reasons
 * it cannot run, each saying what to change.
 */
export function resolveHealthCheck(check: HealthCheck__Output, ports: readonly number[]): { ok: true; check: ResolvedHealthCheck } | { ok: false; reasons: string[] } {
  const reasons: string[] = [];
  const d = HEALTH_CHECK_DEFAULTS;
  const out: ResolvedHealthCheck = {
    type: 'COMMAND',
    delayMs: checkSeconds('delay_seconds', check.delaySeconds, d.delaySeconds, 'non-negative', reasons) * 1000,
    intervalMs: checkSeconds('interval_seconds', check.intervalSeconds, d.intervalSeconds, 'period', reasons) * 1000,
    timeoutMs: checkSeconds('timeout_seconds', check.timeoutSeconds, d.timeoutSeconds, 'period', reasons) * 1000,
    gracePeriodMs: checkSeconds('grace_period_seconds', check.gracePeriodSeconds, d.gracePeriodSeconds, 'non-negative', reasons) * 1000,
    consecutiveFailures: check.consecutiveFailures ?? d.consecutiveFailures,
    killOnFailure: !!check.killOnFailure,
  };
  if (!(out.consecutiveFailures >= 1)) reasons.push(`health check consecutive_failures ${out.consecutiveFailures} must be ≥ 1`);
  switch (check.type) {
    case 'COMMAND':
      out.type = 'COMMAND';
      if (!check.command?.value?.trim()) reasons.push('the COMMAND health check has an empty command (set command.value)');
      else out.command = check.command;
      break;
    case 'HTTP': {
      out.type = 'HTTP';
      const port = checkPort('HTTP', check.http, ports);
      if (typeof port === 'string') reasons.push(port);
      else out.port = port;
      out.path = checkPath(check.http?.path, reasons);
      out.scheme = checkScheme(check.http?.scheme, reasons);
      break;
    }
    case 'TCP': {
      out.type = 'TCP';
      const port = checkPort('TCP', check.tcp, ports);
      if (typeof port === 'string') reasons.push(port);
      else out.port = port;
      break;
    }
    default:
      reasons.push(`health check type ${String(check.type || 'UNKNOWN')} is not supported; set type to COMMAND, HTTP or TCP`);
  }
  return reasons.length ? { ok: false, reasons } : { ok: true, check: out };
}

/** Why the task's health check (if any) cannot run; empty when it can or there is none. */
export function healthCheckProblems(check: HealthCheck__Output | null | undefined, ports: readonly number[]): string[] {
  if (!check) return [];
  const r = resolveHealthCheck(check, ports);
  return r.ok ? [] : r.reasons;
}

type WithChecks = { healthCheck?: HealthCheck__Output | null; healthChecks?: readonly HealthCheck__Output[] | null };

/** Every check of a task: `health_check` first, then `health_checks` (absent in TaskInfos journaled before it existed). */
export function taskHealthChecks(task: WithChecks): HealthCheck__Output[] {
  return [...(task.healthCheck ? [task.healthCheck] : []), ...(task.healthChecks ?? [])];
}

/**
 * Why the task's checks cannot run: too many, or each one's problems,
 * those of `health_checks` entries prefixed with the entry's path.
 */
export function taskHealthCheckProblems(task: WithChecks, ports: readonly number[]): string[] {
  const count = taskHealthChecks(task).length;
  if (count > MAX_TASK_HEALTH_CHECKS) {
    return [`${count} health checks (health_check and health_checks together); the limit is ${MAX_TASK_HEALTH_CHECKS}`];
  }
  return [
    ...healthCheckProblems(task.healthCheck, ports),
    ...(task.healthChecks ?? []).flatMap((c, i) => healthCheckProblems(c, ports).map((p) => `health_checks[${i}]: ${p}`)),
  ];
}
