// Original file: proto/mezzanine/v1/operator.proto

import type { FrameworkSummary as _mezzanine_v1_FrameworkSummary, FrameworkSummary__Output as _mezzanine_v1_FrameworkSummary__Output } from '../../mezzanine/v1/FrameworkSummary';

export interface ListFrameworksResponse {
  'frameworks'?: (_mezzanine_v1_FrameworkSummary)[];
}

export interface ListFrameworksResponse__Output {
  'frameworks': (_mezzanine_v1_FrameworkSummary__Output)[];
}
