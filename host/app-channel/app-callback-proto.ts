// Dapr's app-side gRPC services (AppCallback, AppCallbackAlpha, AppCallbackHealthCheck) from
// the .proto files that @dapr/dapr ships, read with @grpc/proto-loader. Imported dynamically,
// and only when the app speaks gRPC: grpc-js and the proto parse cost about 100 ms that an
// HTTP sidecar's start should not pay.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { TesseraError } from '../errors.ts';

export const APP_CALLBACK_PACKAGE = 'dapr.proto.runtime.v1';
export const APP_CALLBACK_PROTO = 'dapr/proto/runtime/v1/appcallback.proto';

/** How the .proto files are read: enums as their names, unset fields as their defaults, a oneof's case named. */
export const PROTO_LOADER_OPTIONS = { longs: String, enums: String, defaults: true, oneofs: true } as const;

/** One unary method as grpc-js calls it. */
export interface UnaryMethod {
  path: string;
  requestSerialize(value: object): Buffer;
  responseDeserialize(bytes: Buffer): unknown;
}

/** The methods the sidecar calls, by `Service/Method`. */
export type AppCallbackMethods = Record<
  | 'AppCallback/OnInvoke'
  | 'AppCallback/ListTopicSubscriptions'
  | 'AppCallback/OnTopicEvent'
  | 'AppCallback/OnBulkTopicEvent'
  | 'AppCallback/ListInputBindings'
  | 'AppCallback/OnBindingEvent'
  | 'AppCallbackAlpha/OnBulkTopicEventAlpha1'
  | 'AppCallbackHealthCheck/HealthCheck',
  UnaryMethod
>;

export interface AppCallbackProto {
  grpc: typeof import('@grpc/grpc-js');
  methods: AppCallbackMethods;
}

/** Where @dapr/dapr keeps Dapr's .proto files (and the google/protobuf ones they import). */
export function protoRoot(): string {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('@dapr/dapr/package.json')), 'proto');
  } catch (err) {
    throw new TesseraError('ERR_APP_CHANNEL', `--app-protocol grpc needs the @dapr/dapr package (its .proto files): ${(err as Error).message}`, { cause: err });
  }
}

/** Loads the services. */
export async function loadAppCallbackProto(): Promise<AppCallbackProto> {
  const [grpc, protoLoader] = await Promise.all([import('@grpc/grpc-js'), import('@grpc/proto-loader')]);
  const definition = await protoLoader.load(APP_CALLBACK_PROTO, { includeDirs: [protoRoot()], ...PROTO_LOADER_OPTIONS });
  const methods: Partial<Record<string, UnaryMethod>> = {};
  for (const service of ['AppCallback', 'AppCallbackAlpha', 'AppCallbackHealthCheck']) {
    const found = definition[`${APP_CALLBACK_PACKAGE}.${service}`] as Record<string, UnaryMethod> | undefined;
    if (found === undefined) throw new TesseraError('ERR_APP_CHANNEL', `the @dapr/dapr .proto files have no service ${APP_CALLBACK_PACKAGE}.${service}`);
    for (const [name, method] of Object.entries(found)) methods[`${service}/${name}`] = method;
  }
  return { grpc, methods: methods as AppCallbackMethods };
}
