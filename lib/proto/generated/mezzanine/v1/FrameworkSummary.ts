// Original file: proto/mezzanine/v1/operator.proto

import type { ScalarResources as _mezzanine_v1_ScalarResources, ScalarResources__Output as _mezzanine_v1_ScalarResources__Output } from '../../mezzanine/v1/ScalarResources';

export interface FrameworkSummary {
  'id'?: (string);
  'name'?: (string);
  'roles'?: (string)[];
  'state'?: (string);
  'failoverTimeout'?: (number | string);
  'capabilities'?: (string)[];
  'used'?: (_mezzanine_v1_ScalarResources | null);
  'offered'?: (_mezzanine_v1_ScalarResources | null);
  'tasks'?: (number);
  'suppressed'?: (boolean);
  'registeredAt'?: (number | string);
  'webuiUrl'?: (string);
  'principal'?: (string);
}

export interface FrameworkSummary__Output {
  'id': (string);
  'name': (string);
  'roles': (string)[];
  'state': (string);
  'failoverTimeout': (number);
  'capabilities': (string)[];
  'used': (_mezzanine_v1_ScalarResources__Output | null);
  'offered': (_mezzanine_v1_ScalarResources__Output | null);
  'tasks': (number);
  'suppressed': (boolean);
  'registeredAt': (number);
  'webuiUrl': (string);
  'principal': (string);
}
