/**
 * The fetcher: before a task's command starts, the agent downloads each of
 * its `command.uris` into the sandbox, in order, and stops at the first that
 * fails (the task then fails with REASON_FETCHER_FAILED and the returned
 * reason, which names the URI).
 *
 *   uri ─► source (http(s): fetch with a timeout and a size cap │ file:// or /abs: copy)
 *       ─► SANDBOX/<output_file or last path segment>
 *       ─► executable? chmod 755 ─► extract? tar -xf / unzip -o into the sandbox
 *
 * Archives (.tar, .tar.gz, .tgz, .tar.bz2, .tbz2, .tar.xz, .txz, .zip) are
 * extracted unless `extract` is false; the system `tar` and `unzip` do it,
 * into an empty staging directory, and what they made is then moved into
 * the sandbox without following any symlink already there. Extraction is
 * capped (`maxExtractedBytes`): a tar's uncompressed stream is counted on
 * its way into `tar` (it holds every byte extracted), a zip's declared sizes
 * are summed first. No path the fetcher writes passes through a symlink, so
 * a link planted by one archive cannot steer a later URI outside the sandbox.
 * No cache: every launch fetches afresh.
 *
 * When the agent switches users (agent/users.ts) the fetch is the task
 * user's: a local file is read by a child running as the user (so
 * `file:///etc/shadow` fails with permission denied rather than being
 * copied), archives are extracted by tar/unzip running as the user, and
 * what the agent itself writes (downloads, the copies, directories) is
 * chowned to the user. Files the agent writes are created afresh (an entry
 * already there is removed first, never written through: it might be a
 * link an archive planted).
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { chmod, chown, lstat, mkdir, mkdtemp, open, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, normalize, relative, sep } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { errorMessage } from '../lib/errors';
import type { URI__Output } from '../lib/proto/generated/mezzanine/v1/URI';
import { asUser, type TaskUser } from './users';

export interface FetchOptions {
  sandbox: string;
  /** Per URI: download (or copy) and extraction each get this long. */
  timeoutMs: number;
  /** Largest file accepted, in bytes. */
  maxBytes: number;
  /** Most bytes one archive may extract to. Default 4 × maxBytes. */
  maxExtractedBytes?: number;
  /** Aborts every step (the task was killed while fetching). */
  signal?: AbortSignal;
  /** The task's user, when the agent switches users: local files are read, and archives extracted, as it; what is written is its. */
  user?: TaskUser;
}

export type FetchResult =
  | { ok: true; files: string[] }
  | { ok: false; uri: string; reason: string };

type Uri = Pick<URI__Output, 'value'> & Partial<Omit<URI__Output, 'value'>>;

const ARCHIVES: { re: RegExp; tool: 'tar' | 'unzip' }[] = [
  { re: /\.(tar|tar\.gz|tgz|tar\.bz2|tbz2|tar\.xz|txz)$/i, tool: 'tar' },
  { re: /\.zip$/i, tool: 'unzip' },
];

/** Why this URI cannot be fetched, before trying; undefined when it can. */
export function uriProblem(uri: Uri): string | undefined {
  if (!uri.value?.trim()) return 'the URI is empty';
  const source = sourceOf(uri.value);
  if (typeof source === 'string') return source;
  try {
    outputName(uri, source);
  } catch (e) {
    return errorMessage(e);
  }
  return undefined;
}

/** Fetches `uris` in order into the sandbox; the first failure ends it. Never throws. */
export async function fetchUris(uris: readonly Uri[], opts: FetchOptions): Promise<FetchResult> {
  const files: string[] = [];
  for (const uri of uris) {
    try {
      files.push(await fetchOne(uri, opts));
    } catch (e) {
      return { ok: false, uri: uri.value, reason: errorMessage(e) };
    }
  }
  return { ok: true, files };
}

type Source = { kind: 'http'; url: URL } | { kind: 'file'; path: string };

function sourceOf(value: string): Source | string {
  if (value.startsWith('/')) return { kind: 'file', path: value };
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'not a URI: use http://, https://, file:// or an absolute path';
  }
  if (url.protocol === 'http:' || url.protocol === 'https:') return { kind: 'http', url };
  if (url.protocol === 'file:') return { kind: 'file', path: fileURLToPath(url) };
  return `scheme ${url.protocol} is not supported: use http://, https://, file:// or an absolute path`;
}

