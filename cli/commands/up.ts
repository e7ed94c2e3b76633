/**
 * `mezz up`: a whole cluster on this machine, for trying Mezzanine out: the
 * master(s), the agents and the shipped frameworks (FRAMEWORKS: mezz-services,
 * the Marathon API on :8080; mezz-batch, the Metronome API on :9000;
 * mezz-functions, OpenWhisk's API on :3233) unless
 * --no-frameworks.
 *
 *   master ──"listening on"──┬─▶ agent-1 … agent-N ──"listening on"───────────┬─▶ banner ──▶ supervise
 *                            └─▶ services, batch, functions ─"listening on", GET /health 200 ─┘   │
 *   a child dies while starting ──▶ say which, stop the rest (a framework's port taken: say which) ──▶ exit 1
 *   a child dies once up        ──▶ "agent-1 exited (signal SIGKILL); restarting in 1s"
 *                                   ──▶ the same command again (same port, data or work dir)
 *   Ctrl-C / SIGTERM ──▶ SIGTERM every child's group ──5 s──▶ SIGKILL stragglers ──▶ exit 0
 *
 * Everything listens on --host, 127.0.0.1 by default: an agent runs any
 * command it is sent, so a cluster on 0.0.0.0 is a shell for the whole
 * network. Authentication is on too (up-credentials.ts): other users of
 * this machine reach loopback as well, and only a holder of DIR/token (mode
 * 0600) may operate the cluster or run frameworks on it. Children run in
 * their own process group, so a Ctrl-C in the terminal reaches only
 * `mezz up`, which then stops them in order. Their output goes to
 * DIR/logs/<name>.log. A restarted agent recovers its id and
 * its running tasks from its work dir; a restarted master reloads its registry.
 * Each framework NAME keeps its state in DIR/NAME (with --ha: in the same
 * etcd, under its own prefix), presents DIR/NAME-token to the master, and
 * answers its HTTP API to the principals of DIR/credentials.json as
 * DIR/acls.json allows (the admin token may do everything there).
 *
 * With --ha the local etcd holds the registry, so it is not anonymous: it
 * serves https only and requires a client certificate (see localEtcdTls).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, rmSync, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import net, { isIP } from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { errorMessage } from '../../lib/errors';
import { truncate } from '../../lib/limits';
import { parse as parseResources } from '../../lib/resources';
import { DEFAULT_DATA_DIR, isLoopback, TOKEN_FILE_NAME, type TlsFiles } from '../../lib/auth';
import { startEtcd, type EtcdProcess } from '../../lib/etcd-process';
import { createCa, issueCertificate } from '../../lib/tls-certificates';
import { CliError, UsageError } from '../errors';
import { ensureLocalCredentials } from './up-credentials';

const MASTER_BIN = fileURLToPath(new URL('../../bin/mezz-master.mjs', import.meta.url));
const AGENT_BIN = fileURLToPath(new URL('../../bin/mezz-agent.mjs', import.meta.url));

/**
 * A framework `mezz up` ships and starts beside the cluster. Its name is
 * its principal, its process's name in the banner and logs, its state
 * directory and token file (DIR/NAME, DIR/NAME-token) and its ACL objects'
 * prefix (`NAME:…`); its binary is bin/mezz-NAME.mjs, which takes the
 * foundation's flags (addFrameworkFlags), and `--NAME-port` chooses its
 * HTTP port.
 */
export interface ShippedFramework {
  name: string;
  /** The port its API listens on unless --NAME-port says otherwise. */
  defaultPort: number;
  /** What the banner's summary calls it. */
  what: string;
  /** What its API serves, for --NAME-port's help. */
  api: string;
  /** Commands to try it, for the banner's "Next:" (each gets the --master flag when not the default). */
  next: string[];
}

