/**
 * Marathon's readiness checks: run by the scheduler (not the agent) against
 * the new tasks of a deployment. Each check GETs
 * `protocol://host:port path` (the task's host port named `portName`) — the
 * first at once, each next one `intervalSeconds` after the previous answered
 * or gave up, each bounded by `timeoutSeconds` — until the status is one of
 * `httpStatusCodesForReady`. A ready check is never run again (Marathon's
 * `ReadinessCheckExecutorImpl`). A task is ready once all its checks are.
 *
 * HTTPS checks accept any certificate, as Marathon's do (its
 * `disabledSslContext`): a task's certificate is usually self-signed, and
 * the check asks "is it ready", not "is it who it says".
 */
import http from 'node:http';
import https from 'node:https';
import type { App, ReadinessCheckSpec } from './app-schema';
import type { ServiceTask } from './app-store';

/** One running task whose readiness is wanted, with everything needed to check it. */
export interface ReadinessTarget {
  taskId: string;
  appId: string;
  /** The agent's host the task runs on. */
  host: string;
  /** Port name → the task's host port. */
  ports: Readonly<Record<string, number>>;
  /** The app's readiness checks; none means ready at once. */
  checks: readonly ReadinessCheckSpec[];
}

/** Marathon's `HttpResponse`; a check that got no answer records status 504, text/plain, and why. */
export interface HttpResponse {
  status: number;
  /** The media type without parameters (`text/plain`), `''` when not sent. */
  contentType: string;
  /** The first `maxBodyBytes` of the body, as UTF-8. */
  body: string;
}

/** One element of Marathon's `readinessCheckResults`. */
export interface ReadinessCheckResult {
  name: string;
  taskId: string;
  ready: boolean;
  /** The last answer, only for a check with `preserveLastResponse` that has run. */
  lastResponse?: HttpResponse;
}

/** What a probe is asked: GET `url`, give up when `signal` aborts, keep at most `maxBodyBytes` of the body. */
export interface ProbeRequest {
  url: string;
  signal: AbortSignal;
  maxBodyBytes: number;
}

/**
 * One HTTP GET. Resolves with any status (the checker judges it); rejects
 * when no answer came (refused, reset, TLS or DNS failure), the error's
 * message saying why. Never throws: a failure is a rejected promise.
 */
export type Probe = (request: ProbeRequest) => Promise<HttpResponse>;

/** The timers the checker schedules with; injected in tests to step through intervals. */
export interface ReadinessTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface ReadinessCheckerOptions {
  /** Default: `httpProbe`, real HTTP(S) over node:http. */
  probe?: Probe;
  /** Default: node's timers, unref'd (a pending check does not hold the process open). */
  timers?: ReadinessTimers;
  /** Bytes of a body kept in `lastResponse` (default 4 KiB); the rest is not read. */
  maxBodyBytes?: number;
}

export const DEFAULT_MAX_BODY_BYTES = 4096;

const nodeTimers: ReadinessTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/**
 * The default probe: a GET over a fresh connection (no keep-alive pool, so
 * an aborted or finished check leaves no socket behind), the body read up to
 * `maxBodyBytes` and the connection then dropped. HTTPS accepts any
 * certificate (see the file comment).
 */
export const httpProbe: Probe = ({ url, signal, maxBodyBytes }) =>
  new Promise((resolve, reject) => {
    const target = new URL(url);
    const get = target.protocol === 'https:' ? https.get : http.get;
    const req = get(target, { agent: false, signal, rejectUnauthorized: false, headers: { 'user-agent': 'mezz-services readiness check' } }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const done = () => {
        const contentType = (res.headers['content-type'] ?? '').split(';')[0]!.trim();
        resolve({ status: res.statusCode ?? 0, contentType, body: Buffer.concat(chunks).toString('utf8') });
      };
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk.subarray(0, maxBodyBytes - size));
        size += chunk.length;
        if (size >= maxBodyBytes) {
          done();
          res.destroy();
        }
      });
      res.on('end', done);
      res.on('error', reject);
    });
    req.on('error', reject);
  });

/**
 * The target of `task` of `app`: its host and its host ports by port name
 * (`task.ports` follows `app.portDefinitions`, as the scheduler stores them).
 * `app` must be the version the task runs.
 */
export function readinessTarget(app: Pick<App, 'id' | 'portDefinitions' | 'readinessChecks'>, task: Pick<ServiceTask, 'taskId' | 'hostname' | 'ports'>): ReadinessTarget {
  const ports: Record<string, number> = {};
  app.portDefinitions.forEach((p, i) => {
    const hostPort = task.ports?.[i];
    if (p.name !== undefined && hostPort !== undefined) ports[p.name] = hostPort;
  });
  return { taskId: task.taskId, appId: app.id, host: task.hostname ?? '', ports, checks: app.readinessChecks };
}

/** One check of one task. */
interface CheckRun {
  readonly spec: ReadinessCheckSpec;
  /** Undefined when the task has no port of the check's name: it cannot be checked. */
  readonly url?: string;
  ready: boolean;
  tries: number;
  /** While a check is in flight: its abort; cleared first when it settles or stops, so a late answer is ignored. */
  inFlight?: AbortController;
  /** In flight: its timeout; idle: the next check. Never both, so one field. */
  timer?: unknown;
  lastResponse?: HttpResponse;
  /** Why it is not ready, for `why`. */
  reason: string;
}

interface Tracked {
  readonly target: ReadinessTarget;
  /** What the checks depend on; a target given again with another restarts them. */
  readonly signature: string;
  readonly runs: CheckRun[];
}

