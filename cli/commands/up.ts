/**
 * `mezz up`: a whole cluster on this machine, for trying Mezzanine out.
 *
 *   master ──"listening on"──▶ agent-1 … agent-N ──"listening on"──▶ banner ──▶ wait
 *                                                                               │
 *   Ctrl-C / SIGTERM ──▶ SIGTERM every child ──5 s──▶ SIGKILL stragglers ──▶ exit 0
 *   a child dies     ──▶ say which, stop the rest                        ──▶ exit 1
 *
 * Children run in their own process group, so a Ctrl-C in the terminal
 * reaches only `mezz up`, which then stops them in order. Their output goes
 * to DIR/logs/<name>.log.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { errorMessage } from '../../lib/errors';
import { parse as parseResources } from '../../lib/resources';
import { startEtcd, type EtcdProcess } from '../../lib/etcd-process';
import { CliError, UsageError } from '../errors';

const MASTER_BIN = fileURLToPath(new URL('../../bin/mezz-master.mjs', import.meta.url));
const AGENT_BIN = fileURLToPath(new URL('../../bin/mezz-agent.mjs', import.meta.url));

/** How long a child may take to say "listening on". */
const READY_DEADLINE_MS = 30_000;
/** How long a child may take to exit after SIGTERM before SIGKILL. */
const STOP_GRACE_MS = 5_000;
/** Log lines kept in memory per child, to show when it dies. */
const TAIL_LINES = 15;
const LISTENING = /listening on\s+(\S+)/i;

interface UpOptions {
  ha?: boolean;
  port: string;
  agents: string;
  dataDir: string;
  agentResources?: string;
}

export function registerUp(program: Command): void {
  program
    .command('up')
    .description('start a master and agents on this machine, in the foreground until Ctrl-C')
    .option('--port <port>', "the master's port", '5050')
    .option('--agents <n>', 'how many agents to start', '2')
    .option('--data-dir <dir>', 'where state, sandboxes and logs go', './.mezz')
    .option('--ha', 'high availability: a local etcd (Debian package etcd-server) and three masters on ports PORT..PORT+2')
    .option('--agent-resources <resources>', "each agent's resources instead of detecting them, e.g. 'cpus:2;mem:2048;ports:[31000-31999]'")
    .action((opts: UpOptions) => up(opts));
}

/** One supervised process. */
class Child {
  readonly proc: ChildProcess;
  readonly tail: string[] = [];
  /** The address from its "listening on" line. */
  readonly ready: Promise<string>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  alive = true;
  readonly #log: WriteStream;

  constructor(readonly name: string, bin: string, args: string[], readonly logPath: string) {
    this.#log = createWriteStream(logPath, { flags: 'a' });
    this.#log.write(`--- ${new Date().toISOString()} mezz up: ${path.basename(bin)} ${args.join(' ')}\n`);
    this.proc = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.exited = new Promise((resolve) => {
      this.proc.once('exit', (code, signal) => {
        this.alive = false;
        resolve({ code, signal });
      });
      this.proc.once('error', (err) => {
        this.#line(`mezz up: cannot start ${this.name}: ${err.message}`);
        this.alive = false;
        resolve({ code: null, signal: null });
      });
    });
    this.ready = new Promise((resolve) => {
      for (const stream of [this.proc.stdout!, this.proc.stderr!]) {
        createInterface({ input: stream }).on('line', (line) => {
          this.#line(line);
          const m = LISTENING.exec(line);
          if (m) resolve(m[1]!);
        });
      }
    });
  }

  #line(line: string): void {
    this.#log.write(`${line}\n`);
    this.tail.push(line);
    if (this.tail.length > TAIL_LINES) this.tail.shift();
  }

  /** `exited with code 1` / `was killed by SIGKILL`. */
  static describeExit(e: { code: number | null; signal: NodeJS.Signals | null }): string {
    return e.signal ? `was killed by ${e.signal}` : `exited with code ${e.code}`;
  }

  /** The end of its output, indented, for error messages. */
  tailText(): string {
    return this.tail.length ? `\n  ${this.tail.join('\n  ')}` : ' (no output)';
  }

  closeLog(): void {
    this.#log.end();
  }
}

