// The publishing half of the pub/sub building block: daprd's checks and error codes, the
// CloudEvents envelope (or the raw body with `metadata.rawPayload=true`), topic scopes, and
// the broker call. A successful publish tells the local delivery loops of that topic at once.
import { outbound } from '../../resiliency/component-calls.ts';
import type { Resiliency } from '../../resiliency/resiliency.ts';
import type { BulkPublishEntry, BulkPublishFailure } from '../../../abi/ts/pubsub.ts';
import type { Metadata } from '../../../abi/ts/types.ts';
import type { LivePubSub, PubSubLookup } from '../../components/types.ts';
import { metadataValue } from '../request-metadata.ts';
import { CLOUD_EVENT_CONTENT_TYPE, isBinaryContentType, isCloudEventContentType, isJsonContentType, isStringContentType } from '../../content-type.ts';
import { cloudEventFor, rawPayloadFlag, rawPayloadProblem } from './cloud-event.ts';
import {
  badRequestMetadata,
  marshalEnvelope,
  marshalEvents,
  publishFailed,
  publishForbidden,
  pubsubNameEmpty,
  pubsubNotConfigured,
  pubsubNotFound,
  pubsubNotLoaded,
  topicEmpty,
} from './pubsub-errors.ts';
import { observed, type BlockObserver } from '../../observability/component-observer.ts';
import { isTopicAllowed } from './topic-scopes.ts';
import { newSpanId, traceContextOf, type TraceContext } from './trace-context.ts';

export interface PubSubServiceOptions {
  appId: string;
  /** The outbound policies of publishes (Dapr's Resiliency); none: each publish runs once. */
  resiliency?: Resiliency | undefined;
  /** Called after every successful publish, so local subscribers of the topic look at once. */
  onPublished?: (pubsubName: string, topic: string) => void;
  /** Told of every publish (dapr_component_pubsub_egress_*), when metrics are on. */
  observer?: BlockObserver | undefined;
}

export interface PublishInput {
  pubsubName: string;
  topic: string;
  data: Uint8Array;
  /** The request's Content-Type. */
  contentType?: string | undefined;
  /** `metadata.*` query parameters. */
  metadata: Metadata;
  /** The request's `traceparent` and `tracestate` headers. */
  traceparent?: string | undefined;
  tracestate?: string | undefined;
}

/** One entry of a bulk publish body, as daprd reads it. */
export interface BulkEntryInput {
  entryId: string;
  /**
   * JSON for JSON and CloudEvent content types, a string for text, base64 for
   * application/octet-stream (the HTTP API); or the bytes themselves (the gRPC API).
   */
  event: unknown;
  contentType: string;
  metadata?: Record<string, string> | undefined;
}

export interface BulkPublishInput extends Omit<PublishInput, 'data' | 'contentType'> {
  /**
   * The entries, read once the pubsub and the topic are checked: a body that cannot be read
   * fails after them, in daprd's order.
   */
  readEntries(): BulkEntryInput[];
}

const encoder = new TextEncoder();
const NO_DATA = new Uint8Array(0);

/**
 * daprd's ConvertEventToBytes: the bytes an entry's `event` stands for under its content
 * type, or why it cannot stand for any.
 */
function eventBytes(entry: BulkEntryInput): Uint8Array | string {
  const { event, contentType } = entry;
  if (event instanceof Uint8Array) return event;
  const mismatch = 'error: mismatch between contentType and event';
  if (isBinaryContentType(contentType)) {
    if (typeof event !== 'string') return mismatch;
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(event) || event.length % 4 !== 0) return 'error: unable to decode base64 application/octet-stream data';
    return Buffer.from(event, 'base64');
  }
  if (isStringContentType(contentType)) return typeof event === 'string' ? encoder.encode(event) : mismatch;
  if (isJsonContentType(contentType) || isCloudEventContentType(contentType)) return encoder.encode(JSON.stringify(event ?? null));
  return mismatch;
}

/** The traces of a bulk request's entries: the request's trace id with a span of each entry's own, as daprd starts a child span per entry. */
function entryTraces(request: TraceContext): () => TraceContext {
  const [version, traceId, , flags] = request.traceparent.split('-');
  const before = `${version}-${traceId}-`;
  const after = `-${flags}`;
  return () => ({ traceparent: before + newSpanId() + after, tracestate: request.tracestate });
}

export class PubSubService {
  readonly #pubsubs: PubSubLookup;
  readonly #options: PubSubServiceOptions;

  constructor(pubsubs: PubSubLookup, options: PubSubServiceOptions) {
    this.#pubsubs = pubsubs;
    this.#options = options;
  }

