// Trace context and span naming for the Dapr gRPC API, as daprd's grpc_tracing.go has them:
// the caller's context comes from the binary `grpc-trace-bin` metadata (OpenCensus' format)
// or, failing that, from W3C `traceparent`/`tracestate`; the span is named by the full
// method (`CallLocal/<app id>/<method>` for InvokeService) and carries daprd's attributes,
// taken from the request, plus the caller's `dapr-` prefixed metadata.

/** The binary trace context: version 0, then field 0 (trace id, 16 bytes), 1 (span id, 8), 2 (options, 1). */
const TRACE_BIN_LENGTH = 29;

/** W3C `traceparent` of a `grpc-trace-bin` value; undefined when it is not a valid one. */
export function traceparentOfBinary(bin: Buffer): string | undefined {
  if (bin.length < TRACE_BIN_LENGTH - 2 || bin[0] !== 0) return undefined;
  let traceId: string | undefined;
  let spanId: string | undefined;
  let options = 0;
  let i = 1;
  while (i < bin.length) {
    const field = bin[i++];
    if (field === 0 && i + 16 <= bin.length) traceId = bin.toString('hex', i, (i += 16));
    else if (field === 1 && i + 8 <= bin.length) spanId = bin.toString('hex', i, (i += 8));
    else if (field === 2 && i + 1 <= bin.length) options = bin[i++]!;
    else break; // an unknown field ends what can be read, as OpenCensus reads it
  }
  if (traceId === undefined || spanId === undefined || /^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined;
  return `00-${traceId}-${spanId}-${(options & 1) === 1 ? '01' : '00'}`;
}

/** The `grpc-trace-bin` value naming the span of a W3C `traceparent`. */
export function binaryOfTraceparent(traceparent: string): Buffer | undefined {
  const m = /^[\da-f]{2}-([\da-f]{32})-([\da-f]{16})-([\da-f]{2})$/.exec(traceparent);
  if (m === null) return undefined;
  const bin = Buffer.alloc(TRACE_BIN_LENGTH);
  bin[1] = 0;
  bin.write(m[1]!, 2, 'hex');
  bin[18] = 1;
  bin.write(m[2]!, 19, 'hex');
  bin[27] = 2;
  bin[28] = parseInt(m[3]!, 16) & 1;
  return bin;
}

/** The parts of a Dapr API request daprd reads for a span (proto field names). */
interface SpanRequest {
  id?: string;
  message?: { method?: string } | null;
  topic?: string;
  name?: string;
  store_name?: string;
}

const STATE_METHODS = new Set(['GetState', 'SaveState', 'DeleteState']);

/** daprd's span name and attributes for a call of `fullMethod` (`/dapr.proto.runtime.v1.Dapr/GetState`). */
export function grpcApiSpan(fullMethod: string, request: unknown): { name: string; attributes: Record<string, string> } {
  const req = (request ?? {}) as SpanRequest;
  const method = fullMethod.slice(fullMethod.lastIndexOf('/') + 1);
  const attributes: Record<string, string> = {};
  let name = fullMethod;
  let dbType: string | undefined;
  if (method === 'InvokeService') {
    attributes['rpc.service'] = 'ServiceInvocation';
    attributes['net.peer.name'] = String(req.id ?? '');
    name = `CallLocal/${req.id ?? ''}/${req.message?.method ?? ''}`;
  } else if (method === 'PublishEvent' || method === 'BulkPublishEvent' || method === 'BulkPublishEventAlpha1') {
    attributes['rpc.service'] = 'Dapr';
    attributes['messaging.system'] = 'pubsub';
    attributes['messaging.destination'] = String(req.topic ?? '');
    attributes['messaging.destination_kind'] = 'topic';
  } else if (method === 'InvokeBinding') {
    dbType = 'bindings';
    attributes['db.name'] = String(req.name ?? '');
  } else if (STATE_METHODS.has(method) || method === 'GetSecret') {
    dbType = method === 'GetSecret' ? 'secrets' : 'state';
    attributes['db.name'] = String(req.store_name ?? '');
  }
  if (dbType !== undefined) {
    attributes['rpc.service'] = 'Dapr';
    attributes['db.system'] = dbType;
    attributes['db.statement'] = fullMethod;
    attributes['db.connection_string'] = dbType;
  }
  attributes['dapr.protocol'] = 'grpc';
  attributes['dapr.api'] = fullMethod;
  return { name, attributes };
}

/**
 * The caller's `dapr-` prefixed metadata, which daprd shows as span attributes; binary
 * values are left out, and so is the API token, which a trace must not carry.
 */
export function daprMetadataAttributes(map: Record<string, unknown>, into: Record<string, string>): void {
  for (const key in map) {
    if (!key.startsWith('dapr-') || key.endsWith('-bin') || key === 'dapr-api-token') continue;
    const value = map[key];
    if (typeof value === 'string') into[key] = value;
  }
}
