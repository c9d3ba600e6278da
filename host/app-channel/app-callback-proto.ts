// Dapr's app-side gRPC services (AppCallback, AppCallbackAlpha, AppCallbackHealthCheck) from
// the descriptor generated from the .proto files that @dapr/dapr ships (host/protos). Imported
// dynamically, and only when the app speaks gRPC: loading grpc-js and the services costs tens
// of ms that an HTTP sidecar's start should not pay.
import { TesseraError } from '../errors.ts';
import { loadDescriptor } from '../protos/dapr-descriptors.ts';

export const APP_CALLBACK_PACKAGE = 'dapr.proto.runtime.v1';

/** How the messages are read: enums as their names, unset fields as their defaults, a oneof's case named. */
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

/** Loads the services. */
export async function loadAppCallbackProto(): Promise<AppCallbackProto> {
  const grpc = await import('@grpc/grpc-js');
  const definition = loadDescriptor('appcallback', PROTO_LOADER_OPTIONS);
  const methods: Partial<Record<string, UnaryMethod>> = {};
  for (const service of ['AppCallback', 'AppCallbackAlpha', 'AppCallbackHealthCheck']) {
    const found = definition[`${APP_CALLBACK_PACKAGE}.${service}`] as Record<string, UnaryMethod> | undefined;
    if (found === undefined) throw new TesseraError('ERR_APP_CHANNEL', `the generated Dapr descriptors have no service ${APP_CALLBACK_PACKAGE}.${service}`);
    for (const [name, method] of Object.entries(found)) methods[`${service}/${name}`] = method;
  }
  return { grpc, methods: methods as AppCallbackMethods };
}
