// dapr_http_server_* for the HTTP API: one onResponse hook. The `path` label is the route's
// template (`/v1.0/state/:storename/:key`), never the raw URL, so its values are as many as
// the routes; a request that matched no route gets '' (daprd's label without path matching).
import type { FastifyInstance } from 'fastify';
import type { SidecarMetrics } from './metrics.ts';

/** The methods daprd labels by name; any other is UNKNOWN, keeping the label bounded. */
const METHODS = new Set(['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'CONNECT', 'TRACE']);

export function recordHttpMetrics(app: FastifyInstance, metrics: SidecarMetrics): void {
  app.addHook('onResponse', (request, reply, done) => {
    const method = METHODS.has(request.method) ? request.method : 'UNKNOWN';
    // A 404 from the not-found handler carries no route. `routeOptions` is a getter that
    // builds a dozen-field object per read: read once, from the route's config.
    const path = request.routeOptions.config.url ?? '';
    const requestBytes = Number(request.headers['content-length']) || 0;
    const responseBytes = Number(reply.getHeader('content-length')) || 0;
    metrics.httpRequest(method, path, reply.statusCode, requestBytes, responseBytes, reply.elapsedTime);
    done();
  });
}