/** The frameworks `mezz up` starts, in this order, unless --no-frameworks. */
export const FRAMEWORKS: readonly ShippedFramework[] = [
  {
    name: 'services', defaultPort: 8080, what: 'the services framework (Marathon API)', api: "Marathon's /v2 apps",
    next: ['mezz app deploy examples/services/basic-0.json', 'mezz app list'],
  },
  {
    name: 'batch', defaultPort: 9000, what: 'the batch framework (Metronome API)', api: "Metronome's /v1 jobs",
    next: ['mezz job create examples/batch/tour/hello.yaml', 'mezz job run tour.hello'],
  },
  {
    name: 'functions', defaultPort: 3233, what: 'the function runner (OpenWhisk API)', api: "OpenWhisk's /api/v1 actions",
    next: ['mezz fn deploy hello examples/functions/tour/hello.js', 'mezz fn invoke hello -p name=Ada'],
  },
];

const binOf = (fw: ShippedFramework) => fileURLToPath(new URL(`../../bin/mezz-${fw.name}.mjs`, import.meta.url));
/** `--services-port`. */
const portFlag = (fw: ShippedFramework) => `--${fw.name}-port`;
/** Where commander puts `--services-port`: `servicesPort`. */
const portOption = (fw: ShippedFramework) => `${fw.name}Port` as const;

/** How long a child may take to say "listening on", and a framework then to answer /health. */
const READY_DEADLINE_MS = 30_000;
/** Pause between two GET /health of a starting framework. */
const HEALTH_POLL_MS = 100;
/** How long a child may take to exit after SIGTERM before SIGKILL. */
const STOP_GRACE_MS = 5_000;
/** Log lines kept in memory per child, to show when it dies. */
const TAIL_LINES = 15;
const LISTENING = /listening on\s+(\S+)/i;

/**
 * Delay before restarting a child that died for the `attempt`-th time in a
 * row (0-based): 1 s doubling to 30 s. No jitter, unlike the SDK's backoff:
 * one supervisor restarts a handful of processes, and the person watching
 * reads the delay. A child that ran RESTART_RESET_MS counts as healthy, and
 * its next death starts again at 1 s.
 */
export function restartDelayMs(attempt: number): number {
  return Math.min(RESTART_MAX_MS, RESTART_FIRST_MS * 2 ** Math.min(attempt, 10));
}
const RESTART_FIRST_MS = 1_000;
const RESTART_MAX_MS = 30_000;
const RESTART_RESET_MS = 60_000;

interface UpOptions {
  ha?: boolean;
  host: string;
  port: string;
  agents: string;
  dataDir: string;
  agentResources?: string;
  /** False with --no-frameworks. */
  frameworks: boolean;
  /** Each framework's --NAME-port, as `servicesPort`, `batchPort`. */
  [port: `${string}Port`]: string;
}

export function registerUp(program: Command): void {
  const shipped = FRAMEWORKS.map((fw) => `${fw.what} on :${fw.defaultPort}`).join(' and ');
  const command = program
    .command('up')
    .description(`start a master, agents, ${shipped} on this machine, in the foreground until Ctrl-C`)
    .option('--host <address>', 'the address every process listens on (0.0.0.0: all interfaces, which lets anyone who reaches this machine run commands on it)', '127.0.0.1')
    .option('--port <port>', "the master's port", '5050')
    .option('--agents <n>', 'how many agents to start', '2')
    .option('--data-dir <dir>', 'where state, sandboxes, logs and the credentials (DIR/token: the admin token clients read) go', './.mezz')
    .option('--ha', 'high availability: a local etcd (Debian package etcd-server) and three masters on ports PORT..PORT+2')
    .option('--agent-resources <resources>', "each agent's resources instead of detecting them, e.g. 'cpus:2;mem:2048;ports:[31000-31999]'")
    .option('--no-frameworks', 'start no framework, only the master(s) and agents');
  for (const fw of FRAMEWORKS) command.option(`${portFlag(fw)} <port>`, `the ${fw.name} framework's HTTP API (${fw.api}; 0: any free port)`, String(fw.defaultPort));
  command.action((opts: UpOptions) => up(opts));
}

