/**
 * A local, single-member etcd: started by the integration tests, by
 * `mezz up --ha` and by the benchmarks, so that they all run the same thing.
 *
 *   findEtcd() ──▶ spawn (own process group, loopback ports from the OS) ──▶ GET /health until healthy
 *
 * The member is tuned for one machine: a 50 ms raft heartbeat and a 500 ms
 * election timeout (it elects itself within half a second of starting, and
 * etcd's minimum lease TTL, 1.5 × election timeout, drops to 0.75 s, so a
 * 1 s or 2 s master lease is granted as asked), a modest snapshot count,
 * and warnings-only logging. Every write is still fsynced.
 *
 * With `tls` (a certificate for 127.0.0.1, its key and a CA) etcd is not
 * anonymous: it serves https only and accepts a client (and a peer) only
 * with a certificate signed by that CA (`--client-cert-auth`); its health
 * is asked for with that same certificate.
 *
 * Every process started here is SIGKILLed when this Node process exits,
 * whatever the reason, so an etcd never outlives the test or tool that
 * started it (call `stop()` for a clean shutdown).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, mkdirSync, readFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import type { TlsFiles } from './auth/transport';
import { MezzError, errorMessage } from './errors';

/** The `etcd` binary is not installed (or not on PATH). */
export class EtcdNotInstalledError extends MezzError {
  override name = 'EtcdNotInstalledError';
  constructor(searched: string) {
    super(
      `etcd is not installed: no executable "etcd" on PATH (${searched}). ` +
        'Install it with `apt-get install etcd-server` (Debian/Ubuntu), or set ETCD_BIN to the etcd binary',
      'FAILED_PRECONDITION',
    );
  }
}

/** etcd was found but did not start, or did not become healthy in time. */
export class EtcdStartError extends MezzError {
  override name = 'EtcdStartError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'UNAVAILABLE', options);
  }
}

export interface EtcdProcessOptions {
  /** Where etcd keeps its data (created if missing). Reuse it to restart with the same state. */
  dataDir: string;
  /** Client port on 127.0.0.1; default: a free port chosen by the OS. */
  clientPort?: number;
  /** Peer (raft) port on 127.0.0.1; default: a free port chosen by the OS. */
  peerPort?: number;
  /** Member name; default `mezzanine`. */
  name?: string;
  /** How long to wait for `/health` to answer healthy; default 20 s (generous for a loaded machine). */
  startTimeoutMs?: number;
  /** The etcd binary; default `$ETCD_BIN`, else `etcd` on PATH. */
  bin?: string;
  /**
   * Serve https only and require client certificates signed by `tlsCa`
   * (peers too); `tlsCert` must be valid for 127.0.0.1 as server and client.
   */
  tls?: Required<TlsFiles>;
}

/** A running etcd started by `startEtcd`. */
export interface EtcdProcess {
  /** `http://127.0.0.1:<clientPort>` (`https://` with `tls`): what clients connect to. */
  readonly endpoint: string;
  readonly clientPort: number;
  readonly peerPort: number;
  readonly dataDir: string;
  /** The process id of the current etcd (it changes on `restart()`). */
  readonly pid: number;
  /** The last 64 KiB of etcd's stdout and stderr, for error messages. */
  output(): string;
  /** SIGTERM to the process group, SIGKILL after 5 s; resolves once it exited. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL to the process group (a crash); resolves once it exited. Idempotent. */
  kill9(): Promise<void>;
  /** SIGSTOP: etcd keeps its sockets but answers nothing, as an unreachable etcd would. */
  pause(): void;
  /** SIGCONT after `pause()`. */
  resume(): void;
  /** Stops etcd (if running) and starts it again on the same ports and data directory; resolves once healthy. */
  restart(): Promise<void>;
}

const OUTPUT_LIMIT = 64 * 1024;
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Finds the etcd binary: `ETCD_BIN`, else `etcd` on PATH. Throws EtcdNotInstalledError. */
export function findEtcd(bin = process.env.ETCD_BIN): string {
  if (bin) {
    if (isExecutable(bin)) return bin;
    throw new EtcdNotInstalledError(`ETCD_BIN=${bin} is not an executable file`);
  }
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  for (const dir of dirs) {
    const candidate = path.join(dir, 'etcd');
    if (isExecutable(candidate)) return candidate;
  }
  throw new EtcdNotInstalledError(`searched ${dirs.join(path.delimiter) || 'an empty PATH'}`);
}

