/**
 * The service proxy (marathon-lb's job): a TCP listener on each app's service port that
 * forwards every new connection to one of the app's healthy, ready instances (backends).
 *
 * Zero downtime rests on three promises:
 * - A backend removed by `setBackends` gets no NEW connection from that moment, but its open
 *   connections are left to finish (it is *draining*); `drained(id)` resolves once the last one
 *   closed. The scheduler removes a backend, awaits `drained`, and only then kills the task.
 * - A backend that refuses or does not answer the connect (it died between health checks) is
 *   retried on the next backend; nothing was sent to the client yet, so it never notices.
 * - A connection that no backend accepts is reset at once (the client reads ECONNRESET): the
 *   listener stays open while the service port exists, even with no backends.
 *
 * Forwarding is connection-level (bytes both ways, each direction's FIN passed on separately,
 * so half-closed connections work); there is no HTTP parsing.
 */
import net, { type AddressInfo, type Socket } from 'node:net';
import { InvalidArgumentError, MezzError } from '../../lib/errors';

/** One healthy, ready instance of an app, reachable at host:port. */
export interface ProxyBackend {
  /** Unique across the proxy (the task id); `drained` and `draining` speak of it. */
  id: string;
  host: string;
  port: number;
}

/** Where the proxy logs; a winston logger or the foundation's RunnerLogger fits. */
export interface ProxyLogger {
  debug(message: string, meta?: Record<string, unknown>): unknown;
  info(message: string, meta?: Record<string, unknown>): unknown;
  warn(message: string, meta?: Record<string, unknown>): unknown;
}

export interface ServiceProxyOptions {
  /** The address every listener binds (default 127.0.0.1; 0.0.0.0 to serve other machines). */
  host?: string;
  /** Open client connections per service port; one more is closed at once (default 1024). */
  maxConnections?: number;
  /** A connection with no byte either way for this long is closed (default 300 s, haproxy's `timeout client` in marathon-lb is 50 s; long polls need more). */
  idleTimeoutMs?: number;
  /** A backend that has not accepted within this long is skipped for the next one (default 5 s). */
  connectTimeoutMs?: number;
  /** How long `drained` waits unless told (default 60 s). */
  drainTimeoutMs?: number;
  logger?: ProxyLogger;
}

/** Counters since the proxy started, for /metrics. */
export interface ProxyCounters {
  /** Client connections accepted. */
  accepted: number;
  /** Client connections joined to a backend. */
  forwarded: number;
  /** Connect attempts that failed and moved on to another backend (or gave up). */
  connectFailures: number;
  /** Client connections reset because no backend accepted them. */
  noBackend: number;
  /** Client connections closed because the service port was at `maxConnections`. */
  overLimit: number;
  /** Connections closed by the idle timeout. */
  idleClosed: number;
}

/** A backend no longer in any set whose connections are still open. */
export interface DrainingBackend {
  id: string;
  open: number;
}

/** `drained` gave up: the backend still had open connections at the deadline. */
export class DrainTimeoutError extends MezzError {
  override name = 'DrainTimeoutError';
  constructor(readonly backendId: string, readonly open: number, readonly timeoutMs: number) {
    super(`backend ${backendId} still has ${open} open connection(s) after ${timeoutMs} ms of draining; kill it anyway or wait longer`, 'UNAVAILABLE');
  }
}

interface Listener {
  readonly servicePort: number;
  readonly server: net.Server;
  readonly listening: Promise<void>;
  backends: ProxyBackend[];
  /** The round-robin position: the next connection starts at backends[next % length]. */
  next: number;
}

const silent: ProxyLogger = { debug() {}, info() {}, warn() {} };

function isPort(port: unknown): boolean {
  return Number.isInteger(port) && (port as number) >= 1 && (port as number) <= 65535;
}

/** Refuses what would otherwise throw later, inside a connection handler. */
function checkBackends(servicePort: number, backends: readonly ProxyBackend[]): void {
  if (!isPort(servicePort)) throw new InvalidArgumentError(`service port ${servicePort}: must be a whole number from 1 to 65535`);
  const ids = new Set<string>();
  backends.forEach((b, i) => {
    const where = `service port ${servicePort}, backends[${i}]`;
    if (typeof b.id !== 'string' || b.id === '') throw new InvalidArgumentError(`${where}.id: must be a non-empty string`);
    if (ids.has(b.id)) throw new InvalidArgumentError(`${where}.id: ${b.id} is given twice`);
    if (typeof b.host !== 'string' || b.host === '') throw new InvalidArgumentError(`${where}.host: must be a non-empty string`);
    if (!isPort(b.port)) throw new InvalidArgumentError(`${where}.port: ${b.port} must be a whole number from 1 to 65535`);
    ids.add(b.id);
  });
}

