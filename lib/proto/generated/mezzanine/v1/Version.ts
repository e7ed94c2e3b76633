// Original file: proto/mezzanine/v1/operator.proto


export interface Version {
  'version'?: (string);
  'masterId'?: (string);
}

export interface Version__Output {
  'version': (string);
  'masterId': (string);
}
