// Original file: proto/mezzanine/v1/resources.proto


export interface FrameworkInfo {
  'id'?: (string);
  'name'?: (string);
  'user'?: (string);
  'roles'?: (string)[];
  'failoverTimeout'?: (number | string);
  'capabilities'?: (string)[];
  'hostname'?: (string);
  'labels'?: ({[key: string]: string});
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
  '_failoverTimeout'?: "failoverTimeout";
}
