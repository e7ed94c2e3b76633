// Original file: proto/mezzanine/v1/operator.proto


export interface KillTaskResponse {
  'frameworkId'?: (string);
  'agentId'?: (string);
}

export interface KillTaskResponse__Output {
  'frameworkId': (string);
  'agentId': (string);
}
