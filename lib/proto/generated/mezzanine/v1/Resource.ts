// Original file: proto/mezzanine/v1/resources.proto

import type { Range as _mezzanine_v1_Range, Range__Output as _mezzanine_v1_Range__Output } from '../../mezzanine/v1/Range';

export interface Resource {
  'name'?: (string);
  'scalar'?: (number | string);
  'ranges'?: (_mezzanine_v1_Range)[];
  'set'?: (string)[];
  'role'?: (string);
}

export interface Resource__Output {
  'name': (string);
  'scalar': (number);
  'ranges': (_mezzanine_v1_Range__Output)[];
  'set': (string)[];
  'role': (string);
}
