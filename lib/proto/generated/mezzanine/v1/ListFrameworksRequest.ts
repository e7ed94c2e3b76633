// Original file: proto/mezzanine/v1/operator.proto


export interface ListFrameworksRequest {
}

export interface ListFrameworksRequest__Output {
}
