// Original file: proto/mezzanine/v1/agent.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AgentMessage as _mezzanine_v1_AgentMessage, AgentMessage__Output as _mezzanine_v1_AgentMessage__Output } from '../../mezzanine/v1/AgentMessage';
import type { MasterMessage as _mezzanine_v1_MasterMessage, MasterMessage__Output as _mezzanine_v1_MasterMessage__Output } from '../../mezzanine/v1/MasterMessage';

export interface AgentGatewayClient extends grpc.Client {
  Connect(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_mezzanine_v1_AgentMessage, _mezzanine_v1_MasterMessage__Output>;
  Connect(options?: grpc.CallOptions): grpc.ClientDuplexStream<_mezzanine_v1_AgentMessage, _mezzanine_v1_MasterMessage__Output>;
  connect(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_mezzanine_v1_AgentMessage, _mezzanine_v1_MasterMessage__Output>;
  connect(options?: grpc.CallOptions): grpc.ClientDuplexStream<_mezzanine_v1_AgentMessage, _mezzanine_v1_MasterMessage__Output>;
  
}

export interface AgentGatewayHandlers extends grpc.UntypedServiceImplementation {
  Connect: grpc.handleBidiStreamingCall<_mezzanine_v1_AgentMessage__Output, _mezzanine_v1_MasterMessage>;
  
}

export interface AgentGatewayDefinition extends grpc.ServiceDefinition {
  Connect: MethodDefinition<_mezzanine_v1_AgentMessage, _mezzanine_v1_MasterMessage, _mezzanine_v1_AgentMessage__Output, _mezzanine_v1_MasterMessage__Output>
}
