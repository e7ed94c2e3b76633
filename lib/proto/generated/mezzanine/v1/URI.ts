// Original file: proto/mezzanine/v1/resources.proto


export interface URI {
  'value'?: (string);
  'extract'?: (boolean);
  'executable'?: (boolean);
  'outputFile'?: (string);
  '_extract'?: "extract";
}

export interface URI__Output {
  'value': (string);
  'extract'?: (boolean);
  'executable': (boolean);
  'outputFile': (string);
  '_extract'?: "extract";
}
