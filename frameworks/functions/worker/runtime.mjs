// The function worker: one process per worker task, speaking OpenWhisk's action
// runtime protocol (POST /init once, POST /run per invocation) on PORT0, plus
// Mezzanine's GET /health. Plain ESM with only Node's standard library, because
// its start-up time is what every cold start from nothing pays; child_process and
// fs/promises are loaded only by the paths that need them (command kind, zips).
//
// Environment: PORT0 (0 = the OS picks; 8080 as OpenWhisk when unset),
// MEZZ_FN_HOST (bind address, 0.0.0.0), MEZZ_FN_KIND (nodejs | command),
// MEZZ_FN_CONCURRENCY (runs in flight, 1), MEZZ_FN_LOG_LIMIT (bytes of log lines
// kept per run, 10 MB as OpenWhisk's log-limit), MEZZ_FN_WORKER_ID (echoed by
// /health, so the scheduler knows it reached this worker and not another process
// on the port), MEZZ_FN_SECRET (when set, /init and /run require it in
// `x-mezz-fn-secret`: a stem runs whatever code it is sent, so only its scheduler
// may send any). See README.md "Worker runtime".
import { timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import { AsyncLocalStorage } from 'node:async_hooks';
import { createRequire } from 'node:module';
import path from 'node:path';
import vm from 'node:vm';

const KIND = process.env.MEZZ_FN_KIND || 'nodejs';
const SECRET = process.env.MEZZ_FN_SECRET ? Buffer.from(process.env.MEZZ_FN_SECRET) : undefined;
delete process.env.MEZZ_FN_SECRET; // the action's code (and a command's environment) never sees it
const WORKER_ID = process.env.MEZZ_FN_WORKER_ID || undefined;
const CONCURRENCY = positiveInt('MEZZ_FN_CONCURRENCY', 1);
const LOG_LIMIT = positiveInt('MEZZ_FN_LOG_LIMIT', 10 * 1024 * 1024, true);
const BODY_LIMIT = 48 * 1024 * 1024; // OpenWhisk's requestBodyLimit and exec-size-limit
const MARKER = 'XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX\n';
const RESULT_LIMIT = BODY_LIMIT; // a command's stdout kept; the caller enforces OpenWhisk's 1 MB result limit
const STDERR_TAIL = 2000; // characters of a failed command's stderr put in its error

function positiveInt(name, fallback, zeroOk = false) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < (zeroOk ? 0 : 1)) fail(`${name} must be an integer ${zeroOk ? '>= 0' : '>= 1'}, got '${raw}'`);
  return n;
}

function fail(message) {
  process.stderr.write(`runtime: ${message}\n`);
  process.exit(2);
}

if (KIND !== 'nodejs' && KIND !== 'command') fail(`MEZZ_FN_KIND must be 'nodejs' or 'command', got '${KIND}'`);

// ---------------------------------------------------------------- per-run logs
// Each run (and the init) executes inside `capture`'s AsyncLocalStorage context;
// stdout/stderr writes made in that context, through console or the streams
// directly, are also kept as that run's log lines. Everything still reaches the
// process's real streams, so the sandbox log reads like OpenWhisk's.

const capture = new AsyncLocalStorage();
const realWrite = {
  stdout: process.stdout.write.bind(process.stdout),
  stderr: process.stderr.write.bind(process.stderr),
};

/** A run's log: `TIMESTAMP STREAM: LINE` lines, capped at LOG_LIMIT bytes of line text. */
class RunLog {
  lines = [];
  bytes = 0;
  truncated = false;
  partial = { stdout: '', stderr: '' };
  /** Per-run __OW_* variables, read through process.env while this run's code executes. */
  env;

  constructor(env = {}) {
    this.env = env;
  }

  write(stream, text) {
    if (this.truncated) return;
    const parts = (this.partial[stream] + text).split('\n');
    this.partial[stream] = parts.pop();
    for (const line of parts) this.add(stream, line);
    // A line that never ends must not grow past the limit in memory: it is over it already.
    if (this.partial[stream].length > LOG_LIMIT) {
      this.add(stream, this.partial[stream]);
      this.partial[stream] = '';
    }
  }

