// Original file: proto/mezzanine/v1/operator.proto

import type { ScalarResources as _mezzanine_v1_ScalarResources, ScalarResources__Output as _mezzanine_v1_ScalarResources__Output } from '../../mezzanine/v1/ScalarResources';

export interface TaskSummary {
  'id'?: (string);
  'name'?: (string);
  'frameworkId'?: (string);
  'agentId'?: (string);
  'state'?: (string);
  'resources'?: (_mezzanine_v1_ScalarResources | null);
  'message'?: (string);
  'exitCode'?: (number);
  'updatedAt'?: (number | string);
  'command'?: (string);
  'role'?: (string);
  '_exitCode'?: "exitCode";
}

export interface TaskSummary__Output {
  'id': (string);
  'name': (string);
  'frameworkId': (string);
  'agentId': (string);
  'state': (string);
  'resources': (_mezzanine_v1_ScalarResources__Output | null);
  'message': (string);
  'exitCode'?: (number);
  'updatedAt': (number);
  'command': (string);
  'role': (string);
  '_exitCode'?: "exitCode";
}
