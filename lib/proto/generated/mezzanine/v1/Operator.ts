// Original file: proto/mezzanine/v1/operator.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ClusterState as _mezzanine_v1_ClusterState, ClusterState__Output as _mezzanine_v1_ClusterState__Output } from '../../mezzanine/v1/ClusterState';
import type { GetLeaderRequest as _mezzanine_v1_GetLeaderRequest, GetLeaderRequest__Output as _mezzanine_v1_GetLeaderRequest__Output } from '../../mezzanine/v1/GetLeaderRequest';
import type { GetStateRequest as _mezzanine_v1_GetStateRequest, GetStateRequest__Output as _mezzanine_v1_GetStateRequest__Output } from '../../mezzanine/v1/GetStateRequest';
import type { GetVersionRequest as _mezzanine_v1_GetVersionRequest, GetVersionRequest__Output as _mezzanine_v1_GetVersionRequest__Output } from '../../mezzanine/v1/GetVersionRequest';
import type { KillTaskRequest as _mezzanine_v1_KillTaskRequest, KillTaskRequest__Output as _mezzanine_v1_KillTaskRequest__Output } from '../../mezzanine/v1/KillTaskRequest';
import type { KillTaskResponse as _mezzanine_v1_KillTaskResponse, KillTaskResponse__Output as _mezzanine_v1_KillTaskResponse__Output } from '../../mezzanine/v1/KillTaskResponse';
import type { LeaderInfo as _mezzanine_v1_LeaderInfo, LeaderInfo__Output as _mezzanine_v1_LeaderInfo__Output } from '../../mezzanine/v1/LeaderInfo';
import type { ListAgentsRequest as _mezzanine_v1_ListAgentsRequest, ListAgentsRequest__Output as _mezzanine_v1_ListAgentsRequest__Output } from '../../mezzanine/v1/ListAgentsRequest';
import type { ListAgentsResponse as _mezzanine_v1_ListAgentsResponse, ListAgentsResponse__Output as _mezzanine_v1_ListAgentsResponse__Output } from '../../mezzanine/v1/ListAgentsResponse';
import type { ListFrameworksRequest as _mezzanine_v1_ListFrameworksRequest, ListFrameworksRequest__Output as _mezzanine_v1_ListFrameworksRequest__Output } from '../../mezzanine/v1/ListFrameworksRequest';
import type { ListFrameworksResponse as _mezzanine_v1_ListFrameworksResponse, ListFrameworksResponse__Output as _mezzanine_v1_ListFrameworksResponse__Output } from '../../mezzanine/v1/ListFrameworksResponse';
import type { ListRolesRequest as _mezzanine_v1_ListRolesRequest, ListRolesRequest__Output as _mezzanine_v1_ListRolesRequest__Output } from '../../mezzanine/v1/ListRolesRequest';
import type { ListRolesResponse as _mezzanine_v1_ListRolesResponse, ListRolesResponse__Output as _mezzanine_v1_ListRolesResponse__Output } from '../../mezzanine/v1/ListRolesResponse';
import type { ListTasksRequest as _mezzanine_v1_ListTasksRequest, ListTasksRequest__Output as _mezzanine_v1_ListTasksRequest__Output } from '../../mezzanine/v1/ListTasksRequest';
import type { ListTasksResponse as _mezzanine_v1_ListTasksResponse, ListTasksResponse__Output as _mezzanine_v1_ListTasksResponse__Output } from '../../mezzanine/v1/ListTasksResponse';
import type { ReadFileRequest as _mezzanine_v1_ReadFileRequest, ReadFileRequest__Output as _mezzanine_v1_ReadFileRequest__Output } from '../../mezzanine/v1/ReadFileRequest';
import type { ReadFileResponse as _mezzanine_v1_ReadFileResponse, ReadFileResponse__Output as _mezzanine_v1_ReadFileResponse__Output } from '../../mezzanine/v1/ReadFileResponse';
import type { TeardownFrameworkRequest as _mezzanine_v1_TeardownFrameworkRequest, TeardownFrameworkRequest__Output as _mezzanine_v1_TeardownFrameworkRequest__Output } from '../../mezzanine/v1/TeardownFrameworkRequest';
import type { TeardownFrameworkResponse as _mezzanine_v1_TeardownFrameworkResponse, TeardownFrameworkResponse__Output as _mezzanine_v1_TeardownFrameworkResponse__Output } from '../../mezzanine/v1/TeardownFrameworkResponse';
import type { UpdateWeightsRequest as _mezzanine_v1_UpdateWeightsRequest, UpdateWeightsRequest__Output as _mezzanine_v1_UpdateWeightsRequest__Output } from '../../mezzanine/v1/UpdateWeightsRequest';
import type { Version as _mezzanine_v1_Version, Version__Output as _mezzanine_v1_Version__Output } from '../../mezzanine/v1/Version';

