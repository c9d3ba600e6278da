// Tracing as the host sees it: a few calls (an API call's span, a component call's span, a
// call to the app's span, the trace id for a log line), with nothing behind them until a
// Configuration or the OTEL_* environment turns tracing on. Only then is the OpenTelemetry
// SDK imported (otel-tracing.ts): a sidecar without tracing never loads it, and a sampling
// rate of 0 is the same as no tracing at all.
import type { TracingSettings } from './configuration.ts';
import type { Tracing } from './tracing-api.ts';

export type { ServerSpan, Tracing } from './tracing-api.ts';

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
