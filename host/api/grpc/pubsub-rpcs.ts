// The publishing RPCs of the Dapr gRPC API over the pub/sub building block: PublishEvent,
// and BulkPublishEvent under both its names (BulkPublishEventAlpha1 is what older SDKs
// call). Event bytes go to the building block as they came; trace context comes from the
// call's `traceparent`/`tracestate` metadata.
import type { ServerUnaryCall } from '@grpc/grpc-js';
import type { PubSubService } from '../../building-blocks/pubsub/pubsub-service.ts';
import { metadataOf, type ProtoMap } from './grpc-messages.ts';
import { metadataString, type RpcTable, type UnaryRpc } from './rpc-handlers.ts';

interface PublishEventRequest {
  pubsub_name: string;
  topic: string;
  data: Buffer;
  data_content_type: string;
  metadata: ProtoMap;
}

interface BulkPublishRequest {
  pubsub_name: string;
  topic: string;
  entries: { entry_id: string; event: Buffer; content_type: string; metadata: ProtoMap }[];
  metadata: ProtoMap;
}

type Call = ServerUnaryCall<unknown, unknown>;

function trace(call: Call): { traceparent: string | undefined; tracestate: string | undefined } {
  return { traceparent: metadataString(call.metadata, 'traceparent'), tracestate: metadataString(call.metadata, 'tracestate') };
}

export function pubsubRpcs(pubsub: PubSubService): RpcTable {
  const bulkPublish: UnaryRpc = async (request: BulkPublishRequest, call: Call) => {
    const { pubsub_name: pubsubName, topic } = request;
    const failed = await pubsub.bulkPublish({
      pubsubName,
      topic,
      readEntries: () =>
        request.entries.map((entry) => ({
          entryId: entry.entry_id,
          event: entry.event,
          contentType: entry.content_type,
          // An entry without metadata gets none of the request's, as on the HTTP API.
          metadata: Object.keys(entry.metadata).length === 0 ? undefined : entry.metadata,
        })),
      metadata: metadataOf(request.metadata),
      ...trace(call),
    });
    return { failedEntries: failed.map(({ entryId, error }) => ({ entry_id: entryId, error })) };
  };

  return {
    PublishEvent: async (request: PublishEventRequest, call: Call) => {
      await pubsub.publish({
        pubsubName: request.pubsub_name,
        topic: request.topic,
        data: request.data,
        contentType: request.data_content_type,
        metadata: metadataOf(request.metadata),
        ...trace(call),
      });
      return {};
    },
    BulkPublishEvent: bulkPublish,
    BulkPublishEventAlpha1: bulkPublish,
  };
}
