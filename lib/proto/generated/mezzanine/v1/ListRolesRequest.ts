// Original file: proto/mezzanine/v1/operator.proto


export interface ListRolesRequest {
}

export interface ListRolesRequest__Output {
}
