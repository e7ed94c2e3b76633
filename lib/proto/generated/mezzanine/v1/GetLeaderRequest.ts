// Original file: proto/mezzanine/v1/operator.proto


export interface GetLeaderRequest {
}

export interface GetLeaderRequest__Output {
}
