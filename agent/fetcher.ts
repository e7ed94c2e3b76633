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
 * extracted unless `extract` is false; the system `tar` and `unzip` do it.
 * No cache: every launch fetches afresh.
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { chmod, copyFile, mkdir, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, normalize } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { errorMessage } from '../lib/errors';
import type { URI__Output } from '../lib/proto/generated/mezzanine/v1/URI';

export interface FetchOptions {
  sandbox: string;
  /** Per URI: download (or copy) and extraction each get this long. */
  timeoutMs: number;
  /** Largest file accepted, in bytes. */
  maxBytes: number;
  /** Aborts every step (the task was killed while fetching). */
  signal?: AbortSignal;
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
  const dest = join(opts.sandbox, outputName(uri, source));
  await mkdir(dirname(dest), { recursive: true });
  const signal = opts.signal ? AbortSignal.any([opts.signal, AbortSignal.timeout(opts.timeoutMs)]) : AbortSignal.timeout(opts.timeoutMs);
  try {
    if (source.kind === 'http') await download(source.url, dest, opts.maxBytes, signal);
    else await copy(source.path, dest, opts.maxBytes);
  } catch (e) {
    await rm(dest, { force: true }).catch(() => undefined);
    throw new Error(why(e, signal, opts.timeoutMs));
  }
  if (uri.executable) await chmod(dest, 0o755);
  const archive = ARCHIVES.find((a) => a.re.test(dest));
  if (archive && uri.extract !== false) {
    const extractSignal = opts.signal ? AbortSignal.any([opts.signal, AbortSignal.timeout(opts.timeoutMs)]) : AbortSignal.timeout(opts.timeoutMs);
    const argv = archive.tool === 'tar' ? ['tar', '-xf', dest, '-C', opts.sandbox] : ['unzip', '-o', '-q', dest, '-d', opts.sandbox];
    try {
      await run(argv, opts.sandbox, extractSignal);
    } catch (e) {
      throw new Error(`cannot extract ${basename(dest)}: ${why(e, extractSignal, opts.timeoutMs)}`);
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
  return err.cause?.message && err.message === 'fetch failed' ? err.cause.message : err.message;
}

async function download(url: URL, dest: string, maxBytes: number, signal: AbortSignal): Promise<void> {
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
  await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), cap, createWriteStream(dest), { signal });
}

async function copy(path: string, dest: string, maxBytes: number): Promise<void> {
  const st = await stat(path);
  if (!st.isFile()) throw new Error(`${path} is not a regular file`);
  if (st.size > maxBytes) throw new Error(`the file is ${st.size} bytes, over the fetcher's limit of ${maxBytes} (agent flag --fetcher-max-size)`);
  await copyFile(path, dest);
}

/** Runs a tool to completion; rejects with its stderr's last line, or that it is not installed. */
function run(argv: string[], cwd: string, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd, stdio: ['ignore', 'ignore', 'pipe'], signal });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-2000); });
    child.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') reject(new Error(`${argv[0]} is not installed on this agent; install it, or set extract: false`));
      else reject(e);
    });
    child.once('close', (code, sig) => {
      if (code === 0) return resolve();
      const last = err.trim().split('\n').pop();
      reject(new Error(`${argv[0]} ${sig ? `was terminated by ${sig}` : `exited with status ${code}`}${last ? `: ${last}` : ''}`));
    });
  });
}
