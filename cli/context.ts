/**
 * What every command shares: the global flags, a connection to the master
 * and the two ways of printing (a table or one JSON document).
 */
import type { Command } from 'commander';
import { type ClientSecurity, resolveClientSecurity } from '../lib/auth';
import { parseMasterSpec, resolveMasters } from '../lib/master-locator';
import { errorMessage } from '../lib/errors';
import { OperatorConnection } from './client';
import { CliError, explainRefusal, UsageError } from './errors';

/** The global flags, parsed and checked. */
export interface Globals {
  masters: string[];
  json: boolean;
  timeoutMs: number;
  /** The token and TLS material every call carries. */
  security: ClientSecurity;
  /** Where the token came from (`MEZZ_TOKEN`), for messages; undefined when there is none. */
  tokenSource?: string;
}

export const DEFAULT_MASTER = '127.0.0.1:5050';

/** Reads the global flags from any (sub)command; UsageError when one is malformed. */
export function globals(cmd: Command): Globals {
  // --timeout was parsed (and checked) by commander, in milliseconds.
  const o = cmd.optsWithGlobals<{ master?: string; json?: boolean; timeout: number; token?: string; tlsCert?: string; tlsKey?: string; tlsCa?: string }>();
  let masters: string[];
  try {
    masters = parseMasterSpec(o.master ?? process.env.MEZZ_MASTER ?? DEFAULT_MASTER);
  } catch (err) {
    throw new UsageError(`--master: ${errorMessage(err)}`);
  }
  let security: ClientSecurity;
  let tokenSource: string | undefined;
  try {
    ({ tokenSource, ...security } = resolveClientSecurity({ ...o, masters }));
    if (o.token) tokenSource = '--token';
  } catch (err) {
    throw new UsageError(errorMessage(err));
  }
  return { masters, json: Boolean(o.json), timeoutMs: o.timeout, security, tokenSource };
}

/** Runs `fn` with a connection to the master, closed afterwards whatever happens. */
export async function withMaster<T>(cmd: Command, fn: (conn: OperatorConnection, g: Globals) => Promise<T>): Promise<T> {
  const g = globals(cmd);
  try {
    g.masters = await resolveMasters(g.masters, g.security.tls);
  } catch (err) {
    throw new CliError(`cannot find the masters: ${errorMessage(err)}`, 1);
  }
  const conn = new OperatorConnection(g.masters, g.timeoutMs, g.security);
  try {
    return await fn(conn, g);
  } catch (err) {
    throw explainRefusal(err, g.tokenSource);
  } finally {
    conn.close();
  }
}

/** Prints one JSON document (with --json) or the text. */
export function print(g: Globals, json: unknown, text: () => string): void {
  process.stdout.write(g.json ? `${JSON.stringify(json, null, 2)}\n` : `${text()}\n`);
}
