/**
 * What every health check variant returns (`health-check-http.ts`,
 * `health-check-tcp.ts`, `health-check-command.ts`), and the wording of
 * the network errors they share.
 */

/** One check's result; `detail` and `reason` go into the status message. */
export type ProbeResult = { ok: true; detail: string } | { ok: false; reason: string };

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
