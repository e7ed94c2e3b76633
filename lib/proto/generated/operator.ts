import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { AgentFilesClient as _mezzanine_v1_AgentFilesClient, AgentFilesDefinition as _mezzanine_v1_AgentFilesDefinition } from './mezzanine/v1/AgentFiles';
import type { AgentGatewayClient as _mezzanine_v1_AgentGatewayClient, AgentGatewayDefinition as _mezzanine_v1_AgentGatewayDefinition } from './mezzanine/v1/AgentGateway';
import type { AgentInfo as _mezzanine_v1_AgentInfo, AgentInfo__Output as _mezzanine_v1_AgentInfo__Output } from './mezzanine/v1/AgentInfo';
import type { AgentMessage as _mezzanine_v1_AgentMessage, AgentMessage__Output as _mezzanine_v1_AgentMessage__Output } from './mezzanine/v1/AgentMessage';
import type { AgentSummary as _mezzanine_v1_AgentSummary, AgentSummary__Output as _mezzanine_v1_AgentSummary__Output } from './mezzanine/v1/AgentSummary';
import type { AgentTask as _mezzanine_v1_AgentTask, AgentTask__Output as _mezzanine_v1_AgentTask__Output } from './mezzanine/v1/AgentTask';
import type { Attribute as _mezzanine_v1_Attribute, Attribute__Output as _mezzanine_v1_Attribute__Output } from './mezzanine/v1/Attribute';
import type { CheckInfo as _mezzanine_v1_CheckInfo, CheckInfo__Output as _mezzanine_v1_CheckInfo__Output } from './mezzanine/v1/CheckInfo';
import type { CheckStatusInfo as _mezzanine_v1_CheckStatusInfo, CheckStatusInfo__Output as _mezzanine_v1_CheckStatusInfo__Output } from './mezzanine/v1/CheckStatusInfo';
import type { ClusterState as _mezzanine_v1_ClusterState, ClusterState__Output as _mezzanine_v1_ClusterState__Output } from './mezzanine/v1/ClusterState';
import type { CommandInfo as _mezzanine_v1_CommandInfo, CommandInfo__Output as _mezzanine_v1_CommandInfo__Output } from './mezzanine/v1/CommandInfo';
import type { Filters as _mezzanine_v1_Filters, Filters__Output as _mezzanine_v1_Filters__Output } from './mezzanine/v1/Filters';
import type { FrameworkInfo as _mezzanine_v1_FrameworkInfo, FrameworkInfo__Output as _mezzanine_v1_FrameworkInfo__Output } from './mezzanine/v1/FrameworkInfo';
import type { FrameworkSummary as _mezzanine_v1_FrameworkSummary, FrameworkSummary__Output as _mezzanine_v1_FrameworkSummary__Output } from './mezzanine/v1/FrameworkSummary';
import type { GetLeaderRequest as _mezzanine_v1_GetLeaderRequest, GetLeaderRequest__Output as _mezzanine_v1_GetLeaderRequest__Output } from './mezzanine/v1/GetLeaderRequest';
import type { GetStateRequest as _mezzanine_v1_GetStateRequest, GetStateRequest__Output as _mezzanine_v1_GetStateRequest__Output } from './mezzanine/v1/GetStateRequest';
import type { GetVersionRequest as _mezzanine_v1_GetVersionRequest, GetVersionRequest__Output as _mezzanine_v1_GetVersionRequest__Output } from './mezzanine/v1/GetVersionRequest';
import type { HealthCheck as _mezzanine_v1_HealthCheck, HealthCheck__Output as _mezzanine_v1_HealthCheck__Output } from './mezzanine/v1/HealthCheck';
import type { KillTaskRequest as _mezzanine_v1_KillTaskRequest, KillTaskRequest__Output as _mezzanine_v1_KillTaskRequest__Output } from './mezzanine/v1/KillTaskRequest';
import type { KillTaskResponse as _mezzanine_v1_KillTaskResponse, KillTaskResponse__Output as _mezzanine_v1_KillTaskResponse__Output } from './mezzanine/v1/KillTaskResponse';
import type { LeaderInfo as _mezzanine_v1_LeaderInfo, LeaderInfo__Output as _mezzanine_v1_LeaderInfo__Output } from './mezzanine/v1/LeaderInfo';
import type { ListAgentsRequest as _mezzanine_v1_ListAgentsRequest, ListAgentsRequest__Output as _mezzanine_v1_ListAgentsRequest__Output } from './mezzanine/v1/ListAgentsRequest';
import type { ListAgentsResponse as _mezzanine_v1_ListAgentsResponse, ListAgentsResponse__Output as _mezzanine_v1_ListAgentsResponse__Output } from './mezzanine/v1/ListAgentsResponse';
import type { ListFrameworksRequest as _mezzanine_v1_ListFrameworksRequest, ListFrameworksRequest__Output as _mezzanine_v1_ListFrameworksRequest__Output } from './mezzanine/v1/ListFrameworksRequest';
import type { ListFrameworksResponse as _mezzanine_v1_ListFrameworksResponse, ListFrameworksResponse__Output as _mezzanine_v1_ListFrameworksResponse__Output } from './mezzanine/v1/ListFrameworksResponse';
import type { ListRolesRequest as _mezzanine_v1_ListRolesRequest, ListRolesRequest__Output as _mezzanine_v1_ListRolesRequest__Output } from './mezzanine/v1/ListRolesRequest';
import type { ListRolesResponse as _mezzanine_v1_ListRolesResponse, ListRolesResponse__Output as _mezzanine_v1_ListRolesResponse__Output } from './mezzanine/v1/ListRolesResponse';
import type { ListTasksRequest as _mezzanine_v1_ListTasksRequest, ListTasksRequest__Output as _mezzanine_v1_ListTasksRequest__Output } from './mezzanine/v1/ListTasksRequest';
import type { ListTasksResponse as _mezzanine_v1_ListTasksResponse, ListTasksResponse__Output as _mezzanine_v1_ListTasksResponse__Output } from './mezzanine/v1/ListTasksResponse';
import type { MasterMessage as _mezzanine_v1_MasterMessage, MasterMessage__Output as _mezzanine_v1_MasterMessage__Output } from './mezzanine/v1/MasterMessage';
import type { Offer as _mezzanine_v1_Offer, Offer__Output as _mezzanine_v1_Offer__Output } from './mezzanine/v1/Offer';
import type { OfferConstraint as _mezzanine_v1_OfferConstraint, OfferConstraint__Output as _mezzanine_v1_OfferConstraint__Output } from './mezzanine/v1/OfferConstraint';
import type { OfferConstraintGroup as _mezzanine_v1_OfferConstraintGroup, OfferConstraintGroup__Output as _mezzanine_v1_OfferConstraintGroup__Output } from './mezzanine/v1/OfferConstraintGroup';
import type { OfferConstraints as _mezzanine_v1_OfferConstraints, OfferConstraints__Output as _mezzanine_v1_OfferConstraints__Output } from './mezzanine/v1/OfferConstraints';
import type { OperatorClient as _mezzanine_v1_OperatorClient, OperatorDefinition as _mezzanine_v1_OperatorDefinition } from './mezzanine/v1/Operator';
import type { Range as _mezzanine_v1_Range, Range__Output as _mezzanine_v1_Range__Output } from './mezzanine/v1/Range';
import type { ReadFileRequest as _mezzanine_v1_ReadFileRequest, ReadFileRequest__Output as _mezzanine_v1_ReadFileRequest__Output } from './mezzanine/v1/ReadFileRequest';
import type { ReadFileResponse as _mezzanine_v1_ReadFileResponse, ReadFileResponse__Output as _mezzanine_v1_ReadFileResponse__Output } from './mezzanine/v1/ReadFileResponse';
import type { Resource as _mezzanine_v1_Resource, Resource__Output as _mezzanine_v1_Resource__Output } from './mezzanine/v1/Resource';
import type { RoleSummary as _mezzanine_v1_RoleSummary, RoleSummary__Output as _mezzanine_v1_RoleSummary__Output } from './mezzanine/v1/RoleSummary';
import type { RoleWeight as _mezzanine_v1_RoleWeight, RoleWeight__Output as _mezzanine_v1_RoleWeight__Output } from './mezzanine/v1/RoleWeight';
import type { ScalarResources as _mezzanine_v1_ScalarResources, ScalarResources__Output as _mezzanine_v1_ScalarResources__Output } from './mezzanine/v1/ScalarResources';
import type { TaskInfo as _mezzanine_v1_TaskInfo, TaskInfo__Output as _mezzanine_v1_TaskInfo__Output } from './mezzanine/v1/TaskInfo';
import type { TaskStatus as _mezzanine_v1_TaskStatus, TaskStatus__Output as _mezzanine_v1_TaskStatus__Output } from './mezzanine/v1/TaskStatus';
import type { TaskSummary as _mezzanine_v1_TaskSummary, TaskSummary__Output as _mezzanine_v1_TaskSummary__Output } from './mezzanine/v1/TaskSummary';
import type { TeardownFrameworkRequest as _mezzanine_v1_TeardownFrameworkRequest, TeardownFrameworkRequest__Output as _mezzanine_v1_TeardownFrameworkRequest__Output } from './mezzanine/v1/TeardownFrameworkRequest';
import type { TeardownFrameworkResponse as _mezzanine_v1_TeardownFrameworkResponse, TeardownFrameworkResponse__Output as _mezzanine_v1_TeardownFrameworkResponse__Output } from './mezzanine/v1/TeardownFrameworkResponse';
import type { URI as _mezzanine_v1_URI, URI__Output as _mezzanine_v1_URI__Output } from './mezzanine/v1/URI';
import type { UpdateWeightsRequest as _mezzanine_v1_UpdateWeightsRequest, UpdateWeightsRequest__Output as _mezzanine_v1_UpdateWeightsRequest__Output } from './mezzanine/v1/UpdateWeightsRequest';
import type { Version as _mezzanine_v1_Version, Version__Output as _mezzanine_v1_Version__Output } from './mezzanine/v1/Version';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  mezzanine: {
    v1: {
      AgentFiles: SubtypeConstructor<typeof grpc.Client, _mezzanine_v1_AgentFilesClient> & { service: _mezzanine_v1_AgentFilesDefinition }
      AgentGateway: SubtypeConstructor<typeof grpc.Client, _mezzanine_v1_AgentGatewayClient> & { service: _mezzanine_v1_AgentGatewayDefinition }
      AgentInfo: MessageTypeDefinition<_mezzanine_v1_AgentInfo, _mezzanine_v1_AgentInfo__Output>
      AgentMessage: MessageTypeDefinition<_mezzanine_v1_AgentMessage, _mezzanine_v1_AgentMessage__Output>
      AgentSummary: MessageTypeDefinition<_mezzanine_v1_AgentSummary, _mezzanine_v1_AgentSummary__Output>
      AgentTask: MessageTypeDefinition<_mezzanine_v1_AgentTask, _mezzanine_v1_AgentTask__Output>
      Attribute: MessageTypeDefinition<_mezzanine_v1_Attribute, _mezzanine_v1_Attribute__Output>
      CheckInfo: MessageTypeDefinition<_mezzanine_v1_CheckInfo, _mezzanine_v1_CheckInfo__Output>
      CheckStatusInfo: MessageTypeDefinition<_mezzanine_v1_CheckStatusInfo, _mezzanine_v1_CheckStatusInfo__Output>
      ClusterState: MessageTypeDefinition<_mezzanine_v1_ClusterState, _mezzanine_v1_ClusterState__Output>
      CommandInfo: MessageTypeDefinition<_mezzanine_v1_CommandInfo, _mezzanine_v1_CommandInfo__Output>
      ErrorKind: EnumTypeDefinition
      Filters: MessageTypeDefinition<_mezzanine_v1_Filters, _mezzanine_v1_Filters__Output>
      FrameworkInfo: MessageTypeDefinition<_mezzanine_v1_FrameworkInfo, _mezzanine_v1_FrameworkInfo__Output>
      FrameworkSummary: MessageTypeDefinition<_mezzanine_v1_FrameworkSummary, _mezzanine_v1_FrameworkSummary__Output>
      GetLeaderRequest: MessageTypeDefinition<_mezzanine_v1_GetLeaderRequest, _mezzanine_v1_GetLeaderRequest__Output>
      GetStateRequest: MessageTypeDefinition<_mezzanine_v1_GetStateRequest, _mezzanine_v1_GetStateRequest__Output>
      GetVersionRequest: MessageTypeDefinition<_mezzanine_v1_GetVersionRequest, _mezzanine_v1_GetVersionRequest__Output>
      HealthCheck: MessageTypeDefinition<_mezzanine_v1_HealthCheck, _mezzanine_v1_HealthCheck__Output>
      KillTaskRequest: MessageTypeDefinition<_mezzanine_v1_KillTaskRequest, _mezzanine_v1_KillTaskRequest__Output>
      KillTaskResponse: MessageTypeDefinition<_mezzanine_v1_KillTaskResponse, _mezzanine_v1_KillTaskResponse__Output>
      LeaderInfo: MessageTypeDefinition<_mezzanine_v1_LeaderInfo, _mezzanine_v1_LeaderInfo__Output>
      ListAgentsRequest: MessageTypeDefinition<_mezzanine_v1_ListAgentsRequest, _mezzanine_v1_ListAgentsRequest__Output>
      ListAgentsResponse: MessageTypeDefinition<_mezzanine_v1_ListAgentsResponse, _mezzanine_v1_ListAgentsResponse__Output>
      ListFrameworksRequest: MessageTypeDefinition<_mezzanine_v1_ListFrameworksRequest, _mezzanine_v1_ListFrameworksRequest__Output>
      ListFrameworksResponse: MessageTypeDefinition<_mezzanine_v1_ListFrameworksResponse, _mezzanine_v1_ListFrameworksResponse__Output>
      ListRolesRequest: MessageTypeDefinition<_mezzanine_v1_ListRolesRequest, _mezzanine_v1_ListRolesRequest__Output>
      ListRolesResponse: MessageTypeDefinition<_mezzanine_v1_ListRolesResponse, _mezzanine_v1_ListRolesResponse__Output>
      ListTasksRequest: MessageTypeDefinition<_mezzanine_v1_ListTasksRequest, _mezzanine_v1_ListTasksRequest__Output>
      ListTasksResponse: MessageTypeDefinition<_mezzanine_v1_ListTasksResponse, _mezzanine_v1_ListTasksResponse__Output>
      MasterMessage: MessageTypeDefinition<_mezzanine_v1_MasterMessage, _mezzanine_v1_MasterMessage__Output>
      Offer: MessageTypeDefinition<_mezzanine_v1_Offer, _mezzanine_v1_Offer__Output>
      OfferConstraint: MessageTypeDefinition<_mezzanine_v1_OfferConstraint, _mezzanine_v1_OfferConstraint__Output>
      OfferConstraintGroup: MessageTypeDefinition<_mezzanine_v1_OfferConstraintGroup, _mezzanine_v1_OfferConstraintGroup__Output>
      OfferConstraints: MessageTypeDefinition<_mezzanine_v1_OfferConstraints, _mezzanine_v1_OfferConstraints__Output>
      Operator: SubtypeConstructor<typeof grpc.Client, _mezzanine_v1_OperatorClient> & { service: _mezzanine_v1_OperatorDefinition }
      Range: MessageTypeDefinition<_mezzanine_v1_Range, _mezzanine_v1_Range__Output>
      ReadFileRequest: MessageTypeDefinition<_mezzanine_v1_ReadFileRequest, _mezzanine_v1_ReadFileRequest__Output>
      ReadFileResponse: MessageTypeDefinition<_mezzanine_v1_ReadFileResponse, _mezzanine_v1_ReadFileResponse__Output>
      Resource: MessageTypeDefinition<_mezzanine_v1_Resource, _mezzanine_v1_Resource__Output>
      RoleSummary: MessageTypeDefinition<_mezzanine_v1_RoleSummary, _mezzanine_v1_RoleSummary__Output>
      RoleWeight: MessageTypeDefinition<_mezzanine_v1_RoleWeight, _mezzanine_v1_RoleWeight__Output>
      ScalarResources: MessageTypeDefinition<_mezzanine_v1_ScalarResources, _mezzanine_v1_ScalarResources__Output>
      StatusSource: EnumTypeDefinition
      TaskInfo: MessageTypeDefinition<_mezzanine_v1_TaskInfo, _mezzanine_v1_TaskInfo__Output>
      TaskState: EnumTypeDefinition
      TaskStatus: MessageTypeDefinition<_mezzanine_v1_TaskStatus, _mezzanine_v1_TaskStatus__Output>
      TaskSummary: MessageTypeDefinition<_mezzanine_v1_TaskSummary, _mezzanine_v1_TaskSummary__Output>
      TeardownFrameworkRequest: MessageTypeDefinition<_mezzanine_v1_TeardownFrameworkRequest, _mezzanine_v1_TeardownFrameworkRequest__Output>
      TeardownFrameworkResponse: MessageTypeDefinition<_mezzanine_v1_TeardownFrameworkResponse, _mezzanine_v1_TeardownFrameworkResponse__Output>
      URI: MessageTypeDefinition<_mezzanine_v1_URI, _mezzanine_v1_URI__Output>
      UpdateWeightsRequest: MessageTypeDefinition<_mezzanine_v1_UpdateWeightsRequest, _mezzanine_v1_UpdateWeightsRequest__Output>
      Version: MessageTypeDefinition<_mezzanine_v1_Version, _mezzanine_v1_Version__Output>
    }
  }
}

