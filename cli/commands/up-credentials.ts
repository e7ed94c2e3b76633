/**
 * The credentials of a `mezz up` cluster: authentication is on from the
 * first start, with files under the data directory that the cluster's
 * processes are started with and that clients on this machine find by
 * themselves.
 *
 *   DIR/credentials.json         the master's: principals `admin` and `agent`
 *   DIR/acls.json                admin: everything but running tasks as root; agent: register; default deny
 *   DIR/agent-credentials.json   the agents' one entry (`agent`)
 *   DIR/token                    admin's secret, the file `mezz`, the SDK and the examples read
 *
 * All mode 0600. The first start writes them with fresh secrets; later
 * starts re-use credentials.json and acls.json as they are (an operator may
 * have edited them) and write the two derived files again only where they
 * no longer match it.
 */
import { chmod, readFile, rename, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { type Credential, generateSecret, loadCredentials, TOKEN_FILE_NAME } from '../../lib/auth';
import { errorMessage } from '../../lib/errors';
import { CliError } from '../errors';

/** The operator's principal, whose token is DIR/token. */
export const ADMIN = 'admin';
/** The principal every agent of the local cluster registers as. */
export const AGENT = 'agent';

export interface LocalCredentials {
  /** The master's --credentials. */
  master: string;
  /** The master's --acls. */
  acls: string;
  /** Each agent's --credentials. */
  agent: string;
  /** The admin token file. */
  token: string;
}

/**
 * The ACLs of a local cluster. Deny by default, so a principal added to
 * credentials.json can do nothing until a rule says what. The admin may do
 * everything except run tasks as root: a framework's tasks run as the
 * agent's unprivileged default user unless they name one, and `root` (or
 * uid 0) must be granted on purpose, by editing this file.
 */
export function localAcls(): object {
  return {
    default: 'deny',
    rules: [
      { comment: "admin's frameworks may not run tasks as root; delete this rule to allow it", principals: [ADMIN], actions: ['run_task_as'], objects: ['root', '0'], allow: false },
      { principals: [ADMIN], actions: '*', objects: '*' },
      { comment: "mezz up's agents", principals: [AGENT], actions: ['register_agent'] },
    ],
  };
}

/** Writes `text` to `file` with mode 0600, through a temporary file, so that a crash never leaves half a file. */
async function writePrivate(file: string, text: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, text, { mode: 0o600 });
  await rename(tmp, file);
}

const json = (doc: object) => `${JSON.stringify(doc, null, 2)}\n`;

/** Writes `file` with `text` unless it holds that already; in both cases leaves it mode 0600. */
async function keepWritten(file: string, text: string): Promise<void> {
  const current = await readFile(file, 'utf8').catch(() => undefined);
  if (current === text) await chmod(file, 0o600);
  else await writePrivate(file, text);
}

/** The master's credentials: the file's when it exists (checked), else fresh ones, written. */
async function masterCredentials(file: string): Promise<Credential[]> {
  if (!existsSync(file)) {
    const fresh = [{ principal: ADMIN, secret: generateSecret() }, { principal: AGENT, secret: generateSecret() }];
    await writePrivate(file, json({ credentials: fresh }));
    return fresh;
  }
  let creds: Credential[];
  try {
    creds = loadCredentials(file);
  } catch (err) {
    throw new CliError(`${errorMessage(err)}; fix it, or delete it to have mezz up write new credentials`);
  }
  const missing = [ADMIN, AGENT].filter((p) => !creds.some((c) => c.principal === p));
  if (missing.length) {
    throw new CliError(`${file} has no principal ${missing.join(' or ')}, which mezz up needs (the admin token, the agents'); add it, or delete the file to have mezz up write new credentials`);
  }
  await chmod(file, 0o600);
  return creds;
}

/** Makes sure the four files exist and agree; returns their paths. Never prints a secret. */
export async function ensureLocalCredentials(dataDir: string): Promise<LocalCredentials> {
  const files: LocalCredentials = {
    master: path.join(dataDir, 'credentials.json'),
    acls: path.join(dataDir, 'acls.json'),
    agent: path.join(dataDir, 'agent-credentials.json'),
    token: path.join(dataDir, TOKEN_FILE_NAME),
  };
  const creds = await masterCredentials(files.master);
  const secretOf = (p: string) => creds.find((c) => c.principal === p)!.secret;
  if (existsSync(files.acls)) await chmod(files.acls, 0o600);
  else await writePrivate(files.acls, json(localAcls()));
  await keepWritten(files.agent, json({ credentials: [{ principal: AGENT, secret: secretOf(AGENT) }] }));
  await keepWritten(files.token, `${secretOf(ADMIN)}\n`);
  return files;
}
