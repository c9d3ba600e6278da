// The one coded error type of the host. Every layer throws `TesseraError` with a Dapr error
// code from `ERROR_CODES`; the transports map a code to its HTTP and gRPC status here and
// nowhere else.
import type { WitError } from '../abi/ts/types.ts';

/** gRPC status codes used by the table below. */
export const GrpcStatus = {
  INVALID_ARGUMENT: 3,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  DEADLINE_EXCEEDED: 4,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

interface CodeInfo {
  http: number;
  grpc: number;
}

/** Dapr error codes with their default HTTP and gRPC status. */
export const ERROR_CODES = {
  ERR_MALFORMED_REQUEST: { http: 400, grpc: GrpcStatus.INVALID_ARGUMENT },
  ERR_BODY_TOO_LARGE: { http: 413, grpc: GrpcStatus.RESOURCE_EXHAUSTED },
  ERR_NOT_FOUND: { http: 404, grpc: GrpcStatus.NOT_FOUND },
  ERR_UNAUTHORIZED: { http: 401, grpc: GrpcStatus.UNAUTHENTICATED },
  ERR_HEALTH_NOT_READY: { http: 500, grpc: GrpcStatus.UNAVAILABLE },
  ERR_OUTBOUND_HEALTH_NOT_READY: { http: 500, grpc: GrpcStatus.UNAVAILABLE },
  ERR_HEALTH_APPID_NOT_MATCH: { http: 500, grpc: GrpcStatus.INTERNAL },
  ERR_METADATA_GET: { http: 500, grpc: GrpcStatus.INTERNAL },
  ERR_STATE_STORE_NOT_CONFIGURED: { http: 500, grpc: GrpcStatus.FAILED_PRECONDITION },
  ERR_STATE_STORE_NOT_FOUND: { http: 400, grpc: GrpcStatus.INVALID_ARGUMENT },
  ERR_STATE_STORE_NOT_SUPPORTED: { http: 500, grpc: GrpcStatus.INTERNAL },
  ERR_NOT_SUPPORTED_STATE_OPERATION: { http: 400, grpc: GrpcStatus.INVALID_ARGUMENT },
  ERR_STATE_GET: { http: 500, grpc: GrpcStatus.INTERNAL },
  ERR_STATE_SAVE: { http: 500, grpc: GrpcStatus.INTERNAL },
  ERR_STATE_DELETE: { http: 500, grpc: GrpcStatus.INTERNAL },
  ERR_STATE_BULK_GET: { http: 500, grpc: GrpcStatus.INTERNAL },
  ERR_STATE_TRANSACTION: { http: 500, grpc: GrpcStatus.INTERNAL },
  // Pub/sub, with the statuses of daprd's pkg/api/errors/pubsub.go.
  ERR_PUBSUB_NOT_FOUND: { http: 404, grpc: GrpcStatus.INVALID_ARGUMENT },
  ERR_PUBSUB_NOT_CONFIGURED: { http: 400, grpc: GrpcStatus.FAILED_PRECONDITION },
  ERR_PUBSUB_EMPTY: { http: 404, grpc: GrpcStatus.INVALID_ARGUMENT },
  ERR_TOPIC_NAME_EMPTY: { http: 404, grpc: GrpcStatus.INVALID_ARGUMENT },
  ERR_PUBSUB_REQUEST_METADATA: { http: 400, grpc: GrpcStatus.INVALID_ARGUMENT },
  ERR_PUBSUB_PUBLISH_MESSAGE: { http: 500, grpc: GrpcStatus.INTERNAL },
  ERR_PUBSUB_CLOUD_EVENTS_SER: { http: 500, grpc: GrpcStatus.INVALID_ARGUMENT },
  ERR_PUBSUB_EVENTS_SER: { http: 400, grpc: GrpcStatus.INVALID_ARGUMENT },
  ERR_PUBSUB_FORBIDDEN: { http: 403, grpc: GrpcStatus.PERMISSION_DENIED },
  /** The app could not be reached or did not answer in time (Tessera's own code). */
  ERR_APP_CHANNEL: { http: 500, grpc: GrpcStatus.UNAVAILABLE },
  /** A component failed to load: bad bytes, bad manifest, refused import, trap in init. */
  ERR_COMPONENT_LOAD: { http: 500, grpc: GrpcStatus.FAILED_PRECONDITION },
  /** A component trapped or misbehaved during a call. */
  ERR_COMPONENT_TRAP: { http: 500, grpc: GrpcStatus.INTERNAL },
  /** A call to a component did not finish within its deadline (`tessera.dev/call-timeout`), counted from when it was queued. */
  ERR_COMPONENT_TIMEOUT: { http: 500, grpc: GrpcStatus.DEADLINE_EXCEEDED },
  /** A component's queue of waiting calls is full (`tessera.dev/queue-limit`): the call fails fast. */
  ERR_COMPONENT_BUSY: { http: 503, grpc: GrpcStatus.RESOURCE_EXHAUSTED },
  /** A component used more than its CPU share (`tessera.dev/cpu-share`): calls fail fast until its use falls. */
  ERR_COMPONENT_THROTTLED: { http: 429, grpc: GrpcStatus.RESOURCE_EXHAUSTED },
  /** A component is in a crash loop and fails calls fast until it recovers or is replaced. */
  ERR_COMPONENT_UNHEALTHY: { http: 503, grpc: GrpcStatus.UNAVAILABLE },
  /** The admin API names a component or generation that does not exist. */
  ERR_COMPONENT_NOT_FOUND: { http: 404, grpc: GrpcStatus.NOT_FOUND },
  /** A resources YAML (a Component, a Subscription) is invalid. */
  ERR_COMPONENT_CONFIG: { http: 500, grpc: GrpcStatus.FAILED_PRECONDITION },
  ERR_INTERNAL: { http: 500, grpc: GrpcStatus.INTERNAL },
} as const satisfies Record<string, CodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface TesseraErrorOptions {
  /** Overrides the code's default HTTP status (Dapr does so for ETag errors). */
  httpStatus?: number;
  /** Overrides the code's default gRPC status. */
  grpcStatus?: number;
  /** The typed error the component returned, when one did. */
  componentError?: WitError;
  cause?: unknown;
}

/**
 * Most characters an error message keeps. Messages carry what components say (an error
 * string, a trap) and end up in responses, logs and metadata: a component must not be able
 * to make any of them large.
 */
export const MAX_MESSAGE_CHARS = 4096;

/** `text` cut to `max` characters, saying how much was left out. */
export function truncate(text: string, max = MAX_MESSAGE_CHARS): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}

