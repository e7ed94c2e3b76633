/**
 * The integration harness: starts real `mezz-master` and `mezz-agent`
 * processes on loopback (ports from the OS), each in its own process group,
 * and kills every group at teardown, pass or fail. Also a raw scheduler
 * client that records every event, so tests can wait on conditions with
 * deadlines instead of sleeping.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as grpc from '@grpc/grpc-js';
import { type ClientSecurity, makeClient } from '../lib/auth';
import { removeAgentCgroups } from '../agent/executor/cgroups';
import { mezzProto, type Call, type Event__Output, type OperatorClient } from '../lib/proto';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** A logger that says nothing, for SDK frameworks and agents a test starts in-process. */
export const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const BIN = path.join(ROOT, 'bin');

/** Polls `fn` until it returns a truthy value; throws with `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 20_000, everyMs = 50): Promise<NonNullable<Awaited<T>>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<Awaited<T>>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface Proc {
  name: string;
  child: ChildProcess;
  port: number;
  address: string;
  output(): string;
  /** SIGKILL to the whole process group. */
  kill9(): Promise<void>;
  /** SIGTERM, then SIGKILL after a grace period; resolves on exit. */
  stop(): Promise<void>;
  exited: Promise<number | null>;
}

/**
 * Whether this process may start agents that switch users (root): true, or
 * a loud skip of `t` — a failure with REQUIRE_ROOT=1 (CI runs as root and
 * sets it), so that the user tests never go missing unnoticed.
 */
export function rootOrSkip(t: { skip(why: string): void }, what: string): boolean {
  if (process.getuid?.() === 0) return true;
  const why = `NOT ROOT — ${what} is NOT tested: the agent switches users only as root`;
  process.stderr.write(`\n*** ${why}\n\n`);
  if (process.env.REQUIRE_ROOT === '1') throw new Error(`REQUIRE_ROOT=1: ${why}`);
  t.skip(why);
  return false;
}

/** How a Cluster's processes and test clients are secured; default: no TLS, no authentication. */
export interface ClusterOptions {
  /** The token and TLS material of `operator()` and `scheduler()` clients. */
  security?: ClientSecurity;
  /** Appended to every `startMaster`'s flags (e.g. `--credentials`, `--tls-*`). */
  masterArgs?: string[];
  /** Appended to every `startAgent`'s flags. */
  agentArgs?: string[];
}

export class Cluster {
  /**
   * Sticky and world-writable, as /tmp is, which holds agents' default work
   * dirs: tasks run as `nobody` under a root agent (the default), and reach
   * their sandboxes by absolute path and write marker files here.
   */
  readonly dir = likeTmp(mkdtempSync(path.join(tmpdir(), 'mezz-test-')));
  readonly procs: Proc[] = [];
  private clients: grpc.Client[] = [];
  private schedulers: TestScheduler[] = [];
  /** Work dirs of the agents started, whose task cgroups teardown removes. */
  private agentWorkDirs = new Set<string>();

  constructor(readonly opts: ClusterOptions = {}) {}

