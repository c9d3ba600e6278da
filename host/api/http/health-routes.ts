// Dapr's health routes: /v1.0/healthz says whether the sidecar is ready, /v1.0/healthz/outbound
// whether every component answers a ping, naming the ones that do not.
import type { FastifyInstance } from 'fastify';
import type { ComponentDirectory } from '../../components/types.ts';
import { TesseraError } from '../../errors.ts';
import { queryValue, type Query } from './request-metadata.ts';

export interface HealthDeps {
  appId: string;
  components: ComponentDirectory;
  isReady(): boolean;
}

export function registerHealthRoutes(app: FastifyInstance, deps: HealthDeps): void {
  app.get<{ Querystring: Query }>('/v1.0/healthz', async (request, reply) => {
    if (!deps.isReady()) throw new TesseraError('ERR_HEALTH_NOT_READY', 'dapr is not ready');
    // Name resolvers (Consul, for one) pass `appid` to check the app was not replaced.
    const appId = queryValue(request.query, 'appid');
    if (appId !== undefined && appId !== deps.appId) {
      throw new TesseraError('ERR_HEALTH_APPID_NOT_MATCH', 'dapr app-id does not match');
    }
    return reply.code(204).send();
  });

  app.get('/v1.0/healthz/outbound', async (_request, reply) => {
    if (!deps.isReady()) throw new TesseraError('ERR_OUTBOUND_HEALTH_NOT_READY', 'dapr outbound is not ready');
    const failing = await deps.components.pingAll();
    if (failing.length > 0) {
      throw new TesseraError(
        'ERR_OUTBOUND_HEALTH_NOT_READY',
        `dapr outbound is not ready: components not answering their ping: ${failing.join(', ')}`,
      );
    }
    return reply.code(204).send();
  });
}