export class ServiceProxy {
  readonly counters: ProxyCounters = { accepted: 0, forwarded: 0, connectFailures: 0, noBackend: 0, overLimit: 0, idleClosed: 0 };
  private readonly listeners = new Map<number, Listener>();
  /** Open (or connecting) forwarded connections per backend id, across all service ports. */
  private readonly open = new Map<string, number>();
  private readonly drainWaiters = new Map<string, Set<() => void>>();
  private readonly sockets = new Set<Socket>();
  private readonly host: string;
  private readonly maxConnections: number;
  private readonly idleTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly drainTimeoutMs: number;
  private readonly log: ProxyLogger;

  constructor(opts: ServiceProxyOptions = {}) {
    this.host = opts.host ?? '127.0.0.1';
    this.maxConnections = opts.maxConnections ?? 1024;
    this.idleTimeoutMs = opts.idleTimeoutMs ?? 300_000;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 5_000;
    this.drainTimeoutMs = opts.drainTimeoutMs ?? 60_000;
    this.log = opts.logger ?? silent;
  }

  /**
   * Makes `backends` the whole set for `servicePort`, opening its listener if it has none.
   * Takes effect at once for new connections; connections to a backend left out keep going
   * (drain). Idempotent. Rejects with InvalidArgumentError for a port out of range or a
   * malformed backend (nothing changes), and when the port cannot be bound (it is then forgotten).
   */
  async setBackends(servicePort: number, backends: readonly ProxyBackend[]): Promise<void> {
    checkBackends(servicePort, backends);
    const listener = this.listeners.get(servicePort) ?? this.listen(servicePort);
    const before = new Set(listener.backends.map((b) => b.id));
    listener.backends = backends.map((b) => ({ ...b }));
    const after = new Set(backends.map((b) => b.id));
    for (const id of before) if (!after.has(id)) this.log.info(`service port ${servicePort}: backend ${id} removed; draining ${this.open.get(id) ?? 0} open connection(s)`);
    for (const b of backends) if (!before.has(b.id)) this.log.info(`service port ${servicePort}: backend ${b.id} added at ${b.host}:${b.port}`);
    for (const id of before) this.settle(id);
    await listener.listening;
  }

  /** Closes the listener of `servicePort`; its open connections drain like removed backends. Idempotent. */
  async removeServicePort(servicePort: number): Promise<void> {
    const listener = this.listeners.get(servicePort);
    if (!listener) return;
    this.listeners.delete(servicePort);
    const ids = listener.backends.map((b) => b.id);
    listener.backends = [];
    for (const id of ids) this.settle(id);
    this.log.info(`service port ${servicePort}: listener closed; ${ids.length} backend(s) left to drain`);
    await listener.listening.catch(() => undefined);
    await new Promise<void>((resolve) => listener.server.close(() => resolve()));
  }

  /** The service ports with a listener. */
  servicePorts(): number[] {
    return [...this.listeners.keys()];
  }

  /** Where `servicePort` is bound, once listening. */
  address(servicePort: number): AddressInfo | undefined {
    const address = this.listeners.get(servicePort)?.server.address();
    return address && typeof address === 'object' ? address : undefined;
  }

  /** Backends in no set any more that still have open connections. */
  draining(): DrainingBackend[] {
    return [...this.open].filter(([id]) => !this.isActive(id)).map(([id, open]) => ({ id, open }));
  }

