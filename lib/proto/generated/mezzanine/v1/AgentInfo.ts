// Original file: proto/mezzanine/v1/agent.proto

import type { Resource as _mezzanine_v1_Resource, Resource__Output as _mezzanine_v1_Resource__Output } from '../../mezzanine/v1/Resource';
import type { Attribute as _mezzanine_v1_Attribute, Attribute__Output as _mezzanine_v1_Attribute__Output } from '../../mezzanine/v1/Attribute';

export interface AgentInfo {
  'id'?: (string);
  'hostname'?: (string);
  'port'?: (number);
  'resources'?: (_mezzanine_v1_Resource)[];
  'attributes'?: (_mezzanine_v1_Attribute)[];
  'version'?: (string);
  'isolation'?: (string)[];
}

export interface AgentInfo__Output {
  'id': (string);
  'hostname': (string);
  'port': (number);
  'resources': (_mezzanine_v1_Resource__Output)[];
  'attributes': (_mezzanine_v1_Attribute__Output)[];
  'version': (string);
  'isolation': (string)[];
}
