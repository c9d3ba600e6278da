// The Dapr runtime service, from the .proto files the @dapr/dapr package ships (not copied
// here): loaded once, on first use, as the gRPC API starts after the HTTP API listens.
// Fields keep their proto names (snake_case); enums are their names; 64-bit numbers are
// strings; absent fields read as their defaults, so handlers never see `undefined`.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { loadPackageDefinition, type GrpcObject, type ServiceDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

const require = createRequire(import.meta.url);

/** The folder holding `dapr/proto/...` and the google protos they import. */
export const DAPR_PROTO_DIR = join(dirname(require.resolve('@dapr/dapr/package.json')), 'proto');

export const LOADER_OPTIONS = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true } as const;

let loaded: GrpcObject | undefined;

/** The `dapr.proto.runtime.v1` package: its services and message types. */
export function daprRuntimePackage(): GrpcObject {
  loaded ??= loadPackageDefinition(loadSync('dapr/proto/runtime/v1/dapr.proto', { ...LOADER_OPTIONS, includeDirs: [DAPR_PROTO_DIR] }));
  return ((loaded.dapr as GrpcObject).proto as GrpcObject).runtime as GrpcObject;
}

/** The `dapr.proto.runtime.v1.Dapr` service the sidecar serves. */
export function daprService(): ServiceDefinition {
  const v1 = daprRuntimePackage().v1 as GrpcObject;
  return (v1.Dapr as unknown as { service: ServiceDefinition }).service;
}
