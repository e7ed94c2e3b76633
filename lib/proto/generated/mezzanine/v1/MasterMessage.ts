// Original file: proto/mezzanine/v1/agent.proto

import type { FrameworkInfo as _mezzanine_v1_FrameworkInfo, FrameworkInfo__Output as _mezzanine_v1_FrameworkInfo__Output } from '../../mezzanine/v1/FrameworkInfo';
import type { TaskInfo as _mezzanine_v1_TaskInfo, TaskInfo__Output as _mezzanine_v1_TaskInfo__Output } from '../../mezzanine/v1/TaskInfo';
import type { Long } from '@grpc/proto-loader';

export interface _mezzanine_v1_MasterMessage_Acknowledge {
  'taskId'?: (string);
  'uuid'?: (string);
}

export interface _mezzanine_v1_MasterMessage_Acknowledge__Output {
  'taskId': (string);
  'uuid': (string);
}

export interface _mezzanine_v1_MasterMessage_FrameworkMessage {
  'frameworkId'?: (string);
  'taskId'?: (string);
  'data'?: (Buffer | Uint8Array | string);
}

export interface _mezzanine_v1_MasterMessage_FrameworkMessage__Output {
  'frameworkId': (string);
  'taskId': (string);
  'data': (Buffer);
}

export interface _mezzanine_v1_MasterMessage_KillTask {
  'frameworkId'?: (string);
  'taskId'?: (string);
  'reason'?: (string);
}

export interface _mezzanine_v1_MasterMessage_KillTask__Output {
  'frameworkId': (string);
  'taskId': (string);
  'reason': (string);
}

export interface _mezzanine_v1_MasterMessage_Pong {
  'seq'?: (number | string | Long);
}

export interface _mezzanine_v1_MasterMessage_Pong__Output {
  'seq': (number);
}

export interface _mezzanine_v1_MasterMessage_Refused {
  'reason'?: (string);
}

export interface _mezzanine_v1_MasterMessage_Refused__Output {
  'reason': (string);
}

export interface _mezzanine_v1_MasterMessage_Registered {
  'agentId'?: (string);
  'pingIntervalSeconds'?: (number | string);
  'masterId'?: (string);
  'agentToken'?: (string);
  'filesToken'?: (string);
}

export interface _mezzanine_v1_MasterMessage_Registered__Output {
  'agentId': (string);
  'pingIntervalSeconds': (number);
  'masterId': (string);
  'agentToken': (string);
  'filesToken': (string);
}

export interface _mezzanine_v1_MasterMessage_RunTasks {
  'framework'?: (_mezzanine_v1_FrameworkInfo | null);
  'tasks'?: (_mezzanine_v1_TaskInfo)[];
}

export interface _mezzanine_v1_MasterMessage_RunTasks__Output {
  'framework': (_mezzanine_v1_FrameworkInfo__Output | null);
  'tasks': (_mezzanine_v1_TaskInfo__Output)[];
}

export interface _mezzanine_v1_MasterMessage_Shutdown {
  'reason'?: (string);
}

export interface _mezzanine_v1_MasterMessage_Shutdown__Output {
  'reason': (string);
}

export interface _mezzanine_v1_MasterMessage_ShutdownFramework {
  'frameworkId'?: (string);
}

export interface _mezzanine_v1_MasterMessage_ShutdownFramework__Output {
  'frameworkId': (string);
}

export interface MasterMessage {
  'registered'?: (_mezzanine_v1_MasterMessage_Registered | null);
  'runTasks'?: (_mezzanine_v1_MasterMessage_RunTasks | null);
  'killTask'?: (_mezzanine_v1_MasterMessage_KillTask | null);
  'acknowledge'?: (_mezzanine_v1_MasterMessage_Acknowledge | null);
  'pong'?: (_mezzanine_v1_MasterMessage_Pong | null);
  'shutdown'?: (_mezzanine_v1_MasterMessage_Shutdown | null);
  'shutdownFramework'?: (_mezzanine_v1_MasterMessage_ShutdownFramework | null);
  'frameworkMessage'?: (_mezzanine_v1_MasterMessage_FrameworkMessage | null);
  'refused'?: (_mezzanine_v1_MasterMessage_Refused | null);
  'message'?: "registered"|"runTasks"|"killTask"|"acknowledge"|"pong"|"shutdown"|"shutdownFramework"|"frameworkMessage"|"refused";
}

export interface MasterMessage__Output {
  'registered'?: (_mezzanine_v1_MasterMessage_Registered__Output | null);
  'runTasks'?: (_mezzanine_v1_MasterMessage_RunTasks__Output | null);
  'killTask'?: (_mezzanine_v1_MasterMessage_KillTask__Output | null);
  'acknowledge'?: (_mezzanine_v1_MasterMessage_Acknowledge__Output | null);
  'pong'?: (_mezzanine_v1_MasterMessage_Pong__Output | null);
  'shutdown'?: (_mezzanine_v1_MasterMessage_Shutdown__Output | null);
  'shutdownFramework'?: (_mezzanine_v1_MasterMessage_ShutdownFramework__Output | null);
  'frameworkMessage'?: (_mezzanine_v1_MasterMessage_FrameworkMessage__Output | null);
  'refused'?: (_mezzanine_v1_MasterMessage_Refused__Output | null);
  'message'?: "registered"|"runTasks"|"killTask"|"acknowledge"|"pong"|"shutdown"|"shutdownFramework"|"frameworkMessage"|"refused";
}
