// Original file: proto/mezzanine/v1/resources.proto

import type { URI as _mezzanine_v1_URI, URI__Output as _mezzanine_v1_URI__Output } from '../../mezzanine/v1/URI';

export interface CommandInfo {
  'value'?: (string);
  'shell'?: (boolean);
  'arguments'?: (string)[];
  'environment'?: ({[key: string]: string});
  'uris'?: (_mezzanine_v1_URI)[];
  'user'?: (string);
}

export interface CommandInfo__Output {
  'value': (string);
  'shell': (boolean);
  'arguments': (string)[];
  'environment': ({[key: string]: string});
  'uris': (_mezzanine_v1_URI__Output)[];
  'user': (string);
}
