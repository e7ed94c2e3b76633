// Original file: proto/mezzanine/v1/resources.proto

import type { OfferConstraint as _mezzanine_v1_OfferConstraint, OfferConstraint__Output as _mezzanine_v1_OfferConstraint__Output } from '../../mezzanine/v1/OfferConstraint';

export interface OfferConstraintGroup {
  'constraints'?: (_mezzanine_v1_OfferConstraint)[];
}

export interface OfferConstraintGroup__Output {
  'constraints': (_mezzanine_v1_OfferConstraint__Output)[];
}
