/**
 * Health checks, run by the agent next to each task that declares some: a
 * timer per check inside the agent process (no process per task; a COMMAND
 * check spawns its command only for the check). The agent starts a task's
 * checks (`TaskHealthChecks`, health-check-task.ts, which combines their
 * health) when the task runs, and again when it re-attaches to the task
 * after a restart, with the task's original start time and last reported health.
 *
 *   start ─(delay)─► probe ─► observe() ─► change? ─► task's health ─► TASK_RUNNING{healthy}
 *                      ▲         │          kill?  ─► agent kills the task
 *                      └(interval)┘
 *
 * `observe` is the whole policy, pure: failures within the grace period
 * (counted from the task's start, and ended early by the first success) are
 * ignored; health is reported when it changes; with kill_on_failure, the
 * `consecutive_failures`-th failure in a row kills the task.
 */
import type { Logger } from '../lib/log';
import type { ResolvedHealthCheck } from '../lib/health-check-spec';
import { commandProbe } from './health-check-command';
import type { RunAs } from './users';
import { ProbeLoop, type Probe, type ProbeResult } from './health-check-probe';
import { httpProbe } from './health-check-http';
import { tcpProbe } from './health-check-tcp';

export type { Probe, ProbeResult } from './health-check-probe';

export interface HealthState {
  /** Last reported health; undefined until the first report. */
  healthy?: boolean;
  /** A success ends the grace period early. */
  everHealthy: boolean;
  /** Failures in a row that counted (outside the grace period). */
  failures: number;
}

export interface Observation {
  state: HealthState;
  /** Health to report, when it changed. */
  change?: { healthy: boolean; message: string };
  /** Set when the task must be killed: why. */
  kill?: string;
  /** A failure within the grace period: not counted. */
  ignored?: boolean;
}

/**
 * The policy: the next state after `result`, at `now` (ms), for a task
 * started at `startedAt` (ms). `which` names the check in its messages
 * when the task has several ("2 of 3"). Pure.
 */
export function observe(check: ResolvedHealthCheck, state: HealthState, result: ProbeResult, now: number, startedAt: number, which?: string): Observation {
  const name = which ? `health check ${which}` : 'health check';
  if (result.ok) {
    const next: HealthState = { healthy: true, everHealthy: true, failures: 0 };
    return state.healthy === true ? { state: next } : { state: next, change: { healthy: true, message: `${name} passed: ${result.detail}` } };
  }
  if (!state.everHealthy && now < startedAt + check.gracePeriodMs) {
    return { state, ignored: true };
  }
  const failures = state.failures + 1;
  const next: HealthState = { healthy: false, everHealthy: state.everHealthy, failures };
  const of = `${failures} of ${check.consecutiveFailures} in a row`;
  const out: Observation = { state: next };
  if (state.healthy !== false) out.change = { healthy: false, message: `${name} failed (${of}): ${result.reason}` };
  if (check.killOnFailure && failures >= check.consecutiveFailures) {
    out.kill = `${failures} consecutive health checks failed${which ? ` (check ${which})` : ''}; last: ${result.reason}`;
  }
  return out;
}

/** Where a task's checks run. */
export interface ProbeContext {
  sandbox: string;
  /** The task's environment (COMMAND checks run with it, plus the check's own variables). */
  environment: Record<string, string>;
  /** The user COMMAND checks run as, as the task does; absent: the agent's own. */
  user?: RunAs;
}

/** What a probe needs of a check: a health check's, or a generalized check's (check-spec.ts). */
export type ProbeTarget = Pick<ResolvedHealthCheck, 'type' | 'command' | 'port' | 'path' | 'scheme'>;

/** The probe for a resolved check. */
export function probeFor(check: ProbeTarget, ctx: ProbeContext): Probe {
  switch (check.type) {
    case 'HTTP': return httpProbe(check.port!, check.path ?? '/', check.scheme);
    case 'TCP': return tcpProbe(check.port!);
    case 'COMMAND': return commandProbe(check.command!, { cwd: ctx.sandbox, env: { ...ctx.environment, ...(check.command!.environment ?? {}) }, user: ctx.user });
  }
}

export interface HealthCheckerOptions {
  check: ResolvedHealthCheck;
  probe: Probe;
  /** When the task started (ms since the epoch): the delay and the grace period count from here. */
  startedAt: number;
  /** Health last reported for the task (after an agent restart). */
  healthy?: boolean;
  /** Names the check in messages when the task has several: "2 of 3". */
  which?: string;
  onChange(healthy: boolean, message: string): void;
  onKill(message: string): void;
  log?: Logger;
  now?: () => number;
}

/**
 * Runs one check of a task on timers until stopped or until it asks for the
 * kill (`TaskHealthChecks` in health-check-task.ts runs all of a task's).
 * Runs never overlap: the next one is scheduled `interval` after the
 * previous one ends. Callbacks are not called after stop().
 */
export class HealthChecker {
  private state: HealthState;
  private readonly now: () => number;
  private readonly loop: ProbeLoop;

  constructor(private readonly opts: HealthCheckerOptions) {
    this.now = opts.now ?? Date.now;
    this.state = { healthy: opts.healthy, everHealthy: opts.healthy === true, failures: 0 };
    const { check } = opts;
    this.loop = new ProbeLoop({
      probe: opts.probe, startedAt: opts.startedAt, delayMs: check.delayMs, intervalMs: check.intervalMs, timeoutMs: check.timeoutMs,
      now: this.now, what: 'health check', onResult: (result) => this.observe(result),
    });
  }

  get healthy(): boolean | undefined { return this.state.healthy; }

  start(): void {
    this.loop.start();
  }

  stop(): void {
    this.loop.stop();
  }

  /** One run's result: health changes reported, and no further run once it asks for the kill. */
  private observe(result: ProbeResult): boolean {
    const o = observe(this.opts.check, this.state, result, this.now(), this.opts.startedAt, this.opts.which);
    this.state = o.state;
    if (o.ignored) this.opts.log?.debug(`health check failed within the grace period (ignored): ${result.ok ? '' : result.reason}`);
    if (o.change) this.opts.onChange(o.change.healthy, o.change.message);
    if (o.kill) {
      this.loop.stop();
      this.opts.onKill(o.kill);
      return false;
    }
    return true;
  }
}
