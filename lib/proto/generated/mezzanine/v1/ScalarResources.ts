// Original file: proto/mezzanine/v1/operator.proto


export interface ScalarResources {
  'cpus'?: (number | string);
  'mem'?: (number | string);
  'disk'?: (number | string);
  'gpus'?: (number | string);
}

export interface ScalarResources__Output {
  'cpus': (number);
  'mem': (number);
  'disk': (number);
  'gpus': (number);
}
