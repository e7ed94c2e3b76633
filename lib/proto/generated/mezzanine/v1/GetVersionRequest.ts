// Original file: proto/mezzanine/v1/operator.proto


export interface GetVersionRequest {
}

export interface GetVersionRequest__Output {
}
