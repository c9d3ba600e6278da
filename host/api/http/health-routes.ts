// Dapr's health routes over the health building block: /v1.0/healthz says whether the
// sidecar is ready, /v1.0/healthz/outbound whether every component answers a ping.
import type { FastifyInstance } from 'fastify';
import type { HealthService } from '../../building-blocks/health/health-service.ts';
import { queryValue, type Query } from './request-metadata.ts';

export function registerHealthRoutes(app: FastifyInstance, health: HealthService): void {
  app.get<{ Querystring: Query }>('/v1.0/healthz', async (request, reply) => {
    health.checkReady(queryValue(request.query, 'appid'));
    return reply.code(204).send();
  });

  app.get('/v1.0/healthz/outbound', async (_request, reply) => {
    await health.checkOutbound();
    return reply.code(204).send();
  });
}
