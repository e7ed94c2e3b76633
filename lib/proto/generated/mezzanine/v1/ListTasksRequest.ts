// Original file: proto/mezzanine/v1/operator.proto


export interface ListTasksRequest {
  'frameworkId'?: (string);
  'state'?: (string);
  'agentId'?: (string);
  'limit'?: (number);
  'pageToken'?: (string);
}

export interface ListTasksRequest__Output {
  'frameworkId': (string);
  'state': (string);
  'agentId': (string);
  'limit': (number);
  'pageToken': (string);
}
