/**
 * Sandboxes: one directory per task launch, holding its stdout, stderr,
 * exit_status and whatever the task writes, and the one place that reads
 * them for others, confined to the sandbox.
 *
 *   <work-dir>/sandboxes/<framework_id>/<task_id>-<8 hex>/
 *
 * The suffix keeps a relaunch of the same task id (a retry) from mixing its
 * output with the first run's.
 *
 * Permissions keep tasks of different users apart: `sandboxes/` and each
 * framework's directory are 0711 (passable, not listable: a task reaches
 * its own sandbox by path but cannot find the others), and a sandbox is its
 * task user's, 0700. The agent reads every sandbox as root.
 */
import { constants as FS } from 'node:fs';
import { chmod, chown, mkdir, open, readdir, readlink, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, normalize, sep } from 'node:path';
import { newUuid } from '../lib/ids';
import { SandboxEscapeError, SandboxFileNotFoundError, SandboxPathError } from './errors';
import type { TaskUser } from './users';

export const DEFAULT_READ_LENGTH = 64 * 1024;
export const MAX_READ_LENGTH = 1024 * 1024;

/**
 * Why `id` cannot name a directory, or undefined when it can. Ids come from
 * frameworks, so they are checked before they touch the file system.
 */
export function idProblem(kind: string, id: string): string | undefined {
  if (!id) return `${kind} is empty`;
  if (id.length > 200) return `${kind} is ${id.length} characters long; at most 200 are allowed`;
  if (id === '.' || id === '..') return `${kind} "${id}" cannot name a directory`;
  // eslint-disable-next-line no-control-regex
  if (/[/\\\x00-\x1f]/.test(id)) return `${kind} "${id}" holds a slash or a control character`;
  return undefined;
}

export class Sandboxes {
  readonly root: string;

  constructor(workDir: string) {
    this.root = join(workDir, 'sandboxes');
  }

  /**
   * Creates a fresh sandbox for one launch of a task, mode 0700, owned by
   * `owner` when given (the task's user); ids must pass `idProblem`.
   */
  async create(frameworkId: string, taskId: string, owner?: { uid: number; gid: number }): Promise<string> {
    const parent = join(this.root, frameworkId);
    await mkdir(parent, { recursive: true, mode: 0o711 });
    // chmod as well: mkdir's mode passes through the umask, and a directory may predate this agent.
    for (const d of [this.root, parent]) await chmod(d, 0o711);
    const dir = join(parent, `${taskId}-${newUuid().slice(0, 8)}`);
    await mkdir(dir, { mode: 0o700 });
    if (owner) await chown(dir, owner.uid, owner.gid);
    return dir;
  }

  /**
   * The newest sandbox of a task found on disk (of any framework unless one
   * is named), so that the output of tasks the agent no longer tracks, or
   * that ran before a restart, stays readable.
   */
  async find(taskId: string, frameworkId?: string): Promise<string | undefined> {
    if (idProblem('task id', taskId) || (frameworkId && idProblem('framework id', frameworkId))) return undefined;
    const frameworks = frameworkId ? [frameworkId] : await readdir(this.root).catch(() => [] as string[]);
    const want = new RegExp(`^${escapeRegExp(taskId)}-[0-9a-f]{8}$`);
    let best: { dir: string; mtime: number } | undefined;
    for (const fw of frameworks) {
      const names = await readdir(join(this.root, fw)).catch(() => [] as string[]);
      for (const name of names) {
        if (!want.test(name)) continue;
        const dir = join(this.root, fw, name);
        const st = await stat(dir).catch(() => undefined);
        if (st?.isDirectory() && (!best || st.mtimeMs > best.mtime)) best = { dir, mtime: st.mtimeMs };
      }
    }
    return best?.dir;
  }
}

export interface SandboxRead {
  data: Buffer;
  offset: number;
  /** The file's size when read. */
  size: number;
}

/**
 * Checks a caller's path before it is joined to a sandbox: relative, no
 * `..` segment, no NUL. Returns the normalised path; throws SandboxPathError
 * (malformed) or SandboxEscapeError (absolute, or `..`).
 */
export function checkRelativePath(path: string): string {
  if (!path) throw new SandboxPathError('path is empty; name a file in the sandbox, e.g. stdout', path);
  if (path.includes('\0')) throw new SandboxPathError('path holds a NUL character', path);
  if (isAbsolute(path)) {
    throw new SandboxEscapeError(`path ${path} is absolute: only files inside the sandbox can be read; give a path relative to it, e.g. stdout`, path);
  }
  if (path.split(/[/\\]/).includes('..')) {
    throw new SandboxEscapeError(`path ${path} leaves the sandbox: ".." segments are not allowed; give a path inside it, e.g. stdout`, path);
  }
  return normalize(path);
}