/** The file's path relative to the sandbox: output_file, else the URI's last path segment. */
function outputName(uri: Uri, source: Source): string {
  if (uri.outputFile) {
    const f = uri.outputFile;
    if (f.startsWith('/') || f.split('/').includes('..') || f.includes('\0') || f.endsWith('/')) {
      throw new Error(`output_file "${f}" must name a file inside the sandbox: a relative path without ".." segments`);
    }
    return normalize(f);
  }
  const last = source.kind === 'file' ? basename(source.path) : decodeURIComponent(basename(source.url.pathname));
  if (!last || last === '.' || last === '..' || last.includes('\0')) {
    throw new Error('cannot name the file from the URI (its path has no last segment); set output_file');
  }
  return last;
}

/** Fetches one URI; resolves with the file's path, or rejects with the reason. */
async function fetchOne(uri: Uri, opts: FetchOptions): Promise<string> {
  const source = sourceOf(uri.value);
  if (typeof source === 'string') throw new Error(source);
  const name = outputName(uri, source);
  const dest = join(opts.sandbox, name);
  await mkdirNoFollow(opts.sandbox, dirname(name), opts.user);
  await refuseSymlink(dest, name);
  const signal = opts.signal ? AbortSignal.any([opts.signal, AbortSignal.timeout(opts.timeoutMs)]) : AbortSignal.timeout(opts.timeoutMs);
  try {
    if (source.kind === 'http') await download(source.url, dest, opts.maxBytes, signal, opts.user);
    else await copy(source.path, dest, opts.maxBytes, signal, opts.user);
  } catch (e) {
    await rm(dest, { force: true }).catch(() => undefined);
    throw new Error(why(e, signal, opts.timeoutMs));
  }
  if (uri.executable) await chmod(dest, 0o755);
  const archive = ARCHIVES.find((a) => a.re.test(dest));
  if (archive && uri.extract !== false) {
    const extractSignal = opts.signal ? AbortSignal.any([opts.signal, AbortSignal.timeout(opts.timeoutMs)]) : AbortSignal.timeout(opts.timeoutMs);
    const limit = opts.maxExtractedBytes ?? 4 * opts.maxBytes;
    const staging = await mkdtemp(join(opts.sandbox, '.mezz-extract-'));
    try {
      if (opts.user) await chown(staging, opts.user.uid, opts.user.gid);
      // Paths relative to the staging directory (the tools' cwd): a user may not pass the dirs above the sandbox.
      const archivePath = relative(staging, dest);
      if (archive.tool === 'tar') await extractTar(archivePath, staging, limit, extractSignal, opts.user);
      else {
        const size = await zipSize(archivePath, staging, extractSignal, opts.user);
        if (size > limit) throw new Error(`it would extract to ${size} bytes, over the limit of ${limit} (the task's disk, or 4 × agent flag --fetcher-max-size)`);
        await run('unzip', asUser(opts.user, ['unzip', '-o', '-q', archivePath, '-d', '.']), staging, extractSignal);
      }
      await moveNoFollow(staging, opts.sandbox);
    } catch (e) {
      throw new Error(`cannot extract ${basename(dest)}: ${why(e, extractSignal, opts.timeoutMs)}`);
    } finally {
      await rm(staging, { recursive: true, force: true }).catch(() => undefined);
    }
  }
  return dest;
}

function why(e: unknown, signal: AbortSignal, timeoutMs: number): string {
  if (signal.aborted) {
    const r = signal.reason as Error | undefined;
    return r?.name === 'TimeoutError' ? `gave up after the fetcher timeout of ${timeoutMs / 1000} s (agent flag --fetcher-timeout)` : 'the task was killed while fetching';
  }
  const err = e as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  const code = err.cause?.code ?? err.code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND') return 'unknown host';
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'a directory of that name is in the sandbox';
  return err.cause?.message && err.message === 'fetch failed' ? err.cause.message : err.message;
}

async function download(url: URL, dest: string, maxBytes: number, signal: AbortSignal, user: TaskUser | undefined): Promise<void> {
  const res = await fetch(url, { signal, redirect: 'follow' });
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    throw new Error(`HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`);
  }
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) {
    await res.body?.cancel().catch(() => undefined);
    throw new Error(`the file is ${declared} bytes, over the fetcher's limit of ${maxBytes} (agent flag --fetcher-max-size)`);
  }
  if (!res.body) throw new Error('the response has no body');
  let seen = 0;
  const cap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      seen += chunk.length;
      if (seen > maxBytes) cb(new Error(`the download passed the fetcher's limit of ${maxBytes} bytes (agent flag --fetcher-max-size)`));
      else cb(null, chunk);
    },
  });
  await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), cap, await createFresh(dest, user), { signal });
}

