// Original file: proto/mezzanine/v1/agent.proto

import type { Long } from '@grpc/proto-loader';

export interface ReadFileRequest {
  'taskId'?: (string);
  'path'?: (string);
  'offset'?: (number | string | Long);
  'length'?: (number | string | Long);
  'frameworkId'?: (string);
}

export interface ReadFileRequest__Output {
  'taskId': (string);
  'path': (string);
  'offset': (number);
  'length': (number);
  'frameworkId': (string);
}