function inside(root: string, real: string): boolean {
  return real === root || real.startsWith(root.endsWith(sep) ? root : root + sep);
}

/**
 * Reads `length` bytes (0: 64 KiB; at most 1 MiB) at `offset` of
 * `<sandbox>/<path>`. The path must stay inside the sandbox once every
 * symlink is resolved; the check is repeated on the opened file descriptor
 * (/proc/self/fd) so that a task swapping a directory for a symlink between
 * the check and the open gains nothing. Throws SandboxEscapeError (a path
 * that leads out: PERMISSION_DENIED), SandboxPathError (malformed, or not a
 * regular file) or SandboxFileNotFoundError.
 */
export async function readSandboxFile(
  sandbox: string,
  path: string,
  offset = 0,
  length = 0,
  what = 'the sandbox',
): Promise<SandboxRead> {
  const rel = checkRelativePath(path);
  if (!Number.isInteger(offset) || offset < 0) throw new SandboxPathError(`offset ${offset} must be a whole number ≥ 0`, path);
  if (!Number.isInteger(length) || length < 0) throw new SandboxPathError(`length ${length} must be a whole number ≥ 0`, path);
  const want = Math.min(length || DEFAULT_READ_LENGTH, MAX_READ_LENGTH);

  const root = await realpath(sandbox).catch((err: NodeJS.ErrnoException) => {
    throw new SandboxFileNotFoundError(`${what} is gone from disk (${err.code ?? err.message})`);
  });
  let real: string;
  try {
    real = await realpath(join(root, rel));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new SandboxFileNotFoundError(`no file ${path} in ${what}`);
    throw err;
  }
  if (!inside(root, real)) {
    throw new SandboxEscapeError(`path ${path} resolves outside ${what} (through a symlink); only files inside it can be read`, path);
  }
  // O_NONBLOCK: a FIFO planted in the sandbox must not hang the reader.
  const fh = await open(real, FS.O_RDONLY | FS.O_NONBLOCK | FS.O_NOCTTY);
  try {
    const opened = await readlink(`/proc/self/fd/${fh.fd}`).catch(() => real);
    if (!inside(root, opened)) {
      throw new SandboxEscapeError(`path ${path} resolves outside ${what} (through a symlink); only files inside it can be read`, path);
    }
    const st = await fh.stat();
    if (!st.isFile()) throw new SandboxPathError(`path ${path} in ${what} is not a regular file`, path);
    const size = st.size;
    if (offset >= size) return { data: Buffer.alloc(0), offset, size };
    const buf = Buffer.alloc(Math.min(want, size - offset));
    const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
    return { data: buf.subarray(0, bytesRead), offset, size };
  } finally {
    await fh.close();
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A file-system error as an operator should read it: a full or read-only
 * work dir is named as such (with the directory), not left as a bare errno
 * or a misleading "exit status 1" from a process that could not start.
 */
export function describeFsError(err: unknown, workDir: string): string {
  const e = err as NodeJS.ErrnoException;
  const text = e instanceof Error ? e.message : String(err);
  // A named error's `code` may be its gRPC status (a number): only errno strings count.
  const errno = (x: unknown) => (typeof (x as NodeJS.ErrnoException | undefined)?.code === 'string' ? (x as NodeJS.ErrnoException).code : undefined);
  const code = errno(e) ?? errno(e?.cause) ?? /\b(ENOSPC|EDQUOT|EROFS)\b/.exec(text)?.[1];
  switch (code) {
    case 'ENOSPC': return `the agent's work dir ${workDir} is out of space (ENOSPC): ${text}`;
    case 'EDQUOT': return `the agent's work dir ${workDir} is over its disk quota (EDQUOT): ${text}`;
    case 'EROFS': return `the agent's work dir ${workDir} is read-only (EROFS): ${text}`;
    default: return text;
  }
}

/**
 * Appends to a file of a task's sandbox as the agent (root): a symlink or a
 * FIFO the task planted there is refused, not followed or waited on; a file
 * it creates is the task user's (`owner`).
 */
export async function appendToSandbox(path: string, data: string, owner: TaskUser | undefined): Promise<void> {
  const fh = await open(path, FS.O_WRONLY | FS.O_APPEND | FS.O_CREAT | FS.O_NOFOLLOW | FS.O_NONBLOCK, 0o600);
  try {
    const st = await fh.stat();
    if (!st.isFile() || st.nlink !== 1) throw new Error(`${path} is not a plain file (a FIFO, a device or a hard link)`);
    if (owner && st.uid !== owner.uid) await fh.chown(owner.uid, owner.gid);
    await fh.writeFile(data);
  } finally {
    await fh.close();
  }
}
