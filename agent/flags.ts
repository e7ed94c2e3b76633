/**
 * The `mezz-agent` command line: every flag, its parser and its default.
 * Durations arrive in milliseconds (`lib/duration-option.ts`).
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { parseMasterList } from '../lib/address';
import { durationOption } from '../lib/duration-option';
import { errorMessage } from '../lib/errors';
import { parseMasterSpec } from '../lib/master-locator';
import { parse as parseResources } from '../lib/resources';
import { VERSION } from '../lib/version';
import { parseAttributes } from './attributes';
import { DEFAULT_DISK_CHECK_INTERVAL_MS } from './disk-watch';
import { DEFAULT_PIDS_MAX, ISOLATION_MODES, type IsolationMode } from './executor/index';
import { DEFAULT_LOG_MAX_BYTES, DEFAULT_LOG_MAX_FILES } from './log-rotation';
import { RECOVER_MODES, type RecoverMode } from './recovery';
import { DEFAULT_GC_DISK_HEADROOM, DEFAULT_SANDBOX_GC_DELAY_MS } from './sandbox-gc';
import { defaultUserPolicy, userNameProblem } from './users';

/** commander wants InvalidArgumentError from parsers; it then names the flag in its one-line error. */
function arg<T>(parse: (text: string) => T): (text: string) => T {
  return (text) => {
    try {
      return parse(text);
    } catch (err) {
      throw new InvalidArgumentError(errorMessage(err));
    }
  };
}

function port(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n > 65535) throw new Error('must be a port number 0-65535 (0: any free port)');
  return n;
}

function count(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n < 1) throw new Error('must be a whole number ≥ 1');
  return n;
}

/** The parsed flags; durations in milliseconds. */
export interface Flags {
  master: string[];
  port: number;
  bind: string;
  workDir?: string;
  resources?: ReturnType<typeof parseResources>;
  attributes?: ReturnType<typeof parseAttributes>;
  hostname?: string;
  killGrace: number;
  pingInterval: number;
  statusRetry: number;
  simulate?: number;
  taskDuration: number;
  recover: RecoverMode;
  fetcherTimeout: number;
  fetcherMaxSize: number;
  isolation: IsolationMode;
  pidsMax: number;
  sandboxGcDelay: number;
  gcDiskHeadroom: number;
  logMaxSize: number;
  logMaxFiles: number;
  diskCheckInterval: number;
  credentials?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  switchUser: boolean;
  defaultUser: string;
}

/** `10MB`, `512KiB`, `1G`, `2048` (bytes); K/M/G are powers of 1024. 0 turns the cap off. */
function byteSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(B|K|KB|KiB|M|MB|MiB|G|GB|GiB)?\s*$/i.exec(text);
  if (!m) throw new Error('must be a size, e.g. 10MB, 512KB or a number of bytes (0: no cap)');
  const unit = (m[2] ?? 'B').toUpperCase()[0]!;
  const scale = unit === 'G' ? 1024 ** 3 : unit === 'M' ? 1024 ** 2 : unit === 'K' ? 1024 : 1;
  return Math.floor(Number(m[1]) * scale);
}

/** `10%` or `0.1`: a fraction of the disk, 0 to 1 (0: off). */
function fraction(text: string): number {
  const t = text.trim();
  const n = t.endsWith('%') ? Number(t.slice(0, -1)) / 100 : Number(t);
  if (!t || !Number.isFinite(n) || n < 0 || n > 1) throw new Error('must be a percentage (10%) or a fraction (0.1) between 0 and 1');
  return n;
}

function nonNegativeInt(text: string): number {
  if (!/^\d+$/.test(text.trim())) throw new Error('must be a whole number ≥ 0');
  return Number(text);
}

function pidsMax(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n < 1) throw new Error('must be a whole number of processes ≥ 1');
  return n;
}

function userName(text: string): string {
  const bad = userNameProblem(text);
  if (bad) throw new Error(bad);
  return text;
}

function megabytes(text: string): number {
  const n = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text.trim()) || !(n > 0)) throw new Error('must be a size in MB, greater than 0');
  return Math.floor(n * 1024 * 1024);
}

/**
 * The `mezz-agent` command line; `main.ts` parses with it, tests read its
 * options. `users`: the user defaults, which depend on whether the agent is root.
 */
