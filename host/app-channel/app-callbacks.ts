// What the sidecar asks of its app, whatever the app speaks: the programmatic subscriptions,
// pub/sub deliveries (one event or a batch), input-binding events, and health probes. The
// HTTP channel (app-channel.ts) and the gRPC one (grpc-app-channel.ts, daprd's AppCallback
// service) each implement it, so the delivery code is written once for both; each maps the
// app's answer to the same verdicts as daprd's postman for that protocol does.
import type { ClientMetrics } from '../observability/grpc-metrics.ts';

/**
 * The trailer of a gRPC app's rich error details (google.rpc.Status): the one binary metadata
 * entry an invocation passes on, base64 as binary metadata goes in text.
 */
export const STATUS_DETAILS_TRAILER = 'grpc-status-details-bin';

/** What the app's answer means for a message. */
export type AppVerdict =
  | { outcome: 'success' }
  /** The app said DROP, or has no such route: to the dead-letter topic, if any. */
  | { outcome: 'drop'; reason: string }
  | { outcome: 'retry'; reason: string };

/** The app protocols, named as daprd's `--app-protocol` names them. */
export type AppProtocol = 'http' | 'grpc';

interface Call {
  timeoutMs: number;
  /** Aborts the call, e.g. when the sidecar stops. */
  signal: AbortSignal;
}

export interface TopicEventCall extends Call {
  /** The route the subscription's rules chose. */
  path: string;
  pubsubName: string;
  topic: string;
  /** The CloudEvent as delivered. */
  event: Readonly<Record<string, unknown>>;
  /** The CloudEvent's JSON as an HTTP app receives it (the broker's bytes, or the wrapping event for rawPayload). */
  body: Uint8Array;
}

/** One message of a bulk delivery. */
export interface BulkEventEntry {
  /** The broker's message id: unique among the messages a subscription holds. */
  entryId: string;
  /** The CloudEvent; for a rawPayload subscription, the app gets `data` instead. */
  event: Readonly<Record<string, unknown>>;
  /** The CloudEvent's JSON text, when the broker's bytes are exactly `event` (a channel that sends JSON need not serialize it again). */
  eventText?: string | undefined;
  /** The broker's bytes. */
  data: Uint8Array;
  contentType: string;
  metadata: Readonly<Record<string, string>>;
}

export interface BulkTopicEventCall extends Call {
  path: string;
  pubsubName: string;
  topic: string;
  /** Entries are the broker's bytes rather than CloudEvents. */
  rawPayload: boolean;
  entries: readonly BulkEventEntry[];
}

export interface BindingEventCall extends Call {
  /** The binding's name. */
  name: string;
  /** The event's id, for the reason a delivery failed. */
  id: string;
  /** Its route on an HTTP app: the `route` metadata, else its name. */
  path: string;
  data: Uint8Array;
  contentType: string;
  metadata: Iterable<readonly [string, string]>;
}

/** The app's subscriptions: the JSON of daprd's `/dapr/subscribe` answer, or why there are none. */
export type AppSubscriptionsAnswer =
  | { found: true; body: string }
  /** `unexpected`: an answer daprd logs as an error (not a 404 or UNIMPLEMENTED). */
  | { found: false; why: string; unexpected: boolean };

export interface AppCallbacks {
  readonly protocol: AppProtocol;
  readonly port: number;
  readonly address: string;
  /** What asking for the subscriptions is called, for logs: `GET /dapr/subscribe`, `ListTopicSubscriptions`. */
  readonly subscriptionsCall: string;
  /** Reports each call to daprd's gRPC client families (a gRPC channel does; HTTP calls have none). */
  measureCalls?(metrics: ClientMetrics): void;
  /** The app's programmatic subscriptions; rejects when the app cannot be reached (ask again). */
  listTopicSubscriptions(appId: string, call: Call): Promise<AppSubscriptionsAnswer>;
  /** Delivers one event; never rejects (an unreachable app is a retry). */
  onTopicEvent(call: TopicEventCall): Promise<AppVerdict>;
  /** Delivers a batch; a verdict per entry id, never rejects. */
  onBulkTopicEvent(call: BulkTopicEventCall): Promise<Map<string, AppVerdict>>;
  /** Whether the app takes events of the binding, and if not why; rejects with why when the app cannot be reached. */
  inputBindingListens(name: string, path: string, call: Call): Promise<{ listens: true } | { listens: false; why: string }>;
  /** Delivers one binding event; undefined when the app took it, else why not. Never rejects. */
  onBindingEvent(call: BindingEventCall): Promise<string | undefined>;
  /** Resolves when the app says it is healthy; rejects with why not. `path` is for HTTP only. */
  healthCheck(path: string, call: Call): Promise<void>;
  /** Closes the connections to the app. */
  close(): void;
}
