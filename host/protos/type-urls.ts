// Type URLs of the messages packed in an `Any` that the host writes and reads, in a file of
// their own so that naming one loads no protobuf code (the HTTP API's error bodies need only
// the name).

/** google.rpc.ErrorInfo: in the JSON body's `@type` and the gRPC status's `Any`. */
export const ERROR_INFO_TYPE_URL = 'type.googleapis.com/google.rpc.ErrorInfo';
