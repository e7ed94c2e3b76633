// Original file: proto/mezzanine/v1/operator.proto


export interface TeardownFrameworkResponse {
  'tasks'?: (number);
}

export interface TeardownFrameworkResponse__Output {
  'tasks': (number);
}
