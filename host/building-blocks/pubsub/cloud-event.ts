// CloudEvents 1.0 envelopes as Dapr builds them (dapr/dapr pkg/runtime/pubsub/cloudevents.go,
// components-contrib pubsub/envelope.go and contenttype/contenttype.go): a new envelope
// around a published body, an incoming `application/cloudevents+json` body kept with the
// missing fields filled, `cloudevent.*` metadata overrides (id, source, type, subject, trace),
// and the TTL's `expiration`.
import { randomUUID } from 'node:crypto';
import type { Metadata } from '../../../abi/ts/types.ts';
import { CLOUD_EVENT_CONTENT_TYPE, isBinaryContentType, isCloudEventContentType, isJsonContentType } from '../../content-type.ts';
import { metadataValue } from '../request-metadata.ts';
import { cloudEventCreation } from './pubsub-errors.ts';
import type { TraceContext } from './trace-context.ts';

export type CloudEvent = Record<string, unknown>;

export const DEFAULT_EVENT_TYPE = 'com.dapr.event.sent';
const SPEC_VERSION = '1.0';
/** The `source` Dapr puts in an envelope it fills in, when nobody named one. */
const DEFAULT_SOURCE = 'Dapr';
const DEFAULT_DATA_CONTENT_TYPE = 'text/plain';
/** The broker feature that makes Dapr leave message expiry to the broker. */
const MESSAGE_TTL_FEATURE = 'MESSAGE_TTL';

const decoder = new TextDecoder();
/** `JSON.rawJSON` (Node.js 21 and later), which TypeScript's es2024 lib does not declare yet. */
const rawJSON = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;

/**
 * What a number the reviver below might keep as its source text looks like: 16 or more
 * digits (with a dot), an exponent, a fraction ending in 0 or starting with six zeros, -0.
 * A number with 15 significant digits or fewer and none of these reads back as written.
 * Digits inside strings may match too: then the reviver runs, which is only slower.
 */
const MAYBE_IMPRECISE = /\d[\d.]{15}|\d[eE][+-]?\d|\.\d*0(?!\d)|\.0{6}|-0(?![.\d])/;

/**
 * JSON.parse that keeps numbers a double cannot hold exactly as their source text, so an
 * envelope carries `12345678901234567890` through unchanged (Go's `UseNumber` in Dapr).
 * Text without such a number is parsed without the reviver, which costs several times the
 * parse (it showed in the publish route's profile).
 */
export function parsePreciseJson(text: string): unknown {
  if (!MAYBE_IMPRECISE.test(text)) return JSON.parse(text);
  return JSON.parse(text, (_key, value: unknown, context?: { source?: string }) => {
    const source = context?.source;
    if (typeof value !== 'number' || source === undefined || Number.isSafeInteger(value) || String(value) === source) return value;
    return rawJSON(source);
  });
}

/** The last second `rfc3339` wrote: a burst of events shares it (it showed in bulk publish's profile). */
let lastSecond = { second: NaN, text: '' };

