// jco's transpiler (`@bytecodealliance/jco-transpile`) run on a Component Model binary: JS glue
// in instantiation mode (an `instantiate(getCoreModule, imports, instantiateCore)` function
// and no top-level side effects; jco-glue.ts evaluates it), the component's core modules, and
// the TypeScript declarations of its interfaces (component-model-check.ts compares them with
// ours). Runs on the load worker: the transpile of a large component takes seconds.
//
// jco-transpile is an optional peer dependency of the package: it brings a nested binaryen
// (~93 MB) that is never called, so an install that loads only core modules goes without it,
// and a Component Model component then fails to load with the command that adds it.
import pkg from '../../package.json' with { type: 'json' };
import { TesseraError } from '../errors.ts';

type Bindgen = typeof import('@bytecodealliance/jco-transpile/component');
let bindgen: Promise<Bindgen> | undefined;

/** The package to install for Component Model components, with the version range this host takes. */
export const JCO_TRANSPILE = `@bytecodealliance/jco-transpile@${pkg.peerDependencies['@bytecodealliance/jco-transpile']}`;

/** Whether `err` says that a package (jco-transpile, as the callers ask) is not installed. */
export function isMissingPackage(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND';
}

/** jco's transpiler, loaded on first use: a host that loads only core modules never pays for it. */
export function loadBindgen(): Promise<Bindgen> {
  bindgen ??= import('@bytecodealliance/jco-transpile/component').then(
    async (m) => {
      await m.$init;
      return m;
    },
    (err: unknown) => {
      bindgen = undefined; // installed later, it is found on the next load
      if (!isMissingPackage(err)) throw err;
      throw new TesseraError(
        'ERR_COMPONENT_LOAD',
        `a Component Model component needs jco's transpiler, which is not installed: run \`npm install ${JCO_TRANSPILE}\` where tessera-sidecar is installed`,
      );
    },
  );
  return bindgen;
}

/** One transpile of one component: the glue's source and its core modules, by file name. */
export interface Transpiled {
  glue: string;
  coreModules: Map<string, Uint8Array>;
  /** `interfaces/*.d.ts` by the WIT interface each declares (`tessera:components/state@0.1.0`). */
  declarations: Map<string, string>;
  imports: string[];
}

/** The async host functions a component imports and the functions it exports, as jco names them for JSPI. */
export interface JspiNames {
  imports: string[];
  exports: string[];
}

/** `/** @module Interface tessera:components/state@0.1.0 **\/` -> the interface name. */
export function declaredInterface(dts: string): string | undefined {
  return /@module Interface (\S+) \*\*\//.exec(dts)?.[1];
}

/**
 * Two edits to jco's glue, each made only where the glue has exactly the code it replaces
 * (other glue is kept as it is, correct but slower or worded differently):
 * - its debug logging is off for good unless JCO_DEBUG is set now: the glue reads
 *   `process.env` (a lookup in the C++ environment) a dozen times per call, measured as
 *   35-40% of a small call's cost;
 * - V8's trap messages are kept (`unreachable`), as the core path reports them, instead of
 *   being reworded the way wasmtime says them.
 */
const GLUE_EDITS: [from: string, to: string, when: () => boolean][] = [
  ['if (!globalThis?.process?.env?.JCO_DEBUG) { return; }', 'return;', () => !process.env.JCO_DEBUG],
  ['function _normalizeCoreTrap(err) {', 'function _normalizeCoreTrap(err) { return err;', () => true],
];

function editGlue(glue: string): string {
  for (const [from, to, when] of GLUE_EDITS) {
    if (when() && glue.split(from).length === 2) glue = glue.replace(from, to);
  }
  return glue;
}

/**
 * Transpiles kept per sha256 of the component (and whether it runs under JSPI), the newest
 * few: a transpile holds the component's core modules, up to the module size limit each.
 */
const TRANSPILE_CACHE_SIZE = 4;
const transpiles = new Map<string, Promise<Transpiled>>();

/** The transpile of the component whose sha256 (with `+jspi` when it runs under JSPI) is `key`, made once. */
export function transpileOnce(key: string, bytes: Uint8Array, jspi: JspiNames | undefined): Promise<Transpiled> {
  let found = transpiles.get(key);
  if (found !== undefined) {
    transpiles.delete(key);
    transpiles.set(key, found);
    return found;
  }
  found = transpile(bytes, jspi);
  transpiles.set(key, found);
  found.catch(() => transpiles.delete(key));
  while (transpiles.size > TRANSPILE_CACHE_SIZE) transpiles.delete(transpiles.keys().next().value!);
  return found;
}

async function transpile(bytes: Uint8Array, jspi: JspiNames | undefined): Promise<Transpiled> {
  const { generate } = await loadBindgen();
  let generated: ReturnType<Bindgen['generate']>;
  try {
    generated = generate(bytes, {
      name: 'component',
      instantiation: { tag: 'async' },
      // No `map`: every import is left to the import object; with an instantiation mode jco emits no WASI shim.
      asyncMode: jspi ? { tag: 'jspi', val: jspi } : undefined,
      // A `result::err` of an export throws a ComponentError carrying it, told apart from a trap by its `payload`.
      noComponentErrorWrapping: false,
      // Every core module goes through getCoreModule, none inlined as base64.
      base64Cutoff: 0,
      tlaCompat: false,
      noNodejsCompat: true,
    });
  } catch (err) {
    throw new TesseraError('ERR_COMPONENT_LOAD', `jco could not transpile the component: ${(err as Error).message}`);
  }
  const decode = (b: Uint8Array): string => new TextDecoder().decode(b);
  const coreModules = new Map<string, Uint8Array>();
  const declarations = new Map<string, string>();
  let glue: string | undefined;
  for (const [file, content] of generated.files) {
    if (file.endsWith('.wasm')) coreModules.set(file, content);
    else if (file === 'component.js') glue = decode(content);
    else if (file.startsWith('interfaces/') && file.endsWith('.d.ts')) {
      const text = decode(content);
      const iface = declaredInterface(text);
      if (iface !== undefined) declarations.set(iface, text);
    }
  }
  if (glue === undefined) throw new TesseraError('ERR_COMPONENT_LOAD', 'jco produced no JavaScript for the component');
  return { glue: editGlue(glue), coreModules, declarations, imports: generated.imports };
}