export interface OperatorClient extends grpc.Client {
  GetLeader(argument: _mezzanine_v1_GetLeaderRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_mezzanine_v1_LeaderInfo__Output>): grpc.ClientUnaryCall;
  GetLeader(argument: _mezzanine_v1_GetLeaderRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_mezzanine_v1_LeaderInfo__Output>): grpc.ClientUnaryCall;
  GetLeader(argument: _mezzanine_v1_GetLeaderRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_mezzanine_v1_LeaderInfo__Output>): grpc.ClientUnaryCall;
  GetLeader(argument: _mezzanine_v1_GetLeaderRequest, callback: grpc.requestCallback<_mezzanine_v1_LeaderInfo__Output>): grpc.ClientUnaryCall;
  getLeader(argument: _mezzanine_v1_GetLeaderRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_mezzanine_v1_LeaderInfo__Output>): grpc.ClientUnaryCall;
  getLeader(argument: _mezzanine_v1_GetLeaderRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_mezzanine_v1_LeaderInfo__Output>): grpc.ClientUnaryCall;
  getLeader(argument: _mezzanine_v1_GetLeaderRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_mezzanine_v1_LeaderInfo__Output>): grpc.ClientUnaryCall;
  getLeader(argument: _mezzanine_v1_GetLeaderRequest, callback: grpc.requestCallback<_mezzanine_v1_LeaderInfo__Output>): grpc.ClientUnaryCall;
  
  GetState(argument: _mezzanine_v1_GetStateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_mezzanine_v1_ClusterState__Output>): grpc.ClientUnaryCall;
  GetState(argument: _mezzanine_v1_GetStateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_mezzanine_v1_ClusterState__Output>): grpc.ClientUnaryCall;
  GetState(argument: _mezzanine_v1_GetStateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_mezzanine_v1_ClusterState__Output>): grpc.ClientUnaryCall;
  GetState(argument: _mezzanine_v1_GetStateRequest, callback: grpc.requestCallback<_mezzanine_v1_ClusterState__Output>): grpc.ClientUnaryCall;
  getState(argument: _mezzanine_v1_GetStateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_mezzanine_v1_ClusterState__Output>): grpc.ClientUnaryCall;
  getState(argument: _mezzanine_v1_GetStateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_mezzanine_v1_ClusterState__Output>): grpc.ClientUnaryCall;
  getState(argument: _mezzanine_v1_GetStateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_mezzanine_v1_ClusterState__Output>): grpc.ClientUnaryCall;
  getState(argument: _mezzanine_v1_GetStateRequest, callback: grpc.requestCallback<_mezzanine_v1_ClusterState__Output>): grpc.ClientUnaryCall;
  
  GetVersion(argument: _mezzanine_v1_GetVersionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_mezzanine_v1_Version__Output>): grpc.ClientUnaryCall;
  GetVersion(argument: _mezzanine_v1_GetVersionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_mezzanine_v1_Version__Output>): grpc.ClientUnaryCall;
  GetVersion(argument: _mezzanine_v1_GetVersionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_mezzanine_v1_Version__Output>): grpc.ClientUnaryCall;
  GetVersion(argument: _mezzanine_v1_GetVersionRequest, callback: grpc.requestCallback<_mezzanine_v1_Version__Output>): grpc.ClientUnaryCall;
  getVersion(argument: _mezzanine_v1_GetVersionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_mezzanine_v1_Version__Output>): grpc.ClientUnaryCall;
  getVersion(argument: _mezzanine_v1_GetVersionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_mezzanine_v1_Version__Output>): grpc.ClientUnaryCall;
  getVersion(argument: _mezzanine_v1_GetVersionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_mezzanine_v1_Version__Output>): grpc.ClientUnaryCall;
  getVersion(argument: _mezzanine_v1_GetVersionRequest, callback: grpc.requestCallback<_mezzanine_v1_Version__Output>): grpc.ClientUnaryCall;
  