/** At most `max` of `problems`, then how many more there are: a hostile input can get thousands of things wrong. */
export function fewProblems(problems: readonly string[], max = 10): string[] {
  return problems.length <= max ? [...problems] : [...problems.slice(0, max), `and ${problems.length - max} more problems`];
}

/** A component's error with its message bounded, as it may be kept and shown. */
function boundedWitError(e: WitError | undefined): WitError | undefined {
  return e === undefined || e.val.length <= MAX_MESSAGE_CHARS ? e : ({ tag: e.tag, val: truncate(e.val) } as WitError);
}

export class TesseraError extends Error {
  readonly code: ErrorCode;
  readonly httpStatus: number;
  readonly grpcStatus: number;
  readonly componentError: WitError | undefined;

  constructor(code: ErrorCode, message: string, options: TesseraErrorOptions = {}) {
    super(truncate(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TesseraError';
    this.code = code;
    this.httpStatus = options.httpStatus ?? ERROR_CODES[code].http;
    this.grpcStatus = options.grpcStatus ?? ERROR_CODES[code].grpc;
    this.componentError = boundedWitError(options.componentError);
  }

  /** The body Dapr returns for an HTTP error. */
  toJSON(): { errorCode: string; message: string } {
    return { errorCode: this.code, message: this.message };
  }
}

/** Whether `err` is a `TesseraError`, optionally with the given code. */
export function isTesseraError(err: unknown, code?: ErrorCode): err is TesseraError {
  return err instanceof TesseraError && (code === undefined || err.code === code);
}
