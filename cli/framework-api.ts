/**
 * A shipped framework's HTTP API, found through the master: the framework
 * registered under NAME (`services`, …) names its address in its
 * FrameworkInfo (`webui_url`), so `--master` stays the only address an
 * operator needs. Requests carry the CLI's token only to an API on this
 * machine or on a master's host: a framework names its own URL, and a
 * token must never go wherever any framework says.
 */
import { isLoopback } from '../lib/auth';
import type { Command } from 'commander';
import type { OperatorConnection } from './client';
import { globals, type Globals, withMaster } from './context';
import { CliError, UsageError } from './errors';

/** Marathon's error body (the foundation's one shape): `{message, details: [{path, errors}]}`; OpenWhisk's is `{error, code}`. */
export interface ErrorBody {
  message?: string;
  /** OpenWhisk's message (mezz-functions); `code` beside it is the request's transaction id. */
  error?: unknown;
  details?: { path?: string; errors?: string[] }[];
  /** A 409's deployments that hold the app. */
  deployments?: { id: string }[];
}

/** The API answered with an error status: its one-line message, and the status and body for a command that words it better. */
export class FrameworkApiError extends CliError {
  override name = 'FrameworkApiError';
  constructor(message: string, readonly status: number, readonly body: ErrorBody | undefined) {
    super(message);
  }
}

/** Where a command finds its framework's API: `--framework NAME` through the master, or `--url URL` given outright. */
export interface FrameworkOptions {
  framework: string;
  url?: string;
}

/** The API did not answer (refused, timed out): worth another try while following something through a failover. */
export class FrameworkUnreachableError extends CliError {
  override name = 'FrameworkUnreachableError';
}

export class FrameworkApi {
  private constructor(readonly name: string, readonly url: string, private readonly token: string | undefined, private readonly timeoutMs: number) {}

  /** The API at a URL the operator gave (`--url`): it gets the CLI's token, as any address the operator chose would. */
  static at(name: string, url: string, g: Globals): FrameworkApi {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new UsageError(`--url: ${url.slice(0, 100)} is not a URL (e.g. http://127.0.0.1:9000)`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new UsageError(`--url: ${url.slice(0, 100)} is not an http(s) URL`);
    return new FrameworkApi(name, url.replace(/\/+$/, ''), g.security.token, g.timeoutMs);
  }

  /** `--url` when given, else the framework registered as `--framework` at the master. */
  static locate(conn: OperatorConnection, g: Globals, o: FrameworkOptions): Promise<FrameworkApi> {
    return o.url ? Promise.resolve(FrameworkApi.at(o.framework, o.url, g)) : FrameworkApi.find(conn, g, o.framework);
  }

  /** Finds the ACTIVE framework called `name` and its API; CliError naming what is missing. */
  static async find(conn: OperatorConnection, g: Globals, name: string): Promise<FrameworkApi> {
    const { frameworks } = await conn.call('listFrameworks', {});
    const fw = frameworks.find((f) => f.name === name && f.state === 'ACTIVE') ?? frameworks.find((f) => f.name === name);
    if (!fw) throw new CliError(`no framework named ${name} is registered with the master; start it (mezz up starts the shipped ones) or name another with --framework`);
    if (!fw.webuiUrl) throw new CliError(`framework ${name} (${fw.id}) names no API address (webui_url)`);
    const host = new URL(fw.webuiUrl).host;
    const trusted = isLoopback(host) || g.masters.some((m) => m.split(':')[0] === host.split(':')[0]);
    return new FrameworkApi(name, fw.webuiUrl.replace(/\/$/, ''), trusted ? g.security.token : undefined, g.timeoutMs);
  }

  /**
   * Sends a request; resolves the parsed JSON answer, or throws a CliError with the API's own message and each offending path.
   * `timeoutMs` (default the CLI's --timeout) is for a call that waits on purpose, as a blocking invocation does.
   */
  async request<T = unknown>(method: string, path: string, body?: unknown, timeoutMs = this.timeoutMs): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers['content-type'] = typeof body === 'string' ? 'application/yaml' : 'application/json';
    let res: Response;
    try {
      res = await fetch(`${this.url}${path}`, {
        method, headers, signal: AbortSignal.timeout(timeoutMs),
        ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
      });
    } catch (err) {
      throw new FrameworkUnreachableError(`cannot reach framework ${this.name} at ${this.url}: ${causeOf(err)}`, 1, { cause: err });
    }
    const text = await res.text();
    const parsed = text ? safeJson(text) : undefined;
    if (!res.ok) throw new FrameworkApiError(describeFailure(res.status, parsed as ErrorBody | undefined, text), res.status, parsed as ErrorBody | undefined);
    return parsed as T;
  }
}

/** fetch says only `fetch failed`; the reason (`connect ECONNREFUSED …`, a timeout) is its cause. */
function causeOf(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError') return `no answer within the --timeout (${e.message})`;
  return e.cause?.message ?? e.cause?.code ?? e.message;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** `422 Object is not valid: /cpus: must be >= 0; /cmdd: unknown field` — one line. */
function describeFailure(status: number, body: ErrorBody | undefined, text: string): string {
  const message = body?.message ?? (typeof body?.error === 'string' ? body.error : text.slice(0, 200));
  const details = (body?.details ?? []).slice(0, 10).map((d) => `${d.path ?? '/'}: ${(d.errors ?? []).join(', ')}`);
  return `${status} ${message}${details.length ? `: ${details.join('; ')}` : ''}`;
}

/**
 * Runs `fn` with the API of the framework named by `--framework` (on the
 * command or a parent), found through the master; or, when the command has
 * `--url`, with the API there, without asking the master.
 */
export function withFrameworkApi(cmd: Command, fn: (api: FrameworkApi, g: Globals) => Promise<void>): Promise<void> {
  const o = cmd.optsWithGlobals<FrameworkOptions>();
  if (o.url) {
    const g = globals(cmd);
    return fn(FrameworkApi.at(o.framework, o.url, g), g);
  }
  return withMaster(cmd, async (conn, g) => fn(await FrameworkApi.find(conn, g, o.framework), g));
}
