/**
 * What every health check variant returns (`health-check-http.ts`,
 * `health-check-tcp.ts`, `health-check-command.ts`), and the wording of
 * the network errors they share.
 */

/**
 * One check's result; `detail` and `reason` go into the status message.
 * What the probe saw, when it saw something: the HTTP status code of an
 * answer, the exit code of a command that exited (generalized checks,
 * task-check.ts, report these whatever they are).
 */
export type ProbeResult = ({ ok: true; detail: string } | { ok: false; reason: string }) & { statusCode?: number; exitCode?: number };

/**
 * Runs one check. Must settle soon after `signal` aborts (its reason is an
 * Error saying how long the check was given); never rejects.
 */
export type Probe = (signal: AbortSignal) => Promise<ProbeResult>;

/** A socket error in words: "connection refused", or the abort's reason (a timeout). */
export function describeNetError(err: unknown, signal: AbortSignal): string {
  if (signal.aborted) return (signal.reason as Error)?.message ?? 'aborted';
  const e = err as NodeJS.ErrnoException;
  switch (e?.code) {
    case 'ECONNREFUSED': return 'connection refused (nothing listens on the port)';
    case 'ECONNRESET': return 'connection reset by the task';
    case 'EHOSTUNREACH': return 'host unreachable';
    default: return e?.message ?? String(err);
  }
}

/**
 * Runs `probe` once, bounded by `timeoutMs`: aborts `ac` then (its reason
 * says how long the check was given) and settles with a failure at once,
 * even if the probe ignores its signal. Never rejects.
 */
export async function runProbe(probe: Probe, timeoutMs: number, ac: AbortController): Promise<ProbeResult> {
  const timeout = setTimeout(() => ac.abort(new Error(`no result within the ${timeoutMs / 1000} s timeout`)), timeoutMs);
  // A probe that ignores its signal must still not stall the checker.
  const aborted = new Promise<ProbeResult>((resolve) => ac.signal.addEventListener('abort', () =>
    resolve({ ok: false, reason: (ac.signal.reason as Error)?.message ?? 'aborted' }), { once: true }));
  try {
    return await Promise.race([probe(ac.signal), aborted]);
  } catch (err) {
    return { ok: false, reason: (err as Error)?.message ?? String(err) };
  } finally {
    clearTimeout(timeout);
  }
}

export interface ProbeLoopOptions {
  probe: Probe;
  /** When the task started (ms since the epoch): the first run is `delayMs` after it. */
  startedAt: number;
  delayMs: number;
  intervalMs: number;
  timeoutMs: number;
  now: () => number;
  /** What is stopped, for the abort's reason: "health check", "check". */
  what: string;
  /** Each run's result; answers whether to run again. Not called after stop(). */
  onResult(result: ProbeResult): boolean;
}

/**
 * Runs a probe on timers until stopped, the loop every kind of check
 * shares (health-check.ts, task-check.ts): the first run `delayMs` after the
 * task started, each next one `intervalMs` after the previous ended (runs
 * never overlap), each bounded by `timeoutMs`.
 */
export class ProbeLoop {
  private timer?: NodeJS.Timeout;
  private inFlight?: AbortController;
  private stopped = false;

  constructor(private readonly opts: ProbeLoopOptions) {}

  start(): void {
    this.schedule(Math.max(0, this.opts.startedAt + this.opts.delayMs - this.opts.now()));
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.inFlight?.abort(new Error(`the ${this.opts.what} was stopped`));
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.runOnce(), ms);
    this.timer.unref();
  }

  private async runOnce(): Promise<void> {
    const ac = new AbortController();
    this.inFlight = ac;
    const result = await runProbe(this.opts.probe, this.opts.timeoutMs, ac);
    this.inFlight = undefined;
    if (this.stopped) return;
    if (this.opts.onResult(result)) this.schedule(this.opts.intervalMs);
  }
}
