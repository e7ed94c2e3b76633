// Original file: proto/mezzanine/v1/resources.proto

export const StatusSource = {
  SOURCE_MASTER: 'SOURCE_MASTER',
  SOURCE_AGENT: 'SOURCE_AGENT',
  SOURCE_EXECUTOR: 'SOURCE_EXECUTOR',
} as const;

export type StatusSource =
  | 'SOURCE_MASTER'
  | 0
  | 'SOURCE_AGENT'
  | 1
  | 'SOURCE_EXECUTOR'
  | 2

export type StatusSource__Output = typeof StatusSource[keyof typeof StatusSource]
