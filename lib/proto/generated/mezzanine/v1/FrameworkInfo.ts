// Original file: proto/mezzanine/v1/resources.proto

import type { OfferConstraints as _mezzanine_v1_OfferConstraints, OfferConstraints__Output as _mezzanine_v1_OfferConstraints__Output } from '../../mezzanine/v1/OfferConstraints';

export interface FrameworkInfo {
  'id'?: (string);
  'name'?: (string);
  'user'?: (string);
  'roles'?: (string)[];
  'failoverTimeout'?: (number | string);
  'capabilities'?: (string)[];
  'hostname'?: (string);
  'labels'?: ({[key: string]: string});
  'offerConstraints'?: ({[key: string]: _mezzanine_v1_OfferConstraints});
  'principal'?: (string);
  'webuiUrl'?: (string);
  '_failoverTimeout'?: "failoverTimeout";
}

export interface FrameworkInfo__Output {
  'id': (string);
  'name': (string);
  'user': (string);
  'roles': (string)[];
  'failoverTimeout'?: (number);
  'capabilities': (string)[];
  'hostname': (string);
  'labels': ({[key: string]: string});
  'offerConstraints': ({[key: string]: _mezzanine_v1_OfferConstraints__Output});
  'principal': (string);
  'webuiUrl': (string);
  '_failoverTimeout'?: "failoverTimeout";
}
