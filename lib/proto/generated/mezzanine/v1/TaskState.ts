// Original file: proto/mezzanine/v1/resources.proto

export const TaskState = {
  TASK_STAGING: 'TASK_STAGING',
  TASK_STARTING: 'TASK_STARTING',
  TASK_RUNNING: 'TASK_RUNNING',
  TASK_FINISHED: 'TASK_FINISHED',
  TASK_FAILED: 'TASK_FAILED',
  TASK_KILLING: 'TASK_KILLING',
  TASK_KILLED: 'TASK_KILLED',
  TASK_ERROR: 'TASK_ERROR',
  TASK_LOST: 'TASK_LOST',
  TASK_DROPPED: 'TASK_DROPPED',
  TASK_UNREACHABLE: 'TASK_UNREACHABLE',
  TASK_GONE: 'TASK_GONE',
  TASK_GONE_BY_OPERATOR: 'TASK_GONE_BY_OPERATOR',
  TASK_UNKNOWN: 'TASK_UNKNOWN',
} as const;

export type TaskState =
  | 'TASK_STAGING'
  | 0
  | 'TASK_STARTING'
  | 1
  | 'TASK_RUNNING'
  | 2
  | 'TASK_FINISHED'
  | 3
  | 'TASK_FAILED'
  | 4
  | 'TASK_KILLING'
  | 5
  | 'TASK_KILLED'
  | 6
  | 'TASK_ERROR'
  | 7
  | 'TASK_LOST'
  | 8
  | 'TASK_DROPPED'
  | 9
  | 'TASK_UNREACHABLE'
  | 10
  | 'TASK_GONE'
  | 11
  | 'TASK_GONE_BY_OPERATOR'
  | 12
  | 'TASK_UNKNOWN'
  | 13

export type TaskState__Output = typeof TaskState[keyof typeof TaskState]
