/**
 * The `CheckInfo` message's defaults and checks (a generalized check, as
 * Mesos' CheckInfo: its result is reported, never acted on), for the master
 * (accept validation: a bad check is TASK_ERROR before anything launches)
 * and the agent (which resolves it into what it runs). The port, path,
 * scheme and duration rules are the health checks' (health-check-spec.ts).
 *
 * Defaults are Mesos': the first check 15 s after the task starts, one
 * every 10 s, each allowed 20 s.
 */
import type { CheckInfo__Output } from './proto';
import { checkPath, checkPort, checkScheme, checkSeconds, type ResolvedHealthCheck } from './health-check-spec';

export const CHECK_DEFAULTS = {
  delaySeconds: 15,
  intervalSeconds: 10,
  timeoutSeconds: 20,
} as const;

/** A valid check with every default filled in and its port resolved: a health check's fields but those that judge health. */
export type ResolvedCheck = Omit<ResolvedHealthCheck, 'gracePeriodMs' | 'consecutiveFailures' | 'killOnFailure'>;

const NOUN = 'check';

/**
 * Resolves `check` against the task's assigned ports (in order, as PORT0,
 * PORT1, … in its environment). Returns the check, or the reasons it cannot
 * run, each saying what to change.
 */
export function resolveCheck(check: CheckInfo__Output, ports: readonly number[]): { ok: true; check: ResolvedCheck } | { ok: false; reasons: string[] } {
  const reasons: string[] = [];
  const d = CHECK_DEFAULTS;
  const out: ResolvedCheck = {
    type: 'COMMAND',
    delayMs: checkSeconds('delay_seconds', check.delaySeconds, d.delaySeconds, 'non-negative', reasons, NOUN) * 1000,
    intervalMs: checkSeconds('interval_seconds', check.intervalSeconds, d.intervalSeconds, 'period', reasons, NOUN) * 1000,
    timeoutMs: checkSeconds('timeout_seconds', check.timeoutSeconds, d.timeoutSeconds, 'period', reasons, NOUN) * 1000,
  };
  switch (check.type) {
    case 'COMMAND':
      if (!check.command?.value?.trim()) reasons.push('the COMMAND check has an empty command (set command.value)');
      else out.command = check.command;
      break;
    case 'HTTP': {
      out.type = 'HTTP';
      const port = checkPort('HTTP', check.http, ports, NOUN);
      if (typeof port === 'string') reasons.push(port);
      else out.port = port;
      out.path = checkPath(check.http?.path, reasons, NOUN);
      out.scheme = checkScheme(check.http?.scheme, reasons, NOUN);
      break;
    }
    case 'TCP': {
      out.type = 'TCP';
      const port = checkPort('TCP', check.tcp, ports, NOUN);
      if (typeof port === 'string') reasons.push(port);
      else out.port = port;
      break;
    }
    default:
      reasons.push(`check type ${String(check.type || 'UNKNOWN')} is not supported; set type to COMMAND, HTTP or TCP`);
  }
  return reasons.length ? { ok: false, reasons } : { ok: true, check: out };
}

/** Why the task's `check` (if any) cannot run, each reason prefixed with "check: "; empty when it can or there is none. */
export function taskCheckProblems(task: { check?: CheckInfo__Output | null }, ports: readonly number[]): string[] {
  if (!task.check) return [];
  const r = resolveCheck(task.check, ports);
  return r.ok ? [] : r.reasons.map((p) => `check: ${p}`);
}
