/**
 * `mezz-master`: the master process (flags: `flags.ts`).
 */
import path from 'node:path';
import { errorMessage } from '../lib/errors';
import { createLogger } from '../lib/log';
import { EmbeddedElection } from '../lib/election-embedded';
import { EtcdElection } from '../lib/election-etcd';
import type { Election } from '../lib/election';
import type { Store } from '../lib/store';
import { EmbeddedStore } from '../lib/store-embedded';
import { EtcdStore, etcdEndpoint } from '../lib/store-etcd';
import { masterProgram } from './flags';
import { masterSecurity } from './security';
import { MasterNode } from './node';

const program = masterProgram();
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
  taskLaunchTimeout: number; credentials?: string; acls?: string; tlsCert?: string; tlsKey?: string; tlsCa?: string;
  etcdCert?: string; etcdKey?: string; etcdCa?: string;
  maxTasksPerFramework: number; maxFrameworksPerPrincipal: number; subscribeRate: number; subscribeBurst: number;
}>();

const logger = createLogger('master');
try {
  const security = masterSecurity(o, logger);
  let store: Store;
  let election: Election;
  let where: string;
  if (o.etcd) {
    // With --etcd-* (or --tls-*), etcd is reached with that certificate (a bare HOST:PORT means https).
    const endpoints = o.etcd.split(',').map((e) => e.trim()).filter(Boolean).map((e) => etcdEndpoint(e, security.etcdTls));
    const etcdStore = await EtcdStore.open({ endpoints, tls: security.etcdTls });
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
    ...security,
    limits: { maxTasksPerFramework: o.maxTasksPerFramework, maxFrameworksPerPrincipal: o.maxFrameworksPerPrincipal, subscribeRate: o.subscribeRate, subscribeBurst: o.subscribeBurst },
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
