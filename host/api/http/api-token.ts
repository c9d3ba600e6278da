// DAPR_API_TOKEN enforcement: every route but GET /v1.0/healthz and /v1.0/healthz/outbound
// needs the `dapr-api-token` header, as daprd's APITokenAuthMiddleware requires.
import type { FastifyInstance } from 'fastify';
import { TesseraError } from '../../errors.ts';
import { tokenMatcher } from '../token-matcher.ts';

const OPEN_ROUTES: ReadonlySet<string> = new Set(['/v1.0/healthz', '/v1.0/healthz/outbound']);

export function requireApiToken(app: FastifyInstance, token: string): void {
  const matches = tokenMatcher(token);
  app.addHook('onRequest', (request, _reply, done) => {
    if (matches(request.headers['dapr-api-token'])) {
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
