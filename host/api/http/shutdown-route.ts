// POST /v1.0/shutdown: answers 204 first, then asks the runtime to stop, as daprd does, so
// the caller gets its answer before the listener closes.
import type { FastifyInstance } from 'fastify';

export function registerShutdownRoute(app: FastifyInstance, shutdown: () => void): void {
  app.post('/v1.0/shutdown', async (_request, reply) => {
    reply.raw.once('close', shutdown);
    return reply.code(204).send();
  });
}
