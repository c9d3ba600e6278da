// Dapr's `Configuration` resource, read and validated once at start and handed to the parts
// that use it: tracing and metrics (observability/configuration.ts), `spec.nameResolution`
// (invoke/name-resolution/choose-resolver.ts) and `spec.httpPipeline` (middleware/). It comes
// from `--config FILE` (as daprd's flag) or, without one, from the first `kind: Configuration`
// document in the resources folders. Validated with ajv; every error names the file and the
// field.
import { lstat, readFile, readdir, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { extname, join } from 'node:path';
import { TesseraError } from '../errors.ts';
import { HTTP_MIDDLEWARE_TYPES } from '../middleware/middleware-types.ts';
import { compileValidator } from '../schema-validator.ts';

/** Largest Configuration file read (a resource YAML's limit). */
const MAX_CONFIG_BYTES = 1024 * 1024;

/** One handler of a pipeline: the name of a middleware Component and its type. */
export interface PipelineHandler {
  name: string;
  type: string;
}

/** The parts of `spec` Tessera reads, as the schema below admits them. */
export interface ConfigurationSpec {
  tracing?: {
    samplingRate?: string | number;
    otel?: { endpointAddress: string; isSecure?: boolean; protocol?: 'http' | 'grpc'; headers?: string | { name: string; value?: unknown }[] };
  };
  metrics?: { enabled?: boolean };
  nameResolution?: { component?: string; version?: string; configuration?: Record<string, unknown> };
  httpPipeline?: { handlers?: PipelineHandler[] };
  /** Read only to say it is not supported yet. */
  appHttpPipeline?: unknown;
}

export interface DaprConfiguration {
  /** The file it came from, named in errors. */
  source: string;
  spec: ConfigurationSpec;
}

const pipeline = {
  type: 'object',
  properties: {
    handlers: {
      type: 'array',
      maxItems: 100,
      items: { type: 'object', required: ['name', 'type'], properties: { name: { type: 'string', minLength: 1 }, type: { enum: HTTP_MIDDLEWARE_TYPES } } },
    },
  },
};

const validate = compileValidator({
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
        nameResolution: { type: 'object', properties: { component: { type: 'string', minLength: 1 }, version: { type: 'string' }, configuration: { type: 'object' } } },
        httpPipeline: pipeline,
      },
    },
  },
});

export function configError(source: string, message: string): TesseraError {
  return new TesseraError('ERR_COMPONENT_CONFIG', `${source}: ${message}`);
}

/** One Configuration document, validated; `source` names it in errors. */
export function parseConfiguration(value: unknown, source: string): DaprConfiguration {
  const problems = validate(value);
  if (problems.length > 0) throw configError(source, `invalid Configuration: ${problems.join('; ')}`);
  return { source, spec: (value as { spec?: ConfigurationSpec }).spec ?? {} };
}

async function readText(path: string): Promise<string> {
  const info = await stat(path).catch((err: NodeJS.ErrnoException) => {
    throw configError(path, `cannot be read (${err.code ?? err.message})`);
  });
  if (!info.isFile()) throw configError(path, 'not a regular file');
  if (info.size > MAX_CONFIG_BYTES) throw configError(path, `over the ${MAX_CONFIG_BYTES / 1048576} MiB resource YAML limit`);
  const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw configError(path, `cannot be read (${err.code ?? err.message})`);
  });
  if (text.length > MAX_CONFIG_BYTES) throw configError(path, `over the ${MAX_CONFIG_BYTES / 1048576} MiB resource YAML limit`);
  return text;
}

/**
 * The YAML parser, required when a Configuration is first parsed: every start imports this
 * module, and most have no Configuration, so the parser (~16 ms to evaluate) is not loaded
 * before the API listens. It is CommonJS, so a synchronous require loads it.
 */
let yaml: typeof import('yaml') | undefined;

function parseYaml(text: string, path: string): unknown[] {
  yaml ??= createRequire(import.meta.url)('yaml') as typeof import('yaml');
  return yaml.parseAllDocuments(text).map((doc, i) => {
    if (doc.errors.length > 0) throw configError(path, `invalid YAML in document ${i + 1}: ${doc.errors[0]!.message}`);
    return doc.toJS() as unknown;
  });
}

/**
 * Whether a file's text may hold a `kind: Configuration` document (in any YAML or JSON
 * spelling): the resources folders' other files (Components, Subscriptions, Resiliency) are
 * not parsed here, before the API listens; the resources loader reads them.
 */
const MAY_BE_CONFIGURATION = /\bkind["']?\s*:\s*["']?Configuration\b/;

const isConfiguration = (doc: unknown): boolean => typeof doc === 'object' && doc !== null && (doc as { kind?: unknown }).kind === 'Configuration';

/**
 * The Configuration for a start: `--config FILE` (which must hold one), else the first found
 * in the resources folders; undefined when there is none.
 */
export async function loadConfiguration(configFile: string | undefined, resourcesPaths: readonly string[]): Promise<DaprConfiguration | undefined> {
  if (configFile !== undefined) {
    const doc = parseYaml(await readText(configFile), configFile).find(isConfiguration);
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
      const text = await readText(path).catch(() => '');
      if (!MAY_BE_CONFIGURATION.test(text)) continue;
      let docs: unknown[];
      try {
        docs = parseYaml(text, path);
      } catch {
        continue;
      }
      const doc = docs.find(isConfiguration);
      if (doc !== undefined) return parseConfiguration(doc, path);
    }
  }
  return undefined;
}
