// A SERVER span per HTTP API call, when tracing is on. The request's `traceparent` header is
// replaced with the span's, so what a route passes on (a publish's CloudEvent) continues this
// span, and the span is made current again right before the handler: a body is parsed in
// the socket's async context, not the request's.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ServerSpan, Tracing } from './tracing.ts';

const spans = new WeakMap<FastifyRequest, ServerSpan>();

const header = (request: FastifyRequest, name: string): string | undefined => {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

export function traceHttpApi(app: FastifyInstance, tracing: Tracing): void {
  app.addHook('onRequest', (request, reply, done) => {
    // The route's template when it has one, never the raw URL: span names stay few.
    const route = request.routeOptions.url ?? 'unknown route';
    const span = tracing.serverSpan(`${request.method} ${route}`, header(request, 'traceparent'), header(request, 'tracestate'), {
      'http.request.method': request.method,
      'http.route': route,
    });
    spans.set(request, span);
    request.headers.traceparent = span.traceparent;
    if (span.tracestate !== '') request.headers.tracestate = span.tracestate;
    // daprd answers with the trace context of the call, so a caller can find its trace.
    reply.header('traceparent', span.traceparent);
    span.run(done);
  });
  app.addHook('preHandler', (request, _reply, done) => {
    const span = spans.get(request);
    if (span === undefined) return done();
    span.run(done);
  });
  app.addHook('onResponse', (request, reply, done) => {
    spans.get(request)?.end(reply.statusCode);
    done();
  });
}
