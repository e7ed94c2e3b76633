/**
 * The credentials of a `mezz up` cluster: authentication is on from the
 * first start, with files under the data directory that the cluster's
 * processes are started with and that clients on this machine find by
 * themselves.
 *
 *   DIR/credentials.json         the master's and mezz-services': principals `admin`, `agent` and `services`
 *   DIR/acls.json                admin: everything but running tasks as root; agent: register;
 *                                services: register and run tasks, not as root; default deny
 *   DIR/agent-credentials.json   the agents' one entry (`agent`)
 *   DIR/token                    admin's secret, the file `mezz`, the SDK and the examples read
 *   DIR/services-token           services' secret, the token mezz-services presents to the master
 *
 * All mode 0600. The first start writes them with fresh secrets; later
 * starts re-use credentials.json and acls.json as they are (an operator may
 * have edited them) and write the derived files again only where they no
 * longer match it. A data dir from before mezz up started the services
 * framework has no `services` principal: it is added, with its rules (see
 * addServices).
 */
import { chmod, readFile, rename, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Acls, type Credential, generateSecret, loadCredentials, TOKEN_FILE_NAME } from '../../lib/auth';
import { errorMessage } from '../../lib/errors';
import { CliError } from '../errors';

/** The operator's principal, whose token is DIR/token. */
export const ADMIN = 'admin';
/** The principal every agent of the local cluster registers as. */
export const AGENT = 'agent';
/** The principal the local services framework (mezz-services) registers as. */
export const SERVICES = 'services';
/** Its token file in the data dir. */
const SERVICES_TOKEN_FILE_NAME = 'services-token';

export interface LocalCredentials {
  /** The master's --credentials. */
  master: string;
  /** The master's --acls. */
  acls: string;
  /** Each agent's --credentials. */
  agent: string;
  /** The admin token file. */
  token: string;
  /** The token file mezz-services presents to the master (its MEZZ_TOKEN_FILE). */
  services: string;
}

/**
 * The ACLs of a local cluster. Deny by default, so a principal added to
 * credentials.json can do nothing until a rule says what. The admin may do
 * everything except run tasks as root: a framework's tasks run as the
 * agent's unprivileged default user unless they name one, and `root` (or
 * uid 0) must be granted on purpose, by editing this file. The admin's
 * `*` covers the services API too (framework_read, framework_write and
 * framework_delete on `services:*`): its token deploys, reads and deletes apps.
 */
export function localAcls(): { default: 'deny'; rules: object[] } {
  return {
    default: 'deny',
    rules: [
      { comment: "admin's frameworks may not run tasks as root; delete this rule to allow it", principals: [ADMIN], actions: ['run_task_as'], objects: ['root', '0'], allow: false },
      { principals: [ADMIN], actions: '*', objects: '*' },
      { comment: "mezz up's agents", principals: [AGENT], actions: ['register_agent'] },
      ...servicesRules(),
    ],
  };
}

/**
 * What the services framework may do: register (in any role) and run its
 * apps' tasks as the user an app names, or the agent's default user, but
 * never root, as for admin. Nothing on its own HTTP API: callers there use
 * their own tokens.
 */
function servicesRules(): object[] {
  return [
    { comment: "mezz up's services framework may not run tasks as root; delete this rule to allow it", principals: [SERVICES], actions: ['run_task_as'], objects: ['root', '0'], allow: false },
    { comment: "mezz up's services framework (mezz-services)", principals: [SERVICES], actions: ['register_framework', 'run_task_as'], objects: '*' },
  ];
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

/** The master's credentials: the file's when it exists (checked, `services` added if missing), else fresh ones, written. */
async function masterCredentials(file: string, aclsFile: string): Promise<Credential[]> {
  if (!existsSync(file)) {
    const fresh = [ADMIN, AGENT, SERVICES].map((principal) => ({ principal, secret: generateSecret() }));
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
  if (!creds.some((c) => c.principal === SERVICES)) return addServices(file, aclsFile, creds);
  await chmod(file, 0o600);
  return creds;
}

/**
 * Gives a data dir written before mezz up started the services framework
 * its `services` principal: a fresh secret appended to credentials.json,
 * and its rules put ahead of acls.json's, unless a rule names `services`
 * already. They match only that principal, which no rule could have meant
 * before, so nobody else's rights change. The ACLs are written first: a
 * crash between the two writes redoes only the credentials.
 */
async function addServices(file: string, aclsFile: string, creds: Credential[]): Promise<Credential[]> {
  if (existsSync(aclsFile)) {
    try {
      Acls.load(aclsFile);
    } catch (err) {
      throw new CliError(`${errorMessage(err)}; fix it, or delete it to have mezz up write the default rules`);
    }
    const acls = JSON.parse(await readFile(aclsFile, 'utf8')) as { rules: { principals?: unknown }[] };
    const named = acls.rules.some((r) => Array.isArray(r.principals) && r.principals.includes(SERVICES));
    if (!named) await writePrivate(aclsFile, json({ ...acls, rules: [...servicesRules(), ...acls.rules] }));
  }
  const added = { principal: SERVICES, secret: generateSecret() };
  const doc = JSON.parse(await readFile(file, 'utf8')) as { credentials: Credential[] };
  await writePrivate(file, json({ ...doc, credentials: [...doc.credentials, added] }));
  return [...creds, added];
}

/** Makes sure the five files exist and agree; returns their paths. Never prints a secret. */
export async function ensureLocalCredentials(dataDir: string): Promise<LocalCredentials> {
  const files: LocalCredentials = {
    master: path.join(dataDir, 'credentials.json'),
    acls: path.join(dataDir, 'acls.json'),
    agent: path.join(dataDir, 'agent-credentials.json'),
    token: path.join(dataDir, TOKEN_FILE_NAME),
    services: path.join(dataDir, SERVICES_TOKEN_FILE_NAME),
  };
  const creds = await masterCredentials(files.master, files.acls);
  const secretOf = (p: string) => creds.find((c) => c.principal === p)!.secret;
  if (existsSync(files.acls)) await chmod(files.acls, 0o600);
  else await writePrivate(files.acls, json(localAcls()));
  await keepWritten(files.agent, json({ credentials: [{ principal: AGENT, secret: secretOf(AGENT) }] }));
  await keepWritten(files.token, `${secretOf(ADMIN)}\n`);
  await keepWritten(files.services, `${secretOf(SERVICES)}\n`);
  return files;
}
