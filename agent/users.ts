/**
 * Which OS user a task runs as, and how a process is started as that user.
 *
 *   TaskInfo.command.user ─► else FrameworkInfo.user (run_tasks) ─► else --default-user
 *      ─► valid name? ─► getent passwd NAME (else /etc/passwd) ─► TaskUser {uid, gid, home}
 *      ─► switching on: `setpriv --reuid=UID --regid=GID --init-groups -- PROGRAM…`
 *         switching off (the agent is not root, or --no-switch-user): only the agent's own user
 *
 * Like Mesos' `--switch_user`: the wrapper, the fetcher's reads and
 * extractions and COMMAND health checks all start their programs through
 * `asUser`, the one place that knows how. setpriv (util-linux) sets the
 * real and effective ids and the user's supplementary groups (initgroups),
 * which Node's own `spawn({uid, gid})` cannot (it clears them).
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { describe } from '../lib/limits';

/** A user tasks can run as: its passwd entry. */
export interface TaskUser {
  name: string;
  uid: number;
  /** The primary group. */
  gid: number;
  home: string;
}

/** How the agent picks and applies tasks' users. */
export interface UserPolicy {
  /** Start tasks as their user (setpriv); off: every task runs as the agent's own user. */
  switchUser: boolean;
  /** The user of tasks that name none, and whose framework names none. */
  defaultUser: string;
}

/** The policy of `mezz-agent` without flags: switch to `nobody` when root, else run tasks as the agent's user. */
export function defaultUserPolicy(uid = process.getuid?.() ?? -1, self = ownUser().name): UserPolicy {
  return uid === 0 ? { switchUser: true, defaultUser: 'nobody' } : { switchUser: false, defaultUser: self };
}


/** Longest user name accepted (Linux' own limit is 32). */
export const MAX_USER_NAME = 32;

/**
 * Why `name` cannot be a user name, or undefined when it can: the portable
 * set (letters, digits, `.`, `_`, `-`, not leading `-`, an optional final
 * `$`). All digits are refused: `getent passwd 0` answers by uid, and "0"
 * must not become root behind an ACL written for names.
 */
export function userNameProblem(name: string): string | undefined {
  if (!name) return 'the user name is empty';
  if (name.length > MAX_USER_NAME) return `the user name ${describe(name)} is ${name.length} characters long; at most ${MAX_USER_NAME} are allowed`;
  if (!/^[A-Za-z0-9._][A-Za-z0-9._-]*\$?$/.test(name)) return `"${name}" is not a valid user name (letters, digits, ".", "_", "-"; not starting with "-")`;
  if (/^\d+$/.test(name)) return `"${name}" is all digits: name the user, not its uid`;
  return undefined;
}

/** Parses one /etc/passwd line (`name:x:uid:gid:gecos:home:shell`); undefined when malformed. */
export function parsePasswdLine(line: string): TaskUser | undefined {
  const f = line.trim().split(':');
  if (f.length < 7 || !f[0] || !/^\d+$/.test(f[2]!) || !/^\d+$/.test(f[3]!)) return undefined;
  return { name: f[0], uid: Number(f[2]), gid: Number(f[3]), home: f[5] || '/' };
}

function getent(name: string): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    execFile('getent', ['passwd', '--', name], { timeout: 5000 }, (err, stdout) => {
      if (!err) return resolve(stdout);
      const code = (err as { code?: unknown }).code;
      // Exit status 2: no such key. Anything else (getent missing, a timeout): read the file instead.
      if (code === 2) resolve('');
      else reject(err);
    });
  });
}

/**
 * The passwd entry of `name` (`getent`, so NSS sources count; /etc/passwd
 * where getent is missing), or undefined when there is none. Throws only
 * when neither can be read.
 */
export async function lookupUser(name: string, passwdFile = '/etc/passwd'): Promise<TaskUser | undefined> {
  let text: string | undefined;
  try {
    text = await getent(name);
  } catch {
    text = await readFile(passwdFile, 'utf8');
  }
  for (const line of (text ?? '').split('\n')) {
    const u = parsePasswdLine(line);
    if (u?.name === name) return u;
  }
  return undefined;
}

