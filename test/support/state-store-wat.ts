// A minimal core module of the `state-store` world, in WAT: every export the world requires
// with the core signature the canonical ABI gives it, a bump allocator, and answers that read
// as success (`ok`, `ok(none)`, `ok([])`). Hostile fixtures are this skeleton with one thing
// broken, so each gets past every check but the one it aims at.
//
// The signatures are written out here, not computed by the host, so a drift between the
// host's checker and the WIT (abi/wit/state.wit) shows up as a failing fixture.
import { ABI_VERSION, type Manifest } from '../../abi/ts/manifest.ts';
import { appendCustomSection } from '../../host/sandbox/wasm-binary.ts';
import { wat } from './wat.ts';

/** Core import module of a host interface, as wit-bindgen names it. */
export const importModule = (iface: string): string => `tessera:components/${iface}@${ABI_VERSION}`;

/** Core export name of a `state` function, as wit-bindgen names it. */
export const stateExport = (fn: StateFunction): string => `tessera:components/state@${ABI_VERSION}#${fn}`;

interface CoreSignature {
  params: string[];
  results: string[];
}

const i32s = (n: number): string[] => new Array<string>(n).fill('i32');

/**
 * The core signature of each export of interface `state`. Every result flattens to more than
 * one value, so each returns one i32: a pointer to its result in guest memory. Parameters:
 * a string or list is (ptr, len), an option adds a discriminant, an enum is one i32;
 * `set` flattens to 14 values, under the 16-value limit, so it is passed flat.
 */
export const STATE_EXPORTS = {
  // config: list<tuple<string,string>>
  init: { params: i32s(2), results: ['i32'] },
  features: { params: [], results: ['i32'] },
  // key(2) consistency(1) metadata(2)
  get: { params: i32s(5), results: ['i32'] },
  // key(2) value(2) etag(3) content-type(3) concurrency(1) consistency(1) metadata(2)
  set: { params: i32s(14), results: ['i32'] },
  // key(2) etag(3) concurrency(1) consistency(1) metadata(2)
  delete: { params: i32s(9), results: ['i32'] },
  'bulk-get': { params: i32s(2), results: ['i32'] },
  'bulk-set': { params: i32s(2), results: ['i32'] },
  'bulk-delete': { params: i32s(2), results: ['i32'] },
  // operations(2) metadata(2)
  transact: { params: i32s(4), results: ['i32'] },
  ping: { params: [], results: ['i32'] },
} as const satisfies Record<string, CoreSignature>;

export type StateFunction = keyof typeof STATE_EXPORTS;

/** Core signatures of the host functions the world offers, by interface. */
export const HOST_IMPORTS = {
  log: { log: { params: i32s(3), results: [] } },
  clock: { 'now-ms': { params: [], results: ['i64'] }, 'monotonic-ns': { params: [], results: ['i64'] } },
  random: { 'get-random-bytes': { params: i32s(2), results: [] } },
  sleep: { 'sleep-ms': { params: i32s(1), results: [] } },
} as const satisfies Record<string, Record<string, CoreSignature>>;

/** The manifest of the skeleton: a bare state store that asks for no capability. */
export const SKELETON_MANIFEST: Manifest = {
  kind: 'state-store',
  type: 'state.skeleton',
  version: 'v1',
  abi: ABI_VERSION,
  capabilities: [],
  description: 'Minimal state-store skeleton for tests.',
};

/**
 * Where every export's result lives: 64 zero bytes. Read as any of the world's result types
 * it is the `ok` case with an empty payload (`ok`, `ok(none)`, `ok([])`), and `features`
 * reads it as an empty list.
 */
const RESULT_AREA = 16;
const HEAP_START = 1024;

export interface SkeletonOptions {
  /** Exports to leave out. */
  omit?: StateFunction[];
  /** Replacement bodies (WAT instructions) for exports, e.g. `{ init: 'unreachable' }`. */
  bodies?: Partial<Record<StateFunction, string>>;
  /** Replacement core signatures for exports (give a body that fits, too). */
  signatures?: Partial<Record<StateFunction, CoreSignature>>;
  /** Extra `(import ...)` fields; WAT puts imports before every definition. */
  imports?: string[];
  /** Extra module fields after the skeleton's own. */
  fields?: string[];
  /** Leave out the `memory` export (the memory is still defined). */
  omitMemoryExport?: boolean;
  /** Leave out `cabi_realloc`. */
  omitRealloc?: boolean;
  /** The memory's limits and flags in WAT (`1`, `1 65536`, `1 1 shared`); `1` by default. */
  memory?: string;
}