/**
 * Reads a local file for a task: a regular file only (a FIFO or a device
 * would never end). Run by a child, as the task's user when switching, so
 * that the user's own permissions decide what can be fetched.
 */
const READ_LOCAL = '[ -f "$1" ] || [ ! -e "$1" ] || { echo "not a regular file" >&2; exit 1; }; exec cat -- "$1"';

/** Copies the local file `path` to `dest`, read by a child as `user` (see READ_LOCAL), capped at `maxBytes`. */
async function copy(path: string, dest: string, maxBytes: number, signal: AbortSignal, user: TaskUser | undefined): Promise<void> {
  const out = await createFresh(dest, user);
  // The pipeline takes the child's stdout at once: a child that exits before anyone reads has
  // its unread output resumed into nothing (child_process flushes unconsumed stdio at exit).
  const argv = asUser(user, ['/bin/sh', '-c', READ_LOCAL, 'sh', path]);
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], signal });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-2000); });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  });
  try {
    await pipeline(child.stdout!, capAt(maxBytes, `the file passed the fetcher's limit of ${maxBytes} bytes (agent flag --fetcher-max-size)`), out);
  } catch (e) {
    child.kill('SIGKILL');
    await exited.catch(() => undefined);
    throw e;
  }
  const code = await exited;
  if (code !== 0) throw new Error(readFailure(path, err, code, user));
}

/** Why a local file could not be read, from the reader's stderr (`cat: PATH: Permission denied`). */
function readFailure(path: string, stderr: string, code: number | null, user: TaskUser | undefined): string {
  const last = stderr.trim().split('\n').pop() ?? '';
  if (/No such file or directory/.test(last)) return 'no such file';
  if (/Permission denied/.test(last)) {
    return user ? `permission denied: the fetcher reads local files as the task's user ${user.name} (uid ${user.uid}), who may not read ${path}` : 'permission denied';
  }
  if (/not a regular file/.test(last)) return `${path} is not a regular file`;
  const what = last.replace(/^cat: /, '');
  return what || `reading ${path} ended with status ${code}`;
}

/** Passes at most `maxBytes` through, failing with `message` past that. */
function capAt(maxBytes: number, message: string): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      seen += chunk.length;
      if (seen > maxBytes) cb(new Error(message));
      else cb(null, chunk);
    },
  });
}

/**
 * A write stream on a new file `dest`, the task user's when given. Whatever
 * is at `dest` already is removed first, never written through: O_NOFOLLOW
 * refuses a symlink, and O_EXCL a hard link to another file that an archive
 * may have planted (the agent writes as root).
 */
async function createFresh(dest: string, user: TaskUser | undefined) {
  await rm(dest, { force: true });
  const fh = await open(dest, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
  if (user) await fh.chown(user.uid, user.gid);
  return fh.createWriteStream();
}

/** Makes `rel` (relative, normalized) under `root`, one level at a time, refusing any level that is a symlink; new ones are `user`'s. */
async function mkdirNoFollow(root: string, rel: string, user: TaskUser | undefined): Promise<void> {
  let dir = root;
  for (const part of rel.split(sep)) {
    if (!part || part === '.') continue;
    dir = join(dir, part);
    const st = await lstat(dir).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return undefined;
      throw e;
    });
    if (!st) {
      await mkdir(dir);
      if (user) await chown(dir, user.uid, user.gid);
    } else if (st.isSymbolicLink()) throw new Error(`${dir.slice(root.length + 1)} in the sandbox is a symlink; the fetcher does not write through links`);
    else if (!st.isDirectory()) throw new Error(`${dir.slice(root.length + 1)} in the sandbox is not a directory`);
  }
}

async function refuseSymlink(path: string, rel: string): Promise<void> {
  const st = await lstat(path).catch(() => undefined);
  if (st?.isSymbolicLink()) throw new Error(`${rel} in the sandbox is a symlink; the fetcher does not write through links`);
}

/**
 * Moves what `from` holds into `to`, merging directories, as an extraction
 * over existing files would, but without following links: an entry of `to`
 * that is a symlink (or a file where a directory comes) is replaced, never
 * entered.
 */
async function moveNoFollow(from: string, to: string): Promise<void> {
  for (const name of await readdir(from)) {
    const src = join(from, name);
    const dst = join(to, name);
    const [s, d] = await Promise.all([lstat(src), lstat(dst).catch(() => undefined)]);
    if (d && s.isDirectory() && d.isDirectory() && !d.isSymbolicLink()) {
      await moveNoFollow(src, dst);
      continue;
    }
    if (d) await rm(dst, { recursive: true, force: true });
    await rename(src, dst);
  }
}

