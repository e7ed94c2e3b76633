/**
 * gRPC glue for AgentGateway.Connect: one bidirectional stream per agent.
 * The first message registers; the rest are pings and status updates.
 */
import type * as grpc from '@grpc/grpc-js';
import { peerHost } from '../lib/grpc';
import type { AgentGatewayHandlers } from '../lib/proto/generated/mezzanine/v1/AgentGateway';
import { streamMaster, type LeaderSource } from './leader-source';
import type { AgentStream } from './state';

export function agentGatewayHandlers(node: LeaderSource): AgentGatewayHandlers {
  return {
    Connect(stream: AgentStream) {
      const master = streamMaster(node, stream);
      if (!master) return;
      let agentId: string | undefined;
      let registering: Promise<void> | undefined;
      stream.on('data', (msg) => {
        if (!registering) {
          registering = master
            .registerAgent(stream, msg, peerHost(stream.getPeer()))
            .then((id) => {
              agentId = id;
            })
            .catch((err: Error) => {
              stream.write({ refused: { reason: `registration failed: ${err.message}` } });
              stream.end();
            });
          return;
        }
        // Messages behind a registration in flight wait for it, in order.
        registering = registering.then(() => {
          if (agentId) master.agentMessage(agentId, stream, msg);
        });
      });
      const gone = () => {
        void registering?.then(() => {
          if (agentId) master.agentDisconnected(agentId, stream);
        });
      };
      stream.on('end', () => {
        gone();
        stream.end();
      });
      stream.on('error', (_err: grpc.ServiceError) => gone());
      stream.on('cancelled', gone);
    },
  };
}
