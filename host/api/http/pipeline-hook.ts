// Runs the Configuration's `httpPipeline` in front of every route of the Dapr HTTP API, after
// the metrics, tracing and API token hooks (daprd's order: its pipeline is the innermost
// wrapper of the API router) and before any building block is called. A request over a rate
// limit is answered at once with tollbooth's 429.
import type { FastifyInstance } from 'fastify';
import type { HttpPipeline } from '../../middleware/http-pipeline.ts';
import { tagRoute } from '../../observability/http-metrics.ts';

/** `metered`: metrics are on, so a refusal (answered before the route's handler) is tagged with its route. */
export function useHttpPipeline(app: FastifyInstance, pipeline: HttpPipeline, metered: boolean): void {
  app.addHook('onRequest', (request, reply, done) => {
    const headers = pipeline.limitHeaders;
    if (headers === undefined) {
      done();
      return;
    }
    reply.headers(headers);
    // The path as the client sent it (before the dapr-app-id rewrite), without its query.
    const url = request.originalUrl;
    const query = url.indexOf('?');
    const refusal = pipeline.refusal({ remoteAddress: request.socket.remoteAddress, headers: request.headers, path: query < 0 ? url : url.slice(0, query) });
    if (refusal === undefined) {
      done();
      return;
    }
    if (metered) tagRoute(request);
    void reply.code(refusal.status).type(refusal.contentType).send(refusal.body);
  });
}
