// Original file: proto/mezzanine/v1/resources.proto

import type { Long } from '@grpc/proto-loader';

export interface Range {
  'begin'?: (number | string | Long);
  'end'?: (number | string | Long);
}

export interface Range__Output {
  'begin': (number);
  'end': (number);
}