/** One supervised process. */
class Child {
  readonly proc: ChildProcess;
  readonly tail: string[] = [];
  /** The address from its "listening on" line. */
  readonly ready: Promise<string>;
  /** The same, once it came. */
  address: string | undefined;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  alive = true;
  readonly startedAt = Date.now();
  readonly #log: WriteStream;

  constructor(readonly name: string, bin: string, args: string[], readonly logPath: string, env?: NodeJS.ProcessEnv) {
    this.#log = createWriteStream(logPath, { flags: 'a' });
    this.#log.write(`--- ${new Date().toISOString()} mezz up: ${path.basename(bin)} ${args.join(' ')}\n`);
    this.proc = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...(env ? { env } : {}) });
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
          if (m && this.address === undefined) {
            this.address = m[1]!;
            resolve(this.address);
          }
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

  /** Sends `signal` to the child's process group (it leads one: spawned detached). */
  signal(signal: NodeJS.Signals): void {
    if (!this.alive || this.proc.pid === undefined) return;
    try {
      process.kill(-this.proc.pid, signal);
    } catch {
      // The group is gone already; the child itself may still be a zombie we have not reaped.
      this.proc.kill(signal);
    }
  }

  /** The end of its output, indented, for error messages. */
  tailText(): string {
    return this.tail.length ? `\n  ${this.tail.join('\n  ')}` : ' (no output)';
  }

  closeLog(): void {
    this.#log.end();
  }
}

interface Config {
  host: string;
  /** Where clients on this machine reach what listens on `host`. */
  reach: string;
  port: number;
  agents: number;
  dataDir: string;
  resources?: string;
  ha: boolean;
  /** The frameworks to start, each with its API's port (0: any free port); none with --no-frameworks. */
  frameworks: { fw: ShippedFramework; port: number }[];
}