/** The user to run a task as, and whether to switch to it; or why the task cannot run. */
export type UserChoice =
  | { ok: true; user: TaskUser; switchUser: boolean }
  | { ok: false; reason: string };

/** The agent's own user, from the process (no lookup). */
export function ownUser(): TaskUser {
  const uid = process.getuid?.() ?? -1;
  const info = (() => {
    try {
      return os.userInfo();
    } catch {
      return undefined;
    }
  })();
  return { name: info?.username ?? String(uid), uid, gid: process.getgid?.() ?? -1, home: info?.homedir ?? (process.env.HOME || '/') };
}

/**
 * Picks a task's user: its command's `user`, else its framework's, else the
 * policy's default. With switching off only the agent's own user (`self`)
 * is possible, and is not looked up: a task that asks for another fails,
 * saying why.
 */
export async function chooseTaskUser(
  policy: UserPolicy, commandUser: string | undefined, frameworkUser: string | undefined,
  lookup: (name: string) => Promise<TaskUser | undefined> = lookupUser,
  self: TaskUser = ownUser(),
): Promise<UserChoice> {
  const from = commandUser ? 'the task\'s command.user' : frameworkUser ? 'its framework\'s user' : 'the agent\'s --default-user';
  const name = commandUser || frameworkUser || policy.defaultUser;
  if (!policy.switchUser) {
    if (name === self.name) return { ok: true, user: self, switchUser: false };
    const why = self.uid === 0 ? 'the agent runs with --no-switch-user' : 'the agent is not root';
    return { ok: false, reason: `cannot run the task as user ${describe(name)} (${from}): ${why}, so it runs tasks only as its own user "${self.name}"` };
  }
  const bad = userNameProblem(name);
  if (bad) return { ok: false, reason: `cannot run the task as ${from}: ${bad}` };
  let user: TaskUser | undefined;
  try {
    user = await lookup(name);
  } catch (err) {
    return { ok: false, reason: `cannot look up user "${name}" (${from}): ${(err as Error).message}` };
  }
  if (!user) return { ok: false, reason: `user "${name}" (${from}) does not exist on this agent (not in the passwd database)` };
  return { ok: true, user, switchUser: true };
}

/**
 * `lookup` with its answers kept for `ttlMs`: a burst of a thousand tasks
 * of one user costs one `getent`, and a user added on the host is seen
 * within the ttl.
 */
export function cachedLookup(
  lookup: (name: string) => Promise<TaskUser | undefined> = lookupUser, ttlMs = 10_000, now = Date.now,
): (name: string) => Promise<TaskUser | undefined> {
  const cache = new Map<string, { at: number; answer: Promise<TaskUser | undefined> }>();
  return (name) => {
    const hit = cache.get(name);
    if (hit && now() - hit.at < ttlMs) return hit.answer;
    if (cache.size > 1000) cache.clear();
    const answer = lookup(name);
    cache.set(name, { at: now(), answer });
    // A failed lookup is not kept: the next task tries again.
    answer.catch(() => cache.delete(name));
    return answer;
  };
}

/**
 * Throws, saying what to do, when setpriv cannot run here: an agent that
 * switches users refuses to start without it rather than fail every task.
 */
export function checkSetpriv(): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('setpriv', ['--version'], { timeout: 5000 }, (err) => {
      if (!err) return resolve();
      reject(new Error(`--switch-user needs setpriv (util-linux) on the PATH to start tasks as their users, and it cannot run: ${err.message}; install util-linux, or run with --no-switch-user`));
    });
  });
}

/** Ids a process switches to (setpriv); undefined: it stays the agent's user. */
export type RunAs = Pick<TaskUser, 'uid' | 'gid'> | undefined;

/** `argv` started as `user`: behind setpriv with the user's groups; unchanged when `user` is undefined. */
export function asUser(user: RunAs, argv: readonly string[]): string[] {
  if (!user) return [...argv];
  return ['setpriv', `--reuid=${user.uid}`, `--regid=${user.gid}`, '--init-groups', '--', ...argv];
}
