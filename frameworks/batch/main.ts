/**
 * mezz-batch: Metronome's jobs on Mezzanine. One process is the leader
 * (subscribed to the master, firing schedules, running jobs, answering /v1);
 * others stand by and forward every /v1 request to it.
 */
import { Authenticator, loadAccessPolicy, loadTls } from '../../lib/auth';
import { createLogger } from '../../lib/log';
import { addEventRoutes, advertisedAddress, createApi, EventBus, FrameworkRunner, openBackend, proxyToLeader } from '../foundation/index';
import { addBatchRoutes } from './api';
import { batchProgram, type BatchFlags } from './flags';
import { BatchMetrics } from './metrics';
import { BatchScheduler } from './scheduler';

async function main(): Promise<void> {
  const flags = batchProgram().parse().opts<BatchFlags>();
  const log = createLogger('mezz-batch');
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
  const events = new EventBus();
  const scheduler = new BatchScheduler({
    log,
    publish: (type, payload) => events.publish(type, payload),
    metrics: new BatchMetrics(api.metrics),
    retryDelayMs: flags.retryDelay,
    gangTimeoutMs: flags.gangTimeout,
    reconcileIntervalMs: flags.reconcileInterval,
  });

  let runner: FrameworkRunner | undefined;
  let advertise = '';
  const leadership = {
    leaderAddress: () => runner?.leaderAddress(),
    abdicate: async () => (runner ? runner.abdicate() : false),
  };
  // A standby answers no /v1 itself: the leader's state is the only truth.
  api.server.addHook('onRequest', async (request, reply) => {
    if (!request.url.startsWith('/v1') || runner?.isLeader()) return;
    reply.hijack();
    await proxyToLeader(request.raw, reply.raw, runner?.leaderAddress(), { self: advertise, ...(tls ? { tls } : {}) });
  });
  addBatchRoutes(api, scheduler, leadership);
  addEventRoutes(api, events, { url: '/v1/events' });
  await api.listen(flags.host, flags.port);
  advertise = advertisedAddress(flags, (api.server.server.address() as { port: number }).port);
  runner = new FrameworkRunner({
    name: flags.name, cluster: flags.cluster, store: backend.store, election: backend.election, advertise,
    scheme: tls ? 'https' : 'http', logger: log,
    lead: async (ctx) => {
      ctx.signal.addEventListener('abort', () => events.closeAll('this instance stopped leading; reconnect to reach the new leader'), { once: true });
      await scheduler.lead(ctx);
    },
    sdk: {
      ...(flags.master ? { master: flags.master } : {}),
      ...(flags.token ? { token: flags.token } : {}),
      ...(tls ? { tls: { cert: tls.files.tlsCert, key: tls.files.tlsKey, ca: tls.files.tlsCa } } : {}),
      roles: [flags.role],
      capabilities: ['PARTITION_AWARE'],
      // A status update is acknowledged once its state is stored, so a finished task is never taken for lost after a failover.
      autoAcknowledge: false,
      failoverTimeout: '1h',
    },
  });
  await runner.start();
  process.stdout.write(`mezz-batch listening on ${advertise}\n`);

  const stop = () => void runner!.stop().then(() => api.close()).then(() => backend.close()).finally(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

// A bad flag or file is the operator's mistake: one line naming it, exit 2, no stack trace.
main().catch((err: unknown) => {
  process.stderr.write(`mezz-batch: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(2);
});
