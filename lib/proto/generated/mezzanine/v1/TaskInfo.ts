// Original file: proto/mezzanine/v1/resources.proto

import type { Resource as _mezzanine_v1_Resource, Resource__Output as _mezzanine_v1_Resource__Output } from '../../mezzanine/v1/Resource';
import type { CommandInfo as _mezzanine_v1_CommandInfo, CommandInfo__Output as _mezzanine_v1_CommandInfo__Output } from '../../mezzanine/v1/CommandInfo';
import type { HealthCheck as _mezzanine_v1_HealthCheck, HealthCheck__Output as _mezzanine_v1_HealthCheck__Output } from '../../mezzanine/v1/HealthCheck';
import type { CheckInfo as _mezzanine_v1_CheckInfo, CheckInfo__Output as _mezzanine_v1_CheckInfo__Output } from '../../mezzanine/v1/CheckInfo';

export interface TaskInfo {
  'taskId'?: (string);
  'name'?: (string);
  'agentId'?: (string);
  'resources'?: (_mezzanine_v1_Resource)[];
  'command'?: (_mezzanine_v1_CommandInfo | null);
  'labels'?: ({[key: string]: string});
  'killGraceSeconds'?: (number | string);
  'healthCheck'?: (_mezzanine_v1_HealthCheck | null);
  'healthChecks'?: (_mezzanine_v1_HealthCheck)[];
  'check'?: (_mezzanine_v1_CheckInfo | null);
}

export interface TaskInfo__Output {
  'taskId': (string);
  'name': (string);
  'agentId': (string);
  'resources': (_mezzanine_v1_Resource__Output)[];
  'command': (_mezzanine_v1_CommandInfo__Output | null);
  'labels': ({[key: string]: string});
  'killGraceSeconds': (number);
  'healthCheck': (_mezzanine_v1_HealthCheck__Output | null);
  'healthChecks': (_mezzanine_v1_HealthCheck__Output)[];
  'check': (_mezzanine_v1_CheckInfo__Output | null);
}