/** Checks the flags; UsageError naming the bad one. */
export function validate(opts: UpOptions): Config {
  const host = opts.host.trim();
  if (!isIP(host)) throw new UsageError(`--host must be an IP address, e.g. 127.0.0.1 or 0.0.0.0; got "${truncate(host, 60)}"`);
  const port = Number(opts.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be 0-65535; got "${opts.port}"`);
  const frameworks = opts.frameworks ? FRAMEWORKS.map((fw) => ({ fw, port: frameworkPort(fw, opts) })) : [];
  for (const [i, { fw, port: p }] of frameworks.entries()) {
    const other = frameworks.slice(0, i).find((f) => p && f.port === p);
    if (other) throw new UsageError(`${portFlag(fw)} ${p} is ${portFlag(other.fw)} too; give each framework its own port (0: any free port)`);
  }
  const agents = Number(opts.agents);
  if (!Number.isInteger(agents) || agents < 0 || agents > 64) throw new UsageError(`--agents must be a whole number 0-64; got "${opts.agents}"`);
  if (opts.agentResources !== undefined) {
    try {
      parseResources(opts.agentResources);
    } catch (err) {
      throw new UsageError(`--agent-resources: ${errorMessage(err)}`);
    }
  }
  // A wildcard is not an address to connect to: clients here use loopback.
  const reach = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return {
    host, reach, port, agents, dataDir: path.resolve(opts.dataDir), resources: opts.agentResources, ha: Boolean(opts.ha), frameworks,
  };
}

/** `fw`'s --NAME-port, checked: its default when not given. */
function frameworkPort(fw: ShippedFramework, opts: UpOptions): number {
  const given = opts[portOption(fw)] ?? String(fw.defaultPort);
  const port = Number(given);
  if (!Number.isInteger(port) || port < 0 || port > 65535 || given.trim() === '') throw new UsageError(`${portFlag(fw)} must be 0-65535; got "${truncate(given, 60)}"`);
  return port;
}

/** The port range an agent offers by itself (agent/resources-detect.ts). */
const HOST_PORTS = { begin: 31000, end: 32000 };

/**
 * Agent `index`'s --resources: `spec` (--agent-resources; else every resource
 * detected) with its own slice of the host's ports. Agents on one machine share
 * its ports: two offering the same range would hand two tasks one port, and the
 * second would fail to bind. A spec that names ports is the operator's choice.
 */
export function agentResources(spec: string | undefined, index: number, count: number): string {
  if (spec && /(^|;)\s*ports\s*:/.test(spec)) return spec;
  const size = Math.floor((HOST_PORTS.end - HOST_PORTS.begin + 1) / Math.max(1, count));
  const begin = HOST_PORTS.begin + index * size;
  const ports = `ports:[${begin}-${begin + size - 1}]`;
  return spec ? `${spec.replace(/;\s*$/, '')};${ports}` : ports;
}

/** `host:port`, with brackets around an IPv6 host. */
function hostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * One process of the cluster, kept running: once `supervise()` is called,
 * a death is reported in one line and the same command is started again
 * after restartDelayMs. Before that, a death is the caller's to handle
 * (`onDeath`), so that a cluster that cannot start says why instead of
 * looping.
 */
class Slot {
  child: Child;
  args: string[];
  #supervising = false;
  #stopping = false;
  #attempt = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    readonly name: string, readonly bin: string, args: string[], readonly logPath: string,
    private readonly onDeath: (slot: Slot, e: { code: number | null; signal: NodeJS.Signals | null }) => void,
    private readonly say: (line: string) => void,
    private readonly env?: NodeJS.ProcessEnv,
  ) {
    this.args = args;
    this.child = this.#spawn();
  }

  #spawn(): Child {
    const child = new Child(this.name, this.bin, this.args, this.logPath, this.env);
    void child.exited.then((e) => {
      if (this.#stopping) return;
      if (!this.#supervising) return this.onDeath(this, e);
      this.#restart(child, e);
    });
    return child;
  }

  #restart(dead: Child, e: { code: number | null; signal: NodeJS.Signals | null }): void {
    if (Date.now() - dead.startedAt >= RESTART_RESET_MS) this.#attempt = 0;
    const delay = restartDelayMs(this.#attempt++);
    const how = e.signal ? `signal ${e.signal}` : `code ${e.code}`;
    const last = !e.signal && dead.tail.length ? `; its last line: ${truncate(dead.tail.at(-1)!, 200)}` : '';
    this.say(`${this.name} exited (${how}); restarting in ${delay / 1000}s${last}`);
    this.#timer = setTimeout(() => {
      if (this.#stopping) return;
      dead.closeLog();
      this.child = this.#spawn();
      const pid = this.child.proc.pid;
      void this.child.ready.then(() => {
        if (!this.#stopping) this.say(`${this.name} is back, pid ${pid}`);
      });
    }, delay);
  }

  /** Restarts listen on `port`: the one it bound when asked for any free port, where clients now look for it. */
  pinPort(port: string): void {
    this.args = this.args.map((a, i) => (this.args[i - 1] === '--port' ? port : a));
  }

  /** From now on a death is followed by a restart. */
  supervise(): void {
    this.#supervising = true;
  }

  /** No more restarts: a pending one is cancelled. */
  stopSupervising(): void {
    this.#stopping = true;
    clearTimeout(this.#timer);
  }
}

async function up(opts: UpOptions): Promise<void> {
  const cfg = validate(opts);
  // Before anything starts: a port already taken is one clear line, not a child's stack trace after the rest came up.
  for (const { fw, port } of cfg.frameworks) if (port) await ensurePortFree(cfg.host, port, fw);
  const logDir = path.join(cfg.dataDir, 'logs');
  await mkdir(logDir, { recursive: true });
  const creds = await ensureLocalCredentials(cfg.dataDir, FRAMEWORKS.map((fw) => fw.name));
  // Every process, HA or not, starts with authentication on: agents present their credential; the
  // masters and the frameworks check callers' tokens against credentials.json and acls.json.
  const authArgs = (bin: string) => (bin === AGENT_BIN ? ['--credentials', creds.agent] : ['--credentials', creds.master, '--acls', creds.acls]);
  // Paths as the user would type them: relative below the current directory, absolute elsewhere.
  const shown = (p: string) => {
    const rel = path.relative(process.cwd(), p);
    return rel === '' ? '.' : rel.startsWith('..') ? p : rel;
  };

  const slots: Slot[] = [];

  // Settled by the first of: a signal (resolves) or a death while starting (rejects).
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

  /** Why a child died while starting: a framework's port taken since ensurePortFree looked, else how it ended and its last lines. */
  const startFailure = (s: Slot, e: { code: number | null; signal: NodeJS.Signals | null }): CliError => {
    const taken = cfg.frameworks.find((f) => binOf(f.fw) === s.bin);
    if (taken && s.child.tail.some((l) => l.includes('EADDRINUSE'))) return new CliError(portInUse(cfg.host, taken.port, 'EADDRINUSE', taken.fw));
    return new CliError(`${s.name} ${Child.describeExit(e)}; stopping the others. The end of ${shown(s.logPath)}:${s.child.tailText()}`);
  };
  const say = (line: string) => process.stderr.write(`mezz: ${line}\n`);
  const start = (name: string, bin: string, args: string[], env?: NodeJS.ProcessEnv): Slot => {
    const slot = new Slot(name, bin, [...args, ...authArgs(bin)], path.join(logDir, `${name}.log`), (s, e) => failed(startFailure(s, e)), say, env);
    slots.push(slot);
    return slot;
  };

  /** Waits for every child's "listening on"; false when interrupted first. */
  const allReady = async (group: Slot[]): Promise<string[] | false> => {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const slow = group.find((s) => s.child.alive && s.child.address === undefined) ?? group[0]!;
        reject(new CliError(`${slow.name} did not report "listening on" within ${READY_DEADLINE_MS / 1000}s. The end of ${shown(slow.logPath)}:${slow.child.tailText()}`));
      }, READY_DEADLINE_MS);
    });
    try {
      return await Promise.race([Promise.all(group.map((s) => s.child.ready)), ended.then(() => false as const), deadline]);
    } finally {
      clearTimeout(timer);
    }
  };

  /** Polls `url`/health until it answers 200: true; false when interrupted first; a CliError past the deadline or when a child died. */
  const answersHealth = async (slot: Slot, url: string): Promise<boolean> => {
    let settled = false;
    ended.then(() => (settled = true), () => (settled = true));
    const deadline = Date.now() + READY_DEADLINE_MS;
    while (!settled) {
      if (await healthy(url)) return true;
      if (Date.now() > deadline) {
        throw new CliError(`${slot.name} listens, but ${url}/health did not answer within ${READY_DEADLINE_MS / 1000}s. The end of ${shown(slot.logPath)}:${slot.child.tailText()}`);
      }
      await new Promise((r) => setTimeout(r, HEALTH_POLL_MS));
    }
    return ended.then(() => false);
  };

  const stopAll = async (): Promise<void> => {
    for (const s of slots) s.stopSupervising();
    const children = slots.map((s) => s.child);
    const alive = children.filter((c) => c.alive);
    for (const c of alive) c.signal('SIGTERM');
    const grace = new Promise((r) => setTimeout(r, STOP_GRACE_MS).unref());
    await Promise.race([Promise.all(alive.map((c) => c.exited)), grace]);
    for (const c of children.filter((c) => c.alive)) {
      process.stderr.write(`mezz: ${c.name} did not stop within ${STOP_GRACE_MS / 1000}s; killing it\n`);
      c.signal('SIGKILL');
    }
    await Promise.all(children.map((c) => c.exited));
    for (const c of children) c.closeLog();
    await etcd?.stop();
    for (const s of signals) process.off(s, onSignal);
  };
  let etcd: EtcdProcess | undefined;

  try {
    let masterAddress: string;
    let masters: Slot[];
    // Where framework NAME keeps its state: DIR/NAME, or with --ha the masters' etcd, under its own prefix.
    let stateFlags = (fw: ShippedFramework) => ['--data-dir', path.join(cfg.dataDir, fw.name)];
    if (cfg.ha) {
      // etcd first: the masters campaign on it. Its data stays in DIR/etcd, so a restart keeps the registry.
      let tls: ReturnType<typeof localEtcdTls>;
      try {
        tls = localEtcdTls(path.join(cfg.dataDir, 'tls'));
        etcd = await startEtcd({ dataDir: path.join(cfg.dataDir, 'etcd'), tls: tls.etcd });
      } catch (err) {
        throw new CliError(`cannot start etcd for --ha: ${errorMessage(err)}`);
      }
      if (!cfg.port) throw new UsageError('--ha needs a fixed --port (the masters use PORT, PORT+1 and PORT+2)');
      const etcdFlags = (c: Required<TlsFiles>) => ['--etcd', etcd!.endpoint, '--etcd-cert', c.tlsCert, '--etcd-key', c.tlsKey, '--etcd-ca', c.tlsCa];
      masters = [0, 1, 2].map((i) => start(`master-${i + 1}`, MASTER_BIN, [
        '--host', cfg.host, '--port', String(cfg.port + i), ...etcdFlags(tls.masters), '--advertise', hostPort(cfg.reach, cfg.port + i),
      ]));
      if (!(await allReady(masters))) return await stopAll();
      masterAddress = masters.map((_, i) => hostPort(cfg.reach, cfg.port + i)).join(',');
      stateFlags = (fw) => etcdFlags(tls.frameworks[fw.name]!);
    } else {
      const master = start('master', MASTER_BIN, ['--host', cfg.host, '--port', String(cfg.port), '--data-dir', path.join(cfg.dataDir, 'master')]);
      const masterReady = await allReady([master]);
      if (!masterReady) return await stopAll();
      masters = [master];
      // The port we asked for is the gRPC one; the line tells us only when we asked for any free port.
      masterAddress = cfg.port ? hostPort(cfg.reach, cfg.port) : masterReady[0]!;
      // A restarted master must come back where the agents and frameworks look for it.
      const bound = /:(\d+)$/.exec(masterAddress)?.[1];
      if (!cfg.port && bound) master.pinPort(bound);
    }

    const agents = Array.from({ length: cfg.agents }, (_, i) => start(`agent-${i + 1}`, AGENT_BIN, [
      '--master', masterAddress, '--bind', cfg.host, '--port', '0', '--work-dir', path.join(cfg.dataDir, `agent-${i + 1}`),
      '--resources', agentResources(cfg.resources, i, cfg.agents),
      // On loopback, tasks that listen (mezz-functions' workers bind the offer's hostname) stay on it too; both agents are one host either way.
      ...(isLoopback(cfg.host) ? ['--hostname', cfg.reach] : []),
    ]));
    const frameworks = cfg.frameworks.map(({ fw, port }) => ({ fw, port, slot: start(fw.name, binOf(fw), [
      '--master', masterAddress, '--host', cfg.host, '--port', String(port), ...stateFlags(fw),
      // Its webui_url, through which `mezz app` or `mezz job` finds it: a loopback one, which mezz trusts with the token.
      // With a wildcard --host and any free port the port is not known yet, and it advertises this machine's hostname.
      ...(port && cfg.host !== cfg.reach ? ['--advertise', hostPort(cfg.reach, port)] : []),
    ], frameworkEnv(creds.frameworks[fw.name]!)) }));
    const addresses = await allReady([...agents, ...frameworks.map((f) => f.slot)]);
    if (!addresses) return await stopAll();
    const apis: { slot: Slot; url: string; fw: ShippedFramework }[] = [];
    for (const [i, { fw, port, slot }] of frameworks.entries()) {
      const bound = /:(\d+)$/.exec(addresses[agents.length + i]!)![1]!;
      if (!port) slot.pinPort(bound);
      apis.push({ slot, fw, url: `http://${hostPort(cfg.reach, Number(bound))}` });
    }
    for (const api of apis) if (!(await answersHealth(api.slot, api.url))) return await stopAll();

    for (const s of slots) s.supervise();
    process.stdout.write(banner({
      master: masterAddress, masters, agents, agentAddresses: addresses.slice(0, agents.length),
      frameworks: apis,
      dataDir: shown(cfg.dataDir), logDir: shown(logDir), ...(etcd ? { etcd: etcd.endpoint } : {}), token: tokenHint(creds.token, shown),
    }));
    const signal = await ended;
    process.stderr.write(`mezz: ${signal}: stopping the cluster\n`);
    await stopAll();
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** True when GET `url`/health answers 200 within 2 s. */
async function healthy(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

/** The line for a port of `fw`'s API that something else holds (or this user may not bind). */
export function portInUse(host: string, port: number, code: string, fw: ShippedFramework): string {
  const why = code === 'EACCES' ? 'may not be bound by this user' : 'is in use';
  return `port ${port} on ${host} (the ${fw.name} API) ${why}; choose another with ${portFlag(fw)} N (0: any free port), or start no framework with --no-frameworks`;
}

/** Throws the CliError of portInUse when `host:port`, for `fw`'s API, cannot be bound now. */
async function ensurePortFree(host: string, port: number, fw: ShippedFramework): Promise<void> {
  const code = await new Promise<string | undefined>((resolve) => {
    const probe = net.createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve(undefined)));
  });
  if (code) throw new CliError(portInUse(host, port, code, fw));
}

