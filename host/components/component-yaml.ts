// Reads Dapr resource YAML files: every `kind: Component` document becomes a spec checked
// against abi/schemas/component.schema.json (a `middleware.*` type is a host built-in, its
// metadata checked here too); other kinds (Subscription, Resiliency, ...) are returned by
// kind for the building blocks that own them. Runs on the load worker
// (load-jobs.ts): specs hold only what can be posted between threads.
import { parseAllDocuments } from 'yaml';
import type { ValidateFunction } from 'ajv';
import { TesseraError } from '../errors.ts';
import { validatorOf } from '../schema-validator.ts';
import { parseDuration } from '../units.ts';
import type { Grants } from '../sandbox/capabilities/capability.ts';
import { validate as componentSchema } from './generated/component-schema.ts';
import { grantsFromAnnotations } from './grants.ts';
import { limitsFromAnnotations, type ComponentLimits } from './limits.ts';
import { isMiddlewareType, middlewareSettings, type MiddlewareSettings } from '../middleware/middleware-types.ts';
import { persistFromAnnotations, type PersistSettings } from './persist-settings.ts';

// abi/schemas/component.schema.json, compiled ahead of time by `npm run bindgen`: the load
// worker validates the first YAML without loading ajv.
const validateComponent = validatorOf(componentSchema as unknown as ValidateFunction);

/** A `Component` resource as the runtime uses it. */
export interface ComponentSpec {
  name: string;
  /** `spec.type`, e.g. `state.memory`. */
  type: string;
  /** `spec.version`, `v1` when absent. */
  version: string;
  /** `spec.metadata` as name -> value (values are strings, as Dapr passes them). */
  config: Map<string, string>;
  /** App ids allowed to use the component; empty means every app. */
  scopes: string[];
  /** `spec.ignoreErrors`: a failure to load is logged, not fatal to health. */
  ignoreErrors: boolean;
  /** Resource limits from `tessera.dev/*` annotations, over the defaults. */
  limits: ComponentLimits;
  /** Capabilities granted with `tessera.dev/*` annotations, each parsed by its capability. */
  grants: Grants;
  /** `spec.initTimeout`: how long starting the component may take, when set. */
  initTimeoutMs?: number;
  /** Where its data is kept across restarts (`tessera.dev/persist`), when it is. */
  persist?: PersistSettings;
  /** The file the spec came from. */
  source: string;
}

/** A `Component` of a `middleware.*` type: a host built-in, not a `.wasm`. */
export interface MiddlewareSpec {
  name: string;
  version: string;
  settings: MiddlewareSettings;
  scopes: string[];
  source: string;
}

export interface ResourceFile {
  components: ComponentSpec[];
  middlewares: MiddlewareSpec[];
  /** Documents of other kinds, left for later building blocks. */
  others: { kind: string; document: unknown }[];
}

function configError(source: string, message: string): TesseraError {
  return new TesseraError('ERR_COMPONENT_CONFIG', `${source}: ${message}`);
}

/**
 * YAML documents one resource file may hold: far more than a folder's components need, few
 * enough that one file cannot make a scan hold or report thousands of resources.
 */
export const MAX_RESOURCE_DOCUMENTS = 100;

/** Parses one resource file's text; `source` names the file in every error. */
export function parseResourceFile(text: string, source: string): ResourceFile {
  const result: ResourceFile = { components: [], middlewares: [], others: [] };
  const docs = parseAllDocuments(text);
  if (docs.length > MAX_RESOURCE_DOCUMENTS) throw configError(source, `${docs.length} YAML documents, over the ${MAX_RESOURCE_DOCUMENTS} one resource file may hold (split it into several files)`);
  for (const [index, doc] of docs.entries()) {
    const where = docs.length > 1 ? `${source} (document ${index + 1})` : source;
    if (doc.errors.length > 0) throw configError(where, `invalid YAML: ${doc.errors[0]!.message}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    const kind = typeof value === 'object' && 'kind' in value ? String(value.kind) : undefined;
    if (kind !== 'Component') {
      if (kind === undefined) throw configError(where, 'not a Dapr resource: no `kind` field');
      result.others.push({ kind, document: value });
      continue;
    }
    const problems = validateComponent(value);
    if (problems.length > 0) throw configError(where, `invalid Component: ${problems.join('; ')}`);
    const raw = value as RawComponent;
    if (isMiddlewareType(raw.spec.type)) result.middlewares.push(toMiddleware(raw, where));
    else result.components.push(toSpec(raw, where, source));
  }
  return result;
}

interface RawComponent {
  metadata: { name: string; annotations?: Record<string, string> };
  spec: {
    type: string;
    version?: string;
    ignoreErrors?: boolean;
    initTimeout?: string;
    metadata?: { name: string; value?: string | number | boolean; secretKeyRef?: unknown }[];
  };
  scopes?: string[];
}

/** `spec.metadata` as name -> value; `source` names the document in errors. */
function metadataOf(raw: RawComponent, source: string): Map<string, string> {
  const config = new Map<string, string>();
  for (const item of raw.spec.metadata ?? []) {
    if (item.secretKeyRef !== undefined) {
      throw configError(source, `metadata "${item.name}" uses secretKeyRef, which needs a secret store (not supported yet)`);
    }
    if (config.has(item.name)) throw configError(source, `metadata "${item.name}" is given twice`);
    config.set(item.name, item.value === undefined ? '' : String(item.value));
  }
  return config;
}

function toMiddleware(raw: RawComponent, source: string): MiddlewareSpec {
  const { name } = raw.metadata;
  return { name, version: raw.spec.version ?? 'v1', settings: middlewareSettings(raw.spec.type, metadataOf(raw, source), name, source), scopes: raw.scopes ?? [], source };
}

/** `source` names the document in errors; `file` is its file, against which relative paths resolve. */
function toSpec(raw: RawComponent, source: string, file: string): ComponentSpec {
  const config = metadataOf(raw, source);
  let initTimeoutMs: number | undefined;
  if (raw.spec.initTimeout !== undefined) {
    try {
      initTimeoutMs = parseDuration('spec.initTimeout', raw.spec.initTimeout);
    } catch (err) {
      throw configError(source, (err as Error).message);
    }
    if (initTimeoutMs <= 0) throw configError(source, `spec.initTimeout must be longer than 0, got "${raw.spec.initTimeout}"`);
  }
  const persist = persistFromAnnotations(raw.metadata.annotations ?? {}, raw.metadata.name, source, file);
  return {
    name: raw.metadata.name,
    type: raw.spec.type,
    version: raw.spec.version ?? 'v1',
    config,
    scopes: raw.scopes ?? [],
    ignoreErrors: raw.spec.ignoreErrors ?? false,
    limits: limitsFromAnnotations(raw.metadata.annotations ?? {}, source),
    grants: grantsFromAnnotations(raw.metadata.annotations ?? {}, raw.metadata.name, source),
    ...(initTimeoutMs === undefined ? {} : { initTimeoutMs }),
    ...(persist === undefined ? {} : { persist }),
    source,
  };
}
