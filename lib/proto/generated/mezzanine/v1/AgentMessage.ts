// Original file: proto/mezzanine/v1/agent.proto

import type { AgentInfo as _mezzanine_v1_AgentInfo, AgentInfo__Output as _mezzanine_v1_AgentInfo__Output } from '../../mezzanine/v1/AgentInfo';
import type { AgentTask as _mezzanine_v1_AgentTask, AgentTask__Output as _mezzanine_v1_AgentTask__Output } from '../../mezzanine/v1/AgentTask';
import type { TaskStatus as _mezzanine_v1_TaskStatus, TaskStatus__Output as _mezzanine_v1_TaskStatus__Output } from '../../mezzanine/v1/TaskStatus';
import type { Long } from '@grpc/proto-loader';

export interface _mezzanine_v1_AgentMessage_Ping {
  'seq'?: (number | string | Long);
}

export interface _mezzanine_v1_AgentMessage_Ping__Output {
  'seq': (number);
}

export interface _mezzanine_v1_AgentMessage_Register {
  'info'?: (_mezzanine_v1_AgentInfo | null);
  'tasks'?: (_mezzanine_v1_AgentTask)[];
  'lostLeader'?: (string);
  'moreTasks'?: (boolean);
  'agentToken'?: (string);
}

export interface _mezzanine_v1_AgentMessage_Register__Output {
  'info': (_mezzanine_v1_AgentInfo__Output | null);
  'tasks': (_mezzanine_v1_AgentTask__Output)[];
  'lostLeader': (string);
  'moreTasks': (boolean);
  'agentToken': (string);
}

export interface _mezzanine_v1_AgentMessage_RegisterTasks {
  'tasks'?: (_mezzanine_v1_AgentTask)[];
  'more'?: (boolean);
}

export interface _mezzanine_v1_AgentMessage_RegisterTasks__Output {
  'tasks': (_mezzanine_v1_AgentTask__Output)[];
  'more': (boolean);
}

export interface _mezzanine_v1_AgentMessage_StatusUpdate {
  'status'?: (_mezzanine_v1_TaskStatus | null);
}

export interface _mezzanine_v1_AgentMessage_StatusUpdate__Output {
  'status': (_mezzanine_v1_TaskStatus__Output | null);
}

export interface AgentMessage {
  'register'?: (_mezzanine_v1_AgentMessage_Register | null);
  'statusUpdate'?: (_mezzanine_v1_AgentMessage_StatusUpdate | null);
  'ping'?: (_mezzanine_v1_AgentMessage_Ping | null);
  'registerTasks'?: (_mezzanine_v1_AgentMessage_RegisterTasks | null);
  'message'?: "register"|"statusUpdate"|"ping"|"registerTasks";
}

export interface AgentMessage__Output {
  'register'?: (_mezzanine_v1_AgentMessage_Register__Output | null);
  'statusUpdate'?: (_mezzanine_v1_AgentMessage_StatusUpdate__Output | null);
  'ping'?: (_mezzanine_v1_AgentMessage_Ping__Output | null);
  'registerTasks'?: (_mezzanine_v1_AgentMessage_RegisterTasks__Output | null);
  'message'?: "register"|"statusUpdate"|"ping"|"registerTasks";
}
