/**
 * Assembles a master process: store → registry → Master, and one gRPC
 * server carrying the scheduler, agent and operator services.
 */
import * as grpc from '@grpc/grpc-js';
import { bindServer, SERVER_OPTIONS } from '../lib/grpc';
import type { Logger } from '../lib/log';
import { mezzProto } from '../lib/proto';
import type { Store } from '../lib/store';
import { agentGatewayHandlers } from './agent-service';
import { Master, type MasterOptions } from './master';
import { operatorHandlers } from './operator-service';
import { Registry } from './registry';
import { schedulerHandlers } from './scheduler-service';

export interface MasterServerOptions extends Omit<MasterOptions, 'registry'> {
  store: Store;
  host: string;
  port: number;
  logger: Logger;
}

export interface MasterServer {
  master: Master;
  port: number;
  stop(): Promise<void>;
}

export async function startMaster(opts: MasterServerOptions): Promise<MasterServer> {
  const registry = new Registry(opts.store, opts.cluster);
  const master = new Master({ ...opts, registry });
  await master.start();
  const server = new grpc.Server(SERVER_OPTIONS);
  const proto = mezzProto();
  let port = opts.port;
  server.addService(proto.Scheduler.service, schedulerHandlers(master));
  server.addService(proto.AgentGateway.service, agentGatewayHandlers(master));
  server.addService(proto.Operator.service, operatorHandlers({ master, cluster: opts.cluster, address: () => `${opts.host}:${port}` }));
  port = await bindServer(server, opts.host, opts.port);
  return {
    master,
    port,
    async stop() {
      master.stop();
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => { server.forceShutdown(); resolve(); }, 2000);
        server.tryShutdown(() => { clearTimeout(force); resolve(); });
      });
      await opts.store.close();
    },
  };
}
