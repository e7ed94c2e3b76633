// Original file: proto/mezzanine/v1/operator.proto


export interface GetStateRequest {
}

export interface GetStateRequest__Output {
}
