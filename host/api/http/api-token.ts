// DAPR_API_TOKEN enforcement: every route but GET /v1.0/healthz and /v1.0/healthz/outbound
// needs the `dapr-api-token` header, as daprd's APITokenAuthMiddleware requires.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { TesseraError } from '../../errors.ts';

const OPEN_ROUTES: ReadonlySet<string> = new Set(['/v1.0/healthz', '/v1.0/healthz/outbound']);

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

export function requireApiToken(app: FastifyInstance, token: string): void {
  // Comparing fixed-length digests keeps the comparison constant-time whatever the lengths.
  const expected = digest(token);
  app.addHook('onRequest', (request, _reply, done) => {
    const given = request.headers['dapr-api-token'];
    if (typeof given === 'string' && timingSafeEqual(digest(given), expected)) {
      done();
      return;
    }
    if (request.method === 'GET' && OPEN_ROUTES.has(request.routeOptions.url ?? '')) {
      done();
      return;
    }
    done(new TesseraError('ERR_UNAUTHORIZED', 'invalid api token'));
  });
}
