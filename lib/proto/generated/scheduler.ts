import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { Attribute as _mezzanine_v1_Attribute, Attribute__Output as _mezzanine_v1_Attribute__Output } from './mezzanine/v1/Attribute';
import type { Call as _mezzanine_v1_Call, Call__Output as _mezzanine_v1_Call__Output } from './mezzanine/v1/Call';
import type { CheckInfo as _mezzanine_v1_CheckInfo, CheckInfo__Output as _mezzanine_v1_CheckInfo__Output } from './mezzanine/v1/CheckInfo';
import type { CheckStatusInfo as _mezzanine_v1_CheckStatusInfo, CheckStatusInfo__Output as _mezzanine_v1_CheckStatusInfo__Output } from './mezzanine/v1/CheckStatusInfo';
import type { CommandInfo as _mezzanine_v1_CommandInfo, CommandInfo__Output as _mezzanine_v1_CommandInfo__Output } from './mezzanine/v1/CommandInfo';
import type { Event as _mezzanine_v1_Event, Event__Output as _mezzanine_v1_Event__Output } from './mezzanine/v1/Event';
import type { Filters as _mezzanine_v1_Filters, Filters__Output as _mezzanine_v1_Filters__Output } from './mezzanine/v1/Filters';
import type { FrameworkInfo as _mezzanine_v1_FrameworkInfo, FrameworkInfo__Output as _mezzanine_v1_FrameworkInfo__Output } from './mezzanine/v1/FrameworkInfo';
import type { HealthCheck as _mezzanine_v1_HealthCheck, HealthCheck__Output as _mezzanine_v1_HealthCheck__Output } from './mezzanine/v1/HealthCheck';
import type { Offer as _mezzanine_v1_Offer, Offer__Output as _mezzanine_v1_Offer__Output } from './mezzanine/v1/Offer';
import type { OfferConstraint as _mezzanine_v1_OfferConstraint, OfferConstraint__Output as _mezzanine_v1_OfferConstraint__Output } from './mezzanine/v1/OfferConstraint';
import type { OfferConstraintGroup as _mezzanine_v1_OfferConstraintGroup, OfferConstraintGroup__Output as _mezzanine_v1_OfferConstraintGroup__Output } from './mezzanine/v1/OfferConstraintGroup';
import type { OfferConstraints as _mezzanine_v1_OfferConstraints, OfferConstraints__Output as _mezzanine_v1_OfferConstraints__Output } from './mezzanine/v1/OfferConstraints';
import type { Operation as _mezzanine_v1_Operation, Operation__Output as _mezzanine_v1_Operation__Output } from './mezzanine/v1/Operation';
import type { Range as _mezzanine_v1_Range, Range__Output as _mezzanine_v1_Range__Output } from './mezzanine/v1/Range';
import type { Resource as _mezzanine_v1_Resource, Resource__Output as _mezzanine_v1_Resource__Output } from './mezzanine/v1/Resource';
import type { SchedulerClient as _mezzanine_v1_SchedulerClient, SchedulerDefinition as _mezzanine_v1_SchedulerDefinition } from './mezzanine/v1/Scheduler';
import type { TaskInfo as _mezzanine_v1_TaskInfo, TaskInfo__Output as _mezzanine_v1_TaskInfo__Output } from './mezzanine/v1/TaskInfo';
import type { TaskStatus as _mezzanine_v1_TaskStatus, TaskStatus__Output as _mezzanine_v1_TaskStatus__Output } from './mezzanine/v1/TaskStatus';
import type { URI as _mezzanine_v1_URI, URI__Output as _mezzanine_v1_URI__Output } from './mezzanine/v1/URI';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  mezzanine: {
    v1: {
      Attribute: MessageTypeDefinition<_mezzanine_v1_Attribute, _mezzanine_v1_Attribute__Output>
      Call: MessageTypeDefinition<_mezzanine_v1_Call, _mezzanine_v1_Call__Output>
      CheckInfo: MessageTypeDefinition<_mezzanine_v1_CheckInfo, _mezzanine_v1_CheckInfo__Output>
      CheckStatusInfo: MessageTypeDefinition<_mezzanine_v1_CheckStatusInfo, _mezzanine_v1_CheckStatusInfo__Output>
      CommandInfo: MessageTypeDefinition<_mezzanine_v1_CommandInfo, _mezzanine_v1_CommandInfo__Output>
      ErrorKind: EnumTypeDefinition
      Event: MessageTypeDefinition<_mezzanine_v1_Event, _mezzanine_v1_Event__Output>
      Filters: MessageTypeDefinition<_mezzanine_v1_Filters, _mezzanine_v1_Filters__Output>
      FrameworkInfo: MessageTypeDefinition<_mezzanine_v1_FrameworkInfo, _mezzanine_v1_FrameworkInfo__Output>
      HealthCheck: MessageTypeDefinition<_mezzanine_v1_HealthCheck, _mezzanine_v1_HealthCheck__Output>
      Offer: MessageTypeDefinition<_mezzanine_v1_Offer, _mezzanine_v1_Offer__Output>
      OfferConstraint: MessageTypeDefinition<_mezzanine_v1_OfferConstraint, _mezzanine_v1_OfferConstraint__Output>
      OfferConstraintGroup: MessageTypeDefinition<_mezzanine_v1_OfferConstraintGroup, _mezzanine_v1_OfferConstraintGroup__Output>
      OfferConstraints: MessageTypeDefinition<_mezzanine_v1_OfferConstraints, _mezzanine_v1_OfferConstraints__Output>
      Operation: MessageTypeDefinition<_mezzanine_v1_Operation, _mezzanine_v1_Operation__Output>
      Range: MessageTypeDefinition<_mezzanine_v1_Range, _mezzanine_v1_Range__Output>
      Resource: MessageTypeDefinition<_mezzanine_v1_Resource, _mezzanine_v1_Resource__Output>
      Scheduler: SubtypeConstructor<typeof grpc.Client, _mezzanine_v1_SchedulerClient> & { service: _mezzanine_v1_SchedulerDefinition }
      StatusSource: EnumTypeDefinition
      TaskInfo: MessageTypeDefinition<_mezzanine_v1_TaskInfo, _mezzanine_v1_TaskInfo__Output>
      TaskState: EnumTypeDefinition
      TaskStatus: MessageTypeDefinition<_mezzanine_v1_TaskStatus, _mezzanine_v1_TaskStatus__Output>
      URI: MessageTypeDefinition<_mezzanine_v1_URI, _mezzanine_v1_URI__Output>
    }
  }
}

