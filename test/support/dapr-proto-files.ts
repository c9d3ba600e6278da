// Where @dapr/dapr keeps Dapr's .proto files, for test apps and clients that load them as
// files (the sidecar loads the descriptors generated from them, host/protos).
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export const APP_CALLBACK_PROTO = 'dapr/proto/runtime/v1/appcallback.proto';

/** The folder holding `dapr/proto/...` (and the google/protobuf files they import). */
export function protoRoot(): string {
  return join(dirname(createRequire(import.meta.url).resolve('@dapr/dapr/package.json')), 'proto');
}
