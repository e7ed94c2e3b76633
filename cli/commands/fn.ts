/**
 * `mezz fn …`: the function runner's functions and activations, through
 * mezz-functions' OpenWhisk-style /api/v1, found through the master
 * (`--framework functions`, its `webui_url`) or given outright (`--url`, env
 * MEZZ_FUNCTIONS_URL). What is sent is cli/fn-request.ts'; what is shown,
 * cli/fn-view.ts'.
 *
 * Two flags differ from `wsk`'s names because the global flags own them and
 * commander reads a global flag wherever it stands: a function's time limit
 * is `--time-limit` (`--timeout` is each call's deadline), and invoking a
 * pinned version is `--pin` (`--version` prints mezz's).
 */
import { readFile } from 'node:fs/promises';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { durationOption } from '../../lib/duration-option';
import { errorMessage } from '../../lib/errors';
import { type Globals, print } from '../context';
import { CliError, UsageError } from '../errors';
import { type FrameworkApi, FrameworkApiError, withFrameworkApi } from '../framework-api';
import { deployBody, FN_KINDS, type FnKind, paramFileParams, parseParams } from '../fn-request';
import {
  type ActionJson, type ActivationJson, actionsText, actionText, activationFailure, activationsText, invokeSummary, type WorkerJson, workersText, resultText, versionsOf, versionsText,
} from '../fn-view';

/** How long a blocking invocation may take to answer: OpenWhisk's blocking wait (60 s), then a 202, and a margin. */
const BLOCKING_WAIT_MS = 70_000;

interface FnOptions {
  namespace: string;
}

function nsPath(cmd: Command): string {
  return `/api/v1/namespaces/${encodeURIComponent(cmd.optsWithGlobals<FnOptions>().namespace)}`;
}

function actionPath(cmd: Command, name: string): string {
  return `${nsPath(cmd)}/actions/${encodeURIComponent(name)}`;
}

function activationPath(cmd: Command, id: string): string {
  return `${nsPath(cmd)}/activations/${encodeURIComponent(id)}`;
}

/** commander's parser for a count flag: a whole number, else its one-line error naming the flag. */
function whole(text: string): number {
  if (!/^\d{1,9}$/.test(text)) throw new InvalidArgumentError('must be a whole number');
  return Number(text);
}

/** Collects a repeated flag (`-p a=1 -p b=2`). */
function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

async function readInput(file: string, what: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new UsageError(`cannot read ${what} ${file}: ${errorMessage(err)}`);
  }
}

interface DeployOptions {
  kind?: FnKind;
  main?: string;
  memory?: number;
  timeLimit?: number;
  concurrency?: number;
  minWarm?: number;
  maxWorkers?: number;
  idle?: number;
  param: string[];
}

interface InvokeOptions {
  param: string[];
  paramFile?: string;
  async?: boolean;
  pin?: string;
}

/** The parameters of an invocation: `--param-file`'s, then each `-p` over them. */
async function invokeParams(o: InvokeOptions): Promise<Record<string, unknown>> {
  const fromFile = o.paramFile ? paramFileParams(o.paramFile, (await readInput(o.paramFile, '--param-file')).toString('utf8')) : {};
  return { ...fromFile, ...parseParams(o.param) };
}

/**
 * A blocking invocation's activation: 200 when it succeeded, 502 with the
 * record when the action failed (OpenWhisk's behaviour); a 202 means it
 * outran the blocking wait and carries on, said with how to read it later.
 */
async function invokeBlocking(api: FrameworkApi, path: string, params: Record<string, unknown>): Promise<ActivationJson> {
  let answer: ActivationJson;
  try {
    answer = await api.request<ActivationJson>('POST', path, params, BLOCKING_WAIT_MS);
  } catch (err) {
    const body = err instanceof FrameworkApiError ? (err.body as Partial<ActivationJson> | undefined) : undefined;
    if (err instanceof FrameworkApiError && err.status === 502 && body?.activationId && body.response) return body as ActivationJson;
    throw err;
  }
  if (!answer.response) throw new CliError(`activation ${answer.activationId} is still running after the blocking wait; read it later with 'mezz fn result ${answer.activationId}'`);
  return answer;
}

