// Original file: proto/mezzanine/v1/resources.proto

import type { Resource as _mezzanine_v1_Resource, Resource__Output as _mezzanine_v1_Resource__Output } from '../../mezzanine/v1/Resource';
import type { Attribute as _mezzanine_v1_Attribute, Attribute__Output as _mezzanine_v1_Attribute__Output } from '../../mezzanine/v1/Attribute';

export interface Offer {
  'id'?: (string);
  'frameworkId'?: (string);
  'agentId'?: (string);
  'hostname'?: (string);
  'resources'?: (_mezzanine_v1_Resource)[];
  'attributes'?: (_mezzanine_v1_Attribute)[];
  'allocationRole'?: (string);
}

export interface Offer__Output {
  'id': (string);
  'frameworkId': (string);
  'agentId': (string);
  'hostname': (string);
  'resources': (_mezzanine_v1_Resource__Output)[];
  'attributes': (_mezzanine_v1_Attribute__Output)[];
  'allocationRole': (string);
}
