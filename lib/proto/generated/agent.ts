import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { AgentFilesClient as _mezzanine_v1_AgentFilesClient, AgentFilesDefinition as _mezzanine_v1_AgentFilesDefinition } from './mezzanine/v1/AgentFiles';
import type { AgentGatewayClient as _mezzanine_v1_AgentGatewayClient, AgentGatewayDefinition as _mezzanine_v1_AgentGatewayDefinition } from './mezzanine/v1/AgentGateway';
import type { AgentInfo as _mezzanine_v1_AgentInfo, AgentInfo__Output as _mezzanine_v1_AgentInfo__Output } from './mezzanine/v1/AgentInfo';
import type { AgentMessage as _mezzanine_v1_AgentMessage, AgentMessage__Output as _mezzanine_v1_AgentMessage__Output } from './mezzanine/v1/AgentMessage';
import type { AgentTask as _mezzanine_v1_AgentTask, AgentTask__Output as _mezzanine_v1_AgentTask__Output } from './mezzanine/v1/AgentTask';
import type { Attribute as _mezzanine_v1_Attribute, Attribute__Output as _mezzanine_v1_Attribute__Output } from './mezzanine/v1/Attribute';
import type { CheckInfo as _mezzanine_v1_CheckInfo, CheckInfo__Output as _mezzanine_v1_CheckInfo__Output } from './mezzanine/v1/CheckInfo';
import type { CheckStatusInfo as _mezzanine_v1_CheckStatusInfo, CheckStatusInfo__Output as _mezzanine_v1_CheckStatusInfo__Output } from './mezzanine/v1/CheckStatusInfo';
import type { CommandInfo as _mezzanine_v1_CommandInfo, CommandInfo__Output as _mezzanine_v1_CommandInfo__Output } from './mezzanine/v1/CommandInfo';
import type { Filters as _mezzanine_v1_Filters, Filters__Output as _mezzanine_v1_Filters__Output } from './mezzanine/v1/Filters';
import type { FrameworkInfo as _mezzanine_v1_FrameworkInfo, FrameworkInfo__Output as _mezzanine_v1_FrameworkInfo__Output } from './mezzanine/v1/FrameworkInfo';
import type { HealthCheck as _mezzanine_v1_HealthCheck, HealthCheck__Output as _mezzanine_v1_HealthCheck__Output } from './mezzanine/v1/HealthCheck';
import type { MasterMessage as _mezzanine_v1_MasterMessage, MasterMessage__Output as _mezzanine_v1_MasterMessage__Output } from './mezzanine/v1/MasterMessage';
import type { Offer as _mezzanine_v1_Offer, Offer__Output as _mezzanine_v1_Offer__Output } from './mezzanine/v1/Offer';
import type { OfferConstraint as _mezzanine_v1_OfferConstraint, OfferConstraint__Output as _mezzanine_v1_OfferConstraint__Output } from './mezzanine/v1/OfferConstraint';
import type { OfferConstraintGroup as _mezzanine_v1_OfferConstraintGroup, OfferConstraintGroup__Output as _mezzanine_v1_OfferConstraintGroup__Output } from './mezzanine/v1/OfferConstraintGroup';
import type { OfferConstraints as _mezzanine_v1_OfferConstraints, OfferConstraints__Output as _mezzanine_v1_OfferConstraints__Output } from './mezzanine/v1/OfferConstraints';
import type { Range as _mezzanine_v1_Range, Range__Output as _mezzanine_v1_Range__Output } from './mezzanine/v1/Range';
import type { ReadFileRequest as _mezzanine_v1_ReadFileRequest, ReadFileRequest__Output as _mezzanine_v1_ReadFileRequest__Output } from './mezzanine/v1/ReadFileRequest';
import type { ReadFileResponse as _mezzanine_v1_ReadFileResponse, ReadFileResponse__Output as _mezzanine_v1_ReadFileResponse__Output } from './mezzanine/v1/ReadFileResponse';
import type { Resource as _mezzanine_v1_Resource, Resource__Output as _mezzanine_v1_Resource__Output } from './mezzanine/v1/Resource';
import type { TaskInfo as _mezzanine_v1_TaskInfo, TaskInfo__Output as _mezzanine_v1_TaskInfo__Output } from './mezzanine/v1/TaskInfo';
import type { TaskStatus as _mezzanine_v1_TaskStatus, TaskStatus__Output as _mezzanine_v1_TaskStatus__Output } from './mezzanine/v1/TaskStatus';
import type { URI as _mezzanine_v1_URI, URI__Output as _mezzanine_v1_URI__Output } from './mezzanine/v1/URI';

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
      AgentTask: MessageTypeDefinition<_mezzanine_v1_AgentTask, _mezzanine_v1_AgentTask__Output>
      Attribute: MessageTypeDefinition<_mezzanine_v1_Attribute, _mezzanine_v1_Attribute__Output>
      CheckInfo: MessageTypeDefinition<_mezzanine_v1_CheckInfo, _mezzanine_v1_CheckInfo__Output>
      CheckStatusInfo: MessageTypeDefinition<_mezzanine_v1_CheckStatusInfo, _mezzanine_v1_CheckStatusInfo__Output>
      CommandInfo: MessageTypeDefinition<_mezzanine_v1_CommandInfo, _mezzanine_v1_CommandInfo__Output>
      ErrorKind: EnumTypeDefinition
      Filters: MessageTypeDefinition<_mezzanine_v1_Filters, _mezzanine_v1_Filters__Output>
      FrameworkInfo: MessageTypeDefinition<_mezzanine_v1_FrameworkInfo, _mezzanine_v1_FrameworkInfo__Output>
      HealthCheck: MessageTypeDefinition<_mezzanine_v1_HealthCheck, _mezzanine_v1_HealthCheck__Output>
      MasterMessage: MessageTypeDefinition<_mezzanine_v1_MasterMessage, _mezzanine_v1_MasterMessage__Output>
      Offer: MessageTypeDefinition<_mezzanine_v1_Offer, _mezzanine_v1_Offer__Output>
      OfferConstraint: MessageTypeDefinition<_mezzanine_v1_OfferConstraint, _mezzanine_v1_OfferConstraint__Output>
      OfferConstraintGroup: MessageTypeDefinition<_mezzanine_v1_OfferConstraintGroup, _mezzanine_v1_OfferConstraintGroup__Output>
      OfferConstraints: MessageTypeDefinition<_mezzanine_v1_OfferConstraints, _mezzanine_v1_OfferConstraints__Output>
      Range: MessageTypeDefinition<_mezzanine_v1_Range, _mezzanine_v1_Range__Output>
      ReadFileRequest: MessageTypeDefinition<_mezzanine_v1_ReadFileRequest, _mezzanine_v1_ReadFileRequest__Output>
      ReadFileResponse: MessageTypeDefinition<_mezzanine_v1_ReadFileResponse, _mezzanine_v1_ReadFileResponse__Output>
      Resource: MessageTypeDefinition<_mezzanine_v1_Resource, _mezzanine_v1_Resource__Output>
      StatusSource: EnumTypeDefinition
      TaskInfo: MessageTypeDefinition<_mezzanine_v1_TaskInfo, _mezzanine_v1_TaskInfo__Output>
      TaskState: EnumTypeDefinition
      TaskStatus: MessageTypeDefinition<_mezzanine_v1_TaskStatus, _mezzanine_v1_TaskStatus__Output>
      URI: MessageTypeDefinition<_mezzanine_v1_URI, _mezzanine_v1_URI__Output>
    }
  }
}