/** Checks the flags; UsageError naming the bad one. */
function validate(opts: UpOptions): { port: number; agents: number; dataDir: string; resources?: string; ha: boolean } {
  const port = Number(opts.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be 0-65535; got "${opts.port}"`);
  const agents = Number(opts.agents);
  if (!Number.isInteger(agents) || agents < 0 || agents > 64) throw new UsageError(`--agents must be a whole number 0-64; got "${opts.agents}"`);
  if (opts.agentResources !== undefined) {
    try {
      parseResources(opts.agentResources);
    } catch (err) {
      throw new UsageError(`--agent-resources: ${errorMessage(err)}`);
    }
  }
  return { port, agents, dataDir: path.resolve(opts.dataDir), resources: opts.agentResources, ha: Boolean(opts.ha) };
}

async function up(opts: UpOptions): Promise<void> {
  const cfg = validate(opts);
  const logDir = path.join(cfg.dataDir, 'logs');
  await mkdir(logDir, { recursive: true });
  // Paths as the user would type them: relative below the current directory, absolute elsewhere.
  const shown = (p: string) => {
    const rel = path.relative(process.cwd(), p);
    return rel === '' ? '.' : rel.startsWith('..') ? p : rel;
  };

  const children: Child[] = [];
  let stopping = false;

  // Settled by the first of: a signal (resolves) or an unexpected death (rejects).
  let interrupted!: (signal: string) => void;
  let failed!: (err: CliError) => void;
  const ended = new Promise<string>((resolve, reject) => {
    interrupted = resolve;
    failed = reject;
  });
  ended.catch(() => {}); // observed below; this keeps an early rejection from counting as unhandled
  const onSignal = (signal: NodeJS.Signals) => interrupted(signal);
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, onSignal);

  const start = (name: string, bin: string, args: string[]): Child => {
    const child = new Child(name, bin, args, path.join(logDir, `${name}.log`));
    children.push(child);
    void child.exited.then((e) => {
      if (!stopping) failed(new CliError(`${name} ${Child.describeExit(e)}; stopping the others. The end of ${shown(child.logPath)}:${child.tailText()}`));
    });
    return child;
  };

  /** Waits for every child's "listening on"; false when interrupted first. */
  const allReady = async (group: Child[]): Promise<string[] | false> => {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const slow = group.filter((c) => c.alive)[0]!;
        reject(new CliError(`${slow.name} did not report "listening on" within ${READY_DEADLINE_MS / 1000}s. The end of ${shown(slow.logPath)}:${slow.tailText()}`));
      }, READY_DEADLINE_MS);
    });
    try {
      return await Promise.race([Promise.all(group.map((c) => c.ready)), ended.then(() => false as const), deadline]);
    } finally {
      clearTimeout(timer);
    }
  };

  const stopAll = async (): Promise<void> => {
    stopping = true;
    const alive = children.filter((c) => c.alive);
    for (const c of alive) c.proc.kill('SIGTERM');
    const grace = new Promise((r) => setTimeout(r, STOP_GRACE_MS).unref());
    await Promise.race([Promise.all(alive.map((c) => c.exited)), grace]);
    for (const c of children.filter((c) => c.alive)) {
      process.stderr.write(`mezz: ${c.name} did not stop within ${STOP_GRACE_MS / 1000}s; killing it\n`);
      c.proc.kill('SIGKILL');
    }
    await Promise.all(children.map((c) => c.exited));
    for (const c of children) c.closeLog();
    await etcd?.stop();
    for (const s of signals) process.off(s, onSignal);
  };
  let etcd: EtcdProcess | undefined;

  try {
    let masterAddress: string;
    let masters: Child[];
    if (cfg.ha) {
      // etcd first: the masters campaign on it. Its data stays in DIR/etcd, so a restart keeps the registry.
      try {
        etcd = await startEtcd({ dataDir: path.join(cfg.dataDir, 'etcd') });
      } catch (err) {
        throw new CliError(`cannot start etcd for --ha: ${errorMessage(err)}`);
      }
      if (!cfg.port) throw new UsageError('--ha needs a fixed --port (the masters use PORT, PORT+1 and PORT+2)');
      masters = [0, 1, 2].map((i) => start(`master-${i + 1}`, MASTER_BIN, [
        '--port', String(cfg.port + i), '--etcd', etcd!.endpoint, '--advertise', `127.0.0.1:${cfg.port + i}`,
      ]));
      if (!(await allReady(masters))) return await stopAll();
      masterAddress = masters.map((_, i) => `127.0.0.1:${cfg.port + i}`).join(',');
    } else {
      const master = start('master', MASTER_BIN, ['--port', String(cfg.port), '--data-dir', path.join(cfg.dataDir, 'master')]);
      const masterReady = await allReady([master]);
      if (!masterReady) return await stopAll();
      masters = [master];
      // The port we asked for is the gRPC one; the line tells us only when we asked for any free port.
      masterAddress = cfg.port ? `127.0.0.1:${cfg.port}` : masterReady[0]!;
    }

    const agents = Array.from({ length: cfg.agents }, (_, i) => start(`agent-${i + 1}`, AGENT_BIN, [
      '--master', masterAddress, '--port', '0', '--work-dir', path.join(cfg.dataDir, `agent-${i + 1}`),
      ...(cfg.resources !== undefined ? ['--resources', cfg.resources] : []),
    ]));
    const agentAddresses = await allReady(agents);
    if (!agentAddresses) return await stopAll();

    process.stdout.write(banner(masterAddress, masters, agents, agentAddresses, shown(cfg.dataDir), shown(logDir), etcd?.endpoint));
    const signal = await ended;
    process.stderr.write(`mezz: ${signal}: stopping the cluster\n`);
    await stopAll();
  } catch (err) {
    await stopAll();
    throw err;
  }
}

function banner(master: string, masters: Child[], agents: Child[], addresses: string[], dataDir: string, logDir: string, etcd?: string): string {
  const flag = master === '127.0.0.1:5050' ? '' : ` --master ${master}`;
  const list = master.split(',');
  const rows = [
    ...(etcd ? [`  etcd      ${etcd.replace(/^http:\/\//, '').padEnd(22)}`] : []),
    ...masters.map((m, i) => `  ${(masters.length > 1 ? m.name : 'master').padEnd(9)} ${list[i]!.padEnd(22)} pid ${m.proc.pid}`),
    ...agents.map((a, i) => `  ${a.name.padEnd(9)} ${addresses[i]!.padEnd(22)} pid ${a.proc.pid}`),
  ];
  const what = masters.length > 1 ? `${masters.length} masters on etcd (HA)` : '1 master';
  return [
    `Mezzanine is up: ${what}, ${agents.length} agent${agents.length === 1 ? '' : 's'}. State in ${dataDir}; logs in ${logDir}/<name>.log.`,
    ...rows,
    '',
    'Next:',
    ...(masters.length > 1 ? [`  mezz leader${flag}`] : []),
    `  mezz agents${flag}`,
    `  npx tsx examples/hello-framework.ts --master ${master} --tasks 5 --cmd 'echo hello'`,
    `  mezz tasks${flag}`,
    '',
    'Ctrl-C stops the cluster.',
    '',
  ].join('\n');
}
