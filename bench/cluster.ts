/**
 * Processes for the end-to-end benches: real `mezz-master` and `mezz-agent`
 * processes (simulated agents too) on loopback, each in its own process
 * group under one temporary directory, all killed at teardown — and, should
 * the bench die first, when this process exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as grpc from '@grpc/grpc-js';
import { makeClient } from '../lib/auth';
import { mezzProto, type OperatorClient } from '../lib/proto';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = path.join(ROOT, 'bin');
/** Loaded into a master with `--import`: prints its heap after a full GC on SIGUSR2 (see heap-probe.mjs). */
export const HEAP_PROBE = path.join(ROOT, 'bench', 'heap-probe.mjs');

/** Every process group started by any cluster, SIGKILLed if this process exits without a teardown. */
const groups = new Set<number>();
process.once('exit', () => {
  for (const pid of groups) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
});

/** Polls `fn` until it returns something truthy; throws naming `what` after `timeoutMs`. */
export async function until<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 60_000, everyMs = 20): Promise<NonNullable<Awaited<T>>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<Awaited<T>>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface BenchProc {
  name: string;
  child: ChildProcess;
  /** The bound port, from the process's `listening on` line (0 for simulated agents). */
  port: number;
  address: string;
  /** The last 256 KiB of stdout and stderr. */
  output(): string;
  /** Lines of output seen so far that start with `prefix`. */
  lines(prefix: string): string[];
  /** CPU time the process has used so far (user + system), in seconds. */
  cpuSeconds(): number;
  kill9(): Promise<void>;
  stop(): Promise<void>;
  exited: Promise<number | null>;
}

const KEEP = 256 * 1024;

export class BenchCluster {
  readonly dir = mkdtempSync(path.join(tmpdir(), 'mezz-bench-'));
  private readonly procs: BenchProc[] = [];
  private readonly clients: grpc.Client[] = [];

