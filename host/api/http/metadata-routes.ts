// Dapr's metadata routes over the metadata building block: GET /v1.0/metadata answers the
// document as JSON, PUT /v1.0/metadata/{key} sets an extended attribute from the raw body.
import type { FastifyInstance } from 'fastify';
import type { MetadataService } from '../../building-blocks/metadata/metadata-service.ts';
import { useTextBodies } from './body-parsers.ts';

export function registerMetadataRoutes(app: FastifyInstance, metadata: MetadataService): void {
  app.get('/v1.0/metadata', async (_request, reply) => {
    return reply.code(200).type('application/json').send(JSON.stringify(metadata.document()));
  });

  // Own scope: the value is the raw body, whatever its Content-Type, as daprd reads it.
  app.register(async (scope) => {
    useTextBodies(scope);
    scope.put<{ Params: { key: string }; Body: string | undefined }>('/v1.0/metadata/:key', async (request, reply) => {
      metadata.setExtended(request.params.key, request.body ?? '');
      return reply.code(204).send();
    });
  });
}
