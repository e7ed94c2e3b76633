// Original file: proto/mezzanine/v1/operator.proto

import type { ScalarResources as _mezzanine_v1_ScalarResources, ScalarResources__Output as _mezzanine_v1_ScalarResources__Output } from '../../mezzanine/v1/ScalarResources';

export interface ClusterState {
  'masterId'?: (string);
  'version'?: (string);
  'cluster'?: (string);
  'address'?: (string);
  'startedAt'?: (number | string);
  'leader'?: (boolean);
  'agentsActive'?: (number);
  'agentsUnreachable'?: (number);
  'frameworksActive'?: (number);
  'frameworksInactive'?: (number);
  'tasksByState'?: ({[key: string]: number});
  'total'?: (_mezzanine_v1_ScalarResources | null);
  'used'?: (_mezzanine_v1_ScalarResources | null);
  'offered'?: (_mezzanine_v1_ScalarResources | null);
  'masters'?: (string)[];
}

export interface ClusterState__Output {
  'masterId': (string);
  'version': (string);
  'cluster': (string);
  'address': (string);
  'startedAt': (number);
  'leader': (boolean);
  'agentsActive': (number);
  'agentsUnreachable': (number);
  'frameworksActive': (number);
  'frameworksInactive': (number);
  'tasksByState': ({[key: string]: number});
  'total': (_mezzanine_v1_ScalarResources__Output | null);
  'used': (_mezzanine_v1_ScalarResources__Output | null);
  'offered': (_mezzanine_v1_ScalarResources__Output | null);
  'masters': (string)[];
}