/** True when an etcd binary can be found (see `findEtcd`). */
export function etcdInstalled(): boolean {
  try {
    findEtcd();
    return true;
  } catch {
    return false;
  }
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** A free TCP port on 127.0.0.1, from the OS. (Another process could take it before etcd binds it; on loopback in tests that is rare enough.) */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts a single-member etcd on loopback and resolves once it is healthy.
 * Throws EtcdNotInstalledError when there is no etcd binary, and
 * EtcdStartError (with etcd's last output) when it exits early or is not
 * healthy within `startTimeoutMs`; the process is killed in that case.
 */
export async function startEtcd(opts: EtcdProcessOptions): Promise<EtcdProcess> {
  const bin = findEtcd(opts.bin);
  for (let attempt = 1; ; attempt++) {
    const clientPort = opts.clientPort ?? (await freePort());
    const peerPort = opts.peerPort ?? (await freePort());
    try {
      return await launchEtcd(opts, bin, clientPort, peerPort);
    } catch (err) {
      // A port the OS gave us was taken before etcd bound it: pick others (only if we picked them).
      const ours = opts.clientPort === undefined && opts.peerPort === undefined;
      if (ours && attempt < 3 && err instanceof EtcdStartError && /address already in use/.test(err.message)) continue;
      throw err;
    }
  }
}

async function launchEtcd(opts: EtcdProcessOptions, bin: string, clientPort: number, peerPort: number): Promise<EtcdProcess> {
  const name = opts.name ?? 'mezzanine';
  const dataDir = path.resolve(opts.dataDir);
  const startTimeoutMs = opts.startTimeoutMs ?? 20_000;
  mkdirSync(dataDir, { recursive: true });
  const scheme = opts.tls ? 'https' : 'http';
  const endpoint = `${scheme}://127.0.0.1:${clientPort}`;
  const peer = `${scheme}://127.0.0.1:${peerPort}`;
  const args = [
    '--name', name,
    '--data-dir', dataDir,
    '--listen-client-urls', endpoint,
    '--advertise-client-urls', endpoint,
    '--listen-peer-urls', peer,
    '--initial-advertise-peer-urls', peer,
    '--initial-cluster', `${name}=${peer}`,
    '--initial-cluster-state', 'new',
    // Fast self-election on one machine; see the file comment for the lease TTL consequence.
    '--heartbeat-interval', '50',
    '--election-timeout', '500',
    '--snapshot-count', '10000',
    '--logger', 'zap',
    '--log-level', 'warn',
    ...(opts.tls ? tlsArgs(opts.tls) : []),
  ];
  const healthTls = opts.tls && { cert: readFileSync(opts.tls.tlsCert), key: readFileSync(opts.tls.tlsKey), ca: readFileSync(opts.tls.tlsCa) };

  let child!: ChildProcess;
  let out = '';
  let exited!: Promise<void>;
  let exitCode: string | undefined;

  const launch = async (): Promise<void> => {
    out = '';
    exitCode = undefined;
    child = spawn(bin, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env } });
    installExitHook();
    running.add(child);
    const append = (d: Buffer) => {
      out += d.toString();
      if (out.length > OUTPUT_LIMIT) out = out.slice(-OUTPUT_LIMIT);
    };
    child.stdout!.on('data', append);
    child.stderr!.on('data', append);
    const c = child;
    exited = new Promise<void>((resolve) => {
      c.once('exit', (code, signal) => {
        exitCode = signal ?? String(code);
        running.delete(c);
        resolve();
      });
      c.once('error', (err) => {
        exitCode = `spawn error: ${err.message}`;
        running.delete(c);
        resolve();
      });
    });
    const deadline = Date.now() + startTimeoutMs;
    let last = 'no answer yet';
    for (;;) {
      if (exitCode !== undefined) {
        throw new EtcdStartError(`etcd exited while starting (${exitCode}); its output:\n${out.slice(-4000)}`);
      }
      const health = await checkHealth(endpoint, healthTls);
      if (health === true) return;
      last = health;
      if (Date.now() > deadline) {
        await killGroup('SIGKILL');
        throw new EtcdStartError(`etcd at ${endpoint} was not healthy within ${startTimeoutMs} ms (${last}); its output:\n${out.slice(-4000)}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  const signalGroup = (sig: NodeJS.Signals): void => {
    if (exitCode !== undefined || child.pid === undefined) return;
    try {
      process.kill(-child.pid, sig);
    } catch {
      /* already gone */
    }
  };
  const killGroup = async (sig: NodeJS.Signals): Promise<void> => {
    signalGroup(sig);
    await exited;
  };
  const stop = async (): Promise<void> => {
    if (exitCode !== undefined) return;
    signalGroup('SIGCONT'); // a paused etcd cannot act on SIGTERM
    signalGroup('SIGTERM');
    const force = setTimeout(() => signalGroup('SIGKILL'), 5000);
    await exited;
    clearTimeout(force);
  };

  await launch();
  return {
    endpoint, clientPort, peerPort, dataDir,
    get pid() {
      return child.pid ?? -1;
    },
    output: () => out,
    stop,
    kill9: () => killGroup('SIGKILL'),
    pause: () => signalGroup('SIGSTOP'),
    resume: () => signalGroup('SIGCONT'),
    restart: async () => {
      await stop();
      await launch();
    },
  };
}

/** etcd's flags for https with client (and peer) certificates checked against the CA. */
function tlsArgs(tls: Required<TlsFiles>): string[] {
  return [
    '--cert-file', tls.tlsCert, '--key-file', tls.tlsKey, '--trusted-ca-file', tls.tlsCa, '--client-cert-auth',
    '--peer-cert-file', tls.tlsCert, '--peer-key-file', tls.tlsKey, '--peer-trusted-ca-file', tls.tlsCa, '--peer-client-cert-auth',
  ];
}

interface HealthTls {
  cert: Buffer;
  key: Buffer;
  ca: Buffer;
}

/** true when `/health` says healthy, otherwise what it said (or why it could not be asked). */
async function checkHealth(endpoint: string, tls?: HealthTls): Promise<true | string> {
  try {
    const { status, body } = tls ? await getHttps(`${endpoint}/health`, tls) : await getHttp(`${endpoint}/health`);
    if (status === 200 && /"health"\s*:\s*"true"/.test(body)) return true;
    return `HTTP ${status}: ${body.trim().slice(0, 200)}`;
  } catch (err) {
    const cause = (err as { cause?: unknown }).cause;
    return cause ? errorMessage(cause) : errorMessage(err);
  }
}

async function getHttp(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  return { status: res.status, body: await res.text() };
}

/** A GET with a client certificate (fetch cannot present one). */
function getHttps(url: string, tls: HealthTls): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ...tls, timeout: 2000, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 2000 ms')));
    req.on('error', reject);
  });
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Synchronous on purpose: nothing asynchronous runs in an 'exit' handler.
  process.on('exit', () => {
    for (const c of running) {
      try {
        process.kill(-c.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  });
}
