// Tracing as the host sees it: a few calls (an API call's span, a component call's span, a
// call to the app's span, the trace id for a log line), with nothing behind them until a
// Configuration or the OTEL_* environment turns tracing on. Only then is the OpenTelemetry
// SDK imported (otel-tracing.ts): a sidecar without tracing never loads it, and a sampling
// rate of 0 is the same as no tracing at all.
import type { TracingSettings } from './configuration.ts';

/** An API call's span, while the request is served. */
export interface ServerSpan {
  /** The W3C headers naming this span, to pass on (the CloudEvent of a publish carries them). */
  readonly traceparent: string;
  readonly tracestate: string;
  /** Runs `fn` (the rest of the request) with this span as the current one. */
  run(fn: () => void): void;
  end(status: number): void;
}

export interface Tracing {
  /** A SERVER span for an API call, continuing the caller's trace when its `traceparent` is valid. */
  serverSpan(name: string, traceparent: string | undefined, tracestate: string | undefined, attributes: Record<string, string>): ServerSpan;
  /**
   * A span around one component call, child of the current span; none outside a recorded
   * trace (delivery loops poll their brokers all the time: those calls are not traced).
   */
  componentCall<T>(component: string, generation: number, exportName: string, call: () => Promise<T>): Promise<T>;
  /**
   * A CLIENT span for a call to the app, child of the trace in `headers` (a delivery: the
   * CloudEvent's) or of the current span; `headers` get its `traceparent`/`tracestate`.
   * Returns what ends it; undefined when there is no trace to continue.
   */
  appCall(name: string, headers: Record<string, string>): ((status: number | undefined) => void) | undefined;
  /** The current trace id, for log lines. */
  traceId(): string | undefined;
  /** Sends what is buffered, then stops. */
  shutdown(): Promise<void>;
}

/** The process's tracing once started; undefined while tracing is off (the common case, checked per call). */
export let activeTracing: Tracing | undefined;

/** Starts tracing as `settings` say (undefined, or a rate of 0: off, nothing loaded). */
export async function startTracing(settings: TracingSettings | undefined, serviceName: string): Promise<Tracing | undefined> {
  if (settings === undefined || settings.samplingRate <= 0) return undefined;
  const { createOtelTracing } = await import('./otel-tracing.ts');
  activeTracing = await createOtelTracing(settings, serviceName);
  return activeTracing;
}

/** Stops tracing (flushing its spans); a no-op when it is off. */
export async function stopTracing(): Promise<void> {
  const tracing = activeTracing;
  activeTracing = undefined;
  await tracing?.shutdown();
}