  /**
   * Starts a process from bin/ (or a `.ts` file, under tsx) and waits until its
   * output matches `ready` (default: its `listening on HOST:PORT` line; the
   * first group, if any, is taken for its port).
   */
  async spawn(name: string, bin: string, args: string[], env: Record<string, string> = {}, ready = /listening on [^\s:]+:(\d+)/): Promise<Proc> {
    const entry = bin.endsWith('.ts') ? ['--import', 'tsx', path.resolve(ROOT, bin)] : [path.join(BIN, bin)];
    const child = spawn(process.execPath, [...entry, ...args], {
      cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, MEZZ_LOG_LEVEL: process.env.MEZZ_LOG_LEVEL ?? 'info', ...env },
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    let dead = false;
    void exited.then(() => (dead = true));
    const killGroup = (sig: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, sig);
      } catch {
        /* already gone */
      }
    };
    const proc: Proc = {
      name, child, port: 0, address: '', exited,
      output: () => out,
      kill9: async () => {
        killGroup('SIGKILL');
        await exited;
      },
      stop: async () => {
        if (dead) return;
        killGroup('SIGTERM');
        const t = setTimeout(() => killGroup('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      },
    };
    this.procs.push(proc);
    const port = await waitFor(`${name} to be ready (output so far:\n${out.slice(-2000)})`, () => {
      if (dead) throw new Error(`${name} exited early:\n${out.slice(-3000)}`);
      const m = ready.exec(out);
      return m ? Number(m[1] ?? -1) : 0; // -1: ready, and no port to take
    }, 30_000);
    if (port > 0) {
      proc.port = port;
      proc.address = `127.0.0.1:${port}`;
    }
    return proc;
  }

  async startMaster(opts: { name?: string; dataDir?: string; args?: string[]; port?: number; env?: Record<string, string> } = {}): Promise<Proc> {
    const dataDir = opts.dataDir ?? path.join(this.dir, opts.name ?? 'master');
    return this.spawn(opts.name ?? 'master', 'mezz-master.mjs', [
      '--host', '127.0.0.1', '--port', String(opts.port ?? 0), '--data-dir', dataDir,
      '--agent-ping-timeout', '3', '--agent-ping-interval', '0.5', '--heartbeat-interval', '1', '--allocation-interval', '0.5',
      ...(this.opts.masterArgs ?? []), ...(opts.args ?? []),
    ], opts.env);
  }

  async startAgent(master: string, opts: { name?: string; resources?: string; args?: string[]; workDir?: string; env?: Record<string, string> } = {}): Promise<Proc> {
    const name = opts.name ?? `agent-${this.procs.length}`;
    const workDir = opts.workDir ?? path.join(this.dir, name);
    this.agentWorkDirs.add(workDir);
    return this.spawn(name, 'mezz-agent.mjs', [
      '--master', master, '--port', '0', '--work-dir', workDir,
      '--resources', opts.resources ?? 'cpus:4;mem:4096;disk:4096;gpus:0;ports:[31000-31100]',
      ...(this.opts.agentArgs ?? []), ...(opts.args ?? []),
    ], opts.env);
  }

  /** An Operator client; `security`: its token and TLS material (default: the cluster's). */
  operator(address: string, security = this.opts.security): OperatorClient {
    const c = makeClient(mezzProto().Operator, address, security);
    this.clients.push(c);
    return c;
  }

  scheduler(address: string, security = this.opts.security): TestScheduler {
    const s = new TestScheduler(address, security);
    this.schedulers.push(s);
    return s;
  }

  async teardown(): Promise<void> {
    for (const s of this.schedulers) s.close();
    for (const c of this.clients) c.close();
    await Promise.all(this.procs.map((p) => p.stop()));
    // Tasks run in process groups of their own and outlive their agent by design:
    // end every process whose working directory lies in this cluster's directory.
    killProcessesUnder(this.dir);
    // Agents on a host with cgroups leave the cgroups of tasks that outlived them.
    for (const dir of this.agentWorkDirs) await removeAgentCgroups(dir);
    if (process.env.MEZZ_KEEP_TEST_DIR) return;
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function likeTmp(dir: string): string {
  chmodSync(dir, 0o1777);
  return dir;
}

/** SIGKILLs the process group of every process `pidsUnder(dir)` finds. */
export function killProcessesUnder(dir: string): void {
  for (const pid of pidsUnder(dir)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
}

/** Processes working in `dir`, or started with it on their command line (e.g. `--work-dir DIR/...`). */
export function pidsUnder(dir: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readlinkSync(`/proc/${entry}/cwd`).startsWith(dir) || readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(dir)) {
        out.push(Number(entry));
      }
    } catch {
      /* exited or not ours */
    }
  }
  return out;
}

/** True while `pid` exists and is not a zombie. */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Calls a unary operator method as a promise. */
export function op<Req, Res>(client: OperatorClient, method: string, req: Req): Promise<Res> {
  return new Promise((resolve, reject) => {
    (client as unknown as Record<string, (r: Req, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r: Res) => void) => void>)[method]!(
      req, { deadline: Date.now() + 10_000 }, (err, r) => (err ? reject(err) : resolve(r)),
    );
  });
}

/**
 * A raw scheduler connection: the wire protocol with nothing in between, so
 * tests can send malformed calls. Records every event it receives.
 */
export class TestScheduler {
  readonly events: Event__Output[] = [];
  /** Offers the test has answered (accepted or declined). */
  readonly handled = new Set<string>();
  frameworkId = '';
  private client: grpc.Client & { subscribe(): grpc.ClientDuplexStream<Call, Event__Output> };
  private stream?: grpc.ClientDuplexStream<Call, Event__Output>;
  ended = false;
  /** ms since the epoch when the master ended the stream (or it failed). */
  endedAt?: number;

