// The one coded error type of the host. Every layer throws `TesseraError` with a Dapr error
// code from `ERROR_CODES` and a message; the transports map a code (and a reason, where
// Dapr's status depends on it) to their status: host/api/http/http-status.ts for HTTP,
// host/api/grpc/grpc-status.ts for gRPC. Nothing below the transports knows a status.
import type { WitError } from '../abi/ts/types.ts';

/** Dapr's error codes, and Tessera's own (`ERR_APP_CHANNEL`, `ERR_COMPONENT_*`). */
export const ERROR_CODES = [
  'ERR_MALFORMED_REQUEST',
  'ERR_BODY_TOO_LARGE',
  'ERR_NOT_FOUND',
  'ERR_UNAUTHORIZED',
  'ERR_HEALTH_NOT_READY',
  'ERR_OUTBOUND_HEALTH_NOT_READY',
  'ERR_HEALTH_APPID_NOT_MATCH',
  'ERR_METADATA_GET',
  'ERR_STATE_STORE_NOT_CONFIGURED',
  'ERR_STATE_STORE_NOT_FOUND',
  'ERR_STATE_STORE_NOT_SUPPORTED',
  'ERR_NOT_SUPPORTED_STATE_OPERATION',
  'ERR_STATE_GET',
  'ERR_STATE_SAVE',
  'ERR_STATE_DELETE',
  'ERR_STATE_BULK_DELETE',
  'ERR_STATE_BULK_GET',
  'ERR_STATE_TRANSACTION',
  /** A state query that could not be parsed or that the store failed; daprd answers 500. */
  'ERR_STATE_QUERY',
  'ERR_PUBSUB_NOT_FOUND',
  'ERR_PUBSUB_NOT_CONFIGURED',
  'ERR_PUBSUB_EMPTY',
  'ERR_TOPIC_NAME_EMPTY',
  'ERR_PUBSUB_REQUEST_METADATA',
  'ERR_PUBSUB_PUBLISH_MESSAGE',
  'ERR_PUBSUB_CLOUD_EVENTS_SER',
  'ERR_PUBSUB_EVENTS_SER',
  'ERR_PUBSUB_FORBIDDEN',
  /** An output binding is unknown, lacks the operation, or failed; daprd's one code for all of them. */
  'ERR_INVOKE_OUTPUT_BINDING',
  /** The app could not be reached or did not answer in time. */
  'ERR_APP_CHANNEL',
  /** Service invocation failed: the app id is unknown, or its sidecar could not be reached. */
  'ERR_DIRECT_INVOKE',
  /** A component failed to load: bad bytes, bad manifest, refused import, trap in init. */
  'ERR_COMPONENT_LOAD',
  /** A component trapped or misbehaved during a call. */
  'ERR_COMPONENT_TRAP',
  /** A call to a component did not finish within its deadline (`tessera.dev/call-timeout`), counted from when it was queued. */
  'ERR_COMPONENT_TIMEOUT',
  /** A component's queue of waiting calls is full (`tessera.dev/queue-limit`): the call fails fast. */
  'ERR_COMPONENT_BUSY',
  /** A component used more than its CPU share (`tessera.dev/cpu-share`): calls fail fast until its use falls. */
  'ERR_COMPONENT_THROTTLED',
  /** A component is in a crash loop and fails calls fast until it recovers or is replaced. */
  'ERR_COMPONENT_UNHEALTHY',
  /** The admin API names a component or generation that does not exist. */
  'ERR_COMPONENT_NOT_FOUND',
  /** A resources YAML (a Component, a Subscription) is invalid. */
  'ERR_COMPONENT_CONFIG',
  /** An API method Tessera does not serve (daprd's code for an API it lacks). */
  'ERR_API_UNIMPLEMENTED',
  'ERR_INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * Why an operation failed, where Dapr answers the same code with another status: a state
 * call whose ETag did not match (HTTP 409, gRPC ABORTED), whose ETag was malformed, or whose
 * argument the component refused (400, INVALID_ARGUMENT); a call to a component that failed to
 * load and is being retried (503, UNAVAILABLE).
 */
export type ErrorReason = 'etag-mismatch' | 'etag-invalid' | 'invalid-argument' | 'not-loaded';

export interface TesseraErrorOptions {
  /** Why it failed, where the transports' status depends on it. */
  reason?: ErrorReason | undefined;
  /** The typed error the component returned, when one did. */
  componentError?: WitError;
  /**
   * Dapr's reason for the error's `google.rpc.ErrorInfo`, where one code has several
   * (ERR_PUBSUB_EVENTS_SER); otherwise host/api/error-info.ts gives the code's reason.
   */
  daprReason?: string;
  /** The ErrorInfo's metadata, as daprd fills it (the app id, the topic, the failure). */
  metadata?: Readonly<Record<string, string>>;
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
  readonly reason: ErrorReason | undefined;
  readonly componentError: WitError | undefined;
  readonly daprReason: string | undefined;
  readonly metadata: Readonly<Record<string, string>> | undefined;

  constructor(code: ErrorCode, message: string, options: TesseraErrorOptions = {}) {
    super(truncate(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TesseraError';
    this.code = code;
    this.reason = options.reason;
    this.componentError = boundedWitError(options.componentError);
    this.daprReason = options.daprReason;
    this.metadata = options.metadata;
  }
}

/** Whether `err` is a `TesseraError`, optionally with the given code. */
export function isTesseraError(err: unknown, code?: ErrorCode): err is TesseraError {
  return err instanceof TesseraError && (code === undefined || err.code === code);
}

/**
 * The errno code of a failed listen (EADDRINUSE, EACCES, ...): Node's `code`, or the one in the
 * message, where grpc-js puts it (its bind failures carry no code).
 */
export function listenErrorCode(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code !== undefined) return code;
  return /\b(EADDRINUSE|EACCES|EADDRNOTAVAIL)\b/.exec(err instanceof Error ? err.message : String(err))?.[1];
}
