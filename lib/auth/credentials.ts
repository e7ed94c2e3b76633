/**
 * Principals and their secrets: the credentials file a master (all the
 * principals it accepts) or an agent (its own one) is given with
 * `--credentials FILE`, and the check of a presented token against them.
 *
 *   { "credentials": [ { "principal": "ops", "secret": "…at least 16 characters…" }, … ] }
 *
 * A token is a principal's secret. Each presented token is compared with
 * every secret, each comparison in constant time over SHA-256 digests, so
 * neither how long a check takes nor where it stops tells anything about
 * the secrets.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { errorMessage, InvalidArgumentError } from '../errors';

export interface Credential {
  principal: string;
  secret: string;
}

/** Letters, digits and `._@-`, starting with a letter or digit: safe in logs, ACL files and metadata. */
export const PRINCIPAL_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/;
export const MIN_SECRET_LENGTH = 16;
export const MAX_SECRET_LENGTH = 1024;
/** Principals one file may hold. */
export const MAX_CREDENTIALS = 10_000;
/** Largest credentials (or ACL) file read. */
export const MAX_POLICY_FILE_BYTES = 4 * 1024 * 1024;

/** A fresh secret: 32 random bytes, base64url (43 characters). */
export function generateSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** Reads a small policy file (credentials, ACLs, a token), naming the file and the limit when it cannot. */
export function readPolicyFile(file: string, what: string): string {
  let size: number;
  try {
    size = statSync(file).size;
  } catch (err) {
    throw new InvalidArgumentError(`cannot read the ${what} file ${file}: ${errorMessage(err)}`);
  }
  if (size > MAX_POLICY_FILE_BYTES) {
    throw new InvalidArgumentError(`the ${what} file ${file} is ${size} bytes; at most ${MAX_POLICY_FILE_BYTES} are read`);
  }
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new InvalidArgumentError(`cannot read the ${what} file ${file}: ${errorMessage(err)}`);
  }
}

/** Parses a credentials document; every problem names `source` and the entry. */
export function parseCredentials(text: string, source: string): Credential[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new InvalidArgumentError(`${source} is not valid JSON: ${errorMessage(err)}`);
  }
  const list = (doc as { credentials?: unknown } | null)?.credentials;
  if (!Array.isArray(list)) throw new InvalidArgumentError(`${source} must be {"credentials": [{"principal": …, "secret": …}, …]}`);
  if (list.length > MAX_CREDENTIALS) throw new InvalidArgumentError(`${source} holds ${list.length} credentials; at most ${MAX_CREDENTIALS}`);
  const principals = new Set<string>();
  const secrets = new Set<string>();
  return list.map((entry: unknown, i): Credential => {
    const where = `${source}: credentials[${i}]`;
    const { principal, secret } = (entry ?? {}) as Record<string, unknown>;
    if (typeof principal !== 'string' || !PRINCIPAL_PATTERN.test(principal)) {
      throw new InvalidArgumentError(`${where}: principal must be 1-128 letters, digits or ._@- starting with a letter or digit`);
    }
    if (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH || secret.length > MAX_SECRET_LENGTH || /\s/.test(secret)) {
      throw new InvalidArgumentError(`${where} (${principal}): secret must be ${MIN_SECRET_LENGTH}-${MAX_SECRET_LENGTH} characters without spaces`);
    }
    if (principals.has(principal)) throw new InvalidArgumentError(`${where}: principal ${principal} is listed twice`);
    if (secrets.has(secret)) throw new InvalidArgumentError(`${where} (${principal}): two principals share one secret; a token must name one principal`);
    principals.add(principal);
    secrets.add(secret);
    return { principal, secret };
  });
}

export function loadCredentials(file: string): Credential[] {
  return parseCredentials(readPolicyFile(file, 'credentials'), file);
}

/** A secret's SHA-256: what is kept of a token and compared, so that comparisons take the same time whatever the lengths. */
export function secretDigest(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

/** Whether `token` is the secret whose digest is `digest`, compared in constant time. */
export function matchesDigest(token: string, digest: Buffer): boolean {
  const d = secretDigest(token);
  return d.length === digest.length && timingSafeEqual(d, digest);
}

/** Tells which principal a token belongs to. */
export class Authenticator {
  readonly #entries: { principal: string; digest: Buffer }[];

  constructor(credentials: readonly Credential[]) {
    this.#entries = credentials.map((c) => ({ principal: c.principal, digest: secretDigest(c.secret) }));
  }

  get principals(): string[] {
    return this.#entries.map((e) => e.principal);
  }

  /** The principal whose secret `token` is, or undefined. Every secret is compared, each in constant time. */
  authenticate(token: string): string | undefined {
    if (token.length > MAX_SECRET_LENGTH) return undefined;
    const d = secretDigest(token);
    let found: string | undefined;
    for (const e of this.#entries) if (timingSafeEqual(d, e.digest) && found === undefined) found = e.principal;
    return found;
  }
}