/** RFC 3339 in UTC to the second, as Go's `time.RFC3339` writes it. */
export function rfc3339(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== lastSecond.second) lastSecond = { second, text: new Date(second * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z') };
  return lastSecond.text;
}

export interface PublishedBody {
  /** The publishing app's id: the envelope's `source`. */
  appId: string;
  pubsubName: string;
  topic: string;
  /** The request's Content-Type. */
  contentType: string | undefined;
  data: Uint8Array;
  /**
   * The JSON value `data` was serialized from, when the caller holds it (a bulk publish's
   * entries come parsed): a JSON body is then taken as it is instead of parsed back.
   */
  json?: { value: unknown } | undefined;
  trace: TraceContext;
  /** Request metadata: `cloudevent.*` overrides and `ttlInSeconds`. */
  metadata: Metadata;
  /** The broker's features: with MESSAGE_TTL the broker expires messages, not the envelope. */
  features: ReadonlySet<string>;
}

/** The `cloudevent.<name>` override, matched case-insensitively as mapstructure does in daprd. */
function override(metadata: Metadata, name: string): string | undefined {
  const key = `cloudevent.${name}`;
  for (let i = metadata.length - 1; i >= 0; i--) {
    const [k, v] = metadata[i]!;
    if (k.toLowerCase() === key && v !== '') return v;
  }
  return undefined;
}

function eventData(contentType: string, data: Uint8Array, json: { value: unknown } | undefined): [field: 'data' | 'data_base64', value: unknown] {
  if (isJsonContentType(contentType)) {
    if (json !== undefined) return ['data', json.value];
    const text = decoder.decode(data);
    try {
      return ['data', parsePreciseJson(text)];
    } catch {
      return ['data', text];
    }
  }
  if (isBinaryContentType(contentType)) return ['data_base64', Buffer.from(data).toString('base64')];
  return ['data', decoder.decode(data)];
}

/** An incoming CloudEvent kept as the envelope: trace, topic and pubsub set, missing required fields (and `time`) filled. */
function fromCloudEvent(body: PublishedBody, now: number): CloudEvent {
  let event: unknown;
  try {
    event = parsePreciseJson(decoder.decode(body.data));
  } catch (err) {
    throw cloudEventCreation(`the body is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    throw cloudEventCreation('an application/cloudevents+json body must be a JSON object');
  }
  const ce = event as CloudEvent;
  ce.traceid = body.trace.traceparent;
  ce.traceparent = body.trace.traceparent;
  ce.tracestate = body.trace.tracestate;
  ce.topic = body.topic;
  ce.pubsubname = body.pubsubName;
  ce.source ??= DEFAULT_SOURCE;
  ce.type ??= DEFAULT_EVENT_TYPE;
  ce.specversion ??= SPEC_VERSION;
  // contrib's FromCloudEvent: a `time` the publisher gave is kept as it is, even null.
  if (!Object.hasOwn(ce, 'time')) ce.time = rfc3339(now);
  return ce;
}

function newEnvelope(body: PublishedBody, now: number): CloudEvent {
  const { metadata } = body;
  const contentType = body.contentType || DEFAULT_DATA_CONTENT_TYPE;
  // `cloudevent.traceparent` wins over `cloudevent.traceid`, which wins over the request's trace.
  const traceparent = override(metadata, 'traceparent') ?? override(metadata, 'traceid') ?? body.trace.traceparent;
  const [field, value] = eventData(contentType, body.data, body.json);
  const subject = override(metadata, 'subject');
  return {
    id: override(metadata, 'id') ?? randomUUID(),
    source: override(metadata, 'source') ?? (body.appId || DEFAULT_SOURCE),
    type: override(metadata, 'type') ?? DEFAULT_EVENT_TYPE,
    specversion: SPEC_VERSION,
    datacontenttype: contentType,
    topic: body.topic,
    pubsubname: body.pubsubName,
    time: rfc3339(now),
    traceid: traceparent,
    traceparent,
    tracestate: override(metadata, 'tracestate') ?? body.trace.tracestate,
    ...(subject === undefined ? {} : { subject }),
    [field]: value,
  };
}

/** `ttlInSeconds` as a positive whole number of seconds; anything else is no TTL, as in contrib. */
function ttlSeconds(metadata: Metadata): number | undefined {
  const value = metadataValue(metadata, 'ttlInSeconds');
  if (value === undefined || !/^[+-]?\d+$/.test(value)) return undefined;
  const seconds = Number(value);
  return seconds > 0 ? seconds : undefined;
}

/** The envelope Dapr publishes for this body (throws ERR_PUBSUB_CLOUD_EVENTS_SER for a bad CloudEvent body). */
export function cloudEventFor(body: PublishedBody, now = Date.now()): CloudEvent {
  const event = isCloudEventContentType(body.contentType) ? fromCloudEvent(body, now) : newEnvelope(body, now);
  const ttl = ttlSeconds(body.metadata);
  if (ttl !== undefined && !body.features.has(MESSAGE_TTL_FEATURE)) event.expiration = rfc3339(now + ttl * 1000);
  return event;
}

/**
 * The CloudEvent a `rawPayload` subscription delivers: the bytes as `data_base64`, trace
 * fields from the message metadata when the broker kept them (contrib's FromRawPayload).
 */
export function rawPayloadEvent(data: Uint8Array, topic: string, pubsubName: string, metadata: Metadata): CloudEvent {
  const event: CloudEvent = {
    id: randomUUID(),
    specversion: SPEC_VERSION,
    datacontenttype: 'application/octet-stream',
    source: DEFAULT_SOURCE,
    type: DEFAULT_EVENT_TYPE,
    topic,
    pubsubname: pubsubName,
    data_base64: Buffer.from(data).toString('base64'),
  };
  const traceparent = metadataValue(metadata, 'traceparent') ?? metadataValue(metadata, 'traceid');
  if (traceparent !== undefined) {
    event.traceid = traceparent;
    event.traceparent = traceparent;
  }
  const tracestate = metadataValue(metadata, 'tracestate');
  if (tracestate !== undefined) event.tracestate = tracestate;
  return event;
}

/** Whether the event's `expiration` (RFC 3339) has passed. */
export function hasExpired(event: CloudEvent, now = Date.now()): boolean {
  const expiration = event.expiration;
  if (typeof expiration !== 'string' || expiration === '') return false;
  const at = Date.parse(expiration);
  return Number.isFinite(at) && at < now;
}

/** Go's strconv.ParseBool, which daprd uses for `rawPayload`. */
const GO_BOOLEANS: Record<string, boolean> = { '1': true, t: true, T: true, TRUE: true, true: true, True: true, '0': false, f: false, F: false, FALSE: false, false: false, False: false };

/** `rawPayload` as daprd reads it: undefined or empty is false; null when it is not a boolean. */
export function rawPayloadFlag(value: string | undefined): boolean | null {
  if (value === undefined || value === '') return false;
  return GO_BOOLEANS[value] ?? null;
}

export const rawPayloadProblem = (value: string): string => `rawPayload value must be a valid boolean: actual is '${value}'`;