  /**
   * Resolves once `backendId` is in no service port's set and has no open connection (at once
   * if that is already so, e.g. an id never seen). Rejects with DrainTimeoutError after
   * `timeoutMs`; the connections are left alone either way.
   */
  drained(backendId: string, timeoutMs = this.drainTimeoutMs): Promise<void> {
    if (this.isDrained(backendId)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiters = this.drainWaiters.get(backendId) ?? new Set();
      this.drainWaiters.set(backendId, waiters);
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        waiters.delete(done);
        if (waiters.size === 0) this.drainWaiters.delete(backendId);
        reject(new DrainTimeoutError(backendId, this.open.get(backendId) ?? 0, timeoutMs));
      }, timeoutMs);
      waiters.add(done);
    });
  }

  /** Closes every listener and cuts every connection (shutdown; no drain). */
  async close(): Promise<void> {
    const ports = [...this.listeners.keys()];
    for (const socket of this.sockets) socket.destroy();
    await Promise.all(ports.map((p) => this.removeServicePort(p)));
  }

  private listen(servicePort: number): Listener {
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true });
    server.maxConnections = this.maxConnections;
    const listening = new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(servicePort, this.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const listener: Listener = { servicePort, server, listening, backends: [], next: 0 };
    server.on('connection', (client) => this.accept(listener, client));
    // Node closes a connection over maxConnections itself; this only counts and tells.
    server.on('drop', () => {
      this.counters.overLimit++;
      this.log.warn(`service port ${servicePort}: at ${this.maxConnections} connections, one refused`);
    });
    listening.then(
      () => this.log.info(`service port ${servicePort}: listening on ${this.host}`),
      (err: Error) => {
        if (this.listeners.get(servicePort) === listener) this.listeners.delete(servicePort);
        this.log.warn(`service port ${servicePort}: cannot listen on ${this.host}: ${err.message}`);
      },
    );
    this.listeners.set(servicePort, listener);
    return listener;
  }

  private accept(listener: Listener, client: Socket): void {
    this.counters.accepted++;
    this.track(client);
    client.on('error', () => undefined); // a reset client only ends its own connection
    this.connect(listener, client, new Set());
  }

  /** Tries the next backend in round-robin order that this connection has not tried yet. */
  private connect(listener: Listener, client: Socket, tried: Set<string>): void {
    if (client.destroyed) return;
    const backend = this.pick(listener, tried);
    if (!backend) {
      this.counters.noBackend++;
      this.log.warn(`service port ${listener.servicePort}: no backend accepted a connection (${tried.size} tried); resetting it`);
      client.resetAndDestroy();
      return;
    }
    tried.add(backend.id);
    this.opened(backend.id);
    const upstream = net.connect({ host: backend.host, port: backend.port, allowHalfOpen: true });
    this.track(upstream);
    let joined = false;
    const abandon = (): void => {
      upstream.destroy();
    };
    client.once('close', abandon);
    const slow = (): void => {
      upstream.destroy(new Error(`no answer within ${this.connectTimeoutMs} ms`));
    };
    upstream.setTimeout(this.connectTimeoutMs);
    upstream.once('timeout', slow);
    upstream.once('connect', () => {
      joined = true;
      client.off('close', abandon);
      upstream.off('timeout', slow);
      this.join(listener, backend, client, upstream);
    });
    upstream.once('close', () => this.closed(backend.id));
    upstream.once('error', (err) => {
      if (joined) return;
      client.off('close', abandon);
      this.counters.connectFailures++;
      this.log.warn(`service port ${listener.servicePort}: backend ${backend.id} at ${backend.host}:${backend.port} failed to connect (${err.message}); trying another`);
      this.connect(listener, client, tried);
    });
  }

  private pick(listener: Listener, tried: Set<string>): ProxyBackend | undefined {
    const { backends } = listener;
    for (let i = 0; i < backends.length; i++) {
      const backend = backends[(listener.next + i) % backends.length]!;
      if (tried.has(backend.id)) continue;
      listener.next = (listener.next + i + 1) % backends.length;
      return backend;
    }
    return undefined;
  }

  private join(listener: Listener, backend: ProxyBackend, client: Socket, upstream: Socket): void {
    this.counters.forwarded++;
    this.log.debug(`service port ${listener.servicePort}: connection forwarded to ${backend.id}`);
    // pipe() passes each side's FIN on with end(); an error or reset on one side cuts the other.
    client.pipe(upstream);
    upstream.pipe(client);
    const cut = (other: Socket) => (hadError: boolean) => {
      if (hadError) other.destroy();
    };
    client.on('close', cut(upstream));
    upstream.on('close', cut(client));
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    // Any byte either way passes through both sockets, so one idle timer each is enough.
    const idle = (): void => {
      this.counters.idleClosed++;
      this.log.info(`service port ${listener.servicePort}: connection to ${backend.id} idle for ${this.idleTimeoutMs} ms; closed`);
      client.destroy();
      upstream.destroy();
    };
    upstream.setTimeout(this.idleTimeoutMs, idle);
    client.setTimeout(this.idleTimeoutMs, idle);
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  private opened(id: string): void {
    this.open.set(id, (this.open.get(id) ?? 0) + 1);
  }

  private closed(id: string): void {
    const left = (this.open.get(id) ?? 1) - 1;
    if (left > 0) this.open.set(id, left);
    else this.open.delete(id);
    this.settle(id);
  }

  private isActive(id: string): boolean {
    for (const listener of this.listeners.values()) if (listener.backends.some((b) => b.id === id)) return true;
    return false;
  }

  private isDrained(id: string): boolean {
    return !this.open.has(id) && !this.isActive(id);
  }

  /** Wakes whoever awaits `drained(id)` if it now is. */
  private settle(id: string): void {
    const waiters = this.drainWaiters.get(id);
    if (!waiters || !this.isDrained(id)) return;
    this.drainWaiters.delete(id);
    this.log.info(`backend ${id} drained`);
    for (const wake of waiters) wake();
  }
}
