// Original file: proto/mezzanine/v1/resources.proto

import type { _mezzanine_v1_CheckInfo_Type, _mezzanine_v1_CheckInfo_Type__Output } from '../../mezzanine/v1/CheckInfo';

export interface _mezzanine_v1_CheckStatusInfo_Command {
  'exitCode'?: (number);
  '_exitCode'?: "exitCode";
}

export interface _mezzanine_v1_CheckStatusInfo_Command__Output {
  'exitCode'?: (number);
  '_exitCode'?: "exitCode";
}

export interface _mezzanine_v1_CheckStatusInfo_HTTP {
  'statusCode'?: (number);
  '_statusCode'?: "statusCode";
}

export interface _mezzanine_v1_CheckStatusInfo_HTTP__Output {
  'statusCode'?: (number);
  '_statusCode'?: "statusCode";
}

export interface _mezzanine_v1_CheckStatusInfo_TCP {
  'succeeded'?: (boolean);
  '_succeeded'?: "succeeded";
}

export interface _mezzanine_v1_CheckStatusInfo_TCP__Output {
  'succeeded'?: (boolean);
  '_succeeded'?: "succeeded";
}

export interface CheckStatusInfo {
  'type'?: (_mezzanine_v1_CheckInfo_Type);
  'http'?: (_mezzanine_v1_CheckStatusInfo_HTTP | null);
  'tcp'?: (_mezzanine_v1_CheckStatusInfo_TCP | null);
  'command'?: (_mezzanine_v1_CheckStatusInfo_Command | null);
  'message'?: (string);
}

export interface CheckStatusInfo__Output {
  'type': (_mezzanine_v1_CheckInfo_Type__Output);
  'http': (_mezzanine_v1_CheckStatusInfo_HTTP__Output | null);
  'tcp': (_mezzanine_v1_CheckStatusInfo_TCP__Output | null);
  'command': (_mezzanine_v1_CheckStatusInfo_Command__Output | null);
  'message': (string);
}
