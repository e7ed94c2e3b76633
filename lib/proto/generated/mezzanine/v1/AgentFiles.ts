// Original file: proto/mezzanine/v1/agent.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ReadFileRequest as _mezzanine_v1_ReadFileRequest, ReadFileRequest__Output as _mezzanine_v1_ReadFileRequest__Output } from '../../mezzanine/v1/ReadFileRequest';
import type { ReadFileResponse as _mezzanine_v1_ReadFileResponse, ReadFileResponse__Output as _mezzanine_v1_ReadFileResponse__Output } from '../../mezzanine/v1/ReadFileResponse';

export interface AgentFilesClient extends grpc.Client {
  ReadFile(argument: _mezzanine_v1_ReadFileRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_mezzanine_v1_ReadFileResponse__Output>): grpc.ClientUnaryCall;
  ReadFile(argument: _mezzanine_v1_ReadFileRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_mezzanine_v1_ReadFileResponse__Output>): grpc.ClientUnaryCall;
  ReadFile(argument: _mezzanine_v1_ReadFileRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_mezzanine_v1_ReadFileResponse__Output>): grpc.ClientUnaryCall;
  ReadFile(argument: _mezzanine_v1_ReadFileRequest, callback: grpc.requestCallback<_mezzanine_v1_ReadFileResponse__Output>): grpc.ClientUnaryCall;
  readFile(argument: _mezzanine_v1_ReadFileRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_mezzanine_v1_ReadFileResponse__Output>): grpc.ClientUnaryCall;
  readFile(argument: _mezzanine_v1_ReadFileRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_mezzanine_v1_ReadFileResponse__Output>): grpc.ClientUnaryCall;
  readFile(argument: _mezzanine_v1_ReadFileRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_mezzanine_v1_ReadFileResponse__Output>): grpc.ClientUnaryCall;
  readFile(argument: _mezzanine_v1_ReadFileRequest, callback: grpc.requestCallback<_mezzanine_v1_ReadFileResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface AgentFilesHandlers extends grpc.UntypedServiceImplementation {
  ReadFile: grpc.handleUnaryCall<_mezzanine_v1_ReadFileRequest__Output, _mezzanine_v1_ReadFileResponse>;
  
}

export interface AgentFilesDefinition extends grpc.ServiceDefinition {
  ReadFile: MethodDefinition<_mezzanine_v1_ReadFileRequest, _mezzanine_v1_ReadFileResponse, _mezzanine_v1_ReadFileRequest__Output, _mezzanine_v1_ReadFileResponse__Output>
}