  KillTask(argument: _mezzanine_v1_KillTaskRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_mezzanine_v1_KillTaskResponse__Output>): grpc.ClientUnaryCall;
  KillTask(argument: _mezzanine_v1_KillTaskRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_mezzanine_v1_KillTaskResponse__Output>): grpc.ClientUnaryCall;
  KillTask(argument: _mezzanine_v1_KillTaskRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_mezzanine_v1_KillTaskResponse__Output>): grpc.ClientUnaryCall;
  KillTask(argument: _mezzanine_v1_KillTaskRequest, callback: grpc.requestCallback<_mezzanine_v1_KillTaskResponse__Output>): grpc.ClientUnaryCall;
  killTask(argument: _mezzanine_v1_KillTaskRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_mezzanine_v1_KillTaskResponse__Output>): grpc.ClientUnaryCall;
  killTask(argument: _mezzanine_v1_KillTaskRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_mezzanine_v1_KillTaskResponse__Output>): grpc.ClientUnaryCall;
  killTask(argument: _mezzanine_v1_KillTaskRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_mezzanine_v1_KillTaskResponse__Output>): grpc.ClientUnaryCall;
  killTask(argument: _mezzanine_v1_KillTaskRequest, callback: grpc.requestCallback<_mezzanine_v1_KillTaskResponse__Output>): grpc.ClientUnaryCall;
  
  ListAgents(argument: _mezzanine_v1_ListAgentsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_mezzanine_v1_ListAgentsResponse__Output>): grpc.ClientUnaryCall;
  ListAgents(argument: _mezzanine_v1_ListAgentsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_mezzanine_v1_ListAgentsResponse__Output>): grpc.ClientUnaryCall;
  ListAgents(argument: _mezzanine_v1_ListAgentsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_mezzanine_v1_ListAgentsResponse__Output>): grpc.ClientUnaryCall;
  ListAgents(argument: _mezzanine_v1_ListAgentsRequest, callback: grpc.requestCallback<_mezzanine_v1_ListAgentsResponse__Output>): grpc.ClientUnaryCall;
  listAgents(argument: _mezzanine_v1_ListAgentsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_mezzanine_v1_ListAgentsResponse__Output>): grpc.ClientUnaryCall;
  listAgents(argument: _mezzanine_v1_ListAgentsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_mezzanine_v1_ListAgentsResponse__Output>): grpc.ClientUnaryCall;
  listAgents(argument: _mezzanine_v1_ListAgentsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_mezzanine_v1_ListAgentsResponse__Output>): grpc.ClientUnaryCall;
  listAgents(argument: _mezzanine_v1_ListAgentsRequest, callback: grpc.requestCallback<_mezzanine_v1_ListAgentsResponse__Output>): grpc.ClientUnaryCall;
  
  ListFrameworks(argument: _mezzanine_v1_ListFrameworksRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_mezzanine_v1_ListFrameworksResponse__Output>): grpc.ClientUnaryCall;
  ListFrameworks(argument: _mezzanine_v1_ListFrameworksRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_mezzanine_v1_ListFrameworksResponse__Output>): grpc.ClientUnaryCall;
  ListFrameworks(argument: _mezzanine_v1_ListFrameworksRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_mezzanine_v1_ListFrameworksResponse__Output>): grpc.ClientUnaryCall;
  ListFrameworks(argument: _mezzanine_v1_ListFrameworksRequest, callback: grpc.requestCallback<_mezzanine_v1_ListFrameworksResponse__Output>): grpc.ClientUnaryCall;
  listFrameworks(argument: _mezzanine_v1_ListFrameworksRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_mezzanine_v1_ListFrameworksResponse__Output>): grpc.ClientUnaryCall;
  listFrameworks(argument: _mezzanine_v1_ListFrameworksRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_mezzanine_v1_ListFrameworksResponse__Output>): grpc.ClientUnaryCall;
  listFrameworks(argument: _mezzanine_v1_ListFrameworksRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_mezzanine_v1_ListFrameworksResponse__Output>): grpc.ClientUnaryCall;
  listFrameworks(argument: _mezzanine_v1_ListFrameworksRequest, callback: grpc.requestCallback<_mezzanine_v1_ListFrameworksResponse__Output>): grpc.ClientUnaryCall;
  
