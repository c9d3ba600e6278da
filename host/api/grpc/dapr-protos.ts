// The Dapr runtime service, from the descriptor generated from the .proto files the @dapr/dapr
// package ships (host/protos): loaded once, on first use, as the gRPC API starts after the
// HTTP API listens.
// Fields keep their proto names (snake_case); enums are their names; 64-bit numbers are
// strings; absent fields read as their defaults, so handlers never see `undefined`.
import type { GrpcObject, ServiceDefinition } from '@grpc/grpc-js';
import { loadGrpcObject } from '../../protos/dapr-descriptors.ts';

export const LOADER_OPTIONS = { longs: String, enums: String, defaults: true, oneofs: true } as const;

let loaded: GrpcObject | undefined;

/** The `dapr.proto.runtime.v1` package: its services and message types. */
export function daprRuntimePackage(): GrpcObject {
  loaded ??= loadGrpcObject('runtime', LOADER_OPTIONS);
  return ((loaded.dapr as GrpcObject).proto as GrpcObject).runtime as GrpcObject;
}

/** The `dapr.proto.runtime.v1.Dapr` service the sidecar serves. */
export function daprService(): ServiceDefinition {
  const v1 = daprRuntimePackage().v1 as GrpcObject;
  return (v1.Dapr as unknown as { service: ServiceDefinition }).service;
}