  constructor(readonly address: string, security?: ClientSecurity) {
    this.client = makeClient(mezzProto().Scheduler, address, security) as never;
  }

  /** Opens a stream and subscribes; resolves with the framework id. */
  async subscribe(framework: { name: string; id?: string; roles?: string[]; failoverTimeout?: number; capabilities?: string[]; user?: string }): Promise<string> {
    this.ended = false;
    const stream = this.client.subscribe();
    this.stream = stream;
    stream.on('data', (e: Event__Output) => {
      if (e.subscribed) this.frameworkId = e.subscribed.frameworkId;
      this.events.push(e);
    });
    const end = () => {
      if (!this.ended) this.endedAt = Date.now();
      this.ended = true;
    };
    stream.on('error', end);
    stream.on('end', end);
    const from = this.events.length;
    stream.write({ subscribe: { framework } });
    const ev = await this.waitEvent('SUBSCRIBED or ERROR', (e) => !!e.subscribed || !!e.error?.fatal, from);
    if (ev.error) throw new Error(ev.error.message);
    return ev.subscribed!.frameworkId;
  }

  send(call: Omit<Call, 'frameworkId'>): void {
    for (const id of call.accept?.offerIds ?? call.decline?.offerIds ?? []) this.handled.add(id);
    this.stream!.write({ frameworkId: this.frameworkId, ...call });
  }

  /** Waits for an event matching `pred` at index ≥ `from`. */
  waitEvent(what: string, pred: (e: Event__Output) => boolean, from = 0, timeoutMs = 20_000): Promise<Event__Output> {
    return waitFor(what, () => this.events.slice(from).find(pred), timeoutMs, 20);
  }

  /**
   * Launches each task on the next outstanding offer (of `agentId` when
   * given), one task per offer, declining the others without a filter;
   * resolves once every task was sent.
   */
  async launchEach(tasks: ReturnType<typeof task>[], agentId?: string): Promise<void> {
    const todo = [...tasks];
    await waitFor(`offers to launch ${tasks.map((t) => t.taskId).join(', ')}`, () => {
      for (const o of this.outstanding()) {
        const t = !agentId || o.agentId === agentId ? todo.shift() : undefined;
        if (t) this.send({ accept: { offerIds: [o.id], operations: [{ launch: { taskInfos: [t] } }], filters: { refuseSeconds: 0 } } });
        else this.send({ decline: { offerIds: [o.id], filters: { refuseSeconds: 0 } } });
      }
      return todo.length === 0;
    });
  }

  offers(from = 0) {
    return this.events.slice(from).flatMap((e) => e.offers?.offers ?? []);
  }

  /** Offers neither answered by the test nor rescinded by the master. */
  outstanding() {
    const rescinded = new Set(this.events.map((e) => e.rescind?.offerId).filter(Boolean));
    return this.offers().filter((o) => !this.handled.has(o.id) && !rescinded.has(o.id));
  }

  updates(taskId?: string) {
    return this.events.flatMap((e) => (e.update?.status ? [e.update.status] : [])).filter((s) => !taskId || s.taskId === taskId);
  }

  /** Acknowledges every update carrying a uuid (what the SDK does for authors). */
  autoAck(): void {
    let acked = 0;
    const tick = setInterval(() => {
      if (this.ended) return;
      for (; acked < this.events.length; acked++) {
        const s = this.events[acked]!.update?.status;
        if (s?.uuid) this.send({ acknowledge: { agentId: s.agentId, taskId: s.taskId, uuid: s.uuid } });
      }
    }, 20);
    tick.unref();
  }

  /** Closes the connection without TEARDOWN (a framework crash, as far as the master can tell). */
  close(): void {
    this.stream?.cancel();
    this.ended = true;
  }
}

/** A task with a shell command and small resources, on the wire. */
export function task(id: string, cmd: string, r: { cpus?: number; mem?: number; agentId?: string; user?: string } = {}) {
  return {
    taskId: id, name: id, agentId: r.agentId ?? '',
    resources: [{ name: 'cpus', scalar: r.cpus ?? 0.1 }, { name: 'mem', scalar: r.mem ?? 32 }],
    command: { value: cmd, shell: true, ...(r.user ? { user: r.user } : {}) },
  };
}