/**
 * A shipped framework's environment: it presents its own token file
 * (DIR/NAME-token) to the master (flags name the master), whatever
 * MEZZ_TOKEN or MEZZ_TLS_* the person running mezz up set for their own
 * clients. The path, never the token, is passed: any user of this machine
 * may read a process's command line.
 */
export function frameworkEnv(tokenFile: string, from: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env = { ...from };
  for (const k of Object.keys(env)) if (k === 'MEZZ_MASTER' || k.startsWith('MEZZ_TOKEN') || k.startsWith('MEZZ_TLS_')) delete env[k];
  return { ...env, MEZZ_TOKEN_FILE: tokenFile };
}

/**
 * Certificates for the local etcd, made afresh at every start under `dir`
 * (DATA/tls, mode 0700; keys 0600): a private CA, etcd's certificate for
 * 127.0.0.1, and the ones the masters and each framework present to it (etcd
 * runs with --client-cert-auth, so a process without one is refused). The
 * CA's key is deleted once all are signed: nobody can then make another
 * certificate this etcd accepts. etcd's data does not depend on them.
 */
function localEtcdTls(dir: string): { etcd: Required<TlsFiles>; masters: Required<TlsFiles>; frameworks: Record<string, Required<TlsFiles>> } {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const ca = createCa(dir, 'etcd', 'mezz up etcd CA');
  try {
    return {
      etcd: issueCertificate(ca, dir, 'etcd-server', { commonName: 'etcd', ips: ['127.0.0.1'], dnsNames: ['localhost'] }),
      masters: issueCertificate(ca, dir, 'etcd-client', { commonName: 'mezz-master' }),
      frameworks: Object.fromEntries(FRAMEWORKS.map((fw) => [fw.name, issueCertificate(ca, dir, `etcd-${fw.name}`, { commonName: `mezz-${fw.name}` })])),
    };
  } finally {
    rmSync(ca.key, { force: true });
  }
}

