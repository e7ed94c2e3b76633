// Original file: proto/mezzanine/v1/scheduler.proto

import type { Offer as _mezzanine_v1_Offer, Offer__Output as _mezzanine_v1_Offer__Output } from '../../mezzanine/v1/Offer';
import type { TaskStatus as _mezzanine_v1_TaskStatus, TaskStatus__Output as _mezzanine_v1_TaskStatus__Output } from '../../mezzanine/v1/TaskStatus';
import type { ErrorKind as _mezzanine_v1_ErrorKind, ErrorKind__Output as _mezzanine_v1_ErrorKind__Output } from '../../mezzanine/v1/ErrorKind';

export interface _mezzanine_v1_Event_Error {
  'message'?: (string);
  'fatal'?: (boolean);
  'call'?: (string);
  'kind'?: (_mezzanine_v1_ErrorKind);
}

export interface _mezzanine_v1_Event_Error__Output {
  'message': (string);
  'fatal': (boolean);
  'call': (string);
  'kind': (_mezzanine_v1_ErrorKind__Output);
}

export interface _mezzanine_v1_Event_Failure {
  'agentId'?: (string);
}

export interface _mezzanine_v1_Event_Failure__Output {
  'agentId': (string);
}

export interface _mezzanine_v1_Event_Heartbeat {
}

export interface _mezzanine_v1_Event_Heartbeat__Output {
}

export interface _mezzanine_v1_Event_Message {
  'agentId'?: (string);
  'taskId'?: (string);
  'data'?: (Buffer | Uint8Array | string);
}

export interface _mezzanine_v1_Event_Message__Output {
  'agentId': (string);
  'taskId': (string);
  'data': (Buffer);
}

export interface _mezzanine_v1_Event_Offers {
  'offers'?: (_mezzanine_v1_Offer)[];
}

export interface _mezzanine_v1_Event_Offers__Output {
  'offers': (_mezzanine_v1_Offer__Output)[];
}

export interface _mezzanine_v1_Event_Rescind {
  'offerId'?: (string);
  'reason'?: (string);
}

export interface _mezzanine_v1_Event_Rescind__Output {
  'offerId': (string);
  'reason': (string);
}

export interface _mezzanine_v1_Event_Subscribed {
  'frameworkId'?: (string);
  'heartbeatIntervalSeconds'?: (number | string);
  'masterId'?: (string);
  'masterVersion'?: (string);
}

export interface _mezzanine_v1_Event_Subscribed__Output {
  'frameworkId': (string);
  'heartbeatIntervalSeconds': (number);
  'masterId': (string);
  'masterVersion': (string);
}

export interface _mezzanine_v1_Event_Update {
  'status'?: (_mezzanine_v1_TaskStatus | null);
}

export interface _mezzanine_v1_Event_Update__Output {
  'status': (_mezzanine_v1_TaskStatus__Output | null);
}

export interface Event {
  'subscribed'?: (_mezzanine_v1_Event_Subscribed | null);
  'offers'?: (_mezzanine_v1_Event_Offers | null);
  'rescind'?: (_mezzanine_v1_Event_Rescind | null);
  'update'?: (_mezzanine_v1_Event_Update | null);
  'message'?: (_mezzanine_v1_Event_Message | null);
  'failure'?: (_mezzanine_v1_Event_Failure | null);
  'error'?: (_mezzanine_v1_Event_Error | null);
  'heartbeat'?: (_mezzanine_v1_Event_Heartbeat | null);
  'event'?: "subscribed"|"offers"|"rescind"|"update"|"message"|"failure"|"error"|"heartbeat";
}

export interface Event__Output {
  'subscribed'?: (_mezzanine_v1_Event_Subscribed__Output | null);
  'offers'?: (_mezzanine_v1_Event_Offers__Output | null);
  'rescind'?: (_mezzanine_v1_Event_Rescind__Output | null);
  'update'?: (_mezzanine_v1_Event_Update__Output | null);
  'message'?: (_mezzanine_v1_Event_Message__Output | null);
  'failure'?: (_mezzanine_v1_Event_Failure__Output | null);
  'error'?: (_mezzanine_v1_Event_Error__Output | null);
  'heartbeat'?: (_mezzanine_v1_Event_Heartbeat__Output | null);
  'event'?: "subscribed"|"offers"|"rescind"|"update"|"message"|"failure"|"error"|"heartbeat";
}