  /** The broker for a publish, after daprd's checks in daprd's order (validateAndGetPubsubAndTopic). */
  #resolve(pubsubName: string, topic: string): LivePubSub {
    if (this.#pubsubs.pubSubCount() === 0) throw pubsubNotConfigured(pubsubName);
    if (pubsubName === '') throw pubsubNameEmpty();
    const live = this.#pubsubs.getPubSub(pubsubName);
    if (live === undefined) {
      const failure = this.#pubsubs.pubSubFailure(pubsubName);
      throw failure === undefined ? pubsubNotFound(pubsubName) : pubsubNotLoaded(pubsubName, failure);
    }
    if (topic === '') throw topicEmpty(pubsubName);
    return live;
  }

  #rawPayload(metadata: Metadata): boolean {
    const value = metadataValue(metadata, 'rawPayload');
    const raw = rawPayloadFlag(value);
    if (raw === null) throw badRequestMetadata(rawPayloadProblem(value!));
    return raw;
  }

  #checkScope(live: LivePubSub, topic: string): void {
    if (!isTopicAllowed(live.config, this.#options.appId, topic, 'publish')) throw publishForbidden(topic, this.#options.appId);
  }

  async publish(input: PublishInput): Promise<void> {
    const { pubsubName, topic, metadata } = input;
    const live = this.#resolve(pubsubName, topic);
    const raw = this.#rawPayload(metadata);
    let data = input.data;
    let contentType = input.contentType || undefined;
    if (!raw) {
      const event = cloudEventFor({
        appId: this.#options.appId,
        pubsubName,
        topic,
        contentType,
        data,
        trace: traceContextOf(input.traceparent, input.tracestate),
        metadata,
        features: live.pubsub.features,
      });
      data = encoder.encode(JSON.stringify(event));
      contentType = CLOUD_EVENT_CONTENT_TYPE;
    }
    this.#checkScope(live, topic);
    try {
      const req = { topic, data, contentType, metadata };
      const observer = this.#options.observer;
      await observed(
        () => outbound(this.#options.resiliency, pubsubName, 'Pubsub', () => live.pubsub.publish(req)),
        observer && ((ok, ms) => observer.pubsubEgress(pubsubName, topic, ok, ms)),
      );
    } catch (err) {
      throw publishFailed(pubsubName, topic, err);
    }
    this.#options.onPublished?.(pubsubName, topic);
  }

  /** Publishes every entry; resolves to the entries the broker could not take (none: all published). */
  async bulkPublish(input: BulkPublishInput): Promise<BulkPublishFailure[]> {
    const { pubsubName, topic, metadata } = input;
    const live = this.#resolve(pubsubName, topic);
    const read = input.readEntries();
    const raw = this.#rawPayload(metadata);
    const seen = new Set<string>();
    /** Each entry's JSON value, where its envelope can take it as it is (a JSON entry not published raw). */
    const values: ({ value: unknown } | undefined)[] = [];
    const entries: BulkPublishEntry[] = read.map((entry) => {
      const json = !raw && !(entry.event instanceof Uint8Array) && isJsonContentType(entry.contentType) ? { value: entry.event ?? null } : undefined;
      values.push(json);
      // Its bytes are the envelope's, made below: not serialized twice.
      const data = json === undefined ? eventBytes(entry) : NO_DATA;
      if (typeof data === 'string') throw marshalEnvelope(pubsubName, topic, data);
      if (entry.entryId === '' || seen.has(entry.entryId)) throw marshalEvents(pubsubName, topic, 'entryId is duplicated or not present for entry');
      seen.add(entry.entryId);
      // Entry metadata over the request's; an entry without metadata gets none, as in daprd.
      const entryMetadata: Metadata = entry.metadata ? Object.entries({ ...Object.fromEntries(metadata), ...entry.metadata }) : [];
      return { entryId: entry.entryId, data, contentType: entry.contentType, metadata: entryMetadata };
    });
    if (!raw) {
      const trace = entryTraces(traceContextOf(input.traceparent, input.tracestate));
      for (const [i, entry] of entries.entries()) {
        const event = cloudEventFor({
          appId: this.#options.appId,
          pubsubName,
          topic,
          contentType: entry.contentType,
          data: entry.data,
          json: values[i],
          trace: trace(),
          metadata: entry.metadata,
          features: live.pubsub.features,
        });
        entry.data = encoder.encode(JSON.stringify(event));
        entry.contentType = CLOUD_EVENT_CONTENT_TYPE;
      }
    }
    this.#checkScope(live, topic);
    let failures: BulkPublishFailure[];
    const observer = this.#options.observer;
    const t0 = observer === undefined ? 0 : performance.now();
    try {
      failures = await outbound(this.#options.resiliency, pubsubName, 'Pubsub', () => live.pubsub.bulkPublish(topic, entries, metadata));
    } catch (err) {
      const error = publishFailed(pubsubName, topic, err).message;
      failures = entries.map(({ entryId }) => ({ entryId, error }));
    }
    observer?.pubsubBulkEgress(pubsubName, topic, failures.length === 0, entries.length - failures.length, performance.now() - t0);
    if (failures.length < entries.length) this.#options.onPublished?.(pubsubName, topic);
    return failures;
  }
}

