/**
 * mezz-services: Marathon's apps on Mezzanine. One process is the leader
 * (subscribed to the master, scheduling, answering /v2, running the service
 * proxy); others stand by and forward every /v2 request to it.
 */
import { randomUUID } from 'node:crypto';
import { Command } from 'commander';
import { Authenticator, loadAccessPolicy, loadTls } from '../../lib/auth';
import { durationOption } from '../../lib/duration-option';
import { createLogger } from '../../lib/log';
import { addFrameworkFlags, advertisedAddress, createApi, FrameworkRunner, openBackend, proxyToLeader, type FrameworkFlags } from '../foundation/index';
import { addServiceRoutes } from './api';
import { ProxyEndpoints } from './endpoints';
import { ReadinessChecker } from './readiness';
import { ServicesScheduler } from './scheduler';
import { ServiceProxy } from './service-proxy';

interface ServicesFlags extends FrameworkFlags {
  serviceProxy: boolean;
  serviceProxyHost: string;
  drainTimeout: number;
}

/** The `mezz-services` command line: the foundation's flags and the service proxy's. */
export function servicesProgram(): Command {
  return addFrameworkFlags(new Command('mezz-services'), { name: 'services', port: 8080 })
    .option('--no-service-proxy', 'do not run the service proxy (clients then find instances through /v2/apps/{id}/tasks)')
    .option('--service-proxy-host <host>', 'the address the service proxy listens on, a port per app service port', '127.0.0.1')
    .addOption(durationOption('--drain-timeout <duration>', 'how long a task leaving the service proxy may finish its open connections before it is killed', { unit: 'ms', default: 60_000 }));
}

async function main(): Promise<void> {
  const flags = servicesProgram().parse().opts<ServicesFlags>();
  const log = createLogger('mezz-services');
  const { credentials, acls } = loadAccessPolicy(flags);
  const tls = loadTls(flags);
  const api = createApi({
    name: flags.name,
    log,
    ...(credentials ? { authenticator: new Authenticator(credentials) } : {}),
    ...(acls ? { acls } : {}),
    ...(tls ? { tls } : {}),
  });
  const backend = await openBackend(flags, log);
  const proxy = flags.serviceProxy ? new ServiceProxy({ host: flags.serviceProxyHost, drainTimeoutMs: flags.drainTimeout, logger: log }) : undefined;
  const endpoints = proxy ? new ProxyEndpoints(proxy, log) : undefined;
  const readiness = new ReadinessChecker();
  const scheduler = new ServicesScheduler({ log, newId: randomUUID, readiness, ...(endpoints ? { endpoints } : {}) });

  // Routes and hooks go in before listening; the runner comes after, since the advertised address needs the bound port.
  let runner: FrameworkRunner | undefined;
  let advertise = '';
  const leadership = {
    leaderAddress: () => runner?.leaderAddress(),
    abdicate: async () => (runner ? runner.abdicate() : false),
  };
  // A standby answers no /v2 itself: the leader's state is the only truth.
  api.server.addHook('onRequest', async (request, reply) => {
    if (!request.url.startsWith('/v2') || runner?.isLeader()) return;
    reply.hijack();
    await proxyToLeader(request.raw, reply.raw, runner?.leaderAddress(), { self: advertise, ...(tls ? { tls } : {}) });
  });
  addServiceRoutes(api, scheduler, leadership);
  await api.listen(flags.host, flags.port);
  advertise = advertisedAddress(flags, (api.server.server.address() as { port: number }).port);
  runner = new FrameworkRunner({
    name: flags.name, cluster: flags.cluster, store: backend.store, election: backend.election, advertise,
    scheme: tls ? 'https' : 'http', logger: log,
    lead: async (ctx) => {
      // The proxy serves only while this instance leads: a standby's view of the tasks is not kept.
      ctx.signal.addEventListener('abort', () => void endpoints?.clear());
      await scheduler.lead(ctx);
    },
    sdk: {
      ...(flags.master ? { master: flags.master } : {}),
      ...(flags.token ? { token: flags.token } : {}),
      ...(tls ? { tls: { cert: tls.files.tlsCert, key: tls.files.tlsKey, ca: tls.files.tlsCa } } : {}),
      roles: [flags.role],
      // TASK_UNREACHABLE rather than TASK_LOST, so that each app's unreachableStrategy decides when a task is replaced.
      capabilities: ['PARTITION_AWARE'],
      failoverTimeout: '1h',
    },
  });
  await runner.start();
  process.stdout.write(`mezz-services listening on ${advertise}\n`);

  const stop = () => void runner!.stop().then(() => readiness.close()).then(() => endpoints?.clear()).then(() => api.close()).then(() => backend.close()).finally(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

// A bad flag or file is the operator's mistake: one line naming it, exit 2, no stack trace.
main().catch((err: unknown) => {
  process.stderr.write(`mezz-services: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(2);
});
