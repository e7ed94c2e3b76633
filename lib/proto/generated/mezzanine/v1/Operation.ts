// Original file: proto/mezzanine/v1/scheduler.proto

import type { TaskInfo as _mezzanine_v1_TaskInfo, TaskInfo__Output as _mezzanine_v1_TaskInfo__Output } from '../../mezzanine/v1/TaskInfo';

export interface _mezzanine_v1_Operation_Launch {
  'taskInfos'?: (_mezzanine_v1_TaskInfo)[];
}

export interface _mezzanine_v1_Operation_Launch__Output {
  'taskInfos': (_mezzanine_v1_TaskInfo__Output)[];
}

export interface _mezzanine_v1_Operation_LaunchGroup {
  'taskInfos'?: (_mezzanine_v1_TaskInfo)[];
}

export interface _mezzanine_v1_Operation_LaunchGroup__Output {
  'taskInfos': (_mezzanine_v1_TaskInfo__Output)[];
}

export interface Operation {
  'launch'?: (_mezzanine_v1_Operation_Launch | null);
  'launchGroup'?: (_mezzanine_v1_Operation_LaunchGroup | null);
  'operation'?: "launch"|"launchGroup";
}

export interface Operation__Output {
  'launch'?: (_mezzanine_v1_Operation_Launch__Output | null);
  'launchGroup'?: (_mezzanine_v1_Operation_LaunchGroup__Output | null);
  'operation'?: "launch"|"launchGroup";
}
