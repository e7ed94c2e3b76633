// Original file: proto/mezzanine/v1/operator.proto


export interface ListAgentsRequest {
}

export interface ListAgentsRequest__Output {
}