/**
 * Runs the readiness checks of the tasks it is given, each task's checks
 * until they pass, and answers `isReady` and Marathon's
 * `readinessCheckResults`. State is kept only for the tasks of the last
 * `track` (one entry per check, the body bounded), so it cannot grow beyond
 * what the scheduler hands it. At most one request per task and check is in
 * flight.
 */
export class ReadinessChecker {
  private readonly probe: Probe;
  private readonly timers: ReadinessTimers;
  private readonly maxBodyBytes: number;
  private readonly tasks = new Map<string, Tracked>();
  private closed = false;

  constructor(options: ReadinessCheckerOptions = {}) {
    this.probe = options.probe ?? httpProbe;
    this.timers = options.timers ?? nodeTimers;
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  }

  /**
   * The tasks whose readiness is wanted now (the running tasks of the
   * versions being deployed), given in full on every scheduler tick. New
   * ones start being checked at once; tasks not given any more are dropped,
   * their check in flight aborted and their results forgotten. Idempotent;
   * does nothing after `close`.
   */
  track(targets: readonly ReadinessTarget[]): void {
    if (this.closed) return;
    const given = new Map(targets.map((t) => [t.taskId, t]));
    for (const [taskId, tracked] of this.tasks) {
      const target = given.get(taskId);
      if (target && signature(target) === tracked.signature) continue;
      this.stop(tracked);
      this.tasks.delete(taskId);
    }
    for (const target of given.values()) if (!this.tasks.has(target.taskId)) this.start(target);
  }

  /** Whether every check of the task passed (true for an app without checks); false for a task not tracked. */
  isReady(taskId: string): boolean {
    return this.tasks.get(taskId)?.runs.every((r) => r.ready) ?? false;
  }

  /** Why a tracked task is not ready: one line per check not passed yet; empty when ready or not tracked. */
  why(taskId: string): string[] {
    return (this.tasks.get(taskId)?.runs ?? []).filter((r) => !r.ready).map((r) => `readiness check '${r.spec.name}': ${r.reason}`);
  }

  /** Marathon's `readinessCheckResults` of the tracked tasks (of one app when `appId` is given), in tracking order. */
  results(appId?: string): ReadinessCheckResult[] {
    const out: ReadinessCheckResult[] = [];
    for (const { target, runs } of this.tasks.values()) {
      if (appId !== undefined && target.appId !== appId) continue;
      for (const r of runs) {
        const lastResponse = r.spec.preserveLastResponse && r.lastResponse ? { lastResponse: r.lastResponse } : {};
        out.push({ name: r.spec.name, taskId: target.taskId, ready: r.ready, ...lastResponse });
      }
    }
    return out;
  }

  /** Stops every timer and aborts every check in flight; the checker stays empty. Idempotent. */
  close(): void {
    this.closed = true;
    for (const tracked of this.tasks.values()) this.stop(tracked);
    this.tasks.clear();
  }

  private start(target: ReadinessTarget): void {
    const runs = target.checks.map((spec): CheckRun => {
      const port = target.ports[spec.portName];
      if (port === undefined) return { spec, ready: false, tries: 0, reason: `the task has no port named ${spec.portName}` };
      return { spec, url: checkUrl(spec, target.host, port), ready: false, tries: 0, reason: 'not checked yet' };
    });
    this.tasks.set(target.taskId, { target, signature: signature(target), runs });
    for (const run of runs) if (run.url !== undefined) this.check(run, run.url);
  }

  private stop(tracked: Tracked): void {
    for (const run of tracked.runs) {
      this.timers.clearTimeout(run.timer);
      run.timer = undefined;
      const inFlight = run.inFlight;
      run.inFlight = undefined;
      inFlight?.abort();
    }
  }

  /** One GET; its outcome schedules the next unless ready or stopped. */
  private check(run: CheckRun, url: string): void {
    const abort = new AbortController();
    run.inFlight = abort;
    run.tries++;
    const attempt = `GET ${url} (try ${run.tries})`;
    const settle = (response: HttpResponse, ready: boolean, reason: string) => {
      if (run.inFlight !== abort) return; // timed out or stopped already
      run.inFlight = undefined;
      this.timers.clearTimeout(run.timer);
      run.timer = undefined;
      run.ready = ready;
      run.lastResponse = response;
      run.reason = reason;
      if (!ready) run.timer = this.timers.setTimeout(() => this.check(run, url), run.spec.intervalSeconds * 1000);
    };
    // Marathon's answer for a check that got none: a 504 naming the URL and the cause, never ready.
    const failed = (cause: string) => settle({ status: 504, contentType: 'text/plain', body: `could not query ${url}: ${cause}` }, false, `${attempt} got no answer: ${cause}`);
    run.timer = this.timers.setTimeout(() => {
      failed(`timed out after ${run.spec.timeoutSeconds} s`);
      abort.abort();
    }, run.spec.timeoutSeconds * 1000);
    this.probe({ url, signal: abort.signal, maxBodyBytes: this.maxBodyBytes }).then(
      (response) => {
        const ready = run.spec.httpStatusCodesForReady.includes(response.status);
        settle(response, ready, ready ? '' : `${attempt} answered ${response.status}; ready only on ${run.spec.httpStatusCodesForReady.join(', ')}`);
      },
      (err: unknown) => failed(err instanceof Error ? err.message : String(err)),
    );
  }
}

/** `protocol://host:port/path`, an IPv6 host in brackets. */
function checkUrl(spec: ReadinessCheckSpec, host: string, port: number): string {
  const hostPart = host.includes(':') ? `[${host}]` : host;
  const path = spec.path.startsWith('/') ? spec.path : `/${spec.path}`;
  return `${spec.protocol.toLowerCase()}://${hostPart}:${port}${path}`;
}

function signature(target: ReadinessTarget): string {
  return JSON.stringify([target.appId, target.host, target.ports, target.checks]);
}
