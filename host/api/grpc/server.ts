// The Dapr gRPC API (dapr.proto.runtime.v1.Dapr) on @grpc/grpc-js, transport only: each
// building block's RPCs come from its own file and call the same services the HTTP API
// calls; this file wraps them with the API token check and the one error path, answers every
// other RPC of the Dapr service UNIMPLEMENTED naming it, hands calls to any other service to
// the gRPC proxy (they carry `dapr-app-id`), and listens. Loaded at the first connection to the
// gRPC port (deferred-listener.ts): its protos and grpc-js take a moment and some memory.
import type { Socket } from 'node:net';
import { format } from 'node:util';
import {
  Server,
  setLogger,
  type handleUnaryCall,
  type MethodDefinition,
  type ServiceDefinition,
  type UntypedHandleCall,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import type { BuildingBlocks } from '../../building-blocks/building-blocks.ts';
import type { GrpcProxy, RawStream } from '../../building-blocks/invoke/grpc-proxy.ts';
import type { InvokeService } from '../../building-blocks/invoke/invoke-service.ts';
import type { StreamingSubscriptions } from '../../building-blocks/pubsub/streaming-subscriptions.ts';
import { TesseraError } from '../../errors.ts';
import type { Logger } from '../../observability/logger.ts';
import type { SidecarMetrics } from '../../observability/metrics.ts';
import { activeTracing } from '../../observability/tracing.ts';
import { failedCallsLogger, reportedElsewhere } from '../failed-calls.ts';
import { tokenMatcher } from '../token-matcher.ts';
import { bindingsRpcs } from './bindings-rpcs.ts';
import { daprService } from './dapr-protos.ts';
import { grpcErrorStatus, asTesseraError } from './grpc-error.ts';
import { closeGrpc, injectConnections, listenGrpc, SERVER_OPTIONS } from './grpc-listen.ts';
import { grpcStatusOf } from './grpc-status.ts';
import { invokeRpcs } from './invoke-rpcs.ts';
import { metadataRpcs } from './metadata-rpcs.ts';
import { observedUnary, sizedDefinition } from './observed-rpc.ts';
import { pubsubRpcs } from './pubsub-rpcs.ts';
import { metadataString, streamHandler, unaryHandler, unimplementedError, type CallGuard, type RpcTable } from './rpc-handlers.ts';
import { shutdownRpc } from './shutdown-rpc.ts';
import { stateRpcs } from './state-rpcs.ts';
import { subscribeStream } from './subscribe-stream.ts';
import { serveUnknownMethods } from './unknown-methods.ts';

/** Largest message the API sends, whatever --max-body-size says: a bulk get may be large. */
const MAX_SEND_BYTES = 64 * 1024 * 1024;

export interface GrpcApiDeps {
  blocks: BuildingBlocks;
  /** Service invocation (InvokeService); undefined answers it UNIMPLEMENTED. */
  invoke?: InvokeService | undefined;
  /** gRPC proxying of the services Tessera does not serve; undefined answers them UNIMPLEMENTED. */
  proxy?: GrpcProxy | undefined;
  /** The streaming subscriptions (SubscribeTopicEventsAlpha1) the API opens. */
  streams: StreamingSubscriptions;
  /** DAPR_API_TOKEN; when set, every RPC requires it in the `dapr-api-token` metadata. */
  apiToken?: string | undefined;
  /** `--max-body-size`: the largest request message, as daprd applies it to gRPC too. */
  maxBodyBytes: number;
  /** Called once the answer to Shutdown has gone out. */
  shutdown(): void;
  logger?: Logger | undefined;
  /** daprd's gRPC server families (dapr_grpc_io_server_*); undefined with metrics off. */
  metrics?: SidecarMetrics | undefined;
}

export interface GrpcApi {
  /** Listens on `host:port` (0 picks a free port); resolves to the port. */
  listen(host: string, port: number): Promise<number>;
  /** Serves a connection accepted elsewhere, paused (deferred-listener.ts). */
  inject(socket: Socket): void;
  /** Stops taking calls, ends open streams, and waits briefly for calls under way. */
  close(): Promise<void>;
}

/** How long close() lets calls under way finish before it cuts them. */
const CLOSE_GRACE_MS = 2000;

function callGuard(deps: GrpcApiDeps): CallGuard {
  const matches = deps.apiToken ? tokenMatcher(deps.apiToken) : undefined;
  const log = deps.logger;
  const failures = log && failedCallsLogger(log, 'failed gRPC API calls');
  return {
    check(metadata) {
      if (matches === undefined || matches(metadataString(metadata, 'dapr-api-token'))) return;
      throw new TesseraError('ERR_UNAUTHORIZED', 'authentication error: api token mismatch');
    },
    failed(method, err) {
      if (log === undefined) return;
      const error = asTesseraError(err);
      const status = grpcStatusOf(error);
      const fields = { method, status, errorCode: error.code, message: error.message };
      // INTERNAL, UNKNOWN, UNAVAILABLE, DATA_LOSS and DEADLINE_EXCEEDED are the server's failures; the rest are the caller's.
      const serverSide = [2, 4, 13, 14, 15].includes(status);
      if (serverSide && !reportedElsewhere(err)) failures!.error('gRPC API call failed', fields);
      else log.debug(serverSide ? 'gRPC API call failed' : 'gRPC API call refused', fields);
    },
  };
}

/** A handler that fails with UNIMPLEMENTED, of the call type `definition` needs. */
function unimplementedHandler(name: string, definition: MethodDefinition<unknown, unknown>): UntypedHandleCall {
  const status = (): ReturnType<typeof grpcErrorStatus> => grpcErrorStatus(unimplementedError(name));
  if (definition.responseStream) return (call: { emit(event: 'error', status: object): void }) => call.emit('error', status());
  return (_call: unknown, callback: (err: object) => void) => callback(status());
}

export function createGrpcApi(deps: GrpcApiDeps): GrpcApi {
  const guard = callGuard(deps);
  // grpc-js writes its own errors to the console; the sidecar reports them itself, so its lines go to the log's debug level.
  const log = deps.logger;
  if (log !== undefined) setLogger({ error: (...args: unknown[]) => log.debug(format(...args)) });
  const { blocks } = deps;
  const unary: RpcTable = {
    ...stateRpcs(blocks.state),
    ...(deps.invoke === undefined ? {} : invokeRpcs(deps.invoke)),
    ...pubsubRpcs(blocks.pubsub),
    ...bindingsRpcs(blocks.bindings),
    ...metadataRpcs(blocks.metadata),
    ...shutdownRpc(deps.shutdown),
  };
  const service: Record<string, MethodDefinition<unknown, unknown>> = { ...(daprService() as ServiceDefinition) };
  const implementation: UntypedServiceImplementation = {};
  const { metrics } = deps;
  const tracing = activeTracing;
  for (const [name, definition] of Object.entries(service)) {
    const rpc = unary[name];
    let handler: UntypedHandleCall;
    if (rpc !== undefined) handler = unaryHandler(name, rpc, guard) as UntypedHandleCall;
    else if (name === 'SubscribeTopicEventsAlpha1') handler = streamHandler(name, subscribeStream(deps.streams, deps.logger), guard) as UntypedHandleCall;
    else handler = unimplementedHandler(name, definition);
    // Unary calls are measured and traced as daprd's interceptors do; its streams are not.
    if (!definition.requestStream && !definition.responseStream && (metrics !== undefined || tracing !== undefined)) {
      if (metrics !== undefined) service[name] = sizedDefinition(definition);
      handler = observedUnary(definition.path, handler as handleUnaryCall<unknown, unknown>, { metrics: metrics?.grpcServerMethod(definition.path), tracing }) as UntypedHandleCall;
    }
    implementation[name] = handler;
  }
  const server = new Server({
    ...SERVER_OPTIONS,
    'grpc.max_receive_message_length': deps.maxBodyBytes,
    'grpc.max_send_message_length': MAX_SEND_BYTES,
  });
  server.addService(service as ServiceDefinition, implementation);
  const proxy = deps.proxy;
  if (proxy !== undefined) serveUnknownMethods(server, streamHandler('gRPC proxy', (stream) => proxy.proxy(stream as RawStream, 'app'), guard) as (stream: RawStream) => void);

  return {
    listen: (host, port) => listenGrpc(server, host, port),
    inject: injectConnections(server),
    close: async () => {
      await deps.streams.stop();
      await closeGrpc(server, CLOSE_GRACE_MS);
    },
  };
}