/** What the banner says about the token: where it is, and the line to run first when clients would not find it. */
interface TokenHint {
  lines: string[];
  /** `export MEZZ_TOKEN_FILE=…`, when the data dir is not ./.mezz of the current directory. */
  setup?: string;
}

function tokenHint(tokenFile: string, shown: (p: string) => string): TokenHint {
  const dir = shown(path.dirname(tokenFile));
  const found = tokenFile === path.resolve(DEFAULT_DATA_DIR, TOKEN_FILE_NAME);
  const parent = path.dirname(path.dirname(tokenFile));
  const runIn = path.basename(path.dirname(tokenFile)) === DEFAULT_DATA_DIR ? ` run them in ${shown(parent)}, or` : '';
  return {
    lines: [
      `Authentication is on: ${dir}/credentials.json, ${dir}/acls.json. The admin token is in ${shown(tokenFile)} (mode 0600);`,
      found
        ? `mezz, the SDK and the examples read it from ./${DEFAULT_DATA_DIR}/${TOKEN_FILE_NAME} when run in this directory, or from MEZZ_TOKEN_FILE elsewhere.`
        : `mezz, the SDK and the examples find it by themselves only as ./${DEFAULT_DATA_DIR}/${TOKEN_FILE_NAME}:${runIn} set MEZZ_TOKEN_FILE as below.`,
    ],
    ...(found ? {} : { setup: `export MEZZ_TOKEN_FILE=${tokenFile}` }),
  };
}

