// Original file: proto/mezzanine/v1/resources.proto

import type { TaskState as _mezzanine_v1_TaskState, TaskState__Output as _mezzanine_v1_TaskState__Output } from '../../mezzanine/v1/TaskState';
import type { StatusSource as _mezzanine_v1_StatusSource, StatusSource__Output as _mezzanine_v1_StatusSource__Output } from '../../mezzanine/v1/StatusSource';
import type { CheckStatusInfo as _mezzanine_v1_CheckStatusInfo, CheckStatusInfo__Output as _mezzanine_v1_CheckStatusInfo__Output } from '../../mezzanine/v1/CheckStatusInfo';

export interface TaskStatus {
  'taskId'?: (string);
  'state'?: (_mezzanine_v1_TaskState);
  'message'?: (string);
  'reason'?: (string);
  'source'?: (_mezzanine_v1_StatusSource);
  'agentId'?: (string);
  'uuid'?: (string);
  'timestamp'?: (number | string);
  'exitCode'?: (number);
  'healthy'?: (boolean);
  'frameworkId'?: (string);
  'checkStatus'?: (_mezzanine_v1_CheckStatusInfo | null);
  '_exitCode'?: "exitCode";
  '_healthy'?: "healthy";
}

export interface TaskStatus__Output {
  'taskId': (string);
  'state': (_mezzanine_v1_TaskState__Output);
  'message': (string);
  'reason': (string);
  'source': (_mezzanine_v1_StatusSource__Output);
  'agentId': (string);
  'uuid': (string);
  'timestamp': (number);
  'exitCode'?: (number);
  'healthy'?: (boolean);
  'frameworkId': (string);
  'checkStatus': (_mezzanine_v1_CheckStatusInfo__Output | null);
  '_exitCode'?: "exitCode";
  '_healthy'?: "healthy";
}
