// Original file: proto/mezzanine/v1/resources.proto


export interface _mezzanine_v1_OfferConstraint_Present {
}

export interface _mezzanine_v1_OfferConstraint_Present__Output {
}

export interface OfferConstraint {
  'attribute'?: (string);
  'hostname'?: (boolean);
  'exists'?: (_mezzanine_v1_OfferConstraint_Present | null);
  'notExists'?: (_mezzanine_v1_OfferConstraint_Present | null);
  'textEquals'?: (string);
  'textNotEquals'?: (string);
  'textMatches'?: (string);
  'textNotMatches'?: (string);
  'selector'?: "attribute"|"hostname";
  'predicate'?: "exists"|"notExists"|"textEquals"|"textNotEquals"|"textMatches"|"textNotMatches";
}

export interface OfferConstraint__Output {
  'attribute'?: (string);
  'hostname'?: (boolean);
  'exists'?: (_mezzanine_v1_OfferConstraint_Present__Output | null);
  'notExists'?: (_mezzanine_v1_OfferConstraint_Present__Output | null);
  'textEquals'?: (string);
  'textNotEquals'?: (string);
  'textMatches'?: (string);
  'textNotMatches'?: (string);
  'selector'?: "attribute"|"hostname";
  'predicate'?: "exists"|"notExists"|"textEquals"|"textNotEquals"|"textMatches"|"textNotMatches";
}