  add(stream, line) {
    if (this.truncated) return;
    const size = Buffer.byteLength(line);
    if (this.bytes + size > LOG_LIMIT) {
      this.truncated = true;
      this.lines.push(`${new Date().toISOString()} stderr: Logs were truncated because the total bytes size exceeds the limit of ${LOG_LIMIT} bytes.`);
      return;
    }
    this.bytes += size;
    this.lines.push(`${new Date().toISOString()} ${stream}: ${line}`);
  }

  /** The lines, with any unterminated last line of each stream; call once, at the run's end. */
  finish() {
    for (const stream of ['stdout', 'stderr']) {
      if (this.partial[stream] !== '') this.add(stream, this.partial[stream]);
      this.partial[stream] = '';
    }
    return this.lines;
  }
}

for (const stream of ['stdout', 'stderr']) {
  process[stream].write = function write(chunk, encoding, callback) {
    const log = capture.getStore();
    if (log) log.write(stream, typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString(typeof encoding === 'string' ? encoding : 'utf8'));
    return realWrite[stream](chunk, encoding, callback);
  };
}

function writeMarkers() {
  realWrite.stdout(MARKER);
  realWrite.stderr(MARKER);
}

// With several runs in flight one process.env cannot hold each run's __OW_*
// values, so process.env reads them from the current run's context first;
// outside a run (and for keys a run did not set) it is the real environment,
// which also holds the latest run's values, as OpenWhisk's runtime leaves it.
const realEnv = process.env;
process.env = new Proxy(realEnv, {
  get(target, key) {
    const env = capture.getStore()?.env;
    return env && typeof key === 'string' && Object.hasOwn(env, key) ? env[key] : Reflect.get(target, key);
  },
  getOwnPropertyDescriptor(target, key) {
    const descriptor = Reflect.getOwnPropertyDescriptor(target, key);
    const env = capture.getStore()?.env;
    if (descriptor && env && typeof key === 'string' && Object.hasOwn(env, key)) descriptor.value = env[key];
    return descriptor;
  },
});

// ---------------------------------------------------------------- the action

/** What the worker is: 'stem' until /init, 'initialising', 'ready', or 'failed' after an init that failed. */
let state = 'stem';
let actionName;
/** (value) => Promise<{code, body}>, set by a successful /init. */
let runAction;
let inflight = 0;

class InitError extends Error {}