  ListRoles(argument: _mezzanine_v1_ListRolesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_mezzanine_v1_ListRolesResponse__Output>): grpc.ClientUnaryCall;
  ListRoles(argument: _mezzanine_v1_ListRolesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_mezzanine_v1_ListRolesResponse__Output>): grpc.ClientUnaryCall;
  ListRoles(argument: _mezzanine_v1_ListRolesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_mezzanine_v1_ListRolesResponse__Output>): grpc.ClientUnaryCall;
  ListRoles(argument: _mezzanine_v1_ListRolesRequest, callback: grpc.requestCallback<_mezzanine_v1_ListRolesResponse__Output>): grpc.ClientUnaryCall;
  listRoles(argument: _mezzanine_v1_ListRolesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_mezzanine_v1_ListRolesResponse__Output>): grpc.ClientUnaryCall;
  listRoles(argument: _mezzanine_v1_ListRolesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_mezzanine_v1_ListRolesResponse__Output>): grpc.ClientUnaryCall;
  listRoles(argument: _mezzanine_v1_ListRolesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_mezzanine_v1_ListRolesResponse__Output>): grpc.ClientUnaryCall;
  listRoles(argument: _mezzanine_v1_ListRolesRequest, callback: grpc.requestCallback<_mezzanine_v1_ListRolesResponse__Output>): grpc.ClientUnaryCall;
  
  ListTasks(argument: _mezzanine_v1_ListTasksRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_mezzanine_v1_ListTasksResponse__Output>): grpc.ClientUnaryCall;
  ListTasks(argument: _mezzanine_v1_ListTasksRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_mezzanine_v1_ListTasksResponse__Output>): grpc.ClientUnaryCall;
  ListTasks(argument: _mezzanine_v1_ListTasksRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_mezzanine_v1_ListTasksResponse__Output>): grpc.ClientUnaryCall;
  ListTasks(argument: _mezzanine_v1_ListTasksRequest, callback: grpc.requestCallback<_mezzanine_v1_ListTasksResponse__Output>): grpc.ClientUnaryCall;
  listTasks(argument: _mezzanine_v1_ListTasksRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_mezzanine_v1_ListTasksResponse__Output>): grpc.ClientUnaryCall;
  listTasks(argument: _mezzanine_v1_ListTasksRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_mezzanine_v1_ListTasksResponse__Output>): grpc.ClientUnaryCall;
  listTasks(argument: _mezzanine_v1_ListTasksRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_mezzanine_v1_ListTasksResponse__Output>): grpc.ClientUnaryCall;
  listTasks(argument: _mezzanine_v1_ListTasksRequest, callback: grpc.requestCallback<_mezzanine_v1_ListTasksResponse__Output>): grpc.ClientUnaryCall;
  
  ReadTaskFile(argument: _mezzanine_v1_ReadFileRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_mezzanine_v1_ReadFileResponse__Output>): grpc.ClientUnaryCall;
  ReadTaskFile(argument: _mezzanine_v1_ReadFileRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_mezzanine_v1_ReadFileResponse__Output>): grpc.ClientUnaryCall;
  ReadTaskFile(argument: _mezzanine_v1_ReadFileRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_mezzanine_v1_ReadFileResponse__Output>): grpc.ClientUnaryCall;
  ReadTaskFile(argument: _mezzanine_v1_ReadFileRequest, callback: grpc.requestCallback<_mezzanine_v1_ReadFileResponse__Output>): grpc.ClientUnaryCall;
  readTaskFile(argument: _mezzanine_v1_ReadFileRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_mezzanine_v1_ReadFileResponse__Output>): grpc.ClientUnaryCall;
  readTaskFile(argument: _mezzanine_v1_ReadFileRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_mezzanine_v1_ReadFileResponse__Output>): grpc.ClientUnaryCall;
  readTaskFile(argument: _mezzanine_v1_ReadFileRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_mezzanine_v1_ReadFileResponse__Output>): grpc.ClientUnaryCall;
  readTaskFile(argument: _mezzanine_v1_ReadFileRequest, callback: grpc.requestCallback<_mezzanine_v1_ReadFileResponse__Output>): grpc.ClientUnaryCall;
  
