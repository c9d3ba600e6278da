// dapr_http_server_* for the HTTP API. The `path` label is the route's template
// (`/v1.0/state/:storename/:key`), never the raw URL, so its values are as many as the
// routes; a request that matched no route gets '' (daprd's label without path matching).
//
// A call is timed from when node made its response object (the request's head just parsed,
// before fastify sees it) to when the answer's head is set (its body about to be written), as
// daprd's middleware times its handler, and recorded then. No fastify hook does it: an
// `onRequest` and an `onSend` hook cost every request two hook runs (each builds three
// closures) and a `request.routeOptions` read (a getter building a dozen-field object),
// together more than half of what metrics cost the API (measured: about 2.5 of 4.5 µs a
// state GET), when metrics may cost it 5% at most. Here the response class of the API's
// server takes the times, and each route's handler tags the request with its template.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { IncomingMessage, OutgoingHttpHeader, OutgoingHttpHeaders } from 'node:http';
// The module's, not the global: Node's global `performance` is a getter, run on every read.
import { performance } from 'node:perf_hooks';
import type { SidecarMetrics } from './metrics.ts';

// Not an ESM `import` of node:http: its namespace reads the lazy WebSocket exports, which load undici (start-imports.test.ts).
const { ServerResponse } = process.getBuiltinModule('node:http');

/** The methods daprd labels by name; any other is UNKNOWN, keeping the label bounded. */
function methodLabel(method: string | undefined): string {
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

/** Where a request keeps its route's template, once a route took it. */
const ROUTE = Symbol('tessera.route');
type Routed = IncomingMessage & { [ROUTE]?: string };

/** Tags the request with the template of the route that took it (for a call answered before its handler ran: an error, a refusal). */
export function tagRoute(request: FastifyRequest): void {
  const raw = request.raw as Routed;
  raw[ROUTE] ??= request.routeOptions.config.url;
}

/** A declared `content-length`, else 0 (a streamed body: its size is not known up front). */
function declaredLength(value: OutgoingHttpHeader | undefined): number {
  return Number(Array.isArray(value) ? value[0] : value) || 0;
}

/**
 * The `ServerResponse` class for the API's server (fastify's `http.ServerResponse` option),
 * recording each call into `metrics` when its head is set. Node builds one per request right
 * after parsing its head: that is the call's start.
 */
export function meteredResponses(metrics: SidecarMetrics): typeof ServerResponse {
  return class MeteredResponse<Request extends IncomingMessage = IncomingMessage> extends ServerResponse<Request> {
    readonly #startedAt = performance.now();

    override writeHead(statusCode: number, reason?: string | OutgoingHttpHeaders | OutgoingHttpHeader[], headers?: OutgoingHttpHeaders | OutgoingHttpHeader[]): this {
      super.writeHead(statusCode, reason as string, headers);
      const ms = performance.now() - this.#startedAt;
      const req = this.req as Routed;
      // fastify hands its headers over as an object with lower-case names (with `content-length` set for a string or buffer body).
      const given = typeof reason === 'object' ? reason : headers;
      const length = given !== undefined && !Array.isArray(given) ? given['content-length'] : this.getHeader('content-length');
      metrics.httpRequest(methodLabel(req.method), req[ROUTE] ?? '', statusCode, Number(req.headers['content-length']) || 0, declaredLength(length), ms);
      return this;
    }
  };
}

/** Tags each request with its route's template as its handler starts (the API's routes, registered after this). */
export function tagRoutes(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    const url = route.url;
    const handler = route.handler;
    route.handler = function tagged(this: FastifyInstance, request, reply) {
      (request.raw as Routed)[ROUTE] = url;
      return handler.call(this, request, reply);
    };
  });
}
