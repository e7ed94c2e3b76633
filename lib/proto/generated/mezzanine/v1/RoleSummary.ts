// Original file: proto/mezzanine/v1/operator.proto

import type { ScalarResources as _mezzanine_v1_ScalarResources, ScalarResources__Output as _mezzanine_v1_ScalarResources__Output } from '../../mezzanine/v1/ScalarResources';

export interface RoleSummary {
  'name'?: (string);
  'weight'?: (number | string);
  'allocated'?: (_mezzanine_v1_ScalarResources | null);
  'share'?: (number | string);
  'frameworks'?: (string)[];
}

export interface RoleSummary__Output {
  'name': (string);
  'weight': (number);
  'allocated': (_mezzanine_v1_ScalarResources__Output | null);
  'share': (number);
  'frameworks': (string)[];
}
