// Dapr's rich error detail for every error, as both transports send it: a
// `google.rpc.ErrorInfo` with domain "dapr.io", Dapr's reason and metadata. The reasons are
// daprd's (pkg/messages/errorcodes, the `GrpcCode` of each code); a code daprd gives no
// reason keeps its own code as the reason, so every error can still be told apart.
import { truncate, type ErrorCode, type TesseraError } from '../errors.ts';
import { ERROR_INFO_TYPE_URL } from '../protos/type-urls.ts';

export const ERROR_DOMAIN = 'dapr.io';

const REASONS: Partial<Record<ErrorCode, string>> = {
  ERR_STATE_STORE_NOT_FOUND: 'DAPR_STATE_NOT_FOUND',
  ERR_STATE_STORE_NOT_CONFIGURED: 'DAPR_STATE_NOT_CONFIGURED',
  ERR_STATE_STORE_NOT_SUPPORTED: 'DAPR_STATE_TRANSACTIONS_NOT_SUPPORTED',
  ERR_STATE_QUERY: 'DAPR_STATE_QUERY_FAILED',
  ERR_PUBSUB_EMPTY: 'DAPR_PUBSUB_NAME_EMPTY',
  ERR_PUBSUB_NOT_FOUND: 'DAPR_PUBSUB_NOT_FOUND',
  ERR_PUBSUB_NOT_CONFIGURED: 'DAPR_PUBSUB_NOT_CONFIGURED',
  ERR_TOPIC_NAME_EMPTY: 'DAPR_PUBSUB_TOPIC_NAME_EMPTY',
  ERR_PUBSUB_FORBIDDEN: 'DAPR_PUBSUB_FORBIDDEN',
  ERR_PUBSUB_PUBLISH_MESSAGE: 'DAPR_PUBSUB_PUBLISH_MESSAGE',
  ERR_PUBSUB_REQUEST_METADATA: 'DAPR_PUBSUB_METADATA_DESERIALIZATION',
  ERR_PUBSUB_CLOUD_EVENTS_SER: 'DAPR_PUBSUB_CLOUD_EVENT_CREATION',
  ERR_PUBSUB_EVENTS_SER: 'DAPR_PUBSUB_MARSHAL_EVENTS',
  ERR_INVOKE_OUTPUT_BINDING: 'DAPR_BINDING_INVOKE_OUTPUT_BINDING',
};

/** Most characters a metadata value keeps: it often carries a component's error text. */
const MAX_METADATA_VALUE_CHARS = 1024;

export interface ErrorInfo {
  reason: string;
  domain: string;
  metadata: Record<string, string>;
}

export function errorInfoOf(err: TesseraError): ErrorInfo {
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(err.metadata ?? {})) metadata[key] = truncate(value, MAX_METADATA_VALUE_CHARS);
  return { reason: err.daprReason ?? REASONS[err.code] ?? err.code, domain: ERROR_DOMAIN, metadata };
}

/** daprd's JSON error body: the code, the message, and the ErrorInfo as protojson writes it (no empty map). */
export function errorBody(err: TesseraError): { errorCode: string; message: string; details: object[] } {
  const { reason, domain, metadata } = errorInfoOf(err);
  const info = Object.keys(metadata).length === 0 ? { reason, domain } : { reason, domain, metadata };
  return { errorCode: err.code, message: err.message, details: [{ '@type': ERROR_INFO_TYPE_URL, ...info }] };
}
