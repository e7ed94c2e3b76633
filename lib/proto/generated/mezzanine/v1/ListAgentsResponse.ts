// Original file: proto/mezzanine/v1/operator.proto

import type { AgentSummary as _mezzanine_v1_AgentSummary, AgentSummary__Output as _mezzanine_v1_AgentSummary__Output } from '../../mezzanine/v1/AgentSummary';

export interface ListAgentsResponse {
  'agents'?: (_mezzanine_v1_AgentSummary)[];
}

export interface ListAgentsResponse__Output {
  'agents': (_mezzanine_v1_AgentSummary__Output)[];
}
