// The observability part of Dapr's `Configuration`: `spec.tracing` (sampling rate and the
// OTLP exporter) and `spec.metrics.enabled`, from the Configuration read once at start
// (configuration/dapr-configuration.ts); the standard OTEL_* environment variables configure
// tracing when no Configuration does.
import { configError, type DaprConfiguration } from '../configuration/dapr-configuration.ts';

export interface TracingSettings {
  /** 0 to 1: the share of new traces recorded (ParentBased(TraceIdRatio)). */
  samplingRate: number;
  /** The OTLP endpoint, `host:port` or a URL; undefined to take it from OTEL_EXPORTER_OTLP_* variables. */
  endpoint?: string | undefined;
  protocol: 'http' | 'grpc';
  isSecure: boolean;
  headers: Record<string, string>;
  /** The file the settings came from, or `environment`. */
  source: string;
}

export interface ObservabilityConfig {
  /** undefined: tracing is off. */
  tracing: TracingSettings | undefined;
  /** `spec.metrics.enabled`, when a Configuration says. */
  metricsEnabled?: boolean | undefined;
}

function samplingRateOf(value: unknown, source: string): number {
  const rate = value === undefined || value === '' ? 0 : Number(value);
  if (!Number.isFinite(rate) || rate < 0 || rate > 1) throw configError(source, `spec.tracing.samplingRate must be a number from 0 to 1, got ${JSON.stringify(value)}`);
  return rate;
}

/** `key=value,key2=value2`, the form of daprd's `headers` string and of OTEL_EXPORTER_OTLP_HEADERS. */
function headerList(text: string, source: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const pair of text.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const at = pair.indexOf('=');
    if (at <= 0) throw configError(source, `header "${pair}" is not name=value`);
    headers[decodeURIComponent(pair.slice(0, at).trim())] = decodeURIComponent(pair.slice(at + 1).trim());
  }
  return headers;
}

/**
 * The observability settings of a start: the Configuration's (loaded once by
 * configuration/dapr-configuration.ts), else tracing from the OTEL_* environment.
 */
export function observabilityConfig(config: DaprConfiguration | undefined, env: NodeJS.ProcessEnv): ObservabilityConfig {
  if (config === undefined) return { tracing: tracingFromEnvironment(env) };
  const { spec, source } = config;
  const rate = samplingRateOf(spec.tracing?.samplingRate, source);
  const otel = spec.tracing?.otel;
  let tracing: TracingSettings | undefined;
  if (rate > 0) {
    const headers =
      typeof otel?.headers === 'string'
        ? headerList(otel.headers, source)
        : Object.fromEntries((otel?.headers ?? []).map((h) => [h.name, String(h.value ?? '')]));
    tracing = { samplingRate: rate, endpoint: otel?.endpointAddress, protocol: otel?.protocol ?? 'http', isSecure: otel?.isSecure ?? false, headers, source };
  }
  return { tracing, metricsEnabled: spec.metrics?.enabled };
}

/** Tracing from the standard OTEL_* variables, when they name an exporter endpoint; sampling as OTEL_TRACES_SAMPLER_ARG says (1 unless). */
export function tracingFromEnvironment(env: NodeJS.ProcessEnv): TracingSettings | undefined {
  if (env.OTEL_SDK_DISABLED === 'true' || env.OTEL_TRACES_EXPORTER === 'none') return undefined;
  if (!env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT && !env.OTEL_EXPORTER_OTLP_ENDPOINT) return undefined;
  const rate = samplingRateOf(env.OTEL_TRACES_SAMPLER_ARG ?? '1', 'OTEL_TRACES_SAMPLER_ARG');
  if (rate === 0) return undefined;
  const protocol = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/json').startsWith('grpc') ? 'grpc' : 'http';
  // The exporters read the endpoint and headers from the environment themselves.
  return { samplingRate: rate, endpoint: undefined, protocol, isSecure: false, headers: {}, source: 'environment' };
}