const signatureWat = ({ params, results }: CoreSignature): string =>
  `${params.length ? ` (param ${params.join(' ')})` : ''}${results.length ? ` (result ${results.join(' ')})` : ''}`;

/** WAT for an import of a host function, typed as the ABI says unless `signature` is given. */
export function hostImportWat(iface: keyof typeof HOST_IMPORTS, fn: string, signature?: CoreSignature): string {
  const sig = signature ?? (HOST_IMPORTS[iface] as Record<string, CoreSignature>)[fn];
  if (sig === undefined) throw new Error(`interface ${iface} has no function ${fn}; pass its signature`);
  return `(import "${importModule(iface)}" "${fn}" (func${signatureWat(sig)}))`;
}

/**
 * WAT for `cabi_realloc` (exported unless `exported` is false) over a global `$heap`: a bump
 * allocator that never frees and grows memory when the heap passes its end.
 */
export const reallocWat = (exported = true): string => `  ;; A bump allocator: never frees, grows memory when the heap passes its end.
  (func $realloc${exported ? ' (export "cabi_realloc")' : ''} (param $old i32) (param $old_size i32) (param $align i32) (param $size i32) (result i32)
    (local $ptr i32)
    (local.set $ptr
      (i32.and
        (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
        (i32.sub (i32.const 0) (local.get $align))))
    (global.set $heap (i32.add (local.get $ptr) (local.get $size)))
    (if (i32.gt_u (global.get $heap) (i32.mul (memory.size) (i32.const 65536)))
      (then
        (if (i32.eq
              (memory.grow (i32.sub (i32.add (i32.shr_u (global.get $heap) (i32.const 16)) (i32.const 1)) (memory.size)))
              (i32.const -1))
          (then unreachable))))
    (if (local.get $old)
      (then
        (memory.copy (local.get $ptr) (local.get $old)
          (select (local.get $old_size) (local.get $size) (i32.lt_u (local.get $old_size) (local.get $size))))))
    (local.get $ptr))`;

/** The skeleton's WAT text, with the changes `options` asks for. */
export function stateStoreWat(options: SkeletonOptions = {}): string {
  const omit = new Set(options.omit ?? []);
  const exports = (Object.keys(STATE_EXPORTS) as StateFunction[])
    .filter((fn) => !omit.has(fn))
    .map((fn) => {
      const sig = options.signatures?.[fn] ?? STATE_EXPORTS[fn];
      const body = options.bodies?.[fn] ?? `(i32.const ${RESULT_AREA})`;
      return `  (func (export "${stateExport(fn)}")${signatureWat(sig)}\n    ${body})`;
    });
  const realloc = reallocWat(!options.omitRealloc);
  return [
    '(module',
    ...(options.imports ?? []).map((i) => `  ${i}`),
    `  (memory $memory${options.omitMemoryExport ? '' : ' (export "memory")'} ${options.memory ?? '1'})`,
    `  (global $heap (mut i32) (i32.const ${HEAP_START}))`,
    realloc,
    ...exports,
    ...(options.fields ?? []).map((f) => `  ${f}`),
    ')',
  ].join('\n');
}

/** Adds a `tessera:manifest` section holding `manifest` as JSON (any shape, for hostile ones). */
export function withManifest(bytes: Uint8Array, manifest: unknown): Uint8Array {
  return appendCustomSection(bytes, 'tessera:manifest', new TextEncoder().encode(JSON.stringify(manifest)));
}

export interface SkeletonModuleOptions extends SkeletonOptions {
  /** Fields merged over SKELETON_MANIFEST; `null` leaves the manifest section out. */
  manifest?: Partial<Record<keyof Manifest, unknown>> | null;
}

/** The skeleton as a `.wasm` file's bytes: compiled WAT plus its manifest section. */
export function stateStoreModule(options: SkeletonModuleOptions = {}): Uint8Array {
  const bytes = wat(stateStoreWat(options), { bulk_memory: true });
  if (options.manifest === null) return bytes;
  return withManifest(bytes, { ...SKELETON_MANIFEST, ...options.manifest });
}
