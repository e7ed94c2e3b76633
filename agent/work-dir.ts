/**
 * The agent's own corner of its work dir: its permissions (the agent's
 * state is root's alone; tasks pass through to their sandboxes but list
 * nothing), and `agent.json`, the agent's id with the token the master
 * issued with it (the token is what lets the agent take its id back, so
 * the file is 0600, as everything writeJsonAtomic writes).
 */
import { chmod, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage } from '../lib/errors';
import type { Logger } from '../lib/log';
import { writeJsonAtomic } from './executor/checkpoint';

/** Makes the work dir 0711 when the agent makes it (one given, perhaps /tmp, is left as it is) and `meta/` 0700; closes an older agent.json to 0600. */
export async function prepareWorkDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o711 });
  const meta = join(dir, 'meta');
  await mkdir(meta, { recursive: true, mode: 0o700 });
  await chmod(meta, 0o700);
  await chmod(join(dir, 'agent.json'), 0o600).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
}

export interface AgentIdentity {
  /** '' when the agent has none yet. */
  id: string;
  /** The secret the master issued with `id`; '' until one has. */
  token: string;
}

/** The id and its token from agent.json (both '' when there is none, or it cannot be read). */
export async function loadIdentity(dir: string, log: Logger): Promise<AgentIdentity> {
  try {
    const saved = JSON.parse(await readFile(join(dir, 'agent.json'), 'utf8')) as { agentId?: unknown; agentToken?: unknown };
    return { id: typeof saved.agentId === 'string' ? saved.agentId : '', token: typeof saved.agentToken === 'string' ? saved.agentToken : '' };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log.warn(`ignoring unreadable agent.json: ${errorMessage(err)}`);
    return { id: '', token: '' };
  }
}

/** Saves the id with its token; a failure is logged (the agent runs on, and saves again at its next registration). */
export async function saveIdentity(dir: string, identity: AgentIdentity, log: Logger): Promise<void> {
  try {
    await writeJsonAtomic(join(dir, 'agent.json'), { agentId: identity.id, agentToken: identity.token });
  } catch (err) {
    log.error(`cannot save agent id ${identity.id} to agent.json: ${errorMessage(err)}`);
  }
}