/** Prints an activation's result (--json: the whole record) and its summary line on stderr; fails with its error (exit 1) when it did not succeed. */
function finishInvoke(g: Globals, act: ActivationJson): void {
  print(g, act, () => resultText(act.response?.result));
  process.stderr.write(`${invokeSummary(act)}\n`);
  if (!act.response?.success) throw new CliError(activationFailure(act));
}

export function registerFn(program: Command): void {
  const fn = program
    .command('fn')
    .description('the function runner\'s functions (OpenWhisk\'s actions): deploy, invoke, list, show, versions, workers, rm, activations, logs, result')
    .option('--framework <name>', 'the function runner\'s name at the master', 'functions')
    .addOption(new Option('--url <url>', 'the function runner\'s API, instead of asking the master (e.g. http://127.0.0.1:3233)').env('MEZZ_FUNCTIONS_URL'))
    .option('-n, --namespace <ns>', 'the namespace (OpenWhisk\'s; _ is the caller\'s own)', '_');

  fn.command('deploy <name> <file>')
    .description('create a function, or a new version of it, from a file: .js/.mjs/.cjs Node.js code, a .zip Node.js package, anything else a command (JSON on stdin, JSON on stdout); flags left out keep what the function had')
    .addOption(new Option('--kind <kind>', 'the runtime, instead of reading it from the file\'s name').choices(FN_KINDS))
    .option('--main <name>', 'the Node.js entry: a function the code defines (default main); in a zip, file.entry')
    .option('--memory <mb>', 'memory limit in MB (128-512; default 256)', whole)
    .addOption(durationOption('-t, --time-limit <duration>', 'how long one run may take (100ms-5m; default 1m)', { unit: 'ms', positive: true }))
    .option('--concurrency <n>', 'runs in flight per worker (Node.js only above 1; default 1)', whole)
    .option('--min-warm <n>', 'workers kept ready even when idle (default 0: scale to zero)', whole)
    .option('--max-workers <n>', 'at most this many workers (default 10)', whole)
    .addOption(durationOption('--idle <duration>', 'an idle worker stops after this long (default 10m)', { unit: 's', positive: true }))
    .option('-p, --param <key=value>', 'a default parameter (repeatable); the value is JSON when it parses, else text', collect, [])
    .action((name: string, file: string, o: DeployOptions, cmd: Command) => withFrameworkApi(cmd, async (api, g) => {
      const body = deployBody({ path: file, bytes: await readInput(file, 'the code file') }, {
        kind: o.kind, main: o.main, memoryMb: o.memory, timeoutMs: o.timeLimit === undefined ? undefined : Math.round(o.timeLimit),
        concurrency: o.concurrency, minWarm: o.minWarm, maxWorkers: o.maxWorkers, idleSeconds: o.idle === undefined ? undefined : Math.round(o.idle),
        params: parseParams(o.param),
      });
      const action = await api.request<ActionJson>('PUT', `${actionPath(cmd, name)}?overwrite=true`, body);
      print(g, action, () => `deployed ${action.name} version ${action.version}`);
    }));

  fn.command('invoke <name>')
    .description('run a function and print its result (stderr: its activation id, cold or warm, duration); exit 1 with its error when it fails')
    .option('-p, --param <key=value>', 'a parameter (repeatable), over --param-file\'s; the value is JSON when it parses, else text', collect, [])
    .option('--param-file <file>', 'parameters from a JSON object')
    .option('--async', 'do not wait: print the activation id (read it later with mezz fn result ID)')
    .option('--pin <version>', 'run this version (3 or 0.0.3) instead of the latest')
    .action((name: string, o: InvokeOptions, cmd: Command) => withFrameworkApi(cmd, async (api, g) => {
      const params = await invokeParams(o);
      const pin = o.pin ? `&version=${encodeURIComponent(o.pin)}` : '';
      if (o.async) {
        const started = await api.request<{ activationId: string }>('POST', `${actionPath(cmd, name)}?blocking=false${pin}`, params);
        return print(g, started, () => started.activationId);
      }
      finishInvoke(g, await invokeBlocking(api, `${actionPath(cmd, name)}?blocking=true&result=false${pin}`, params));
    }));

  fn.command('list').description('the namespace\'s functions: latest version, kind, limits, warm minimum and worker maximum')
    .action((_o, cmd: Command) => withFrameworkApi(cmd, async (api, g) => {
      const actions = await api.request<ActionJson[]>('GET', `${nsPath(cmd)}/actions`);
      print(g, actions, () => actionsText(actions));
    }));

  fn.command('show <name>').description('one function: kind, version, limits, scaling, code size, parameters')
    .option('--code', 'print its code too (base64 for a zip or binary)')
    .action((name: string, o: { code?: boolean }, cmd: Command) => withFrameworkApi(cmd, async (api, g) => {
      const action = await api.request<ActionJson>('GET', `${actionPath(cmd, name)}?code=true`);
      const shown = o.code ? action : { ...action, exec: { ...action.exec, code: undefined } };
      print(g, shown, () => `${actionText(action)}${o.code ? `\n\n${action.exec.code ?? ''}` : ''}`);
    }));

  fn.command('versions <name>').description('a function\'s stored versions, newest (the one invoked) first')
    .action((name: string, _o, cmd: Command) => withFrameworkApi(cmd, async (api, g) => {
      const versions = versionsOf(await api.request('GET', `${actionPath(cmd, name)}/versions`));
      print(g, versions, () => versionsText(name, versions));
    }));

  fn.command('workers <name>').description('a function\'s workers now: task, state, version, calls in flight, idle time (none once it scaled to zero)')
    .action((name: string, _o, cmd: Command) => withFrameworkApi(cmd, async (api, g) => {
      const workers = await api.request<WorkerJson[]>('GET', `${actionPath(cmd, name)}/workers`);
      print(g, workers, () => workersText(name, workers, Date.now()));
    }));

  fn.command('rm <name>').description('delete a function and every version; its workers stop')
    .action((name: string, _o, cmd: Command) => withFrameworkApi(cmd, async (api, g) => {
      const removed = await api.request<ActionJson | undefined>('DELETE', actionPath(cmd, name));
      print(g, removed ?? null, () => `function ${name} removed${removed?.version ? ` (its latest version was ${removed.version})` : ''}`);
    }));

  fn.command('activations [name]').description('recent activations, newest first: id, function, version, status, cold or warm, start, duration')
    .option('--limit <n>', 'at most this many (OpenWhisk allows 200)', whole, 30)
    .action((name: string | undefined, o: { limit: number }, cmd: Command) => withFrameworkApi(cmd, async (api, g) => {
      const query = `?docs=true&limit=${o.limit}${name ? `&name=${encodeURIComponent(name)}` : ''}`;
      const acts = await api.request<ActivationJson[]>('GET', `${nsPath(cmd)}/activations${query}`);
      print(g, acts, () => activationsText(acts));
    }));

  fn.command('logs <activation>').description('the log lines of an activation (TIMESTAMP STREAM: LINE)')
    .action((id: string, _o, cmd: Command) => withFrameworkApi(cmd, async (api, g) => {
      const { logs } = await api.request<{ logs?: string[] }>('GET', `${activationPath(cmd, id)}/logs`);
      print(g, logs ?? [], () => (logs ?? []).join('\n'));
    }));

  fn.command('result <activation>').description('the result of an activation (an --async one, once it ended); exit 1 when it failed')
    .action((id: string, _o, cmd: Command) => withFrameworkApi(cmd, async (api, g) => {
      const response = await api.request<NonNullable<ActivationJson['response']>>('GET', `${activationPath(cmd, id)}/result`);
      print(g, response, () => resultText(response.result));
      if (response.success === false) throw new CliError(activationFailure({ activationId: id, response }));
    }));
}
