/**
 * `mezz-master`: the command line of the master process.
 */
import { Command, InvalidArgumentError as CommanderArgError } from 'commander';
import path from 'node:path';
import { parseDuration } from '../lib/duration';
import { errorMessage } from '../lib/errors';
import { createLogger } from '../lib/log';
import { EmbeddedElection } from '../lib/election-embedded';
import { EtcdElection } from '../lib/election-etcd';
import type { Election } from '../lib/election';
import type { Store } from '../lib/store';
import { EmbeddedStore } from '../lib/store-embedded';
import { EtcdStore } from '../lib/store-etcd';
import { VERSION } from '../lib/version';
import { MasterNode } from './node';

const seconds = (flag: string) => (v: string) => {
  try {
    return parseDuration(v);
  } catch (err) {
    throw new CommanderArgError(`${flag}: ${errorMessage(err)}`);
  }
};

const program = new Command('mezz-master')
  .description('The Mezzanine master: pools agents\' resources and offers them to frameworks.')
  .version(VERSION)
  .option('--host <host>', 'address to listen on', '0.0.0.0')
  .option('--port <port>', 'gRPC port (0: any free port)', (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new CommanderArgError('--port must be 0-65535');
    return n;
  }, 5050)
  .option('--data-dir <dir>', 'where the embedded registry lives (without --etcd)', path.join('.mezz', 'master'))
  .option('--etcd <urls>', 'etcd endpoints, e.g. http://127.0.0.1:2379[,...]: run as one of a highly available group')
  .option('--lease-ttl <seconds>', 'with --etcd: the leadership lease; a dead leader is replaced about this long after it stopped', (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new CommanderArgError('--lease-ttl must be a whole number of seconds, at least 1');
    return n;
  }, 2)
  .option('--advertise <host:port>', 'the address other processes reach this master at (default: host and bound port)')
  .option('--cluster <name>', 'cluster name (prefix of every registry key)', 'mezzanine')
  .option('--agent-ping-timeout <duration>', 'agent silence, counted while the master runs, after which it is unreachable (long enough for an agent restart or upgrade)', seconds('--agent-ping-timeout'), 30)
  .option('--agent-ping-interval <duration>', 'how often agents ping', seconds('--agent-ping-interval'), 1)
  .option('--agent-removal-timeout <duration>', 'how long an unreachable agent is kept before it is GONE', seconds('--agent-removal-timeout'), 600)
  .option('--agent-reregister-timeout <duration>', 'after a master restart, how long admitted agents have to re-register', seconds('--agent-reregister-timeout'), 60)
  .option('--heartbeat-interval <duration>', 'HEARTBEAT interval to frameworks', seconds('--heartbeat-interval'), 5)
  .option('--offer-timeout <duration>', 'rescind offers held longer than this, so an idle framework cannot hoard the cluster (0: never)', seconds('--offer-timeout'), 30)
  .option('--task-launch-timeout <duration>', 'a task its agent has not reported on this long after launch (fetching included) is LOST', seconds('--task-launch-timeout'), 600)
  .option('--allocation-interval <duration>', 'periodic allocation round', seconds('--allocation-interval'), 1)
  .showHelpAfterError();

program.exitOverride();
try {
  program.parse();
} catch (err) {
  const code = (err as { exitCode?: number }).exitCode ?? 2;
  process.exit(code === 0 ? 0 : 2);
}
const o = program.opts<{
  host: string; port: number; dataDir: string; cluster: string; etcd?: string; leaseTtl: number; advertise?: string; agentPingTimeout: number; agentPingInterval: number;
  agentRemovalTimeout: number; agentReregisterTimeout: number; heartbeatInterval: number; offerTimeout: number; allocationInterval: number;
  taskLaunchTimeout: number;
}>();

const logger = createLogger('master');
try {
  let store: Store;
  let election: Election;
  let where: string;
  if (o.etcd) {
    const endpoints = o.etcd.split(',').map((e) => e.trim()).filter(Boolean).map((e) => (/^[a-z]+:\/\//.test(e) ? e : `http://${e}`));
    const etcdStore = await EtcdStore.open({ endpoints });
    store = etcdStore;
    election = new EtcdElection({ connection: etcdStore.connection, cluster: o.cluster, ttlSeconds: o.leaseTtl, logger });
    where = `etcd ${endpoints.join(',')} (lease ${o.leaseTtl}s)`;
  } else {
    store = new EmbeddedStore(path.resolve(o.dataDir));
    election = new EmbeddedElection();
    where = `registry in ${path.resolve(o.dataDir)}`;
  }
  const node = new MasterNode({
    store, election, host: o.host, port: o.port, advertise: o.advertise, logger, cluster: o.cluster,
    agentPingTimeout: o.agentPingTimeout, agentPingInterval: o.agentPingInterval, agentRemovalTimeout: o.agentRemovalTimeout,
    agentReregisterTimeout: o.agentReregisterTimeout, heartbeatInterval: o.heartbeatInterval, offerTimeout: o.offerTimeout,
    allocationInterval: o.allocationInterval, allocationBatchMs: 5, taskLaunchTimeout: o.taskLaunchTimeout,
  });
  await node.start();
  process.stdout.write(`mezz-master listening on ${node.address}\n`);
  logger.info(`master of cluster ${o.cluster} serving on ${o.host}:${node.port} as ${node.address}, ${where}`);
  let stopping = false;
  const shutdown = (sig: string) => {
    if (stopping) return;
    stopping = true;
    logger.info(`${sig}: shutting down (tasks keep running; agents and frameworks reconnect to the next leader)`);
    void node.stop().finally(() => process.exit(0));
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
} catch (err) {
  process.stderr.write(`mezz-master: ${errorMessage(err)}\n`);
  process.exit(1);
}
