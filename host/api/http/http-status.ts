// The HTTP status of every error code, as daprd answers it (pub/sub's from daprd's
// pkg/api/errors/pubsub.go), and of the reasons that change it. The one place an error's
// HTTP status is decided.
import type { ErrorCode, ErrorReason, TesseraError } from '../../errors.ts';

const CODE_STATUS = {
  ERR_MALFORMED_REQUEST: 400,
  ERR_BODY_TOO_LARGE: 413,
  ERR_NOT_FOUND: 404,
  ERR_UNAUTHORIZED: 401,
  ERR_HEALTH_NOT_READY: 500,
  ERR_OUTBOUND_HEALTH_NOT_READY: 500,
  ERR_HEALTH_APPID_NOT_MATCH: 500,
  ERR_METADATA_GET: 500,
  ERR_STATE_STORE_NOT_CONFIGURED: 500,
  ERR_STATE_STORE_NOT_FOUND: 400,
  ERR_STATE_STORE_NOT_SUPPORTED: 500,
  ERR_NOT_SUPPORTED_STATE_OPERATION: 400,
  ERR_STATE_GET: 500,
  ERR_STATE_SAVE: 500,
  ERR_STATE_DELETE: 500,
  ERR_STATE_BULK_DELETE: 500,
  ERR_STATE_BULK_GET: 500,
  ERR_STATE_TRANSACTION: 500,
  ERR_STATE_QUERY: 500,
  ERR_PUBSUB_NOT_FOUND: 404,
  ERR_PUBSUB_NOT_CONFIGURED: 400,
  ERR_PUBSUB_EMPTY: 404,
  ERR_TOPIC_NAME_EMPTY: 404,
  ERR_PUBSUB_REQUEST_METADATA: 400,
  ERR_PUBSUB_PUBLISH_MESSAGE: 500,
  ERR_PUBSUB_CLOUD_EVENTS_SER: 500,
  ERR_PUBSUB_EVENTS_SER: 400,
  ERR_PUBSUB_FORBIDDEN: 403,
  ERR_INVOKE_OUTPUT_BINDING: 500,
  ERR_APP_CHANNEL: 500,
  ERR_DIRECT_INVOKE: 500,
  ERR_COMPONENT_LOAD: 500,
  ERR_COMPONENT_TRAP: 500,
  ERR_COMPONENT_TIMEOUT: 500,
  ERR_COMPONENT_BUSY: 429,
  ERR_COMPONENT_THROTTLED: 429,
  ERR_COMPONENT_UNHEALTHY: 503,
  ERR_COMPONENT_NOT_FOUND: 404,
  ERR_COMPONENT_CONFIG: 500,
  ERR_API_UNIMPLEMENTED: 501,
  ERR_INTERNAL: 500,
} as const satisfies Record<ErrorCode, number>;

const REASON_STATUS: Record<ErrorReason, number> = {
  'etag-mismatch': 409,
  'etag-invalid': 400,
  'invalid-argument': 400,
  'not-loaded': 503,
};

/**
 * daprd's HTTP transaction handler answers 500 whatever the cause, ETag errors included, and
 * so does its output binding handler.
 */
const REASON_IGNORED: ReadonlySet<ErrorCode> = new Set(['ERR_STATE_TRANSACTION', 'ERR_INVOKE_OUTPUT_BINDING']);

export function httpStatusOf(err: TesseraError): number {
  if (err.reason !== undefined && !REASON_IGNORED.has(err.code)) return REASON_STATUS[err.reason];
  return CODE_STATUS[err.code];
}
