// Original file: proto/mezzanine/v1/resources.proto

import type { CommandInfo as _mezzanine_v1_CommandInfo, CommandInfo__Output as _mezzanine_v1_CommandInfo__Output } from '../../mezzanine/v1/CommandInfo';

export interface _mezzanine_v1_CheckInfo_HTTP {
  'port'?: (number);
  'portIndex'?: (number);
  'path'?: (string);
  'scheme'?: (string);
  '_portIndex'?: "portIndex";
}

export interface _mezzanine_v1_CheckInfo_HTTP__Output {
  'port': (number);
  'portIndex'?: (number);
  'path': (string);
  'scheme': (string);
  '_portIndex'?: "portIndex";
}

export interface _mezzanine_v1_CheckInfo_TCP {
  'port'?: (number);
  'portIndex'?: (number);
  '_portIndex'?: "portIndex";
}

export interface _mezzanine_v1_CheckInfo_TCP__Output {
  'port': (number);
  'portIndex'?: (number);
  '_portIndex'?: "portIndex";
}

// Original file: proto/mezzanine/v1/resources.proto

export const _mezzanine_v1_CheckInfo_Type = {
  UNKNOWN: 'UNKNOWN',
  COMMAND: 'COMMAND',
  HTTP: 'HTTP',
  TCP: 'TCP',
} as const;

export type _mezzanine_v1_CheckInfo_Type =
  | 'UNKNOWN'
  | 0
  | 'COMMAND'
  | 1
  | 'HTTP'
  | 2
  | 'TCP'
  | 3

export type _mezzanine_v1_CheckInfo_Type__Output = typeof _mezzanine_v1_CheckInfo_Type[keyof typeof _mezzanine_v1_CheckInfo_Type]

export interface CheckInfo {
  'type'?: (_mezzanine_v1_CheckInfo_Type);
  'command'?: (_mezzanine_v1_CommandInfo | null);
  'http'?: (_mezzanine_v1_CheckInfo_HTTP | null);
  'tcp'?: (_mezzanine_v1_CheckInfo_TCP | null);
  'delaySeconds'?: (number | string);
  'intervalSeconds'?: (number | string);
  'timeoutSeconds'?: (number | string);
  '_delaySeconds'?: "delaySeconds";
  '_intervalSeconds'?: "intervalSeconds";
  '_timeoutSeconds'?: "timeoutSeconds";
}

export interface CheckInfo__Output {
  'type': (_mezzanine_v1_CheckInfo_Type__Output);
  'command': (_mezzanine_v1_CommandInfo__Output | null);
  'http': (_mezzanine_v1_CheckInfo_HTTP__Output | null);
  'tcp': (_mezzanine_v1_CheckInfo_TCP__Output | null);
  'delaySeconds'?: (number);
  'intervalSeconds'?: (number);
  'timeoutSeconds'?: (number);
  '_delaySeconds'?: "delaySeconds";
  '_intervalSeconds'?: "intervalSeconds";
  '_timeoutSeconds'?: "timeoutSeconds";
}
