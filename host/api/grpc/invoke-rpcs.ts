// Service invocation on the Dapr gRPC API: InvokeService (what the SDKs' gRPC invokers call),
// an InvokeRequest with its HTTP extension in, the callee's body and content type out, as
// daprd answers it: the app's headers as response metadata; from an HTTP app, its status in
// `dapr-http-status`, and a status outside 2xx turned into daprd's gRPC error (the code
// CodeFromHTTPStatus gives, the status text, an ErrorInfo with `http.code` and the start of the
// body in `http.error_message`); from a gRPC app, its status as it is, and its trailers.
import { Metadata, status as GrpcStatus, type ServerUnaryCall } from '@grpc/grpc-js';
import { STATUS_CODES } from 'node:http';
import type { InvokeService } from '../../building-blocks/invoke/invoke-service.ts';
import { TesseraError } from '../../errors.ts';
import { isGrpcStatus, type InvokeAnswer } from '../../building-blocks/invoke/invoke-call.ts';
import { ERROR_DOMAIN } from '../error-info.ts';
import { PassedGrpcStatus } from './grpc-error.ts';
import { invokeVerbOf, type ListStringValue } from '../../building-blocks/invoke/internal-protos.ts';
import { headersToMetadata } from '../../building-blocks/invoke/invoke-headers.ts';
import { WithTrailers, type RpcTable } from './rpc-handlers.ts';

interface InvokeServiceRequest {
  id: string;
  message: {
    method: string;
    data: { type_url: string; value: Buffer } | null;
    content_type: string;
    http_extension: { verb: string; querystring: string } | null;
  } | null;
}

/** Most characters of a failed HTTP callee's body kept in the ErrorInfo (daprd's: an ErrorInfo value is at most 63). */
const MAX_BODY_IN_ERROR = 63;

/** daprd's CodeFromHTTPStatus (pkg/messaging/v1): the gRPC code of an HTTP app's status. */
const CODE_OF_HTTP_STATUS: Record<number, GrpcStatus> = {
  400: GrpcStatus.INTERNAL,
  401: GrpcStatus.UNAUTHENTICATED,
  403: GrpcStatus.PERMISSION_DENIED,
  404: GrpcStatus.NOT_FOUND,
  408: GrpcStatus.CANCELLED,
  409: GrpcStatus.ALREADY_EXISTS,
  429: GrpcStatus.RESOURCE_EXHAUSTED,
  500: GrpcStatus.UNKNOWN,
  501: GrpcStatus.UNIMPLEMENTED,
  503: GrpcStatus.UNAVAILABLE,
  504: GrpcStatus.DEADLINE_EXCEEDED,
};

function codeOfHttpStatus(status: number): GrpcStatus {
  if (status >= 200 && status < 300) return GrpcStatus.OK;
  return CODE_OF_HTTP_STATUS[status] ?? GrpcStatus.UNKNOWN;
}

/**
 * HTTP headers gRPC metadata would take for its own (grpc-gateway's permanent headers): an HTTP
 * app's are sent as `dapr-<name>`, as daprd does.
 */
const PERMANENT_HTTP_HEADERS = new Set([
  'accept', 'accept-charset', 'accept-language', 'accept-ranges', 'authorization', 'cache-control', 'content-type', 'cookie', 'date', 'expect',
  'from', 'host', 'if-match', 'if-modified-since', 'if-none-match', 'if-schedule-tag-match', 'if-unmodified-since', 'max-forwards', 'origin',
  'pragma', 'referer', 'user-agent', 'via', 'warning',
]);
/** Trace context is the sidecar's to send (grpc-tracing.ts), not the callee's. */
const TRACE_HEADERS = new Set(['traceparent', 'tracestate', 'grpc-trace-bin']);

/** Headers or trailers as gRPC metadata; a name or value gRPC refuses is left out. */
function toMetadata(headers: Record<string, string[]>, fromHttp: boolean): Metadata {
  const metadata = new Metadata();
  for (const [raw, values] of Object.entries(headers)) {
    if (TRACE_HEADERS.has(raw)) continue;
    const name = fromHttp && PERMANENT_HTTP_HEADERS.has(raw) ? `dapr-${raw}` : raw;
    for (const value of values) {
      try {
        // Binary metadata (a gRPC app's rich error details) crossed as base64.
        metadata.add(name, name.endsWith('-bin') ? Buffer.from(value, 'base64') : value);
      } catch {
        // Not valid gRPC metadata: a gRPC caller could not be sent it.
      }
    }
  }
  return metadata;
}

/** gRPC's own request headers, which would mean something else to the app (an HTTP app would compress its answer). */
const NOT_PASSED = new Set(['content-type', 'accept-encoding', 'te']);

/**
 * The caller's metadata, as the app's headers (daprd passes the incoming metadata on): text
 * values only, without gRPC's own (the crossing filter drops `grpc-*`, `-bin`, the token, ...).
 */
function callerMetadata(metadata: Metadata): Record<string, ListStringValue> {
  const headers: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(metadata.getMap())) {
    if (NOT_PASSED.has(name) || typeof value !== 'string') continue;
    headers[name] = metadata.get(name).filter((v): v is string => typeof v === 'string');
  }
  return headersToMetadata(headers);
}

function reply(call: ServerUnaryCall<unknown, unknown>, answer: InvokeAnswer): object {
  const data = { type_url: answer.typeUrl ?? '', value: answer.body };
  if (isGrpcStatus(answer.status)) {
    // A gRPC app's status and trailers reach a gRPC caller as they are, as daprd passes them on.
    call.sendMetadata(toMetadata(answer.headers, false));
    const trailers = toMetadata(answer.trailers ?? {}, false);
    if (answer.status !== 0) throw new PassedGrpcStatus(answer.status, answer.statusMessage ?? '', trailers);
    return new WithTrailers({ data, content_type: answer.contentType }, trailers);
  }
  const headers = toMetadata(answer.headers, true);
  headers.set('dapr-http-status', String(answer.status));
  call.sendMetadata(headers);
  const code = codeOfHttpStatus(answer.status);
  if (code !== GrpcStatus.OK) {
    const text = STATUS_CODES[answer.status] ?? '';
    const detail = answer.body.subarray(0, MAX_BODY_IN_ERROR * 4).toString('utf8').slice(0, MAX_BODY_IN_ERROR);
    throw new PassedGrpcStatus(code, text, new Metadata(), {
      reason: text,
      domain: ERROR_DOMAIN,
      metadata: { 'http.code': String(answer.status), 'http.error_message': detail },
    });
  }
  return { data, content_type: answer.contentType };
}

export function invokeRpcs(invoke: InvokeService): RpcTable {
  return {
    InvokeService: async (request: InvokeServiceRequest, call: ServerUnaryCall<unknown, unknown>) => {
      const message = request.message;
      if (!request.id) throw new TesseraError('ERR_DIRECT_INVOKE', 'failed getting app id: InvokeServiceRequest.id is empty');
      const answer = await invoke.invoke({
        targetId: request.id,
        method: message?.method ?? '',
        // Passed on as sent: a gRPC app sees no extension when the caller sent none (an HTTP app gets POST).
        verb: invokeVerbOf(message?.http_extension),
        query: message?.http_extension?.querystring ?? '',
        contentType: message?.content_type ?? '',
        metadata: callerMetadata(call.metadata),
        body: message?.data?.value ?? Buffer.alloc(0),
        typeUrl: message?.data?.type_url ?? '',
      });
      return reply(call, answer);
    },
  };
}
