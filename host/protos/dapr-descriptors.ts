// Dapr's gRPC contracts as the sidecar loads them: the runtime API it serves, the
// sidecar-to-sidecar ServiceInvocation, and the AppCallback services it calls on a gRPC app.
// Each is a protobufjs JSON descriptor generated from the .proto files @dapr/dapr ships
// (`npm run bindgen`, host/toolchain/bindgen/proto-descriptors.ts; CI checks it is current),
// loaded with proto-loader's fromJSON: parsing the .proto text at every start held the event
// loop about twice as long.
import type { GrpcObject } from '@grpc/grpc-js';
import type { Options, PackageDefinition } from '@grpc/proto-loader';
import { createRequire } from 'node:module';
import { DESCRIPTORS } from './generated/dapr-descriptors.ts';

/** A descriptor, by the name the generator gives it. */
export type DescriptorName = keyof typeof DESCRIPTORS;

// grpc-js, proto-loader and protobufjs are required at first use, not imported: they are tens
// of ms a start would pay before the API listens. All are CommonJS, so a synchronous require loads them.
const require = createRequire(import.meta.url);

/** The package definition of a descriptor (`'pkg.Service'` to its methods), as proto-loader makes it. */
export function loadDescriptor(name: DescriptorName, options: Omit<Options, 'keepCase' | 'includeDirs'>): PackageDefinition {
  const { fromJSON } = require('@grpc/proto-loader') as typeof import('@grpc/proto-loader');
  return fromJSON(JSON.parse(DESCRIPTORS[name]) as object, options);
}

/** A descriptor's packages as grpc-js's loadPackageDefinition nests them, with client constructors. */
export function loadGrpcObject(name: DescriptorName, options: Omit<Options, 'keepCase' | 'includeDirs'>): GrpcObject {
  const { loadPackageDefinition } = require('@grpc/grpc-js') as typeof import('@grpc/grpc-js');
  return loadPackageDefinition(loadDescriptor(name, options));
}
