// Original file: proto/mezzanine/v1/resources.proto

import type { CommandInfo as _mezzanine_v1_CommandInfo, CommandInfo__Output as _mezzanine_v1_CommandInfo__Output } from '../../mezzanine/v1/CommandInfo';

export interface _mezzanine_v1_HealthCheck_HTTP {
  'port'?: (number);
  'portIndex'?: (number);
  'path'?: (string);
  'scheme'?: (string);
  '_portIndex'?: "portIndex";
}

export interface _mezzanine_v1_HealthCheck_HTTP__Output {
  'port': (number);
  'portIndex'?: (number);
  'path': (string);
  'scheme': (string);
  '_portIndex'?: "portIndex";
}

export interface _mezzanine_v1_HealthCheck_TCP {
  'port'?: (number);
  'portIndex'?: (number);
  '_portIndex'?: "portIndex";
}

export interface _mezzanine_v1_HealthCheck_TCP__Output {
  'port': (number);
  'portIndex'?: (number);
  '_portIndex'?: "portIndex";
}

// Original file: proto/mezzanine/v1/resources.proto

export const _mezzanine_v1_HealthCheck_Type = {
  UNKNOWN: 'UNKNOWN',
  COMMAND: 'COMMAND',
  HTTP: 'HTTP',
  TCP: 'TCP',
} as const;

export type _mezzanine_v1_HealthCheck_Type =
  | 'UNKNOWN'
  | 0
  | 'COMMAND'
  | 1
  | 'HTTP'
  | 2
  | 'TCP'
  | 3

export type _mezzanine_v1_HealthCheck_Type__Output = typeof _mezzanine_v1_HealthCheck_Type[keyof typeof _mezzanine_v1_HealthCheck_Type]

export interface HealthCheck {
  'type'?: (_mezzanine_v1_HealthCheck_Type);
  'command'?: (_mezzanine_v1_CommandInfo | null);
  'http'?: (_mezzanine_v1_HealthCheck_HTTP | null);
  'tcp'?: (_mezzanine_v1_HealthCheck_TCP | null);
  'delaySeconds'?: (number | string);
  'intervalSeconds'?: (number | string);
  'timeoutSeconds'?: (number | string);
  'consecutiveFailures'?: (number);
  'gracePeriodSeconds'?: (number | string);
  'killOnFailure'?: (boolean);
  '_delaySeconds'?: "delaySeconds";
  '_intervalSeconds'?: "intervalSeconds";
  '_timeoutSeconds'?: "timeoutSeconds";
  '_consecutiveFailures'?: "consecutiveFailures";
  '_gracePeriodSeconds'?: "gracePeriodSeconds";
}

export interface HealthCheck__Output {
  'type': (_mezzanine_v1_HealthCheck_Type__Output);
  'command': (_mezzanine_v1_CommandInfo__Output | null);
  'http': (_mezzanine_v1_HealthCheck_HTTP__Output | null);
  'tcp': (_mezzanine_v1_HealthCheck_TCP__Output | null);
  'delaySeconds'?: (number);
  'intervalSeconds'?: (number);
  'timeoutSeconds'?: (number);
  'consecutiveFailures'?: (number);
  'gracePeriodSeconds'?: (number);
  'killOnFailure': (boolean);
  '_delaySeconds'?: "delaySeconds";
  '_intervalSeconds'?: "intervalSeconds";
  '_timeoutSeconds'?: "timeoutSeconds";
  '_consecutiveFailures'?: "consecutiveFailures";
  '_gracePeriodSeconds'?: "gracePeriodSeconds";
}