export function agentProgram(users = defaultUserPolicy()): Command {
  return new Command('mezz-agent')
    .description('Mezzanine agent: offers this host\'s resources to the master and runs tasks in sandboxes.')
    .version(VERSION)
    .addOption(new Option('--master <host:port,...>', 'master address(es), tried in turn, or etcd://HOST:PORT[/CLUSTER] to find them in etcd')
      .env('MEZZ_MASTER').default(parseMasterList('127.0.0.1:5050'), '127.0.0.1:5050').argParser(arg((t) => parseMasterSpec(t))))
    .option('--port <port>', 'port of the agent\'s files server (0: any free port)', arg(port), 5051)
    .option('--bind <host>', 'address the files server binds', '0.0.0.0')
    .option('--work-dir <dir>', 'sandboxes, checkpoints and agent.json (default /tmp/mezz/agent-<port>)')
    .option('--resources <spec>', 'override detected resources, e.g. \'cpus:4;mem:2048;disk:1000;gpus:0;ports:[31000-32000]\'', arg(parseResources))
    .option('--attributes <spec>', 'attributes for placement, e.g. \'rack:r1;zone:a\'', arg(parseAttributes))
    .option('--hostname <name>', 'hostname reported to the master (default: this host\'s name)')
    .addOption(durationOption('--kill-grace <duration>', 'SIGTERM to SIGKILL grace for tasks that set none', { unit: 'ms', default: 3000 }))
    .addOption(durationOption('--ping-interval <duration>', 'ping interval until the master sets one', { unit: 'ms', default: 1000, positive: true }))
    .addOption(durationOption('--status-retry <duration>', 'resend unacknowledged status updates after this long', { unit: 'ms', default: 2000, positive: true }))
    .addOption(new Option('--recover <mode>', 'after a restart: reconnect to the tasks still running, or cleanup (kill them and start clean)')
      .choices(RECOVER_MODES).default('reconnect'))
    .addOption(durationOption('--fetcher-timeout <duration>', 'time limit for fetching (and extracting) each of a task\'s URIs', { unit: 'ms', default: 300_000, positive: true }))
    .addOption(new Option('--fetcher-max-size <MB>', 'largest file the fetcher accepts')
      .argParser(arg(megabytes)).default(1024 * 1024 * 1024, '1024'))
    .addOption(new Option('--isolation <mode>', 'auto: cgroups (cpu, memory, pids) where the host allows, else process groups; cgroups: refuse to start without them; none: process groups only')
      .choices(ISOLATION_MODES).default('auto').env('MEZZ_ISOLATION'))
    .addOption(new Option('--pids-max <n>', 'most processes and threads one task may have (cgroup pids.max)')
      .argParser(arg(pidsMax)).default(DEFAULT_PIDS_MAX))
    .addOption(durationOption('--sandbox-gc-delay <duration>', 'remove a finished task\'s sandbox this long after it ended', { unit: 'ms', default: DEFAULT_SANDBOX_GC_DELAY_MS }))
    .addOption(new Option('--gc-disk-headroom <fraction>', 'when less than this of the work dir\'s disk is free, remove finished sandboxes early, oldest first (0: never)')
      .argParser(arg(fraction)).default(DEFAULT_GC_DISK_HEADROOM, '10%'))
    .addOption(new Option('--log-max-size <size>', 'rotate a task\'s stdout or stderr past this size (0: never)')
      .argParser(arg(byteSize)).default(DEFAULT_LOG_MAX_BYTES, '10MB'))
    .addOption(new Option('--log-max-files <n>', 'rotated copies kept per log: stdout.1 … stdout.N (0: keep none)')
      .argParser(arg(nonNegativeInt)).default(DEFAULT_LOG_MAX_FILES))
    .addOption(durationOption('--disk-check-interval <duration>', 'how often running tasks\' sandboxes are measured against their disk resource (0: never)', { unit: 'ms', default: DEFAULT_DISK_CHECK_INTERVAL_MS }))
    .option('--credentials <file>', 'this agent\'s credential (JSON {"credentials":[{"principal","secret"}]}, one entry): it registers with it')
    .option('--tls-cert <file>', 'this agent\'s certificate (PEM): mutual TLS with --tls-key and --tls-ca, for the master link and the files server')
    .option('--tls-key <file>', 'the private key of --tls-cert (PEM)')
    .option('--tls-ca <file>', 'the CA (PEM) the master\'s certificate must chain to')
    .addOption(new Option('--switch-user', 'run each task as its user (command.user, else its framework\'s, else --default-user); the agent must be root')
      .default(users.switchUser, users.switchUser ? 'on, the agent is root' : 'off, the agent is not root'))
    .option('--no-switch-user', 'run every task as the agent\'s own user; tasks that ask for another user fail')
    .addOption(new Option('--default-user <name>', 'user of tasks that name none and whose framework names none')
      .argParser(arg(userName)).default(users.defaultUser, users.switchUser ? 'nobody, the agent is root' : 'the agent\'s own user'))
    .option('--simulate <count>', 'simulate this many agents over real gRPC instead of running tasks (scale tests, benchmarks)', arg(count))
    .addOption(durationOption('--task-duration <duration>', 'with --simulate: how long a task runs before it finishes (0: until killed)', { unit: 'ms', default: 5000 }))
    .allowExcessArguments(false)
    .showSuggestionAfterError(false)
    .exitOverride()
    .configureOutput({
      // One line for errors (commander's own, which name the flag), no usage dump.
      outputError: (text, write) => write(text.trim().split('\n')[0] + '\n'),
    });
}
