// Original file: proto/mezzanine/v1/resources.proto


export interface Filters {
  'refuseSeconds'?: (number | string);
  '_refuseSeconds'?: "refuseSeconds";
}

export interface Filters__Output {
  'refuseSeconds'?: (number);
  '_refuseSeconds'?: "refuseSeconds";
}
