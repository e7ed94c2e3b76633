// Original file: proto/mezzanine/v1/operator.proto

import type { RoleWeight as _mezzanine_v1_RoleWeight, RoleWeight__Output as _mezzanine_v1_RoleWeight__Output } from '../../mezzanine/v1/RoleWeight';

export interface UpdateWeightsRequest {
  'weights'?: (_mezzanine_v1_RoleWeight)[];
}

export interface UpdateWeightsRequest__Output {
  'weights': (_mezzanine_v1_RoleWeight__Output)[];
}
