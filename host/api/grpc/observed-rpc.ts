// Metrics and traces around the Dapr gRPC API's unary calls, as daprd's unary interceptors
// make them (pkg/diagnostics grpc_monitoring.go, grpc_tracing.go). Message sizes are read
// where grpc-js has the bytes: the method's deserializer notes the request's size on the
// decoded message, and its serializer, which grpc-js runs inside the handler's callback,
// notes the answer's. With metrics and tracing off, nothing is wrapped.
import { Metadata, type handleUnaryCall, type MethodDefinition, type sendUnaryData, type ServerErrorResponse, type ServerUnaryCall } from '@grpc/grpc-js';
import type { GrpcMethodMetrics } from '../../observability/grpc-metrics.ts';
import { binaryOfTraceparent, daprMetadataAttributes, grpcApiSpan, traceparentOfBinary } from '../../observability/grpc-tracing.ts';
import type { Tracing } from '../../observability/tracing.ts';

const REQUEST_BYTES = Symbol('request bytes');
/** daprd answers every call but InvokeService with the span's `grpc-trace-bin`. */
const INVOKE_SERVICE = '/dapr.proto.runtime.v1.Dapr/InvokeService';
const UNKNOWN = 2;

/** The size of the last answer serialized; read right after the callback that serialized it. */
let sentBytes = 0;

/** `definition` with serializers that note message sizes for `observedUnary`. */
export function sizedDefinition(definition: MethodDefinition<unknown, unknown>): MethodDefinition<unknown, unknown> {
  const { requestDeserialize, responseSerialize } = definition;
  return {
    ...definition,
    requestDeserialize: (bytes: Buffer) => {
      const message = requestDeserialize(bytes) as Record<symbol, number>;
      message[REQUEST_BYTES] = bytes.byteLength;
      return message;
    },
    responseSerialize: (value: unknown) => {
      const bytes = responseSerialize(value);
      sentBytes = bytes.byteLength;
      return bytes;
    },
  };
}

/** The caller's trace context: `grpc-trace-bin` first, then W3C, as daprd reads it. */
function callerContext(metadata: Metadata): { traceparent: string | undefined; tracestate: string | undefined } {
  const bin = metadata.get('grpc-trace-bin')[0];
  const fromBin = Buffer.isBuffer(bin) ? traceparentOfBinary(bin) : undefined;
  if (fromBin !== undefined) return { traceparent: fromBin, tracestate: undefined };
  const traceparent = metadata.get('traceparent')[0];
  const tracestate = metadata.get('tracestate')[0];
  return { traceparent: typeof traceparent === 'string' ? traceparent : undefined, tracestate: typeof tracestate === 'string' ? tracestate : undefined };
}

export interface RpcObservers {
  metrics?: GrpcMethodMetrics | undefined;
  tracing?: Tracing | undefined;
}

/** `handler` recorded in `metrics` and traced by `tracing`; `handler` itself when both are off. */
export function observedUnary(fullMethod: string, handler: handleUnaryCall<unknown, unknown>, { metrics, tracing }: RpcObservers): handleUnaryCall<unknown, unknown> {
  if (metrics === undefined && tracing === undefined) return handler;
  return (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
    const t0 = metrics === undefined ? 0 : performance.now();
    let span: ReturnType<Tracing['serverSpan']> | undefined;
    if (tracing !== undefined) {
      const { traceparent, tracestate } = callerContext(call.metadata);
      const { name, attributes } = grpcApiSpan(fullMethod, call.request);
      daprMetadataAttributes(call.metadata.getMap(), attributes);
      span = tracing.serverSpan(name, traceparent, tracestate, attributes);
      // What the call passes on (a publish's CloudEvent) continues this span.
      call.metadata.set('traceparent', span.traceparent);
      if (span.tracestate !== '') call.metadata.set('tracestate', span.tracestate);
      else call.metadata.remove('tracestate');
    }
    const done: sendUnaryData<unknown> = (err, value, trailer, flags) => {
      if (span !== undefined && fullMethod !== INVOKE_SERVICE) {
        const bin = binaryOfTraceparent(span.traceparent);
        if (bin !== undefined) {
          const headers = new Metadata();
          headers.set('grpc-trace-bin', bin);
          call.sendMetadata(headers);
        }
      }
      sentBytes = 0;
      callback(err, value, trailer, flags);
      const code = err ? ((err as ServerErrorResponse & { code?: number }).code ?? UNKNOWN) : 0;
      if (metrics !== undefined) {
        const request = call.request as Record<symbol, number> | null;
        metrics.record(code, request?.[REQUEST_BYTES] ?? 0, err ? 0 : sentBytes, performance.now() - t0);
      }
      span?.endRpc(code, err ? (err as { details?: string }).details : undefined);
    };
    if (span === undefined) handler(call, done);
    else span.run(() => handler(call, done));
  };
}