/** What the banner shows: every process with its address and pid, where things are, and what to run next. */
interface BannerFacts {
  /** The master address clients use (`host:port[,…]`). */
  master: string;
  masters: Slot[];
  agents: Slot[];
  agentAddresses: string[];
  /** The frameworks started, with their API's URL. */
  frameworks: { slot: Slot; url: string; fw: ShippedFramework }[];
  dataDir: string;
  logDir: string;
  etcd?: string;
  token: TokenHint;
}

function banner(f: BannerFacts): string {
  const flag = f.master === '127.0.0.1:5050' ? '' : ` --master ${f.master}`;
  const list = f.master.split(',');
  const row = (name: string, address: string, pid: number | undefined) => `  ${name.padEnd(9)} ${address.padEnd(22)} pid ${pid}`;
  const rows = [
    ...(f.etcd ? [`  etcd      ${f.etcd.replace(/^https?:\/\//, '').padEnd(22)} client certificates only (${f.dataDir}/tls)`] : []),
    ...f.masters.map((m, i) => row(f.masters.length > 1 ? m.name : 'master', list[i]!, m.child.proc.pid)),
    ...f.agents.map((a, i) => row(a.name, f.agentAddresses[i]!, a.child.proc.pid)),
    ...f.frameworks.map((fw) => row(fw.slot.name, fw.url, fw.slot.child.proc.pid)),
  ];
  const what = [
    f.masters.length > 1 ? `${f.masters.length} masters on etcd (HA)` : '1 master',
    `${f.agents.length} agent${f.agents.length === 1 ? '' : 's'}`,
    ...f.frameworks.map((fw) => fw.fw.what),
  ].join(', ');
  return [
    `Mezzanine is up: ${what}. State in ${f.dataDir}; logs in ${f.logDir}/<name>.log.`,
    ...rows,
    '',
    ...f.token.lines,
    '',
    'Next:',
    ...(f.token.setup ? [`  ${f.token.setup}`] : []),
    ...(f.masters.length > 1 ? [`  mezz leader${flag}`] : []),
    `  mezz agents${flag}`,
    `  npx tsx examples/hello-framework.ts --master ${f.master} --tasks 5 --cmd 'echo hello'`,
    `  mezz tasks${flag}`,
    ...f.frameworks.flatMap((fw) => fw.fw.next.map((line) => `  ${line}${flag}`)),
    '',
    'A process that dies is restarted (its log says why). Ctrl-C stops the cluster.',
    '',
  ].join('\n');
}
