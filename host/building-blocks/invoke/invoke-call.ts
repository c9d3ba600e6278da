// One service invocation as both sidecars see it, whatever carried it (the HTTP API, the
// internal gRPC protocol), and the call to the app that ends it: the callee sidecar's (or,
// for a call to the sidecar's own app id, the caller's) request over the app channel, an HTTP
// request to an HTTP app, AppCallback.OnInvoke to a gRPC app. As in daprd's internal Status,
// the answer's `status` is an HTTP status (100 and above) from an HTTP app and a gRPC code
// (below 100) from a gRPC app: each transport turns it into what its caller reads.
import { STATUS_DETAILS_TRAILER, type AppCallbacks } from '../../app-channel/app-callbacks.ts';
import type { AppChannel } from '../../app-channel/app-channel.ts';
import type { GrpcAppChannel } from '../../app-channel/grpc-app-channel.ts';
import type { InvokeVerb, ListStringValue } from './internal-protos.ts';
import { TesseraError } from '../../errors.ts';
import { crossingHeaders, joinedHeaders, metadataToHeaders } from './invoke-headers.ts';

export interface InvokeCall {
  /** Normalised (method-path.ts), without a leading `/`, percent-encoded as sent. */
  method: string;
  /** As the caller's HTTP extension gave it; `null` when it sent none (see InvokeVerb). */
  verb: InvokeVerb;
  /** The query string, without `?`. */
  query: string;
  contentType: string;
  /** The caller's headers, as internal metadata. */
  metadata: Record<string, ListStringValue>;
  body: Buffer;
  /** The `type_url` of the body's Any, when a gRPC caller set one: a gRPC app gets it as sent. */
  typeUrl?: string;
}

export interface InvokeAnswer {
  /** The app's HTTP status, or a gRPC app's status code (below 100: see isGrpcStatus). */
  status: number;
  /** A gRPC app's status message (daprd's Status.message). */
  statusMessage?: string;
  /** The `type_url` of a gRPC app's answer. */
  typeUrl?: string;
  /** The app's headers but its content type, every value kept. */
  headers: Record<string, string[]>;
  /** A gRPC app's trailers (an HTTP app's answer has none). */
  trailers?: Record<string, string[]>;
  contentType: string;
  body: Buffer;
}

export interface AppCallOptions {
  signal?: AbortSignal | undefined;
  /** The largest answer taken from the app (`--max-body-size`). */
  maxBodyBytes: number;
  /** The caller's deadline, when it sent one. */
  timeoutMs?: number | undefined;
}

/** Whether an answer's status is a gRPC app's status code rather than an HTTP status (daprd's IsHTTPResponse, negated). */
export const isGrpcStatus = (status: number): boolean => status < 100;

/** Calls the app behind `channel`; rejects with ERR_DIRECT_INVOKE when there is no app to call. */
export async function callApp(channel: AppCallbacks | undefined, appId: string, call: InvokeCall, options: AppCallOptions): Promise<InvokeAnswer> {
  if (channel === undefined) throw new TesseraError('ERR_DIRECT_INVOKE', `cannot invoke app "${appId}": its sidecar was started without --app-port`);
  // Only a type here: grpc-app-channel.ts (and grpc-js) is loaded by a sidecar whose app speaks gRPC.
  if (channel.protocol === 'grpc') return callGrpcApp(channel as GrpcAppChannel, call, options);
  return callHttpApp(channel as AppChannel, call, options);
}

async function callGrpcApp(channel: GrpcAppChannel, call: InvokeCall, options: AppCallOptions): Promise<InvokeAnswer> {
  const answer = await channel.onInvoke({
    method: call.method,
    verb: call.verb,
    query: call.query,
    contentType: call.contentType,
    body: call.body,
    typeUrl: call.typeUrl ?? '',
    headers: metadataToHeaders(call.metadata),
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    maxBodyBytes: options.maxBodyBytes,
  });
  return {
    status: answer.code,
    statusMessage: answer.message,
    // Filtered as an HTTP app's headers are: nothing per-connection or gRPC's own crosses.
    headers: crossingHeaders(answer.headers),
    trailers: crossingHeaders(answer.trailers, true),
    contentType: answer.contentType,
    typeUrl: answer.typeUrl,
    body: answer.body,
  };
}

async function callHttpApp(channel: AppChannel, call: InvokeCall, options: AppCallOptions): Promise<InvokeAnswer> {
  const headers = joinedHeaders(metadataToHeaders(call.metadata));
  if (call.contentType !== '') headers['content-type'] = call.contentType;
  const res = await channel.request({
    // daprd would send an HTTP app the method NONE here; POST is what an app can route (and what the SDKs' gRPC invokers mean).
    method: call.verb === null || call.verb === 'NONE' ? 'POST' : call.verb,
    path: `/${call.method}${call.query === '' ? '' : `?${call.query}`}`,
    headers,
    ...(call.body.byteLength > 0 || call.verb !== 'GET' ? { body: call.body } : {}),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    maxResponseBytes: options.maxBodyBytes,
  });
  const { 'content-type': contentType, ...rest } = res.headers;
  // Filtered as the request's were: the app's hop-by-hop headers are its connection's, not the caller's.
  return { status: res.status, headers: crossingHeaders(rest), contentType: contentType ?? '', body: res.body };
}

/** daprd's HTTPStatusFromCode (pkg/messaging/v1): the HTTP status a gRPC code reads as; unknown codes are 500. */
const HTTP_OF_GRPC: readonly number[] = [200, 408, 500, 400, 504, 404, 409, 403, 429, 400, 409, 400, 501, 500, 503, 500, 401];

function httpStatusOfGrpc(code: number): number {
  return HTTP_OF_GRPC[code] ?? 500;
}

/**
 * A gRPC app's answer as an HTTP caller gets it from daprd: OK is 200 with the app's body;
 * any other code its HTTP status, with the status itself as the JSON body, as daprd's
 * ProtobufToJSON writes it (`{"code":5,"message":"..."}`, and the app's rich error details,
 * when it sent some, as `details`). An HTTP app's answer is returned as it is.
 */
export async function asHttpAnswer(answer: InvokeAnswer): Promise<InvokeAnswer> {
  if (!isGrpcStatus(answer.status)) return answer;
  const status = httpStatusOfGrpc(answer.status);
  if (status === 200) return { ...answer, status };
  const encoded = answer.trailers?.[STATUS_DETAILS_TRAILER]?.[0];
  const message = answer.statusMessage ?? '';
  let json: Record<string, unknown> = message === '' ? { code: answer.status } : { code: answer.status, message };
  if (encoded !== undefined) {
    // Imported on this path only: protobufjs is not part of a start.
    const { decodeRpcStatus, statusAsJson } = await import('../../protos/rpc-status.ts');
    try {
      json = statusAsJson({ ...decodeRpcStatus(Buffer.from(encoded, 'base64')), code: answer.status, message });
    } catch {
      // Details that do not decode are left out, as the status still says what failed.
    }
  }
  return { ...answer, status, contentType: 'application/json', body: Buffer.from(JSON.stringify(json)) };
}
