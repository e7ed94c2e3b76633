// Original file: proto/mezzanine/v1/operator.proto

import type { TaskSummary as _mezzanine_v1_TaskSummary, TaskSummary__Output as _mezzanine_v1_TaskSummary__Output } from '../../mezzanine/v1/TaskSummary';

export interface ListTasksResponse {
  'tasks'?: (_mezzanine_v1_TaskSummary)[];
  'nextPageToken'?: (string);
}

export interface ListTasksResponse__Output {
  'tasks': (_mezzanine_v1_TaskSummary__Output)[];
  'nextPageToken': (string);
}
