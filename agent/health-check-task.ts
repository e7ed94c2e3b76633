/**
 * All of one task's health checks (`health_check` and `health_checks`), as
 * Mesos and Marathon judge them: each check runs on its own timers with its
 * own delay, interval, timeout, grace period and failure count
 * (`HealthChecker`), and the task is healthy only while every check passes.
 *
 *   check 1 ─► HealthChecker ─┐
 *   check 2 ─► HealthChecker ─┼─► combineHealth ─► changed? ─► onChange(healthy)
 *   …                         │
 *   any kill ─────────────────┴─► stop all ─► onKill(why)
 *
 * The task's health is reported only once it is known: unhealthy as soon as
 * one check fails, healthy once all have passed; while a check has not
 * answered yet (its delay, its grace period) and none fails, nothing is said.
 */
import type { Logger } from '../lib/log';
import { resolveHealthCheck, type ResolvedHealthCheck } from '../lib/health-check-spec';
import type { HealthCheck__Output } from '../lib/proto/generated/mezzanine/v1/HealthCheck';
import { HealthChecker, probeFor, type Probe, type ProbeContext } from './health-check';

/** One check of a task and the probe that runs it. */
export interface TaskCheck {
  check: ResolvedHealthCheck;
  probe: Probe;
}

/**
 * The task's checks resolved against its ports, each with its probe;
 * undefined when one cannot run (the master and the agent refuse such a
 * task before it launches, so only a hand-made record gets here).
 */
export function taskChecks(specs: readonly HealthCheck__Output[], ports: readonly number[], ctx: ProbeContext): TaskCheck[] | undefined {
  const out: TaskCheck[] = [];
  for (const spec of specs) {
    const r = resolveHealthCheck(spec, ports);
    if (!r.ok) return undefined;
    out.push({ check: r.check, probe: probeFor(r.check, ctx) });
  }
  return out;
}

/** The task's health from its checks': false when any fails, true when all pass, else not known yet. Pure. */
export function combineHealth(checks: readonly (boolean | undefined)[]): boolean | undefined {
  if (checks.some((h) => h === false)) return false;
  return checks.length > 0 && checks.every((h) => h === true) ? true : undefined;
}

export interface TaskHealthChecksOptions {
  checks: readonly TaskCheck[];
  /** When the task started (ms since the epoch): every check's delay and grace period count from here. */
  startedAt: number;
  /** Health last reported for the task (after an agent restart): every check starts from it. */
  healthy?: boolean;
  /** The task's health changed; `message` is the check's result that changed it. */
  onChange(healthy: boolean, message: string): void;
  /** A check with kill_on_failure failed too often; all checks have stopped. */
  onKill(message: string): void;
  log?: Logger;
  now?: () => number;
}

/** Runs every check of one task until stopped or until one asks for the kill. Callbacks are not called after stop(). */
export class TaskHealthChecks {
  private readonly checkers: HealthChecker[];
  private reported?: boolean;
  private stopped = false;

  constructor(private readonly opts: TaskHealthChecksOptions) {
    this.reported = opts.healthy;
    const n = opts.checks.length;
    this.checkers = opts.checks.map(({ check, probe }, i) => new HealthChecker({
      check, probe, startedAt: opts.startedAt, healthy: opts.healthy, log: opts.log, now: opts.now,
      ...(n > 1 ? { which: `${i + 1} of ${n}` } : {}),
      onChange: (_healthy, message) => this.changed(message),
      onKill: (message) => {
        if (this.stopped) return;
        this.stop();
        opts.onKill(message);
      },
    }));
  }

  /** The task's last reported health. */
  get healthy(): boolean | undefined { return this.reported; }

  start(): void {
    for (const c of this.checkers) c.start();
  }

  stop(): void {
    this.stopped = true;
    for (const c of this.checkers) c.stop();
  }

  /** A check's health changed: report the task's when that changes too. */
  private changed(message: string): void {
    if (this.stopped) return;
    const healthy = combineHealth(this.checkers.map((c) => c.healthy));
    if (healthy === undefined || healthy === this.reported) return;
    this.reported = healthy;
    const n = this.checkers.length;
    this.opts.onChange(healthy, healthy && n > 1 ? `all ${n} health checks passed; last: ${message}` : message);
  }
}
