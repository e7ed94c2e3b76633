// Original file: proto/mezzanine/v1/resources.proto


export interface Attribute {
  'name'?: (string);
  'text'?: (string);
}

export interface Attribute__Output {
  'name': (string);
  'text': (string);
}