function stringEnv(value) {
  if (value === null || value === undefined) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

async function init(message) {
  if (message.env && typeof message.env === 'object') {
    for (const [key, value] of Object.entries(message.env)) realEnv[key] = stringEnv(value);
  }
  runAction = KIND === 'command' ? await loadCommand(message) : await loadNodejs(message);
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

async function loadNodejs({ name, main, code, binary }) {
  const handler = binary ? await loadZip(code, main) : loadInline(name, main, code);
  if (typeof handler !== 'function') throw new InitError(`Action entrypoint '${main}' is not a function.`);
  return (value) => runNodejs(handler, value);
}

/**
 * Inline source is a CommonJS module body. As OpenWhisk's runner does, the entry
 * is the top-level binding named `main` if there is one, else exports[main]; the
 * lookup is appended after the code, which keeps the code's line numbers.
 */
function loadInline(name, main, code) {
  if (!IDENTIFIER.test(main)) throw new InitError(`Action entrypoint '${main}' is not a valid function name.`);
  const filename = path.join(process.cwd(), `${safeFileName(name)}.js`);
  const body = `${code}\n;return (() => { try { return ${main}; } catch (e) { if (e instanceof ReferenceError) return module.exports.${main} ?? exports.${main}; throw e; } })();`;
  const params = ['exports', 'require', 'module', '__filename', '__dirname'];
  try {
    vm.compileFunction(code, params, { filename }); // alone first, so an unclosed block is not blamed on the lookup
  } catch (err) {
    throw err instanceof SyntaxError ? new InitError(syntaxErrorText(err, filename)) : err;
  }
  const wrapper = vm.compileFunction(body, params, { filename });
  const module = { exports: {} };
  return wrapper.call(module.exports, module.exports, createRequire(filename), module, filename, path.dirname(filename));
}

function safeFileName(name) {
  return typeof name === 'string' && name !== '' ? name.replace(/[^\w.-]/g, '_') : 'action';
}

/** `SyntaxError: <what> at line N`, with the line and the caret V8 puts in the stack. */
function syntaxErrorText(err, filename) {
  const [where, source, caret] = String(err.stack).split('\n');
  const line = where.startsWith(`${filename}:`) ? Number(where.slice(filename.length + 1)) : undefined;
  const at = line ? ` at line ${line}` : '';
  return `SyntaxError: ${err.message}${at}${line ? `\n${source}\n${caret}` : ''}`;
}

/** A base64 zip: unzipped into a temporary directory, its package.json main or index.js required. */
async function loadZip(base64, main) {
  const zip = Buffer.from(base64, 'base64');
  if (zip.subarray(0, 4).toString('hex') !== '504b0304') throw new InitError('The action archive is not a zip file (binary code must be a base64 zip).');
  const [{ mkdtemp, writeFile, access }, os, { execFile }] = await Promise.all([import('node:fs/promises'), import('node:os'), import('node:child_process')]);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mezz-fn-'));
  const archive = path.join(dir, 'action.zip');
  const moduleDir = path.join(dir, 'action');
  await writeFile(archive, zip);
  await new Promise((resolve, reject) => execFile('unzip', ['-qq', archive, '-d', moduleDir], (err, _out, stderr) => {
    if (!err) resolve();
    else if (err.code === 'ENOENT') reject(new InitError('The `unzip` binary is not installed on this agent; it is needed to open a zipped action.'));
    else reject(new InitError(`There was an error uncompressing the action zip archive: ${String(stderr).trim() || err.message}`));
  }));
  // "file.fn" names a module in the archive and its export, as OpenWhisk's splitMainHandler.
  const dot = main.indexOf('.');
  const [file, entry] = dot > 0 ? [main.slice(0, dot), main.slice(dot + 1)] : [undefined, main];
  if (file === undefined) {
    const has = (f) => access(path.join(moduleDir, f)).then(() => true, () => false);
    if (!(await has('package.json')) && !(await has('index.js'))) throw new InitError('Zipped actions must contain either package.json or index.js at the root.');
  }
  process.chdir(moduleDir); // the action may read its own files by relative path
  return createRequire(path.join(moduleDir, 'noop.js'))(file === undefined ? moduleDir : path.join(moduleDir, file))[entry];
}

/** Runs the handler; the answer follows OpenWhisk's service.js and runner.js. */
async function runNodejs(handler, value) {
  let result;
  try {
    result = handler(value);
  } catch (err) {
    process.stderr.write(`${err?.stack ?? err}\n`);
    return { code: 502, body: { error: `An error has occurred: ${err}` } };
  }
  try {
    result = await result;
  } catch (reason) {
    return { code: 200, body: { error: reason ? serializeError(reason) : {} } };
  }
  if (result === undefined) return { code: 200, body: {} };
  if (result === null || typeof result !== 'object') {
    process.stderr.write(`Result must be of type object but has type "${result === null ? 'null' : typeof result}": ${result}\n`);
    return { code: 502, body: { error: 'The action did not return a dictionary.' } };
  }
  return { code: 200, body: result };
}

/** A rejection reason as JSON, as the serialize-error package OpenWhisk uses: errors become {name, message, stack, …}. */
function serializeError(reason) {
  if (!(reason instanceof Error)) return reason;
  return { ...reason, name: reason.name, message: reason.message, stack: reason.stack };
}

/** The command kind: `code` is an executable run once per invocation, request JSON on stdin, response JSON on stdout. */
async function loadCommand({ name, code, binary }) {
  const [{ mkdtemp, writeFile }, os, { spawn }] = await Promise.all([import('node:fs/promises'), import('node:os'), import('node:child_process')]);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mezz-fn-'));
  const file = path.join(dir, safeFileName(name));
  const bytes = binary ? Buffer.from(code, 'base64') : Buffer.from(code);
  await writeFile(file, bytes, { mode: 0o755 });
  const hasShebang = bytes.subarray(0, 2).toString() === '#!';
  const [command, args] = hasShebang ? [file, []] : ['sh', [file]];
  return (value) => runCommand(spawn, command, args, value);
}

function runCommand(spawn, command, args, value) {
  const log = capture.getStore();
  return new Promise((resolve) => {
    const child = spawn(command, args, { env: { ...realEnv, ...log.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout = [];
    let stdoutBytes = 0;
    let stderrTail = '';
    child.stdout.on('data', (chunk) => {
      stdoutBytes += chunk.length;
      if (stdoutBytes <= RESULT_LIMIT) stdout.push(chunk);
      else child.kill('SIGKILL'); // a runaway writer would otherwise fill the worker's memory
    });
    child.stderr.setEncoding('utf8').on('data', (text) => {
      log.write('stderr', text);
      realWrite.stderr(text);
      stderrTail = (stderrTail + text).slice(-STDERR_TAIL);
    });
    child.stdin.on('error', () => {}); // a command that never reads its input closes the pipe early
    child.stdin.end(`${JSON.stringify(value)}\n`);
    child.on('error', (err) => resolve({ code: 502, body: { error: `The action could not be started: ${err.message}` } }));
    child.on('close', (exitCode, signal) => {
      if (stdoutBytes > RESULT_LIMIT) {
        return resolve({ code: 502, body: { error: `The action wrote more than ${RESULT_LIMIT} bytes to stdout; its response must be one JSON object.` } });
      }
      if (exitCode !== 0) {
        const how = signal ? `was killed by ${signal}` : `exited with code ${exitCode}`;
        return resolve({ code: 502, body: { error: `The action ${how}${stderrTail.trim() ? `: ${stderrTail.trim()}` : '.'}` } });
      }
      resolve(commandResult(Buffer.concat(stdout).toString('utf8')));
    });
  });
}

function commandResult(text) {
  let result;
  try {
    result = JSON.parse(text);
  } catch {
    result = undefined;
  }
  if (result === null || typeof result !== 'object') {
    const shown = text.length > 200 ? `${text.slice(0, 200)}…` : text;
    return { code: 502, body: { error: `The action did not produce a valid JSON response: ${JSON.stringify(shown)}` } };
  }
  return { code: 200, body: result };
}

// ---------------------------------------------------------------- HTTP

/** The contract's answer to /init, `{code, body}`, with the init's log when the code was loaded. */
async function handleInit(body) {
  if (state !== 'stem') {
    const error = state === 'ready' ? 'Cannot initialize the action more than once.' : `System not ready, status is ${state}.`;
    return { code: 403, body: { error } };
  }
  const message = body?.value ?? {};
  if (typeof message.main !== 'string' || message.main === '' || typeof message.code !== 'string' || message.code === '') {
    return { code: 403, body: { error: 'Missing main/no code to execute.' } };
  }
  state = 'initialising';
  const log = new RunLog();
  const answer = await capture.run(log, async () => {
    try {
      await init(message);
      state = 'ready';
      actionName = typeof message.name === 'string' ? message.name : undefined;
      return { code: 200, body: { OK: true } };
    } catch (err) {
      state = 'failed';
      const why = err instanceof InitError ? err.message : (err?.stack ?? String(err));
      process.stderr.write(`Error during initialization: ${why}\n`);
      writeMarkers();
      return { code: 502, body: { error: `Initialization has failed due to: ${why}` } };
    }
  });
  return { ...answer, log };
}

/** The contract's answer to /run, `{code, body}`, with the run's log when the action ran. */
async function handleRun(body) {
  if (state !== 'ready') {
    return { code: 403, body: { error: state === 'stem' ? 'System not initialized.' : `System not ready, status is ${state}.` } };
  }
  if (inflight >= CONCURRENCY) return { code: 429, body: { error: `Too many runs in flight: this worker takes ${CONCURRENCY} at a time.` } };
  const message = body ?? {};
  const value = message.value ?? {};
  if (typeof value !== 'object') {
    return { code: 403, body: { error: `Internal system error: the argument must be a dictionary but has type '${typeof value}'.` } };
  }
  const env = {};
  for (const [key, field] of Object.entries(message)) {
    if (key !== 'value' && typeof field === 'string') env[`__OW_${key.toUpperCase()}`] = field;
  }
  Object.assign(realEnv, env);
  const log = new RunLog(env);
  inflight++;
  let answer;
  try {
    answer = await capture.run(log, () => runAction(value));
  } finally {
    inflight--;
    writeMarkers();
  }
  return { ...answer, log };
}

function handleHealth() {
  const health = { state, kind: KIND, inflight };
  if (actionName !== undefined) health.name = actionName;
  if (WORKER_ID !== undefined) health.worker = WORKER_ID;
  return { code: 200, body: health };
}

function readJson(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size <= BODY_LIMIT) chunks.push(chunk); // past it, drain to answer 413 on a readable connection
    });
    req.on('end', () => {
      if (size > BODY_LIMIT) return reject(Object.assign(new Error(`The request body exceeds the limit of ${BODY_LIMIT} bytes.`), { status: 413 }));
      try {
        resolve(size === 0 ? {} : JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        reject(Object.assign(new Error('Bad request.'), { status: 500 })); // OpenWhisk's answer to malformed JSON
      }
    });
    req.on('error', reject);
  });
}

async function route(req) {
  const [pathname, query = ''] = req.url.split('?');
  const withLogs = new URLSearchParams(query).get('logs') === '1';
  if (req.method === 'GET' && pathname === '/health') return handleHealth();
  if (req.method === 'POST' && (pathname === '/init' || pathname === '/run')) {
    if (!authorised(req)) {
      req.resume();
      return { code: 401, body: { error: 'This worker takes /init and /run only from its scheduler: the x-mezz-fn-secret header is missing or wrong.' } };
    }
    const body = await readJson(req);
    const { code, body: answer, log } = await (pathname === '/init' ? handleInit(body) : handleRun(body));
    return withLogs ? { code, body: { response: answer, logs: log?.finish() ?? [] } } : { code, body: answer };
  }
  return { code: 404, body: { error: `No route ${req.method} ${pathname}: the worker serves POST /init, POST /run and GET /health.` } };
}

function authorised(req) {
  if (!SECRET) return true;
  const given = Buffer.from(String(req.headers['x-mezz-fn-secret'] ?? ''));
  return given.length === SECRET.length && timingSafeEqual(given, SECRET);
}

function send(res, { code, body }) {
  let text;
  try {
    text = JSON.stringify(body);
  } catch (err) {
    code = 502;
    text = JSON.stringify({ error: `The action did not return a dictionary that can be serialised as JSON: ${err.message}` });
  }
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const server = http.createServer((req, res) => {
  route(req).then(
    (answer) => send(res, answer),
    (err) => send(res, { code: err.status ?? 500, body: { error: err.status ? err.message : `Internal error: ${err.message}` } }),
  );
});
server.requestTimeout = 0; // runs last as long as the caller allows; it enforces the time limit
server.keepAliveTimeout = 60_000;

const host = process.env.MEZZ_FN_HOST || '0.0.0.0';
server.listen(positiveInt('PORT0', 8080, true), host, () => {
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  realWrite.stdout(`listening on ${shown}:${server.address().port}\n`);
});
