// Tracing with the OpenTelemetry SDK for Node, imported only when tracing is on (tracing.ts):
// an OTLP exporter (HTTP or gRPC) behind a batch processor, ParentBased(TraceIdRatio)
// sampling, W3C trace context, and `service.name` the app id, as daprd sets them up.
import { context, propagation, trace, ROOT_CONTEXT, SpanKind, SpanStatusCode, type Context, type Span } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, type SpanExporter } from '@opentelemetry/sdk-trace';
import { RUNTIME_VERSION } from '../version.ts';
import type { TracingSettings } from './configuration.ts';
import type { ServerSpan, Tracing } from './tracing-api.ts';

/** `host:port` gets a scheme (daprd's endpointAddress has none); a URL is kept. */
function endpointUrl(settings: TracingSettings, path: string): string | undefined {
  const { endpoint } = settings;
  if (endpoint === undefined) return undefined;
  const base = /^[a-z]+:\/\//i.test(endpoint) ? endpoint : `${settings.isSecure ? 'https' : 'http'}://${endpoint}`;
  return base.replace(/\/+$/, '') + path;
}

async function exporterFor(settings: TracingSettings): Promise<SpanExporter> {
  if (settings.protocol === 'grpc') {
    const [{ OTLPTraceExporter }, grpc] = await Promise.all([import('@opentelemetry/exporter-trace-otlp-grpc'), import('@grpc/grpc-js')]);
    const metadata = new grpc.Metadata();
    for (const [name, value] of Object.entries(settings.headers)) metadata.set(name, value);
    const url = endpointUrl(settings, '');
    return new OTLPTraceExporter({
      ...(url === undefined ? {} : { url, credentials: settings.isSecure ? grpc.credentials.createSsl() : grpc.credentials.createInsecure() }),
      metadata,
    });
  }
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
  const url = endpointUrl(settings, '/v1/traces');
  return new OTLPTraceExporter({ ...(url === undefined ? {} : { url }), headers: settings.headers });
}

/** The W3C headers of a context. */
function headersOf(ctx: Context): { traceparent: string; tracestate: string } {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return { traceparent: carrier.traceparent ?? '', tracestate: carrier.tracestate ?? '' };
}

function endWith(span: Span, status: number | undefined): void {
  if (status === undefined || status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
  if (status !== undefined) span.setAttribute('http.response.status_code', status);
  span.end();
}

export async function createOtelTracing(settings: TracingSettings, serviceName: string): Promise<Tracing> {
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({ 'service.name': serviceName, 'service.version': RUNTIME_VERSION }),
    autoDetectResources: false,
    instrumentations: [],
    textMapPropagator: new W3CTraceContextPropagator(),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(settings.samplingRate) }),
    // Spans leave every second (the SDK default is 5 s): a trace shows up while its request is remembered.
    spanProcessors: [new BatchSpanProcessor({ exporter: await exporterFor(settings), scheduledDelayMillis: 1000 })],
  });
  sdk.start();
  const tracer = trace.getTracer('tessera', RUNTIME_VERSION);

  return {
    serverSpan(name, traceparent, tracestate, attributes): ServerSpan {
      const carrier: Record<string, string> = {};
      if (traceparent !== undefined) carrier.traceparent = traceparent;
      if (tracestate !== undefined) carrier.tracestate = tracestate;
      const parent = propagation.extract(ROOT_CONTEXT, carrier);
      const span = tracer.startSpan(name, { kind: SpanKind.SERVER, attributes }, parent);
      const ctx = trace.setSpan(parent, span);
      const headers = headersOf(ctx);
      return {
        ...headers,
        run: (fn) => context.with(ctx, fn),
        end: (status) => endWith(span, status),
        endRpc: (code, message) => {
          if (code !== 0) span.setStatus({ code: SpanStatusCode.ERROR, ...(message === undefined ? {} : { message }) });
          span.setAttribute('rpc.grpc.status_code', code);
          span.end();
        },
      };
    },

    componentCall(component, generation, exportName, call) {
      const parent = context.active();
      if (trace.getSpan(parent)?.isRecording() !== true) return call();
      const span = tracer.startSpan(
        `component ${component}.${exportName}`,
        { kind: SpanKind.INTERNAL, attributes: { 'tessera.component': component, 'tessera.generation': generation, 'tessera.export': exportName } },
        parent,
      );
      return context.with(trace.setSpan(parent, span), call).then(
        (value) => {
          span.end();
          return value;
        },
        (err: unknown) => {
          span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
          span.end();
          throw err;
        },
      );
    },

    appCall(name, headers) {
      let parent = context.active();
      if (headers.traceparent !== undefined) parent = propagation.extract(ROOT_CONTEXT, headers);
      if (trace.getSpan(parent) === undefined) return undefined;
      const span = tracer.startSpan(name, { kind: SpanKind.CLIENT }, parent);
      const { traceparent, tracestate } = headersOf(trace.setSpan(parent, span));
      headers.traceparent = traceparent;
      if (tracestate !== '') headers.tracestate = tracestate;
      return (status) => endWith(span, status);
    },

    traceId() {
      return trace.getSpan(context.active())?.spanContext().traceId;
    },

    shutdown: () => sdk.shutdown(),
  };
}
