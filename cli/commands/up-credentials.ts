/**
 * The credentials of a `mezz up` cluster: authentication is on from the
 * first start, with files under the data directory that the cluster's
 * processes are started with and that clients on this machine find by
 * themselves.
 *
 *   DIR/credentials.json         the master's and the shipped frameworks': principals `admin`, `agent`
 *                                and one per shipped framework (`services`, `batch`)
 *   DIR/acls.json                admin: everything but running tasks as root; agent: register;
 *                                each framework: register and run tasks, not as root; default deny
 *   DIR/agent-credentials.json   the agents' one entry (`agent`)
 *   DIR/token                    admin's secret, the file `mezz`, the SDK and the examples read
 *   DIR/NAME-token               a framework's secret, the token it presents to the master
 *                                (DIR/services-token, DIR/batch-token)
 *
 * All mode 0600. The first start writes them with fresh secrets; later
 * starts re-use credentials.json and acls.json as they are (an operator may
 * have edited them) and write the derived files again only where they no
 * longer match it. A data dir from before mezz up started a framework has
 * no principal for it: it is added, with its rules (see addFrameworks).
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
/** A shipped framework's token file in the data dir: `services-token`, `batch-token`. */
const tokenFileName = (framework: string) => `${framework}-token`;

export interface LocalCredentials {
  /** The master's --credentials. */
  master: string;
  /** The master's --acls. */
  acls: string;
  /** Each agent's --credentials. */
  agent: string;
  /** The admin token file. */
  token: string;
  /** By framework name (its principal): the token file it presents to the master (its MEZZ_TOKEN_FILE). */
  frameworks: Record<string, string>;
}

/** Every file of `files`, for checks that concern them all (modes, contents). */
export function allFiles(files: LocalCredentials): string[] {
  return [files.master, files.acls, files.agent, files.token, ...Object.values(files.frameworks)];
}

/**
 * The ACLs of a local cluster whose shipped frameworks register as the
 * principals `frameworks`. Deny by default, so a principal added to
 * credentials.json can do nothing until a rule says what. The admin may do
 * everything except run tasks as root: a framework's tasks run as the
 * agent's unprivileged default user unless they name one, and `root` (or
 * uid 0) must be granted on purpose, by editing this file. The admin's
 * `*` covers every framework's HTTP API too (framework_read,
 * framework_write and framework_delete on `services:*`, `batch:*`…): its
 * token deploys apps, creates and runs jobs, reads and deletes them.
 */
export function localAcls(frameworks: readonly string[]): { default: 'deny'; rules: object[] } {
  return {
    default: 'deny',
    rules: [
      { comment: "admin's frameworks may not run tasks as root; delete this rule to allow it", principals: [ADMIN], actions: ['run_task_as'], objects: ['root', '0'], allow: false },
      { principals: [ADMIN], actions: '*', objects: '*' },
      { comment: "mezz up's agents", principals: [AGENT], actions: ['register_agent'] },
      ...frameworks.flatMap(frameworkRules),
    ],
  };
}

/**
 * What a shipped framework may do: register (in any role) and run its
 * tasks as the user they name, or the agent's default user, but never
 * root, as for admin. Nothing on its own HTTP API: callers there use their
 * own tokens.
 */
function frameworkRules(name: string): object[] {
  return [
    { comment: `mezz up's ${name} framework may not run tasks as root; delete this rule to allow it`, principals: [name], actions: ['run_task_as'], objects: ['root', '0'], allow: false },
    { comment: `mezz up's ${name} framework (mezz-${name})`, principals: [name], actions: ['register_framework', 'run_task_as'], objects: '*' },
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

/** The master's credentials: the file's when it exists (checked, missing frameworks added), else fresh ones, written. */
async function masterCredentials(file: string, aclsFile: string, frameworks: readonly string[]): Promise<Credential[]> {
  if (!existsSync(file)) {
    const fresh = [ADMIN, AGENT, ...frameworks].map((principal) => ({ principal, secret: generateSecret() }));
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
  const absent = frameworks.filter((p) => !creds.some((c) => c.principal === p));
  if (absent.length) return addFrameworks(file, aclsFile, creds, absent);
  await chmod(file, 0o600);
  return creds;
}

/**
 * Gives a data dir written before mezz up started the frameworks `names`
 * their principals: fresh secrets appended to credentials.json, and each
 * one's rules put ahead of acls.json's, unless a rule names it already.
 * They match only that principal, which no rule could have meant before,
 * so nobody else's rights change. The ACLs are written first: a crash
 * between the two writes redoes only the credentials.
 */
async function addFrameworks(file: string, aclsFile: string, creds: Credential[], names: string[]): Promise<Credential[]> {
  if (existsSync(aclsFile)) {
    try {
      Acls.load(aclsFile);
    } catch (err) {
      throw new CliError(`${errorMessage(err)}; fix it, or delete it to have mezz up write the default rules`);
    }
    const acls = JSON.parse(await readFile(aclsFile, 'utf8')) as { rules: { principals?: unknown }[] };
    const named = (name: string) => acls.rules.some((r) => Array.isArray(r.principals) && r.principals.includes(name));
    const rules = names.filter((n) => !named(n)).flatMap(frameworkRules);
    if (rules.length) await writePrivate(aclsFile, json({ ...acls, rules: [...rules, ...acls.rules] }));
  }
  const added = names.map((principal) => ({ principal, secret: generateSecret() }));
  const doc = JSON.parse(await readFile(file, 'utf8')) as { credentials: Credential[] };
  await writePrivate(file, json({ ...doc, credentials: [...doc.credentials, ...added] }));
  return [...creds, ...added];
}

/**
 * Makes sure the files exist and agree, with a principal and a token file
 * for each of `frameworks` (the shipped ones, whether this start runs them
 * or not); returns their paths. Never prints a secret.
 */
export async function ensureLocalCredentials(dataDir: string, frameworks: readonly string[]): Promise<LocalCredentials> {
  const files: LocalCredentials = {
    master: path.join(dataDir, 'credentials.json'),
    acls: path.join(dataDir, 'acls.json'),
    agent: path.join(dataDir, 'agent-credentials.json'),
    token: path.join(dataDir, TOKEN_FILE_NAME),
    frameworks: Object.fromEntries(frameworks.map((name) => [name, path.join(dataDir, tokenFileName(name))])),
  };
  const creds = await masterCredentials(files.master, files.acls, frameworks);
  const secretOf = (p: string) => creds.find((c) => c.principal === p)!.secret;
  if (existsSync(files.acls)) await chmod(files.acls, 0o600);
  else await writePrivate(files.acls, json(localAcls(frameworks)));
  await keepWritten(files.agent, json({ credentials: [{ principal: AGENT, secret: secretOf(AGENT) }] }));
  await keepWritten(files.token, `${secretOf(ADMIN)}\n`);
  for (const name of frameworks) await keepWritten(files.frameworks[name]!, `${secretOf(name)}\n`);
  return files;
}
