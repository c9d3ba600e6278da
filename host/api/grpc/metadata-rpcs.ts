// The metadata RPCs of the Dapr gRPC API: GetMetadata (the metadata building block's
// document in GetMetadataResponse's fields) and SetMetadata.
import type { MetadataDocument, MetadataService } from '../../building-blocks/metadata/metadata-service.ts';
import type { RpcTable } from './rpc-handlers.ts';

const SUBSCRIPTION_TYPES: ReadonlySet<unknown> = new Set(['DECLARATIVE', 'PROGRAMMATIC', 'STREAMING']);

function subscription(s: Record<string, unknown>): object {
  const rules = (Array.isArray(s.rules) ? s.rules : []) as { match?: string; path?: string }[];
  return {
    pubsub_name: s.pubsubname,
    topic: s.topic,
    metadata: s.metadata ?? {},
    rules: { rules: rules.map((r) => ({ match: r.match ?? '', path: r.path ?? '' })) },
    dead_letter_topic: s.deadLetterTopic ?? '',
    type: SUBSCRIPTION_TYPES.has(s.type) ? s.type : 'UNKNOWN',
  };
}

export function metadataResponse(doc: MetadataDocument): object {
  return {
    id: doc.id,
    registered_components: doc.components,
    extended_metadata: doc.extended,
    subscriptions: doc.subscriptions.map(subscription),
    runtime_version: doc.runtimeVersion,
    enabled_features: doc.enabledFeatures,
    actor_runtime: { runtime_status: doc.actorRuntime.runtimeStatus, host_ready: doc.actorRuntime.hostReady },
  };
}

export function metadataRpcs(metadata: MetadataService): RpcTable {
  return {
    GetMetadata: () => metadataResponse(metadata.document()),
    SetMetadata: (request: { key: string; value: string }) => {
      metadata.setExtended(request.key, request.value);
      return {};
    },
  };
}
