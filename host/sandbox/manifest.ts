// Reads and checks the manifest a component carries in its `tessera:manifest` custom
// section: its size, schema (every field bounded; the kind and capabilities ones the host
// knows), its type against its kind, unique capabilities, then ABI version, so a refusal
// names what is wrong and what to do.
import schema from '../../abi/schemas/manifest.schema.json' with { type: 'json' };
import { MANIFEST_SECTION, SUPPORTED_ABI_VERSIONS, type Manifest } from '../../abi/ts/manifest.ts';
import { TesseraError } from '../errors.ts';
import type { ValidateFunction } from 'ajv';
import { compileValidator, validatorOf, type Validator } from '../schema-validator.ts';
import { CAPABILITIES, capabilitiesVersion } from './capabilities/index.ts';
import { allKinds, kindOf, kindsVersion } from './kinds/index.ts';
import { readComponentShape } from './component-binary.ts';
import { validate as builtInManifestSchema } from './generated/manifest-schema.ts';
import { isComponentBinary, readCustomSections } from './wasm-binary.ts';

/**
 * The manifest schema with its lists taken from the host's tables: `kind` one of the kinds
 * (kinds/index.ts), each capability one of the capabilities (capabilities/index.ts).
 */
export function manifestSchema(): object {
  // Without its `$id`: a schema compiled again under the same id would clash with the first.
  const { $id: _id, properties, ...rest } = schema;
  return {
    ...rest,
    properties: {
      ...properties,
      kind: { ...properties.kind, enum: allKinds().map((k) => k.kind) },
      capabilities: { ...properties.capabilities, items: { ...properties.capabilities.items, enum: [...CAPABILITIES.keys()] } },
    },
  };
}

/** The tables as the host has them before any kind or capability is registered: what generated/manifest-schema.ts was compiled for. */
const BUILT_IN_TABLES = '0:0';

let validator: { version: string; validate: Validator } | undefined;

/**
 * Checks a manifest against `manifestSchema()`: with the validator `npm run bindgen` compiled
 * ahead of time for the built-in tables (no ajv at a start), compiled again only after a kind
 * or capability is registered.
 */
function validateManifest(value: unknown): string[] {
  const version = `${kindsVersion()}:${capabilitiesVersion()}`;
  if (validator?.version !== version) {
    validator = {
      version,
      validate: version === BUILT_IN_TABLES ? validatorOf(builtInManifestSchema as unknown as ValidateFunction) : compileValidator(manifestSchema()),
    };
  }
  return validator.validate(value);
}

/**
 * Most bytes a manifest section may hold: a manifest is a few hundred bytes, and one of
 * megabytes costs seconds to parse and check (200,000 unknown fields: a second).
 */
export const MAX_MANIFEST_BYTES = 16 * 1024;

function refuse(message: string): TesseraError {
  return new TesseraError('ERR_COMPONENT_LOAD', message);
}

/** Parses and validates a manifest payload. */
export function parseManifest(payload: Uint8Array): Manifest {
  if (payload.length > MAX_MANIFEST_BYTES) {
    throw refuse(`the ${MANIFEST_SECTION} section is ${payload.length} bytes, over the ${MAX_MANIFEST_BYTES / 1024} KiB a manifest may hold`);
  }
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch (err) {
    throw refuse(`the ${MANIFEST_SECTION} section is not valid UTF-8 JSON: ${(err as Error).message}`);
  }
  const problems = validateManifest(value);
  if (problems.length > 0) throw refuse(`the ${MANIFEST_SECTION} section is invalid: ${problems.join('; ')}`);
  const manifest = value as Manifest;
  const { typePrefix } = kindOf(manifest.kind)!;
  if (!manifest.type.startsWith(typePrefix)) {
    throw refuse(`the ${MANIFEST_SECTION} section is invalid: type: "${manifest.type}" is no ${manifest.kind} type (the type of a ${manifest.kind} component starts with "${typePrefix}")`);
  }
  // Here rather than JSON Schema's `uniqueItems`, which ajv checks pairwise: quadratic in the list.
  const seen = new Set<string>();
  for (const capability of manifest.capabilities) {
    if (seen.has(capability)) throw refuse(`the ${MANIFEST_SECTION} section is invalid: capabilities: "${capability}" is listed twice`);
    seen.add(capability);
  }
  if (!SUPPORTED_ABI_VERSIONS.includes(manifest.abi)) {
    throw refuse(
      `the component targets ABI ${manifest.abi} (tessera:components@${manifest.abi}) but this host supports ` +
        `${SUPPORTED_ABI_VERSIONS.join(', ')}: rebuild it against a supported SDK version`,
    );
  }
  return manifest;
}

/** The manifest of a core module; refuses a module with none or with two. */
export function readManifest(bytes: Uint8Array): Manifest {
  const found = readCustomSections(bytes, MANIFEST_SECTION);
  if (found.length === 0) {
    throw refuse(`no ${MANIFEST_SECTION} custom section: build the module with a Tessera SDK or \`tessera component build\``);
  }
  if (found.length > 1) throw refuse(`${found.length} ${MANIFEST_SECTION} sections: a module carries exactly one`);
  return parseManifest(found[0]!);
}

/**
 * The manifest of a Component Model component: its own top-level `tessera:manifest` section
 * if it has one (a component built by a toolchain that cannot reach its core modules, e.g.
 * componentize-js, gets one appended), else the one inside its core modules (a core module
 * wrapped by `jco embed` + `jco new` keeps its own). Refuses none, or two at the same level.
 */
export function readComponentManifest(bytes: Uint8Array): Manifest {
  const shape = readComponentShape(bytes);
  const top = shape.customSections.filter((s) => s.name === MANIFEST_SECTION);
  if (top.length > 1) throw refuse(`${top.length} top-level ${MANIFEST_SECTION} sections: a component carries exactly one`);
  if (top.length === 1) return parseManifest(top[0]!.data);
  const nested = shape.coreModules.flatMap((module) => readCustomSections(module, MANIFEST_SECTION));
  if (nested.length === 0) {
    throw refuse(
      `no ${MANIFEST_SECTION} custom section, neither at the component's top level nor in its core modules: ` +
        `build it with a Tessera SDK (then \`jco new\`), or append one to the component`,
    );
  }
  if (nested.length > 1) throw refuse(`${nested.length} ${MANIFEST_SECTION} sections in its core modules and none at the top level: it must carry exactly one`);
  return parseManifest(nested[0]!);
}

/** The manifest of either binary form: a core module's or a component's. */
export function readAnyManifest(bytes: Uint8Array): Manifest {
  return isComponentBinary(bytes) ? readComponentManifest(bytes) : readManifest(bytes);
}
