/**
 * mezz-services: Marathon's apps on Mezzanine. One process is the leader
 * (subscribed to the master, scheduling, answering /v2, running the service
 * proxy); others stand by and forward every /v2 request to it.
 */
import { randomUUID } from 'node:crypto';
import { Authenticator, loadAccessPolicy, loadTls } from '../../lib/auth';
import { createLogger } from '../../lib/log';
import {
  addEventRoutes, advertisedAddress, createApi, EventBus, FrameworkRunner, openBackend, proxyToLeader,
} from '../foundation/index';
import { addServiceRoutes } from './api';
import { servicesProgram, type ServicesFlags } from './flags';
import { ProxyEndpoints } from './endpoints';
import { ReadinessChecker } from './readiness';
import { ServicesScheduler } from './scheduler';
import { ServiceProxy } from './service-proxy';

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
  // GET /v2/events: what the scheduler publishes (api_post_event, status_update_event, deployment_*) goes to every subscriber.
  const events = new EventBus();
  const publish = (type: string, payload: Record<string, unknown>) => events.publish(type, payload);
  const scheduler = new ServicesScheduler({ log, newId: randomUUID, readiness, publish, reconcileIntervalMs: flags.reconcileInterval, ...(endpoints ? { endpoints } : {}) });

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
  addEventRoutes(api, events);
  await api.listen(flags.host, flags.port);
  advertise = advertisedAddress(flags, (api.server.server.address() as { port: number }).port);
  runner = new FrameworkRunner({
    name: flags.name, cluster: flags.cluster, store: backend.store, election: backend.election, advertise,
    scheme: tls ? 'https' : 'http', logger: log,
    lead: async (ctx) => {
      // The proxy serves only while this instance leads: a standby's view of the tasks is not kept. As
      // Marathon, a leader that stops leading ends its event streams; clients reconnect (through a standby) to the next.
      ctx.signal.addEventListener('abort', () => {
        void endpoints?.clear();
        events.closeAll('this instance stopped leading; reconnect to reach the new leader');
      }, { once: true });
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
