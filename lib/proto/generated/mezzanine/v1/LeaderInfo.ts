// Original file: proto/mezzanine/v1/operator.proto


export interface LeaderInfo {
  'leader'?: (string);
  'self'?: (string);
  'isLeader'?: (boolean);
  'candidates'?: (string)[];
  'masterId'?: (string);
}

export interface LeaderInfo__Output {
  'leader': (string);
  'self': (string);
  'isLeader': (boolean);
  'candidates': (string)[];
  'masterId': (string);
}
