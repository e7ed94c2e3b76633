// Loads a Node.js action once, in its own short-lived process, and says whether
// its entry is a function: load-check.ts runs this at deploy time so code that
// does not load is refused then, not at its first call. Plain JavaScript run by
// `node` (no tsx): it must start fast and never share the scheduler's process.
//
// stdin: {"code", "main", "binary"} as JSON; the working directory is a fresh
// temporary directory the parent removes. The answer goes to fd 3, one JSON line
// ({"ok": true} | {"ok": true, "unchecked": why} | {"error", "line"?}), since
// the code may print to stdout while it loads.
// The entry is found as OpenWhisk's runner.js finds it: the top-level binding
// named `main`, else module.exports[main] (or `file.entry` inside a zip).
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import vm from 'node:vm';

const FILENAME = path.join(process.cwd(), 'action.js');

/** A refusal found while loading, thrown up to `check`'s caller as is. */
class Refusal extends Error {
  constructor(error, line) {
    super(error);
    this.answer = { error, ...(line && { line }) };
  }
}

const input = JSON.parse(await readStdin());
const answer = await check(input).catch(failure);
writeSync(3, `${JSON.stringify(answer)}\n`);
// Timers or sockets the code left open must not keep this process, and the deploy, waiting.
process.exit(0);

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

async function check({ code, main, binary }) {
  const handler = binary ? await loadZip(code, main) : loadInline(code, main);
  if (handler && handler.unchecked) return { ok: true, unchecked: handler.unchecked };
  if (typeof handler !== 'function') {
    return { error: `the entry '${main}' is ${handler === undefined ? 'not defined' : `a ${typeof handler}, not a function`}: define function ${main}(params), or set exports.${main}` };
  }
  return { ok: true };
}

function loadInline(code, main) {
  const params = ['exports', 'require', 'module', '__filename', '__dirname'];
  try {
    // Alone first, so an unclosed block is blamed on the code, not on the lookup appended below.
    vm.compileFunction(code, params, { filename: FILENAME });
  } catch (err) {
    if (err instanceof SyntaxError) return syntaxError(err);
    throw err;
  }
  const body = `${code}\n;return (() => { try { return ${main}; } catch (e) { if (e instanceof ReferenceError) return module.exports.${main} ?? exports.${main}; throw e; } })();`;
  const wrapper = vm.compileFunction(body, params, { filename: FILENAME });
  const module = { exports: {} };
  return wrapper.call(module.exports, module.exports, createRequire(FILENAME), module, FILENAME, process.cwd());
}

/** V8 puts the line of a SyntaxError only in the stack's first line, `<file>:<line>`. */
function syntaxError(err) {
  const first = String(err.stack).split('\n')[0];
  const line = first.startsWith(`${FILENAME}:`) ? Number(first.slice(FILENAME.length + 1)) : undefined;
  throw new Refusal(`SyntaxError: ${err.message}${line ? ` at line ${line}` : ''}`, line);
}

async function loadZip(base64, main) {
  const zip = Buffer.from(base64, 'base64');
  if (zip.subarray(0, 4).toString('hex') !== '504b0304') throw new Refusal('binary code must be a base64 zip archive (it does not start as one)');
  writeFileSync('action.zip', zip);
  const unzipped = await new Promise((resolve) => {
    execFile('unzip', ['-qq', 'action.zip', '-d', 'action'], (err, _out, stderr) => resolve(err ? (err.code === 'ENOENT' ? 'missing' : String(stderr).trim() || err.message) : 'ok'));
  });
  if (unzipped === 'missing') return { unchecked: 'unzip is not installed where mezz-functions runs; the archive is checked when a worker first loads it' };
  if (unzipped !== 'ok') throw new Refusal(`the zip archive does not open: ${unzipped}`);
  const dir = path.join(process.cwd(), 'action');
  // "file.entry" names a module inside the archive and its export, as OpenWhisk's splitMainHandler.
  const dot = main.indexOf('.');
  const [file, entry] = dot > 0 ? [main.slice(0, dot), main.slice(dot + 1)] : [undefined, main];
  if (file === undefined && !existsSync(path.join(dir, 'package.json')) && !existsSync(path.join(dir, 'index.js'))) {
    throw new Refusal('a zipped action must hold package.json or index.js at its root (or name file.entry in main)');
  }
  process.chdir(dir);
  return createRequire(path.join(dir, 'noop.js'))(file === undefined ? dir : path.join(dir, file))[entry];
}

/** The answer for what loading threw: a Refusal as it is, anything else as the code's own throw, with its line when the stack names one. */
function failure(err) {
  if (err instanceof Refusal) return err.answer;
  const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  const at = String(err?.stack).split('\n').find((l) => l.includes(`${FILENAME}:`));
  const line = at ? Number(at.slice(at.indexOf(`${FILENAME}:`) + FILENAME.length + 1).split(':')[0]) : undefined;
  return { error: `the code throws while loading: ${what}${line ? ` (line ${line})` : ''}`, ...(line && { line }) };
}
