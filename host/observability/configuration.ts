// Dapr's `Configuration` resource, the part Tessera reads: `spec.tracing` (sampling rate and
// the OTLP exporter) and `spec.metrics.enabled`. It comes from `--config FILE` (as daprd's
// flag) or from a `kind: Configuration` document in a resources folder, read once at start
// as daprd does; the standard OTEL_* environment variables configure tracing when no
// Configuration does. Validated with ajv; every error names the file and the field.
import { lstat, readFile, readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { TesseraError } from '../errors.ts';
import { compileValidator } from '../schema-validator.ts';

/** Largest Configuration file read (a resource YAML's limit). */
const MAX_CONFIG_BYTES = 1024 * 1024;

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

const validateConfiguration = compileValidator({
  type: 'object',
  required: ['kind', 'metadata'],
  properties: {
    apiVersion: { const: 'dapr.io/v1alpha1' },
    kind: { const: 'Configuration' },
    metadata: { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1 } } },
    spec: {
      type: 'object',
      properties: {
        tracing: {
          type: 'object',
          properties: {
            samplingRate: { type: ['string', 'number'] },
            otel: {
              type: 'object',
              required: ['endpointAddress'],
              properties: {
                endpointAddress: { type: 'string', minLength: 1 },
                isSecure: { type: 'boolean' },
                protocol: { enum: ['http', 'grpc'] },
                headers: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, value: { type: ['string', 'number', 'boolean'] } } } }] },
              },
            },
          },
        },
        metrics: { type: 'object', properties: { enabled: { type: 'boolean' } } },
      },
    },
  },
});

function configError(source: string, message: string): TesseraError {
  return new TesseraError('ERR_COMPONENT_CONFIG', `${source}: ${message}`);
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

interface RawConfiguration {
  spec?: {
    tracing?: {
      samplingRate?: string | number;
      otel?: { endpointAddress: string; isSecure?: boolean; protocol?: 'http' | 'grpc'; headers?: string | { name: string; value?: unknown }[] };
    };
    metrics?: { enabled?: boolean };
  };
}

/** The settings of one Configuration document; `source` names it in errors. */
export function parseConfiguration(value: unknown, source: string): ObservabilityConfig {
  const problems = validateConfiguration(value);
  if (problems.length > 0) throw configError(source, `invalid Configuration: ${problems.join('; ')}`);
  const spec = (value as RawConfiguration).spec ?? {};
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

async function readYaml(path: string): Promise<unknown[]> {
  const info = await stat(path).catch((err: NodeJS.ErrnoException) => {
    throw configError(path, `cannot be read (${err.code ?? err.message})`);
  });
  if (!info.isFile()) throw configError(path, 'not a regular file');
  if (info.size > MAX_CONFIG_BYTES) throw configError(path, `over the ${MAX_CONFIG_BYTES / 1048576} MiB resource YAML limit`);
  const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw configError(path, `cannot be read (${err.code ?? err.message})`);
  });
  if (text.length > MAX_CONFIG_BYTES) throw configError(path, `over the ${MAX_CONFIG_BYTES / 1048576} MiB resource YAML limit`);
  return parseAllDocuments(text).map((doc, i) => {
    if (doc.errors.length > 0) throw configError(path, `invalid YAML in document ${i + 1}: ${doc.errors[0]!.message}`);
    return doc.toJS() as unknown;
  });
}

const isConfiguration = (doc: unknown): boolean => typeof doc === 'object' && doc !== null && (doc as { kind?: unknown }).kind === 'Configuration';

/**
 * The observability settings for a start: `--config FILE` (which must hold a Configuration),
 * else the first Configuration found in the resources folders, else the OTEL_* environment.
 */
export async function loadObservabilityConfig(configFile: string | undefined, resourcesPaths: readonly string[], env: NodeJS.ProcessEnv): Promise<ObservabilityConfig> {
  if (configFile !== undefined) {
    const doc = (await readYaml(configFile)).find(isConfiguration);
    if (doc === undefined) throw configError(configFile, 'holds no `kind: Configuration` document');
    return parseConfiguration(doc, configFile);
  }
  for (const folder of resourcesPaths) {
    const names = (await readdir(folder).catch(() => [] as string[])).filter((n) => ['.yaml', '.yml'].includes(extname(n))).sort();
    for (const name of names) {
      const path = join(folder, name);
      // Only a regular file within the size limit is read here, before the API listens: a pipe
      // would block the start, and anything odd is the resources loader's to report.
      const info = await lstat(path).catch(() => undefined);
      if (info === undefined || !info.isFile() || info.size > MAX_CONFIG_BYTES) continue;
      const docs = await readYaml(path).catch(() => []);
      const doc = docs.find(isConfiguration);
      if (doc !== undefined) return parseConfiguration(doc, path);
    }
  }
  return { tracing: tracingFromEnvironment(env) };
}
