// Original file: proto/mezzanine/v1/operator.proto


export interface RoleWeight {
  'role'?: (string);
  'weight'?: (number | string);
}

export interface RoleWeight__Output {
  'role': (string);
  'weight': (number);
}
