/**
 * Where a client (the CLI, the SDK, the examples) finds its token and TLS
 * files when it is not handed them: the first of
 *
 *   token: the explicit value · MEZZ_TOKEN · the file MEZZ_TOKEN_FILE ·
 *          ./.mezz/token (what `mezz up` writes under its default data dir),
 *          only when every master named is on this machine (loopback): the
 *          local cluster's admin token is never sent to another host
 *   TLS:   the explicit files · MEZZ_TLS_CERT, MEZZ_TLS_KEY, MEZZ_TLS_CA
 *
 * so that the commands of the README work as written against `mezz up`.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError } from '../errors';
import { MAX_SECRET_LENGTH, readPolicyFile } from './credentials';
import { type ClientSecurity, loadTls, type TlsFiles } from './transport';

/** The token file `mezz up` writes in its data directory. */
export const TOKEN_FILE_NAME = 'token';
/** `mezz up`'s default data directory, relative to where it runs. */
export const DEFAULT_DATA_DIR = '.mezz';

export interface ClientSecurityOptions extends TlsFiles {
  token?: string;
  tokenFile?: string;
  /** The masters the token will be sent to (`host:port` or `etcd://host:port/…`); ./.mezz/token is used only when all are loopback. Default: loopback. */
  masters?: readonly string[];
}

/** True for 127.0.0.0/8, ::1 and localhost, alone or in `host:port`, `[v6]:port` or `scheme://host:port/…`. */
export function isLoopback(address: string): boolean {
  const hostPort = address.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
  // A bare IPv6 address has colons of its own: only a bracketed one, or a name or IPv4 with one colon, carries a port.
  const host = hostPort.startsWith('[') ? hostPort.replace(/^\[(.*)\](:\d+)?$/, '$1') : hostPort.split(':').length === 2 ? hostPort.replace(/:\d+$/, '') : hostPort;
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** Reads a token file: its first line, trimmed. */
export function readTokenFile(file: string): string {
  const token = readPolicyFile(file, 'token').split('\n')[0]!.trim();
  if (!token || token.length > MAX_SECRET_LENGTH || /\s/.test(token)) {
    throw new InvalidArgumentError(`the token file ${file} must hold one token (1-${MAX_SECRET_LENGTH} characters, no spaces) on its first line`);
  }
  return token;
}

/** The token a client uses and where it came from (`MEZZ_TOKEN`, `the file ./.mezz/token`: for messages), in the order above. */
export function findToken(
  opts: ClientSecurityOptions = {},
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
): { token: string; source: string } | undefined {
  if (opts.token) return { token: opts.token, source: 'the given token' };
  if (env.MEZZ_TOKEN) return { token: env.MEZZ_TOKEN, source: 'MEZZ_TOKEN' };
  const file = opts.tokenFile || env.MEZZ_TOKEN_FILE;
  if (file) return { token: readTokenFile(file), source: `the file ${file}` };
  if (opts.masters && !opts.masters.every(isLoopback)) return undefined;
  const local = path.join(cwd, DEFAULT_DATA_DIR, TOKEN_FILE_NAME);
  if (existsSync(local)) return { token: readTokenFile(local), source: `the file ./${DEFAULT_DATA_DIR}/${TOKEN_FILE_NAME}` };
  return undefined;
}

/** The token and TLS material a client uses, each from the first source above, and where the token came from (for messages). */
export function resolveClientSecurity(
  opts: ClientSecurityOptions = {},
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
): ClientSecurity & { tokenSource?: string } {
  const found = findToken(opts, env, cwd);
  const tls = loadTls({
    tlsCert: opts.tlsCert || env.MEZZ_TLS_CERT, tlsKey: opts.tlsKey || env.MEZZ_TLS_KEY, tlsCa: opts.tlsCa || env.MEZZ_TLS_CA,
  });
  return { ...(found ? { token: found.token, tokenSource: found.source } : {}), ...(tls ? { tls } : {}) };
}
