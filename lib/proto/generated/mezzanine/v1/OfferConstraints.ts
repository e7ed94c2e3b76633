// Original file: proto/mezzanine/v1/resources.proto

import type { OfferConstraintGroup as _mezzanine_v1_OfferConstraintGroup, OfferConstraintGroup__Output as _mezzanine_v1_OfferConstraintGroup__Output } from '../../mezzanine/v1/OfferConstraintGroup';

export interface OfferConstraints {
  'groups'?: (_mezzanine_v1_OfferConstraintGroup)[];
}

export interface OfferConstraints__Output {
  'groups': (_mezzanine_v1_OfferConstraintGroup__Output)[];
}