const DECOMPRESSORS: [RegExp, string[]][] = [
  [/\.(tar\.gz|tgz)$/i, ['gzip', '-dc']],
  [/\.(tar\.bz2|tbz2)$/i, ['bzip2', '-dc']],
  [/\.(tar\.xz|txz)$/i, ['xz', '-dc']],
];

/**
 * tar -x into `dir`, fed through a counter: the uncompressed tar stream
 * holds every byte extracted (and headers), so cutting it at `limit` caps
 * what lands on disk, whatever the compression ratio.
 */
async function extractTar(archive: string, dir: string, limit: number, signal: AbortSignal, user: TaskUser | undefined): Promise<void> {
  const decompress = DECOMPRESSORS.find(([re]) => re.test(archive))?.[1];
  const tarArgv = asUser(user, ['tar', '-xf', '-', '-C', '.', '--no-same-owner']);
  const tar = spawn(tarArgv[0]!, tarArgv.slice(1), { cwd: dir, stdio: ['pipe', 'ignore', 'pipe'], signal });
  const done = toolDone('tar', tar);
  let input: Readable;
  let unpack: ReturnType<typeof spawn> | undefined;
  let unpackDone: Promise<void> = Promise.resolve();
  if (decompress) {
    const unpackArgv = asUser(user, [...decompress, archive]);
    unpack = spawn(unpackArgv[0]!, unpackArgv.slice(1), { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], signal });
    unpackDone = toolDone(decompress[0]!, unpack);
    input = unpack.stdout!;
  } else {
    input = (await open(join(dir, archive), constants.O_RDONLY | constants.O_NOFOLLOW)).createReadStream();
  }
  let seen = 0;
  const cap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      seen += chunk.length;
      if (seen > limit) cb(new Error(`it extracts to more than ${limit} bytes, the limit (the task's disk, or 4 × agent flag --fetcher-max-size)`));
      else cb(null, chunk);
    },
  });
  try {
    await pipeline(input, cap, tar.stdin!);
  } catch (e) {
    // tar may stop reading at the end-of-archive blocks and exit before the padding after
    // them arrives, closing its stdin under us: no failure if tar itself succeeded. The
    // decompressor, cut off mid-write, is then stopped and its status ignored.
    const code = (e as NodeJS.ErrnoException).code;
    if (seen <= limit && (code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'EPIPE') && (await done.then(() => true, () => false))) {
      unpack?.kill('SIGKILL');
      await unpackDone.catch(() => undefined);
      return;
    }
    tar.kill('SIGKILL');
    unpack?.kill('SIGKILL');
    await Promise.allSettled([done, unpackDone]);
    throw e;
  }
  await Promise.all([done, unpackDone]);
}

/** Uncompressed bytes a zip declares (`unzip -Zt`: "N files, U bytes uncompressed, …"). */
function zipSize(archive: string, cwd: string, signal: AbortSignal, user: TaskUser | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const argv = asUser(user, ['unzip', '-Zt', archive]);
    const child = spawn(argv[0]!, argv.slice(1), { cwd, stdio: ['ignore', 'pipe', 'pipe'], signal });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => { out = (out + d.toString()).slice(-4000); });
    toolDone('unzip', child).then(() => {
      const m = /(\d+) bytes uncompressed/.exec(out);
      if (m) resolve(Number(m[1]));
      else reject(new Error('unzip -Zt did not say how large the archive extracts'));
    }, reject);
  });
}

/** Resolves when `child` exits 0; rejects with its stderr's last line, or that it is not installed. */
function toolDone(tool: string, child: ReturnType<typeof spawn>): Promise<void> {
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr?.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-2000); });
    child.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') reject(new Error(`${tool} is not installed on this agent; install it, or set extract: false`));
      else reject(e);
    });
    child.once('close', (code, sig) => {
      if (code === 0) return resolve();
      const last = err.trim().split('\n').pop();
      reject(new Error(`${tool} ${sig ? `was terminated by ${sig}` : `exited with status ${code}`}${last ? `: ${last}` : ''}`));
    });
  });
}

/** Runs a tool (`argv`, perhaps behind setpriv) to completion; rejects with its stderr's last line, or that it is not installed. */
function run(tool: string, argv: string[], cwd: string, signal: AbortSignal): Promise<void> {
  return toolDone(tool, spawn(argv[0]!, argv.slice(1), { cwd, stdio: ['ignore', 'ignore', 'pipe'], signal }));
}
