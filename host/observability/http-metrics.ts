// dapr_http_server_* for the HTTP API. The `path` label is the route's template
// (`/v1.0/state/:storename/:key`), never the raw URL, so its values are as many as the
// routes; a request that matched no route gets '' (daprd's label without path matching).
//
// A call is timed from its `onRequest` to its `onSend` (its answer made, about to be
// written), as daprd's middleware times its handler, and recorded there. Not in an
// `onResponse` hook: for one, fastify adds two listeners to every response, removes them
// once it is written, and runs a hook chain and its request log after that; together about
// as much as the record itself (metrics may cost the API 5% at most).
import type { FastifyInstance, FastifyReply } from 'fastify';
// The module's, not the global: Node's global `performance` is a getter, run on every read.
import { performance } from 'node:perf_hooks';
import type { SidecarMetrics } from './metrics.ts';

/** The methods daprd labels by name; any other is UNKNOWN, keeping the label bounded. */
function methodLabel(method: string): string {
  switch (method) {
    case 'GET':
    case 'POST':
    case 'PUT':
    case 'DELETE':
    case 'PATCH':
    case 'HEAD':
    case 'OPTIONS':
    case 'CONNECT':
    case 'TRACE':
      return method;
    default:
      return 'UNKNOWN';
  }
}

/** The request field holding when the call came in (performance.now()). */
const STARTED = 'tesseraStartedAt';
type Timed = Record<typeof STARTED, number>;

/** The size of the body about to be written: a string's UTF-8 bytes, a buffer's length, else (a stream) its declared length. */
function bodyBytes(payload: unknown, reply: FastifyReply): number {
  if (typeof payload === 'string') return Buffer.byteLength(payload);
  if (payload instanceof Uint8Array) return payload.byteLength;
  return Number(reply.getHeader('content-length')) || 0;
}

export function recordHttpMetrics(app: FastifyInstance, metrics: SidecarMetrics): void {
  // Declared on every request up front, so setting it does not change the request's shape.
  app.decorateRequest(STARTED, 0);
  app.addHook('onRequest', (request, _reply, done) => {
    (request as unknown as Timed)[STARTED] = performance.now();
    done();
  });
  app.addHook('onSend', (request, reply, payload, done) => {
    const ms = performance.now() - (request as unknown as Timed)[STARTED];
    // A 404 from the not-found handler carries no route. `routeOptions` is a getter that
    // builds a dozen-field object per read: read once, from the route's config.
    const path = request.routeOptions.config.url ?? '';
    const requestBytes = Number(request.headers['content-length']) || 0;
    metrics.httpRequest(methodLabel(request.method), path, reply.statusCode, requestBytes, bodyBytes(payload, reply), ms);
    done(null, payload);
  });
}
