// Original file: proto/mezzanine/v1/agent.proto

import type { TaskInfo as _mezzanine_v1_TaskInfo, TaskInfo__Output as _mezzanine_v1_TaskInfo__Output } from '../../mezzanine/v1/TaskInfo';
import type { TaskStatus as _mezzanine_v1_TaskStatus, TaskStatus__Output as _mezzanine_v1_TaskStatus__Output } from '../../mezzanine/v1/TaskStatus';

export interface AgentTask {
  'frameworkId'?: (string);
  'task'?: (_mezzanine_v1_TaskInfo | null);
  'status'?: (_mezzanine_v1_TaskStatus | null);
}

export interface AgentTask__Output {
  'frameworkId': (string);
  'task': (_mezzanine_v1_TaskInfo__Output | null);
  'status': (_mezzanine_v1_TaskStatus__Output | null);
}
