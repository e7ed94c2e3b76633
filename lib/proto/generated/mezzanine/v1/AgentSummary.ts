// Original file: proto/mezzanine/v1/operator.proto

import type { ScalarResources as _mezzanine_v1_ScalarResources, ScalarResources__Output as _mezzanine_v1_ScalarResources__Output } from '../../mezzanine/v1/ScalarResources';
import type { Attribute as _mezzanine_v1_Attribute, Attribute__Output as _mezzanine_v1_Attribute__Output } from '../../mezzanine/v1/Attribute';

export interface AgentSummary {
  'id'?: (string);
  'hostname'?: (string);
  'address'?: (string);
  'state'?: (string);
  'resources'?: (_mezzanine_v1_ScalarResources | null);
  'used'?: (_mezzanine_v1_ScalarResources | null);
  'offered'?: (_mezzanine_v1_ScalarResources | null);
  'attributes'?: (_mezzanine_v1_Attribute)[];
  'ports'?: (string);
  'tasks'?: (number);
  'isolation'?: (string)[];
  'registeredAt'?: (number | string);
}

export interface AgentSummary__Output {
  'id': (string);
  'hostname': (string);
  'address': (string);
  'state': (string);
  'resources': (_mezzanine_v1_ScalarResources__Output | null);
  'used': (_mezzanine_v1_ScalarResources__Output | null);
  'offered': (_mezzanine_v1_ScalarResources__Output | null);
  'attributes': (_mezzanine_v1_Attribute__Output)[];
  'ports': (string);
  'tasks': (number);
  'isolation': (string)[];
  'registeredAt': (number);
}
