/**
 * Test helpers for suites that need a real etcd: skip them loudly when etcd
 * is not installed (or fail, with REQUIRE_ETCD=1, as CI should), start a
 * throwaway etcd that is killed at teardown pass or fail, and a TCP proxy
 * that can cut ONE client off from etcd while etcd keeps serving the others.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import type { TlsFiles } from '../lib/auth';
import { EtcdNotInstalledError, etcdInstalled, findEtcd, startEtcd, type EtcdProcess } from '../lib/etcd-process';

let warned = false;

function missingMessage(): string {
  try {
    findEtcd();
    return '';
  } catch (err) {
    return err instanceof EtcdNotInstalledError ? err.message : String(err);
  }
}

function warnLoudly(message: string): void {
  if (warned) return;
  warned = true;
  const bar = '!'.repeat(78);
  process.stderr.write(`\n${bar}\n!!! SKIPPING THE ETCD SUITES: ${message}\n!!! Set REQUIRE_ETCD=1 to make this a failure.\n${bar}\n\n`);
}

/**
 * For `describe(name, { skip: requireEtcd() }, …)`: false when etcd is
 * installed; otherwise prints a loud warning and returns the reason to
 * skip — or throws (failing the file) with REQUIRE_ETCD=1.
 */
export function requireEtcd(): false | string {
  if (etcdInstalled()) return false;
  const message = missingMessage();
  if (process.env.REQUIRE_ETCD === '1') throw new Error(`REQUIRE_ETCD=1, but ${message}`);
  warnLoudly(message);
  return `etcd is not installed (apt-get install etcd-server)`;
}

/**
 * For a test body: true when etcd is installed. Otherwise prints a loud
 * warning, marks the test skipped and returns false (the test should
 * return) — or throws (failing the test) with REQUIRE_ETCD=1.
 */
export function etcdOrSkip(t: TestContext): boolean {
  const skip = requireEtcd();
  if (skip === false) return true;
  t.skip(skip);
  return false;
}

/** A throwaway etcd in a temporary directory. */
export interface TestEtcd extends EtcdProcess {
  /** Kills etcd and removes its data directory. Idempotent. */
  dispose(): Promise<void>;
}

/** Starts an etcd with its data in a fresh temporary directory; with `tls`, https only and client certificates required. */
export async function startTestEtcd(opts: { tls?: Required<TlsFiles> } = {}): Promise<TestEtcd> {
  const dir = mkdtempSync(path.join(tmpdir(), 'mezz-etcd-'));
  let etcd: EtcdProcess;
  try {
    etcd = await startEtcd({ dataDir: path.join(dir, 'data'), ...opts });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return Object.assign(etcd, {
    dispose: async () => {
      await etcd.kill9();
      rmSync(dir, { recursive: true, force: true });
    },
  });
}

/** A TCP proxy in front of etcd (see `startProxy`). */
export interface Proxy {
  readonly port: number;
  /** `http://127.0.0.1:<port>` (https when the target is): give this to the client to cut off. */
  readonly endpoint: string;
  /**
   * Cuts the clients off: destroys every open connection, and holds new
   * ones open without forwarding a byte (as a network partition that drops
   * packets does), or with `{refuse: true}` refuses them.
   */
  pause(opts?: { refuse?: boolean }): void;
  /** Heals the partition: held connections are dropped (clients reconnect) and new ones are forwarded again. */
  resume(): Promise<void>;
  /** Closes the proxy and every connection through it. Idempotent. */
  close(): Promise<void>;
}

/** Starts a proxy on a free loopback port that forwards to `target` (`http(s)://host:port` or `host:port`); TLS passes through it untouched. */
export async function startProxy(target: string): Promise<Proxy> {
  const url = new URL(/^\w+:\/\//.test(target) ? target : `http://${target}`);
  const host = url.hostname;
  const targetPort = Number(url.port);
  const sockets = new Set<net.Socket>();
  const held = new Set<net.Socket>();
  let mode: 'forward' | 'hold' | 'refuse' = 'forward';

  const track = (s: net.Socket, set: Set<net.Socket>) => {
    set.add(s);
    s.on('close', () => set.delete(s));
    s.on('error', () => undefined);
  };
  const onConnection = (client: net.Socket) => {
    if (mode === 'hold') {
      // Reads nothing, answers nothing: the client's writes pile up unanswered.
      client.pause();
      track(client, held);
      return;
    }
    track(client, sockets);
    const upstream = net.connect(targetPort, host);
    track(upstream, sockets);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  };

  let server = net.createServer(onConnection);
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
    });
  const closeServer = () => new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
  const port = await listen(0);
  let closed = false;

  return {
    port,
    endpoint: `${url.protocol}//127.0.0.1:${port}`,
    pause: (opts = {}) => {
      mode = opts.refuse ? 'refuse' : 'hold';
      for (const s of sockets) s.destroy();
      // Refusing: stop listening, so connecting gets ECONNREFUSED.
      if (mode === 'refuse') server.close();
    },
    resume: async () => {
      for (const s of held) s.destroy();
      if (mode === 'refuse' && !closed) {
        server = net.createServer(onConnection);
        await listen(port);
      }
      mode = 'forward';
    },
    close: async () => {
      if (closed) return;
      closed = true;
      for (const s of [...sockets, ...held]) s.destroy();
      await closeServer();
    },
  };
}
