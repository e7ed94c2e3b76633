/**
 * mezz-services: Marathon's apps on Mezzanine. One process is the leader
 * (subscribed to the master, scheduling, answering /v2); others stand by and
 * forward every /v2 request to it.
 */
import { Command } from 'commander';
import { Authenticator, loadAccessPolicy, loadTls } from '../../lib/auth';
import { createLogger } from '../../lib/log';
import {
  addEventRoutes, addFrameworkFlags, advertisedAddress, createApi, EventBus, FrameworkRunner, openBackend, proxyToLeader, type FrameworkFlags,
  type LeaderContext,
} from '../foundation/index';
import { addServiceRoutes } from './api';
import { ServicesScheduler } from './scheduler';

const program = addFrameworkFlags(new Command('mezz-services'), { name: 'services', port: 8080 });
const flags = program.parse().opts<FrameworkFlags>();
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
// GET /v2/events: what the scheduler publishes (status_update_event, deployment_*, api_post_event) goes to every subscriber.
const events = new EventBus();
const scheduler = new ServicesScheduler(log);

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
// As Marathon: a leader that stops leading ends its streams, and their clients reconnect (through a standby) to the next.
const lead = (ctx: LeaderContext) => {
  ctx.signal.addEventListener('abort', () => events.closeAll('this instance stopped leading; reconnect to reach the new leader'), { once: true });
  return scheduler.lead(ctx);
};
await api.listen(flags.host, flags.port);
advertise = advertisedAddress(flags, (api.server.server.address() as { port: number }).port);
runner = new FrameworkRunner({
  name: flags.name, cluster: flags.cluster, store: backend.store, election: backend.election, advertise,
  scheme: tls ? 'https' : 'http', logger: log, lead,
  sdk: {
    ...(flags.master ? { master: flags.master } : {}),
    ...(flags.token ? { token: flags.token } : {}),
    ...(tls ? { tls: { cert: tls.files.tlsCert, key: tls.files.tlsKey, ca: tls.files.tlsCa } } : {}),
    roles: [flags.role],
    failoverTimeout: '1h',
  },
});
await runner.start();
process.stdout.write(`mezz-services listening on ${advertise}\n`);

const stop = () => void runner!.stop().then(() => api.close()).then(() => backend.close()).finally(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