  TeardownFramework(argument: _mezzanine_v1_TeardownFrameworkRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_mezzanine_v1_TeardownFrameworkResponse__Output>): grpc.ClientUnaryCall;
  TeardownFramework(argument: _mezzanine_v1_TeardownFrameworkRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_mezzanine_v1_TeardownFrameworkResponse__Output>): grpc.ClientUnaryCall;
  TeardownFramework(argument: _mezzanine_v1_TeardownFrameworkRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_mezzanine_v1_TeardownFrameworkResponse__Output>): grpc.ClientUnaryCall;
  TeardownFramework(argument: _mezzanine_v1_TeardownFrameworkRequest, callback: grpc.requestCallback<_mezzanine_v1_TeardownFrameworkResponse__Output>): grpc.ClientUnaryCall;
  teardownFramework(argument: _mezzanine_v1_TeardownFrameworkRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_mezzanine_v1_TeardownFrameworkResponse__Output>): grpc.ClientUnaryCall;
  teardownFramework(argument: _mezzanine_v1_TeardownFrameworkRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_mezzanine_v1_TeardownFrameworkResponse__Output>): grpc.ClientUnaryCall;
  teardownFramework(argument: _mezzanine_v1_TeardownFrameworkRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_mezzanine_v1_TeardownFrameworkResponse__Output>): grpc.ClientUnaryCall;
  teardownFramework(argument: _mezzanine_v1_TeardownFrameworkRequest, callback: grpc.requestCallback<_mezzanine_v1_TeardownFrameworkResponse__Output>): grpc.ClientUnaryCall;
  
