/**
 * A task's generalized check (`TaskInfo.check`, Mesos' CheckInfo): the agent
 * runs it beside the task with the health checks' probes and reports what it
 * saw — the HTTP status code, whether the TCP connection opened, the
 * command's exit code — and nothing more. It never kills the task and never
 * touches its health: the framework decides what a result means.
 *
 *   start ─(delay)─► probe ─► checkStatusOf ─► changed? ─► onChange ─► TASK_RUNNING{check_status}
 *                      ▲            │
 *                      └(interval)──┘
 *
 * A result is reported when its value changes (the first one always): a
 * changed message alone (another connection error, other output) is not a
 * change, as in Mesos, so a steady check sends one update, not one per run.
 */
import type { Logger } from '../lib/log';
import { capStatusMessage } from '../lib/limits';
import type { CheckStatusInfo } from '../lib/proto';
import type { ResolvedCheck } from '../lib/check-spec';
import { ProbeLoop, type Probe, type ProbeResult } from './health-check-probe';

/**
 * The check's status after `result` (pure): the field of the check's type
 * always set, its value only when the probe saw one (a timeout or an HTTP
 * connection refused leaves it unset, as Mesos does; a TCP connection that
 * did not open is `succeeded: false`).
 */
export function checkStatusOf(type: ResolvedCheck['type'], result: ProbeResult): CheckStatusInfo {
  const message = capStatusMessage(result.ok ? result.detail : result.reason);
  switch (type) {
    case 'HTTP': return { type, http: result.statusCode !== undefined ? { statusCode: result.statusCode } : {}, message };
    case 'TCP': return { type, tcp: { succeeded: result.ok }, message };
    case 'COMMAND': return { type, command: result.exitCode !== undefined ? { exitCode: result.exitCode } : {}, message };
  }
}

/** Whether two statuses hold the same result (their messages aside). Pure. */
export function sameCheckResult(a: CheckStatusInfo | undefined | null, b: CheckStatusInfo | undefined | null): boolean {
  if (!a || !b) return a === b;
  return a.type === b.type
    && (a.http?.statusCode ?? null) === (b.http?.statusCode ?? null)
    && (a.tcp?.succeeded ?? null) === (b.tcp?.succeeded ?? null)
    && (a.command?.exitCode ?? null) === (b.command?.exitCode ?? null);
}

export interface TaskCheckOptions {
  check: ResolvedCheck;
  probe: Probe;
  /** When the task started (ms since the epoch): the delay counts from here. */
  startedAt: number;
  /** The result last reported for the task (after an agent restart): not reported again while it holds. */
  last?: CheckStatusInfo | null;
  /** The result changed. */
  onChange(status: CheckStatusInfo): void;
  log?: Logger;
  now?: () => number;
}

/**
 * Runs one task's check on timers until stopped. Runs never overlap: the
 * next starts `interval` after the previous one ends. `onChange` is not
 * called after stop().
 */
export class TaskCheck {
  private last?: CheckStatusInfo | null;
  private readonly loop: ProbeLoop;

  constructor(private readonly opts: TaskCheckOptions) {
    this.last = opts.last;
    const { check } = opts;
    this.loop = new ProbeLoop({
      probe: opts.probe, startedAt: opts.startedAt, delayMs: check.delayMs, intervalMs: check.intervalMs, timeoutMs: check.timeoutMs,
      now: opts.now ?? Date.now, what: 'check', onResult: (result) => this.observe(result),
    });
  }

  /** The result last reported. */
  get status(): CheckStatusInfo | undefined | null { return this.last; }

  start(): void {
    this.loop.start();
  }

  stop(): void {
    this.loop.stop();
  }

  private observe(result: ProbeResult): boolean {
    const status = checkStatusOf(this.opts.check.type, result);
    if (!sameCheckResult(status, this.last)) {
      this.last = status;
      this.opts.log?.debug(`check result changed: ${status.message}`);
      this.opts.onChange(status);
    }
    return true;
  }
}
