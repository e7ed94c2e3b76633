// Original file: proto/mezzanine/v1/operator.proto


export interface KillTaskRequest {
  'taskId'?: (string);
  'frameworkId'?: (string);
}

export interface KillTaskRequest__Output {
  'taskId': (string);
  'frameworkId': (string);
}
