/**
 * The deploy-time check that a function's code loads, so bad code is refused
 * by the PUT that sends it, with its error and line, not at its first call.
 *
 *   nodejs   load-check-child.mjs in its own process (fresh temp dir, PATH
 *            only in its environment, heap capped, killed with its whole
 *            process group at the deadline): loads the module as the worker
 *            will and says whether the entry is a function
 *   command  text with no `#!`: `sh -n` (syntax only, nothing runs);
 *            with `#!`: the interpreter must exist; binary: a `#!` script
 *            or an ELF program
 *
 * User code never runs in the caller's process. The check runs where
 * mezz-functions runs, not on the agents: an interpreter installed on the
 * agents only is refused here (install it beside mezz-functions too).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdtemp, rm } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { tmpdir } from 'node:os';
import { delimiter, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runtimeOf } from './function-schema';

/** `ok`, perhaps with why part was not checked; or what is wrong, with the line of the code when known. */
export type LoadCheck = { ok: true; unchecked?: string; error?: undefined } | { ok?: undefined; error: string; line?: number };

export interface LoadCheckOptions {
  /** How long loading may take before the check gives up and kills it. */
  timeoutMs?: number;
  /** The loading process's heap cap, in MB (the function's memory limit fits). */
  memoryMb?: number;
}

export const DEFAULT_LOAD_TIMEOUT_MS = 5_000;
const CHILD = fileURLToPath(new URL('./load-check-child.mjs', import.meta.url));
/** Bytes of the loader's stderr kept for a crash's message (V8's out-of-memory report, a native abort). */
const STDERR_TAIL = 2048;

/**
 * Whether `code` of `kind` loads and has its entry `main` (OpenWhisk's
 * `main` when undefined). Never rejects: every failure is a LoadCheck.
 */
export async function checkCode(kind: string, code: string, main: string | undefined, binary: boolean, opts: LoadCheckOptions = {}): Promise<LoadCheck> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_LOAD_TIMEOUT_MS;
  if (code.trim() === '') return { error: 'the code is empty' };
  if (runtimeOf(kind) === 'command') return checkCommand(code, binary, timeoutMs);
  return checkNodejs({ code, main: main ?? 'main', binary }, timeoutMs, opts.memoryMb ?? 256);
}

async function checkNodejs(input: { code: string; main: string; binary: boolean }, timeoutMs: number, memoryMb: number): Promise<LoadCheck> {
  const dir = await mkdtemp(join(tmpdir(), 'mezz-fn-check-'));
  try {
    // detached: its own process group, so whatever the code starts dies with it.
    const child = spawn(process.execPath, [`--max-old-space-size=${memoryMb}`, CHILD], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '' },
      stdio: ['pipe', 'ignore', 'pipe', 'pipe'],
      detached: true,
    });
    return await answerOf(child, JSON.stringify(input), timeoutMs, memoryMb);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function answerOf(child: ChildProcess, input: string, timeoutMs: number, memoryMb: number): Promise<LoadCheck> {
  return new Promise((resolve) => {
    let answer = '';
    let stderr = '';
    let timedOut = false;
    const killGroup = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // Already gone.
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, timeoutMs);
    (child.stdio[3] as Readable).setEncoding('utf8').on('data', (text: string) => (answer += text));
    child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr = (stderr + text).slice(-STDERR_TAIL)));
    child.stdin!.on('error', () => {}); // the loader may die before reading it all; its exit says why
    child.stdin!.end(input);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ error: `the code could not be checked: ${err.message}` });
    });
    child.on('close', (exitCode, signal) => {
      clearTimeout(timer);
      killGroup();
      if (timedOut) return resolve({ error: `the code did not finish loading within ${timeoutMs} ms (does it loop or wait at load time?)` });
      const parsed = parseAnswer(answer);
      if (parsed) return resolve(parsed);
      if (/heap out of memory/.test(stderr)) return resolve({ error: `the code ran out of memory while loading (heap limit ${memoryMb} MB)` });
      const how = signal ? `was killed by ${signal}` : `exited with code ${exitCode}`;
      const tail = stderr.trim().split('\n').slice(-3).join(' | ');
      resolve({ error: `loading the code ${how}${tail ? `: ${tail}` : ''} (does it call process.exit at load time?)` });
    });
  });
}

function parseAnswer(text: string): LoadCheck | undefined {
  try {
    const value = JSON.parse(text) as LoadCheck;
    return value.ok === true || typeof value.error === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

async function checkCommand(code: string, binary: boolean, timeoutMs: number): Promise<LoadCheck> {
  const bytes = binary ? Buffer.from(code, 'base64') : Buffer.from(code);
  if (bytes.subarray(0, 2).toString('latin1') === '#!') return checkShebang(bytes.subarray(0, 256).toString('utf8').split('\n')[0]!);
  if (binary) {
    if (bytes.subarray(0, 4).toString('latin1') === '\x7fELF') return { ok: true };
    return { error: 'binary code for a command must be an executable: a #! script or an ELF program' };
  }
  return shellSyntax(code, timeoutMs);
}

/** `#!/path/interp args` or `#!/usr/bin/env [-S] NAME args`: the interpreter must exist here. */
async function checkShebang(line: string): Promise<LoadCheck> {
  const [interp, ...args] = line.slice(2).trim().split(/\s+/);
  if (!interp) return { error: 'the #! line names no interpreter', line: 1 };
  const missing = (what: string): LoadCheck => ({ error: `the interpreter ${what} named on the #! line is not installed where mezz-functions runs`, line: 1 });
  if (!isAbsolute(interp)) return { error: `the #! line must name the interpreter by its absolute path (${interp} is relative)`, line: 1 };
  if (!(await executable(interp))) return missing(interp);
  if (!interp.endsWith('/env')) return { ok: true };
  const name = args.find((a) => !a.startsWith('-'));
  if (!name) return { ok: true };
  return (await onPath(name)) ? { ok: true } : missing(name);
}

async function executable(file: string): Promise<boolean> {
  return access(file, constants.X_OK).then(() => true, () => false);
}

async function onPath(name: string): Promise<boolean> {
  if (name.includes('/')) return executable(name);
  for (const dir of (process.env.PATH ?? '').split(delimiter)) if (dir && (await executable(join(dir, name)))) return true;
  return false;
}

/** A script with no `#!` runs under `sh`; `sh -n` reads it without running it. */
function shellSyntax(code: string, timeoutMs: number): Promise<LoadCheck> {
  return new Promise((resolve) => {
    const child = execFile('sh', ['-n'], { timeout: timeoutMs, env: { PATH: process.env.PATH ?? '' } }, (err, _out, stderr) => {
      if (!err) return resolve({ ok: true });
      // dash: "sh: 4: Syntax error: …"; bash as sh: "sh: line 4: syntax error …".
      const m = /^[^:]*: (?:line )?(\d+): (.*)$/m.exec(String(stderr));
      if (m) return resolve({ error: `shell ${m[2]} at line ${m[1]}`, line: Number(m[1]) });
      resolve({ error: `the shell script does not parse: ${String(stderr).trim() || err.message}` });
    });
    child.stdin!.on('error', () => {});
    child.stdin!.end(code);
  });
}
