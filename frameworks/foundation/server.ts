/**
 * A shipped framework's process, from its flags: the HTTP API (auth, TLS,
 * /health, /metrics), the store and election, the runner, a standby's proxy
 * to the leader for the framework's API prefix, the event stream, SIGTERM,
 * and a bad flag or file reported in one line with exit 2. A binary's main
 * says only what is its own:
 *
 *   runFrameworkMain('mezz-batch', batchProgram(), (flags, { api, log }) => {
 *     const scheduler = new BatchScheduler({ … metrics: api.metrics … });
 *     return { prefix: '/v1', routes: (leadership) => addBatchRoutes(api, scheduler, leadership), lead: scheduler.lead };
 *   });
 */
import type { Command } from 'commander';
import { Authenticator, loadAccessPolicy, loadTls, type TlsMaterial } from '../../lib/auth';
import { createLogger, type Logger } from '../../lib/log';
import type { FrameworkOptions } from '../sdk';
import { openBackend } from './backend';
import { EventBus } from './events';
import { addEventRoutes } from './events-http';
import { advertisedAddress, type FrameworkFlags } from './flags';
import { createApi, type Api } from './http';
import { proxyToLeader } from './proxy';
import { FrameworkRunner, type LeaderContext } from './runner';

/** What routes need of the runner: where the leader is, and a way to step down (DELETE …/leader). */
export interface Leadership {
  leaderAddress(): string | undefined;
  abdicate(): Promise<boolean>;
}

/** What a framework adds to the shared process. */
export interface FrameworkParts {
  /** The API path prefix a standby forwards to the leader (`/v2`, `/v1`). */
  prefix: string;
  /** Adds the framework's routes (before the API listens). */
  routes(leadership: Leadership): void;
  /** One leadership: the runner's `lead`. */
  lead(ctx: LeaderContext): Promise<void>;
  /** Called when a leadership ends (the bus's streams are closed too). */
  onLeadershipEnd?(): void;
  /** The SDK options of its own: capabilities, acknowledgements. */
  sdk?: Pick<FrameworkOptions, 'capabilities' | 'autoAcknowledge'>;
  /** Closed after the runner stops, before the API. */
  close?(): Promise<void>;
}

/** What a framework asks of the process before its setup runs. */
export interface ProcessOptions {
  /** The API's request body cap (the foundation's DEFAULT_BODY_LIMIT when absent). */
  bodyLimit?: number;
}

/** What a framework's setup is handed. */
export interface FrameworkContext {
  api: Api;
  log: Logger;
  /** Its event stream, routed at `<prefix>/events`. */
  events: EventBus;
  tls?: TlsMaterial;
}

/**
 * Parses `program`'s flags, builds the process and runs it until SIGTERM or
 * SIGINT. Prints `<name> listening on HOST:PORT` once it serves. Any error
 * while starting is one line on stderr and exit 2.
 */
export function runFrameworkMain<F extends FrameworkFlags>(name: string, program: Command, setup: (flags: F, ctx: FrameworkContext) => FrameworkParts, options: ProcessOptions = {}): void {
  start(name, program, setup, options).catch((err: unknown) => {
    process.stderr.write(`${name}: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  });
}

async function start<F extends FrameworkFlags>(name: string, program: Command, setup: (flags: F, ctx: FrameworkContext) => FrameworkParts, options: ProcessOptions): Promise<void> {
  const flags = program.parse().opts<F>();
  const log = createLogger(name);
  const { credentials, acls } = loadAccessPolicy(flags);
  const tls = loadTls(flags);
  const api = createApi({
    name: flags.name,
    log,
    ...(options.bodyLimit !== undefined ? { bodyLimit: options.bodyLimit } : {}),
    ...(credentials ? { authenticator: new Authenticator(credentials) } : {}),
    ...(acls ? { acls } : {}),
    ...(tls ? { tls } : {}),
  });
  const backend = await openBackend(flags, log);
  const events = new EventBus();
  const parts = setup(flags, { api, log, events, ...(tls ? { tls } : {}) });

  let runner: FrameworkRunner | undefined;
  let advertise = '';
  // A standby answers none of the framework's API itself: the leader's state is the only truth.
  api.server.addHook('onRequest', async (request, reply) => {
    if (!request.url.startsWith(parts.prefix) || runner?.isLeader()) return;
    reply.hijack();
    await proxyToLeader(request.raw, reply.raw, runner?.leaderAddress(), { self: advertise, ...(tls ? { tls } : {}) });
  });
  parts.routes({ leaderAddress: () => runner?.leaderAddress(), abdicate: async () => (runner ? runner.abdicate() : false) });
  addEventRoutes(api, events, { url: `${parts.prefix}/events` });
  await api.listen(flags.host, flags.port);
  advertise = advertisedAddress(flags, (api.server.server.address() as { port: number }).port);
  runner = new FrameworkRunner({
    name: flags.name, cluster: flags.cluster, store: backend.store, election: backend.election, advertise,
    scheme: tls ? 'https' : 'http', logger: log,
    lead: async (ctx) => {
      // As Marathon, a leader that stops leading ends its event streams; clients reconnect (through a standby) to the next.
      ctx.signal.addEventListener('abort', () => {
        parts.onLeadershipEnd?.();
        events.closeAll('this instance stopped leading; reconnect to reach the new leader');
      }, { once: true });
      await parts.lead(ctx);
    },
    sdk: {
      ...(flags.master ? { master: flags.master } : {}),
      ...(flags.token ? { token: flags.token } : {}),
      ...(tls ? { tls: { cert: tls.files.tlsCert, key: tls.files.tlsKey, ca: tls.files.tlsCa } } : {}),
      roles: [flags.role],
      failoverTimeout: '1h',
      ...parts.sdk,
    },
  });
  await runner.start();
  process.stdout.write(`${name} listening on ${advertise}\n`);

  const stop = () => void runner!.stop().then(() => parts.close?.()).then(() => api.close()).then(() => backend.close()).finally(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