  /** Starts `bin/<bin>` under node with `nodeArgs`, and waits for `ready` in its output. */
  async spawn(name: string, bin: string, args: string[], opts: { nodeArgs?: string[]; env?: Record<string, string>; ready?: RegExp; timeoutMs?: number } = {}): Promise<BenchProc> {
    // MEZZ_BENCH_PROFILE=DIR: every process writes a CPU profile under DIR/<name>/ when it exits.
    const profile = process.env.MEZZ_BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(process.env.MEZZ_BENCH_PROFILE, name)}`] : [];
    const child = spawn(process.execPath, [...profile, ...(opts.nodeArgs ?? []), path.join(BIN, bin), ...args], {
      cwd: this.dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
      // MEZZ_BENCH_LOG_LEVEL=info: more of each process's log in its output (for a bench that fails).
      env: { ...process.env, MEZZ_LOG_LEVEL: process.env.MEZZ_BENCH_LOG_LEVEL ?? 'warn', ...opts.env },
    });
    groups.add(child.pid!);
    let out = '';
    let partial = '';
    const marks: string[] = [];
    const take = (d: Buffer) => {
      const s = d.toString();
      const lines = (partial + s).split('\n');
      partial = lines.pop()!;
      for (const line of lines) if (line.startsWith('mezz-')) marks.push(line);
      out += s;
      if (out.length > 2 * KEEP) out = out.slice(-KEEP);
    };
    child.stdout!.on('data', take);
    child.stderr!.on('data', take);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => {
      groups.delete(child.pid!);
      resolve(code);
    }));
    let dead = false;
    void exited.then(() => (dead = true));
    const signal = (sig: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, sig);
      } catch {
        /* gone */
      }
    };
    const proc: BenchProc = {
      name, child, port: 0, address: '', exited,
      output: () => out.slice(-KEEP),
      lines: (prefix) => marks.filter((l) => l.startsWith(prefix)),
      cpuSeconds: () => cpuSecondsOf(child.pid!),
      kill9: async () => {
        signal('SIGKILL');
        await exited;
      },
      stop: async () => {
        if (dead) return;
        signal('SIGTERM');
        const t = setTimeout(() => signal('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      },
    };
    this.procs.push(proc);
    const ready = opts.ready ?? /listening on [^\s:]+:(\d+)/;
    const m = await until(`${name} to start`, () => {
      if (dead) throw new Error(`${name} exited early:\n${out.slice(-3000)}`);
      return ready.exec(out);
    }, opts.timeoutMs ?? 60_000, 20);
    proc.port = Number(m[1] ?? 0);
    proc.address = `127.0.0.1:${proc.port}`;
    return proc;
  }

  /** A master on a free port with its own data dir; `args` are added to (and may override) the bench defaults. */
  master(opts: { name?: string; args?: string[]; nodeArgs?: string[]; env?: Record<string, string> } = {}): Promise<BenchProc> {
    const name = opts.name ?? 'master';
    return this.spawn(name, 'mezz-master.mjs', [
      '--host', '127.0.0.1', '--port', '0', '--data-dir', path.join(this.dir, name), ...(opts.args ?? []),
    ], { nodeArgs: opts.nodeArgs, env: opts.env });
  }

  /** A real agent; resolves once its files server listens (registration follows shortly). */
  agent(masters: string, opts: { name?: string; resources: string; args?: string[]; env?: Record<string, string> }): Promise<BenchProc> {
    const name = opts.name ?? 'agent';
    return this.spawn(name, 'mezz-agent.mjs', [
      '--master', masters, '--port', '0', '--bind', '127.0.0.1', '--work-dir', path.join(this.dir, name), '--resources', opts.resources, ...(opts.args ?? []),
    ], { env: opts.env });
  }

  /** `mezz-agent --simulate count`; resolves once all of them are registered. */
  simulatedAgents(masters: string, count: number, args: string[] = []): Promise<BenchProc> {
    return this.spawn(`sim-${this.procs.length}`, 'mezz-agent.mjs', [
      '--simulate', String(count), '--master', masters, ...args,
    ], { ready: new RegExp(`simulated agents registered: ${count}\\b`), timeoutMs: 180_000 });
  }

  operator(address: string): OperatorClient {
    const c = makeClient(mezzProto().Operator, address, undefined); // the bench's masters run without credentials
    this.clients.push(c);
    return c;
  }

  async teardown(): Promise<void> {
    for (const c of this.clients) c.close();
    await Promise.all(this.procs.map((p) => p.stop()));
    killProcessesUnder(this.dir);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Calls a unary operator method as a promise. */
export function op<Res>(client: OperatorClient, method: string, req: object = {}, timeoutMs = 30_000): Promise<Res> {
  return new Promise((resolve, reject) => {
    (client as unknown as Record<string, (r: object, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r: Res) => void) => void>)[method]!(
      req, { deadline: Date.now() + timeoutMs }, (err, r) => (err ? reject(err) : resolve(r)),
    );
  });
}

/** utime + stime of a process from /proc/PID/stat, in seconds (clock ticks of 1/100 s); 0 once it is gone. */
export function cpuSecondsOf(pid: number): number {
  return statSeconds(pid, 11, 12);
}

/** cutime + cstime: CPU seconds of the children the process has reaped (an agent's: its tasks); 0 once it is gone. */
export function childCpuSecondsOf(pid: number): number {
  return statSeconds(pid, 13, 14);
}

/** The sum of two clock-tick fields of /proc/PID/stat (counted after the command name), in seconds. */
function statSeconds(pid: number, a: number, b: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[a]) + Number(fields[b])) / 100;
  } catch {
    return 0;
  }
}

/** CPU seconds this process has used so far. */
export function ownCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** Tasks outlive their agent by design: SIGKILL the group of every process working under `dir`. */
function killProcessesUnder(dir: string): void {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (!readlinkSync(`/proc/${entry}/cwd`).startsWith(dir) && !readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(dir)) continue;
    } catch {
      continue;
    }
    for (const target of [-Number(entry), Number(entry)]) {
      try {
        process.kill(target, 'SIGKILL');
        break;
      } catch {
        /* try the process itself, or it is gone */
      }
    }
  }
}
