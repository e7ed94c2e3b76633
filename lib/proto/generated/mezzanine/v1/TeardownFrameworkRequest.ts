// Original file: proto/mezzanine/v1/operator.proto


export interface TeardownFrameworkRequest {
  'frameworkId'?: (string);
}

export interface TeardownFrameworkRequest__Output {
  'frameworkId': (string);
}
