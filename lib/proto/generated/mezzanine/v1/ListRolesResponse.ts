// Original file: proto/mezzanine/v1/operator.proto

import type { RoleSummary as _mezzanine_v1_RoleSummary, RoleSummary__Output as _mezzanine_v1_RoleSummary__Output } from '../../mezzanine/v1/RoleSummary';

export interface ListRolesResponse {
  'roles'?: (_mezzanine_v1_RoleSummary)[];
}

export interface ListRolesResponse__Output {
  'roles': (_mezzanine_v1_RoleSummary__Output)[];
}
