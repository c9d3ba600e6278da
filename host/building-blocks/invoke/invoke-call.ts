// One service invocation as both sidecars see it, whatever carried it (the HTTP API, the
// internal gRPC protocol), and the call to the app that ends it: the callee sidecar's (or,
// for a call to the sidecar's own app id, the caller's) request over the HTTP app channel.
import type { AppChannel } from '../../app-channel/app-channel.ts';
import type { HttpVerb, ListStringValue } from './internal-protos.ts';
import { TesseraError } from '../../errors.ts';
import { headersToMetadata, joinedHeaders, metadataToHeaders } from './invoke-headers.ts';

export interface InvokeCall {
  /** Normalised (method-path.ts), without a leading `/`, percent-encoded as sent. */
  method: string;
  verb: HttpVerb;
  /** The query string, without `?`. */
  query: string;
  contentType: string;
  /** The caller's headers, as internal metadata. */
  metadata: Record<string, ListStringValue>;
  body: Buffer;
}

export interface InvokeAnswer {
  /** The app's HTTP status. */
  status: number;
  /** The app's headers but its content type, every value kept. */
  headers: Record<string, string[]>;
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

/** Calls the app behind `channel`; rejects with ERR_DIRECT_INVOKE when there is no app to call. */
export async function callApp(channel: AppChannel | undefined, appId: string, call: InvokeCall, options: AppCallOptions): Promise<InvokeAnswer> {
  if (channel === undefined) throw new TesseraError('ERR_DIRECT_INVOKE', `cannot invoke app "${appId}": its sidecar was started without --app-port`);
  const headers = joinedHeaders(metadataToHeaders(call.metadata));
  if (call.contentType !== '') headers['content-type'] = call.contentType;
  const res = await channel.request({
    method: call.verb,
    path: `/${call.method}${call.query === '' ? '' : `?${call.query}`}`,
    headers,
    ...(call.body.byteLength > 0 || call.verb !== 'GET' ? { body: call.body } : {}),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    maxResponseBytes: options.maxBodyBytes,
  });
  const { 'content-type': contentType, ...rest } = res.headers;
  // Filtered as the request's were: the app's hop-by-hop headers are its connection's, not the caller's.
  return { status: res.status, headers: metadataToHeaders(headersToMetadata(rest)), contentType: contentType ?? '', body: res.body };
}
