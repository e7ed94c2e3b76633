// Original file: proto/mezzanine/v1/scheduler.proto

import type { FrameworkInfo as _mezzanine_v1_FrameworkInfo, FrameworkInfo__Output as _mezzanine_v1_FrameworkInfo__Output } from '../../mezzanine/v1/FrameworkInfo';
import type { Operation as _mezzanine_v1_Operation, Operation__Output as _mezzanine_v1_Operation__Output } from '../../mezzanine/v1/Operation';
import type { Filters as _mezzanine_v1_Filters, Filters__Output as _mezzanine_v1_Filters__Output } from '../../mezzanine/v1/Filters';

export interface _mezzanine_v1_Call_Accept {
  'offerIds'?: (string)[];
  'operations'?: (_mezzanine_v1_Operation)[];
  'filters'?: (_mezzanine_v1_Filters | null);
}

export interface _mezzanine_v1_Call_Accept__Output {
  'offerIds': (string)[];
  'operations': (_mezzanine_v1_Operation__Output)[];
  'filters': (_mezzanine_v1_Filters__Output | null);
}

export interface _mezzanine_v1_Call_Acknowledge {
  'agentId'?: (string);
  'taskId'?: (string);
  'uuid'?: (string);
}

export interface _mezzanine_v1_Call_Acknowledge__Output {
  'agentId': (string);
  'taskId': (string);
  'uuid': (string);
}

export interface _mezzanine_v1_Call_Decline {
  'offerIds'?: (string)[];
  'filters'?: (_mezzanine_v1_Filters | null);
}

export interface _mezzanine_v1_Call_Decline__Output {
  'offerIds': (string)[];
  'filters': (_mezzanine_v1_Filters__Output | null);
}

export interface _mezzanine_v1_Call_Kill {
  'taskId'?: (string);
  'agentId'?: (string);
}

export interface _mezzanine_v1_Call_Kill__Output {
  'taskId': (string);
  'agentId': (string);
}

export interface _mezzanine_v1_Call_Message {
  'agentId'?: (string);
  'taskId'?: (string);
  'data'?: (Buffer | Uint8Array | string);
}

export interface _mezzanine_v1_Call_Message__Output {
  'agentId': (string);
  'taskId': (string);
  'data': (Buffer);
}

export interface _mezzanine_v1_Call_Reconcile {
  'tasks'?: (_mezzanine_v1_Call_ReconcileTask)[];
}

export interface _mezzanine_v1_Call_Reconcile__Output {
  'tasks': (_mezzanine_v1_Call_ReconcileTask__Output)[];
}

export interface _mezzanine_v1_Call_ReconcileTask {
  'taskId'?: (string);
  'agentId'?: (string);
}

export interface _mezzanine_v1_Call_ReconcileTask__Output {
  'taskId': (string);
  'agentId': (string);
}

export interface _mezzanine_v1_Call_Revive {
  'roles'?: (string)[];
}

export interface _mezzanine_v1_Call_Revive__Output {
  'roles': (string)[];
}

export interface _mezzanine_v1_Call_Subscribe {
  'framework'?: (_mezzanine_v1_FrameworkInfo | null);
}

export interface _mezzanine_v1_Call_Subscribe__Output {
  'framework': (_mezzanine_v1_FrameworkInfo__Output | null);
}

export interface _mezzanine_v1_Call_Suppress {
  'roles'?: (string)[];
}

export interface _mezzanine_v1_Call_Suppress__Output {
  'roles': (string)[];
}

export interface _mezzanine_v1_Call_Teardown {
}

export interface _mezzanine_v1_Call_Teardown__Output {
}

export interface _mezzanine_v1_Call_UpdateFramework {
  'framework'?: (_mezzanine_v1_FrameworkInfo | null);
}

export interface _mezzanine_v1_Call_UpdateFramework__Output {
  'framework': (_mezzanine_v1_FrameworkInfo__Output | null);
}

export interface Call {
  'frameworkId'?: (string);
  'subscribe'?: (_mezzanine_v1_Call_Subscribe | null);
  'accept'?: (_mezzanine_v1_Call_Accept | null);
  'decline'?: (_mezzanine_v1_Call_Decline | null);
  'revive'?: (_mezzanine_v1_Call_Revive | null);
  'suppress'?: (_mezzanine_v1_Call_Suppress | null);
  'kill'?: (_mezzanine_v1_Call_Kill | null);
  'acknowledge'?: (_mezzanine_v1_Call_Acknowledge | null);
  'reconcile'?: (_mezzanine_v1_Call_Reconcile | null);
  'message'?: (_mezzanine_v1_Call_Message | null);
  'teardown'?: (_mezzanine_v1_Call_Teardown | null);
  'updateFramework'?: (_mezzanine_v1_Call_UpdateFramework | null);
  'call'?: "subscribe"|"accept"|"decline"|"revive"|"suppress"|"kill"|"acknowledge"|"reconcile"|"message"|"teardown"|"updateFramework";
}

export interface Call__Output {
  'frameworkId': (string);
  'subscribe'?: (_mezzanine_v1_Call_Subscribe__Output | null);
  'accept'?: (_mezzanine_v1_Call_Accept__Output | null);
  'decline'?: (_mezzanine_v1_Call_Decline__Output | null);
  'revive'?: (_mezzanine_v1_Call_Revive__Output | null);
  'suppress'?: (_mezzanine_v1_Call_Suppress__Output | null);
  'kill'?: (_mezzanine_v1_Call_Kill__Output | null);
  'acknowledge'?: (_mezzanine_v1_Call_Acknowledge__Output | null);
  'reconcile'?: (_mezzanine_v1_Call_Reconcile__Output | null);
  'message'?: (_mezzanine_v1_Call_Message__Output | null);
  'teardown'?: (_mezzanine_v1_Call_Teardown__Output | null);
  'updateFramework'?: (_mezzanine_v1_Call_UpdateFramework__Output | null);
  'call'?: "subscribe"|"accept"|"decline"|"revive"|"suppress"|"kill"|"acknowledge"|"reconcile"|"message"|"teardown"|"updateFramework";
}
