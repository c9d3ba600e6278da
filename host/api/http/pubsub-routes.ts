// The Dapr pub/sub routes: POST/PUT /v1.0/publish/{pubsub}/{topic...} and the bulk publish
// (/v1.0-alpha1/publish/bulk/... and /v1.0/publish/bulk/...). Topics may contain `/`: the
// route takes the rest of the path, as daprd's `publish/{pubsubname}/*` does. Bodies are
// kept as bytes whatever their Content-Type; the bulk body is read as JSON when the service
// asks for the entries, after it checked the pubsub and topic, so errors come in daprd's order.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { BulkEntryInput, PubSubService } from '../../building-blocks/pubsub/pubsub-service.ts';
import { unmarshalEvents } from '../../building-blocks/pubsub/pubsub-errors.ts';
import { compileValidator } from '../../schema-validator.ts';
import { useByteBodies } from './body-parsers.ts';
import { queryMetadata, type Query } from './request-metadata.ts';

interface PublishRoute {
  /** `*` is missing when the path ends at the pubsub name: an empty topic. */
  Params: { pubsubName: string; '*'?: string };
  Querystring: Query;
  Body: Buffer | undefined;
}

const validateBulkBody = compileValidator({
  type: 'array',
  items: {
    type: 'object',
    properties: {
      entryId: { type: 'string' },
      contentType: { type: 'string' },
      metadata: { type: ['object', 'null'], additionalProperties: { type: 'string' } },
    },
  },
});

interface BulkEntryBody {
  entryId?: string;
  event?: unknown;
  contentType?: string;
  metadata?: Record<string, string> | null;
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

const ENTRY_FIELDS = ['entryId', 'event', 'contentType', 'metadata'] as const;

/** An entry's fields by name, matched as Go's encoding/json does: exact first, else ignoring case (the JS SDK sends `entryID`). */
function entryFields(item: unknown): unknown {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return item;
  const fields: Record<string, unknown> = {};
  const keys = Object.keys(item);
  for (const name of ENTRY_FIELDS) {
    const key = keys.includes(name) ? name : keys.find((k) => k.toLowerCase() === name.toLowerCase());
    if (key !== undefined) fields[name] = (item as Record<string, unknown>)[key];
  }
  return fields;
}

function bulkEntries(pubsubName: string, topic: string, body: Buffer | undefined): BulkEntryInput[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body === undefined || body.byteLength === 0 ? 'null' : body.toString('utf8'));
  } catch (err) {
    throw unmarshalEvents(pubsubName, topic, (err as Error).message);
  }
  if (parsed === null) return [];
  const items = Array.isArray(parsed) ? parsed.map(entryFields) : parsed;
  const problems = validateBulkBody(items);
  if (problems.length > 0) throw unmarshalEvents(pubsubName, topic, problems.join('; '));
  return (items as BulkEntryBody[]).map((entry) => ({
    entryId: entry.entryId ?? '',
    event: entry.event,
    contentType: entry.contentType ?? '',
    metadata: entry.metadata ?? undefined,
  }));
}

export function registerPubSubRoutes(app: FastifyInstance, pubsub: PubSubService): void {
  // Own scope: the body is bytes, published as they came.
  app.register(async (scope) => {
    useByteBodies(scope);
    // Each path also without a topic, so an empty topic gets daprd's error rather than a 404.
    const paths = (prefix: string): string[] => [`${prefix}/:pubsubName`, `${prefix}/:pubsubName/*`];

    for (const url of paths('/v1.0/publish')) {
      scope.route<PublishRoute>({
        method: ['POST', 'PUT'],
        url,
        handler: async (request, reply) => {
          await pubsub.publish({
            pubsubName: request.params.pubsubName,
            topic: request.params['*'] ?? '',
            data: request.body ?? new Uint8Array(0),
            contentType: header(request, 'content-type'),
            metadata: queryMetadata(request.query),
            traceparent: header(request, 'traceparent'),
            tracestate: header(request, 'tracestate'),
          });
          return reply.code(204).send();
        },
      });
    }

    for (const url of [...paths('/v1.0-alpha1/publish/bulk'), ...paths('/v1.0/publish/bulk')]) {
      scope.route<PublishRoute>({
        method: ['POST', 'PUT'],
        url,
        handler: async (request, reply) => {
          const { pubsubName, '*': topic = '' } = request.params;
          const failed = await pubsub.bulkPublish({
            pubsubName,
            topic,
            readEntries: () => bulkEntries(pubsubName, topic, request.body),
            metadata: queryMetadata(request.query),
            traceparent: header(request, 'traceparent'),
            tracestate: header(request, 'tracestate'),
          });
          if (failed.length === 0) return reply.code(204).send();
          // daprd answers 500 with the failed entries and the code, not its usual error body.
          const body = { failedEntries: failed.map(({ entryId, error }) => ({ entryId, error })), errorCode: 'ERR_PUBSUB_PUBLISH_MESSAGE' };
          return reply.code(500).type('application/json').send(JSON.stringify(body));
        },
      });
    }
  });
}
