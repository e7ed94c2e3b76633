// Original file: proto/mezzanine/v1/resources.proto


export interface CommandInfo {
  'value'?: (string);
  'shell'?: (boolean);
  'arguments'?: (string)[];
  'environment'?: ({[key: string]: string});
}

export interface CommandInfo__Output {
  'value': (string);
  'shell': (boolean);
  'arguments': (string)[];
  'environment': ({[key: string]: string});
}
