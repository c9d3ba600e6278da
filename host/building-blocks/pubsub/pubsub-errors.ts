// The pub/sub building block's errors with daprd's codes, statuses and messages
// (pkg/api/errors/pubsub.go), and the one for a Subscription that cannot be used.
import type { LoadFailure } from '../../components/types.ts';
import { isTesseraError, TesseraError } from '../../errors.ts';
import { componentNotLoaded } from '../component-not-loaded.ts';
import { keepsItsOwnCode } from '../component-refusals.ts';

export function pubsubNotConfigured(pubsubName: string): TesseraError {
  return new TesseraError('ERR_PUBSUB_NOT_CONFIGURED', `pubsub ${pubsubName} is not configured`);
}

export function pubsubNameEmpty(): TesseraError {
  return new TesseraError('ERR_PUBSUB_EMPTY', 'pubsub name is empty');
}

/** A configured broker that failed to load: why, and when it is tried again. */
export function pubsubNotLoaded(pubsubName: string, failure: LoadFailure): TesseraError {
  return componentNotLoaded('ERR_PUBSUB_NOT_CONFIGURED', `pubsub ${pubsubName}`, failure);
}

export function pubsubNotFound(pubsubName: string): TesseraError {
  return new TesseraError('ERR_PUBSUB_NOT_FOUND', `pubsub ${pubsubName} is not found`);
}

export function topicEmpty(pubsubName: string): TesseraError {
  return new TesseraError('ERR_TOPIC_NAME_EMPTY', `topic is empty in pubsub ${pubsubName}`);
}

export function badRequestMetadata(detail: string): TesseraError {
  return new TesseraError('ERR_PUBSUB_REQUEST_METADATA', `failed deserializing metadata. Error: ${detail}`);
}

export function publishForbidden(topic: string, appId: string): TesseraError {
  const message = `topic ${topic} is not allowed for app id ${appId}`;
  return new TesseraError('ERR_PUBSUB_FORBIDDEN', message, { metadata: { topic, error: message } });
}

export function cloudEventCreation(detail: string): TesseraError {
  return new TesseraError('ERR_PUBSUB_CLOUD_EVENTS_SER', `cannot create cloudevent: ${detail}`);
}

/** A bulk body that is not a JSON array of entries. */
export function unmarshalEvents(pubsubName: string, topic: string, detail: string): TesseraError {
  return new TesseraError('ERR_PUBSUB_EVENTS_SER', `error when unmarshaling the request for topic ${topic} pubsub ${pubsubName}: ${detail}`, {
    daprReason: 'DAPR_PUBSUB_UNMARSHAL_EVENTS',
  });
}

/** A bulk entry whose event does not fit its content type. */
export function marshalEnvelope(pubsubName: string, topic: string, detail: string): TesseraError {
  return new TesseraError('ERR_PUBSUB_EVENTS_SER', `error when marshalling cloud event envelope for topic ${topic} pubsub ${pubsubName}: ${detail}`, {
    daprReason: 'DAPR_PUBSUB_MARSHAL_ENVELOPE',
  });
}

/** Bulk entries with a missing or repeated `entryId`. */
export function marshalEvents(pubsubName: string, topic: string, detail: string): TesseraError {
  return new TesseraError('ERR_PUBSUB_EVENTS_SER', `error marshaling events to bytes for topic ${topic} pubsub ${pubsubName}. error: ${detail}`, {
    metadata: { error: detail },
  });
}

/** A failed broker call; a trap, a crash loop or a refusal (busy, throttled) keeps its own code (component-refusals.ts). */
export function publishFailed(pubsubName: string, topic: string, err: unknown): TesseraError {
  if (keepsItsOwnCode(err)) return err;
  const detail = isTesseraError(err) ? (err.componentError?.val ?? err.message) : err instanceof Error ? err.message : String(err);
  return new TesseraError('ERR_PUBSUB_PUBLISH_MESSAGE', `error when publishing to topic ${topic} in pubsub ${pubsubName}: ${detail}`, {
    cause: err,
    metadata: { topic, error: detail },
  });
}

/** A Subscription (YAML or `/dapr/subscribe` entry) that cannot be used; `source` names where it came from. */
export function invalidSubscription(source: string, message: string): TesseraError {
  return new TesseraError('ERR_COMPONENT_CONFIG', `${source}: ${message}`);
}