  UpdateWeights(argument: _mezzanine_v1_UpdateWeightsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_mezzanine_v1_ListRolesResponse__Output>): grpc.ClientUnaryCall;
  UpdateWeights(argument: _mezzanine_v1_UpdateWeightsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_mezzanine_v1_ListRolesResponse__Output>): grpc.ClientUnaryCall;
  UpdateWeights(argument: _mezzanine_v1_UpdateWeightsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_mezzanine_v1_ListRolesResponse__Output>): grpc.ClientUnaryCall;
  UpdateWeights(argument: _mezzanine_v1_UpdateWeightsRequest, callback: grpc.requestCallback<_mezzanine_v1_ListRolesResponse__Output>): grpc.ClientUnaryCall;
  updateWeights(argument: _mezzanine_v1_UpdateWeightsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_mezzanine_v1_ListRolesResponse__Output>): grpc.ClientUnaryCall;
  updateWeights(argument: _mezzanine_v1_UpdateWeightsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_mezzanine_v1_ListRolesResponse__Output>): grpc.ClientUnaryCall;
  updateWeights(argument: _mezzanine_v1_UpdateWeightsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_mezzanine_v1_ListRolesResponse__Output>): grpc.ClientUnaryCall;
  updateWeights(argument: _mezzanine_v1_UpdateWeightsRequest, callback: grpc.requestCallback<_mezzanine_v1_ListRolesResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface OperatorHandlers extends grpc.UntypedServiceImplementation {
  GetLeader: grpc.handleUnaryCall<_mezzanine_v1_GetLeaderRequest__Output, _mezzanine_v1_LeaderInfo>;
  
  GetState: grpc.handleUnaryCall<_mezzanine_v1_GetStateRequest__Output, _mezzanine_v1_ClusterState>;
  
  GetVersion: grpc.handleUnaryCall<_mezzanine_v1_GetVersionRequest__Output, _mezzanine_v1_Version>;
  
  KillTask: grpc.handleUnaryCall<_mezzanine_v1_KillTaskRequest__Output, _mezzanine_v1_KillTaskResponse>;
  
  ListAgents: grpc.handleUnaryCall<_mezzanine_v1_ListAgentsRequest__Output, _mezzanine_v1_ListAgentsResponse>;
  
  ListFrameworks: grpc.handleUnaryCall<_mezzanine_v1_ListFrameworksRequest__Output, _mezzanine_v1_ListFrameworksResponse>;
  
  ListRoles: grpc.handleUnaryCall<_mezzanine_v1_ListRolesRequest__Output, _mezzanine_v1_ListRolesResponse>;
  
  ListTasks: grpc.handleUnaryCall<_mezzanine_v1_ListTasksRequest__Output, _mezzanine_v1_ListTasksResponse>;
  
  ReadTaskFile: grpc.handleUnaryCall<_mezzanine_v1_ReadFileRequest__Output, _mezzanine_v1_ReadFileResponse>;
  
  TeardownFramework: grpc.handleUnaryCall<_mezzanine_v1_TeardownFrameworkRequest__Output, _mezzanine_v1_TeardownFrameworkResponse>;
  
  UpdateWeights: grpc.handleUnaryCall<_mezzanine_v1_UpdateWeightsRequest__Output, _mezzanine_v1_ListRolesResponse>;
  
}

export interface OperatorDefinition extends grpc.ServiceDefinition {
  GetLeader: MethodDefinition<_mezzanine_v1_GetLeaderRequest, _mezzanine_v1_LeaderInfo, _mezzanine_v1_GetLeaderRequest__Output, _mezzanine_v1_LeaderInfo__Output>
  GetState: MethodDefinition<_mezzanine_v1_GetStateRequest, _mezzanine_v1_ClusterState, _mezzanine_v1_GetStateRequest__Output, _mezzanine_v1_ClusterState__Output>
  GetVersion: MethodDefinition<_mezzanine_v1_GetVersionRequest, _mezzanine_v1_Version, _mezzanine_v1_GetVersionRequest__Output, _mezzanine_v1_Version__Output>
  KillTask: MethodDefinition<_mezzanine_v1_KillTaskRequest, _mezzanine_v1_KillTaskResponse, _mezzanine_v1_KillTaskRequest__Output, _mezzanine_v1_KillTaskResponse__Output>
  ListAgents: MethodDefinition<_mezzanine_v1_ListAgentsRequest, _mezzanine_v1_ListAgentsResponse, _mezzanine_v1_ListAgentsRequest__Output, _mezzanine_v1_ListAgentsResponse__Output>
  ListFrameworks: MethodDefinition<_mezzanine_v1_ListFrameworksRequest, _mezzanine_v1_ListFrameworksResponse, _mezzanine_v1_ListFrameworksRequest__Output, _mezzanine_v1_ListFrameworksResponse__Output>
  ListRoles: MethodDefinition<_mezzanine_v1_ListRolesRequest, _mezzanine_v1_ListRolesResponse, _mezzanine_v1_ListRolesRequest__Output, _mezzanine_v1_ListRolesResponse__Output>
  ListTasks: MethodDefinition<_mezzanine_v1_ListTasksRequest, _mezzanine_v1_ListTasksResponse, _mezzanine_v1_ListTasksRequest__Output, _mezzanine_v1_ListTasksResponse__Output>
  ReadTaskFile: MethodDefinition<_mezzanine_v1_ReadFileRequest, _mezzanine_v1_ReadFileResponse, _mezzanine_v1_ReadFileRequest__Output, _mezzanine_v1_ReadFileResponse__Output>
  TeardownFramework: MethodDefinition<_mezzanine_v1_TeardownFrameworkRequest, _mezzanine_v1_TeardownFrameworkResponse, _mezzanine_v1_TeardownFrameworkRequest__Output, _mezzanine_v1_TeardownFrameworkResponse__Output>
  UpdateWeights: MethodDefinition<_mezzanine_v1_UpdateWeightsRequest, _mezzanine_v1_ListRolesResponse, _mezzanine_v1_UpdateWeightsRequest__Output, _mezzanine_v1_ListRolesResponse__Output>
}
