// A raw @grpc/grpc-js app serving Dapr's AppCallback services on loopback, from the same
// .proto files the sidecar reads: each method answers as the test says (a response, a gRPC
// error code, or never), and every call is recorded with its request and metadata. A method
// the test gave no handler answers UNIMPLEMENTED, as a real app that lacks it would.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { APP_CALLBACK_PACKAGE, PROTO_LOADER_OPTIONS } from '../../host/app-channel/app-callback-proto.ts';
import { APP_CALLBACK_PROTO, protoRoot } from './dapr-proto-files.ts';

export type GrpcMethod =
  | 'OnInvoke'
  | 'ListTopicSubscriptions'
  | 'OnTopicEvent'
  | 'OnBulkTopicEvent'
  | 'OnBulkTopicEventAlpha1'
  | 'ListInputBindings'
  | 'OnBindingEvent'
  | 'HealthCheck';

export interface GrpcCall {
  method: GrpcMethod;
  request: any;
  metadata: Record<string, unknown>;
}

/**
 * A response object, `{ code }` to fail with that gRPC status, or `'never'` to leave the call
 * unanswered; `headers` (with a response) are sent as the response's header metadata, and
 * `trailers` (with a response or a code) as its trailers.
 */
export type GrpcAnswer = object | { code: grpc.status; details?: string } | 'never';
export type GrpcHandler = (request: any, nth: number) => GrpcAnswer | Promise<GrpcAnswer>;

const SERVICES: Record<string, GrpcMethod[]> = {
  AppCallback: ['OnInvoke', 'ListTopicSubscriptions', 'OnTopicEvent', 'OnBulkTopicEvent', 'ListInputBindings', 'OnBindingEvent'],
  AppCallbackAlpha: ['OnBulkTopicEventAlpha1'],
  AppCallbackHealthCheck: ['HealthCheck'],
};

export class GrpcTestApp {
  readonly calls: GrpcCall[] = [];
  readonly #server = new grpc.Server();
  readonly #handlers = new Map<GrpcMethod, GrpcHandler>();
  port = 0;

  static async start(handlers: Partial<Record<GrpcMethod, GrpcHandler>> = {}, port = 0): Promise<GrpcTestApp> {
    const app = new GrpcTestApp();
    for (const [method, handler] of Object.entries(handlers)) app.on(method as GrpcMethod, handler);
    const definition = await protoLoader.load(APP_CALLBACK_PROTO, { includeDirs: [protoRoot()], ...PROTO_LOADER_OPTIONS });
    for (const [service, methods] of Object.entries(SERVICES)) {
      const implementation: grpc.UntypedServiceImplementation = {};
      for (const method of methods) implementation[method] = app.#serve(method);
      app.#server.addService(definition[`${APP_CALLBACK_PACKAGE}.${service}`] as grpc.ServiceDefinition, implementation);
    }
    app.port = await new Promise<number>((resolve, reject) =>
      app.#server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
    );
    return app;
  }

  on(method: GrpcMethod, handler: GrpcHandler): this {
    this.#handlers.set(method, handler);
    return this;
  }

  /** The requests `method` received, in order. */
  at(method: GrpcMethod): any[] {
    return this.calls.filter((c) => c.method === method).map((c) => c.request);
  }

  #serve(method: GrpcMethod): grpc.handleUnaryCall<unknown, unknown> {
    return (call, callback) => {
      this.calls.push({ method, request: call.request, metadata: call.metadata.getMap() });
      const handler = this.#handlers.get(method);
      if (handler === undefined) return callback({ code: grpc.status.UNIMPLEMENTED, details: `${method} is not implemented` });
      const nth = this.calls.filter((c) => c.method === method).length;
      Promise.resolve(handler(call.request, nth)).then(
        (answer) => {
          if (answer === 'never') return;
          const { trailers: sent, ...rest } = answer as { trailers?: Record<string, string | Buffer> };
          const trailers = new grpc.Metadata();
          for (const [name, value] of Object.entries(sent ?? {})) trailers.set(name, value);
          if ('code' in rest && typeof rest.code === 'number') callback({ code: rest.code, details: (rest as { details?: string }).details ?? 'failed', metadata: trailers });
          else {
            const { headers, ...response } = rest as { headers?: Record<string, string> };
            if (headers !== undefined) {
              const metadata = new grpc.Metadata();
              for (const [name, value] of Object.entries(headers)) metadata.set(name, value);
              call.sendMetadata(metadata);
            }
            callback(null, response, trailers);
          }
        },
        (err: Error) => callback({ code: grpc.status.INTERNAL, details: err.message }),
      );
    };
  }

  /** Stops at once, cutting calls left unanswered. */
  stop(): void {
    this.#server.forceShutdown();
  }
}
