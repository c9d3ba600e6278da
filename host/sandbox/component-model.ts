// The Component Model path: a `.wasm` in the component binary format becomes the same
// checked, capped, metered `CompiledComponent` and the same `ComponentInstance` as a core
// module, so LiveComponent and the bindings above it cannot tell the two apart.
//
// jco's transpiler (`@bytecodealliance/jco-transpile`) turns the component into JS glue plus
// its core modules. The glue runs in instantiation mode with an explicit import object built
// from our capabilities (never jco's WASI shim, which grants the whole filesystem and
// network); every core module reaches V8 through our `getCoreModule` and `instantiateCore`
// hooks, memory-capped and fuel-metered like a core module; async host functions suspend the
// component through JSPI. What the glue throws for an export's `result::err` becomes the
// `{ tag: 'err', val }` value the core path lifts. Transpiling, checking and compiling
// (`prepareComponentModel`) run on the load worker; only the glue is loaded where it runs.
import type { Manifest } from '../../abi/ts/manifest.ts';
import { TesseraError } from '../errors.ts';
import { witSources, type KindContract } from './abi-contract.ts';
import { jsName } from './abi-layout.ts';
import { NO_GRANTS } from './capabilities/capability.ts';
import { CAPABILITIES, hostFunctions } from './capabilities/index.ts';
import { readComponentShape, type ComponentShape } from './component-binary.ts';
import type { CompiledComponent } from './compiled-component.ts';
import { LIFECYCLE_HARD_LIMIT_MS } from './call-meter.ts';
import { instanceMeter, type ComponentInstance, type InstanceOptions, type LiftedCall } from './component-instance.ts';
import { compileHardened, harden, type HardenLimits } from './harden.ts';
import { FUEL_EXPORT, FUEL_HOOKS_MODULE } from './metering.ts';
import { checkExportCount, type CheckedModule } from './module-check.ts';
import type { WitFunction, WitPackage, WitType } from './wit/ast.ts';

/** The glue's `instantiate`, as jco generates it in instantiation mode. */
type GlueInstantiate = (
  getCoreModule: (file: string) => WebAssembly.Module,
  imports: Record<string, Record<string, Function>>,
  instantiateCore: (module: WebAssembly.Module, imports?: WebAssembly.Imports) => WebAssembly.Instance,
) => Promise<Record<string, Record<string, Function> | undefined>>;

/**
 * A Component Model binary ready to be instantiated, as the load worker posts it: jco's glue
 * as source text and the compiled core modules (a `WebAssembly.Module` crosses threads).
 */
export interface PreparedComponentModel {
  readonly glue: string;
  /** The component's sha256 (and `+jspi` when it runs under JSPI): one loaded glue per key. */
  readonly glueKey: string;
  /** Every core module the glue may ask for, by file name: capped and metered. */
  readonly modules: ReadonlyMap<string, WebAssembly.Module>;
  /** The glue's import specifiers (`tessera:components/log`) and the WIT interface of each. */
  readonly importSpecifiers: ReadonlyMap<string, string>;
  /** The file name of the largest core module: the component's own code. */
  readonly mainFile: string;
}

/** What a compiled component keeps to make instances of a Component Model binary. */
export interface ComponentModelCode {
  readonly instantiate: GlueInstantiate;
  /** Every core module the glue may ask for, by file name: capped and metered. */
  readonly modules: ReadonlyMap<string, WebAssembly.Module>;
  /** The glue's import specifiers (`tessera:components/log`) and the WIT interface of each. */
  readonly importSpecifiers: ReadonlyMap<string, string>;
  /** The largest core module: the component's own code, whose memory the host measures. */
  readonly mainModule: WebAssembly.Module;
}

export interface CheckedComponentModel extends CheckedModule {
  prepared: PreparedComponentModel;
}

export interface ComponentModelOptions extends HardenLimits {
  sha256: string;
}

/** One transpile of one component: the glue's source and its core modules, by file name. */
interface Transpiled {
  glue: string;
  coreModules: Map<string, Uint8Array>;
  /** `interfaces/*.d.ts` by the WIT interface each declares (`tessera:components/state@0.1.0`). */
  declarations: Map<string, string>;
  imports: string[];
}

/**
 * Transpiles kept per sha256 of the component (and whether it runs under JSPI), the newest
 * few: a transpile holds the component's core modules, up to the module size limit each.
 */
const TRANSPILE_CACHE_SIZE = 4;
const transpiles = new Map<string, Promise<Transpiled>>();
/** Loaded glue modules per key; a data: URL module stays in V8's module map once imported anyway. */
const GLUE_CACHE_SIZE = 16;
const glues = new Map<string, Promise<GlueInstantiate>>();

type Bindgen = typeof import('@bytecodealliance/jco-transpile/component');
let bindgen: Promise<Bindgen> | undefined;

/** jco's transpiler, loaded on first use: a host that loads only core modules never pays for it. */
function loadBindgen(): Promise<Bindgen> {
  bindgen ??= import('@bytecodealliance/jco-transpile/component').then(async (m) => {
    await m.$init;
    return m;
  });
  return bindgen;
}

function refuse(message: string): TesseraError {
  return new TesseraError('ERR_COMPONENT_LOAD', message);
}

/** `tessera:components/state@0.1.0` -> its parts; undefined for a name of another shape. */
function parseInterfaceName(name: string): { pkg: string; iface: string; version: string | undefined } | undefined {
  const m = /^([a-z][a-z0-9-]*:[a-z][a-z0-9-]*)\/([a-z][a-z0-9-]*)(?:@(.+))?$/.exec(name);
  return m ? { pkg: m[1]!, iface: m[2]!, version: m[3] } : undefined;
}

const qualified = (pkg: WitPackage, iface: string): string => `${pkg.namespace}:${pkg.name}/${iface}@${pkg.version}`;

/**
 * The component's imports and exports against its world and manifest, by name: only host
 * interfaces of the world that the manifest requests (plus type-only interfaces of the
 * package, such as `types`), of this host's ABI version; the world's interface exported.
 * Every refusal names the import or export.
 */
export function checkComponentShape(shape: ComponentShape, manifest: Manifest, contract: KindContract, pkg: WitPackage): CheckedModule {
  const problems: string[] = [];
  const importedInterfaces = new Set<string>();
  const ours = `${pkg.namespace}:${pkg.name}`;
  const offered = [...contract.imports.keys()].map((i) => qualified(pkg, i));
  for (const imp of shape.imports) {
    const label = `import "${imp.name}"`;
    const name = parseInterfaceName(imp.name);
    if (imp.kind !== 'instance' || name === undefined) {
      const what = imp.kind !== 'instance' ? `is a ${imp.kind.replace('-', ' ')}` : 'is named as no WIT interface';
      problems.push(`${label} ${what}: a component imports only host interfaces (instances) of its world`);
      continue;
    }
    if (name.pkg !== ours) {
      const wasi = name.pkg.startsWith('wasi:') ? ' (WASI is never granted: the host offers its own capabilities instead)' : '';
      problems.push(`${label} is not offered by world "${contract.world}"${wasi} (it offers ${offered.join(', ')})`);
      continue;
    }
    if (name.version !== pkg.version) {
      problems.push(`${label} targets ABI ${name.version ?? '(no version)'} (${ours}@${name.version ?? '?'}) but this host supports ${pkg.version}`);
      continue;
    }
    const iface = pkg.interfaces.get(name.iface);
    if (contract.imports.has(name.iface)) {
      if (!manifest.capabilities.includes(name.iface)) {
        problems.push(`${label} needs capability "${name.iface}", which the manifest does not request`);
        continue;
      }
      importedInterfaces.add(name.iface);
    } else if (iface === undefined || iface.functions.length > 0) {
      problems.push(`${label} is not offered by world "${contract.world}" (it offers ${offered.join(', ')})`);
    }
  }

  const exported = new Set(shape.exports.filter((e) => e.kind === 'instance').map((e) => e.name));
  const main = qualified(pkg, contract.exportInterface.name);
  if (!exported.has(main)) {
    const near = [...exported].filter((e) => parseInterfaceName(e)?.iface === contract.exportInterface.name);
    problems.push(
      `missing export "${main}" (interface "${contract.exportInterface.name}" of world "${contract.world}")` +
        (near.length ? `; it exports ${near.join(', ')} instead` : ''),
    );
  }
  const optionalExports = new Set([...contract.optionalExports.keys()].filter((i) => exported.has(qualified(pkg, i))));

  if (problems.length > 0) {
    throw refuse(`the component does not fit world "${contract.world}" of ABI ${manifest.abi}: ${problems.join('; ')}`);
  }
  const needsJspi = [...importedInterfaces].some((i) => (CAPABILITIES.get(i)?.async.size ?? 0) > 0);
  return { importedInterfaces, needsJspi, optionalExports };
}

/** The package's WIT (abi/wit, and what registered kinds and capabilities add) as one source text, for jco's tools that take WIT as a string. */
export function witSource(pkg: WitPackage): string {
  let text = `package ${pkg.namespace}:${pkg.name}@${pkg.version};\n`;
  for (const source of witSources()) text += source.text.replace(/^\s*package\s+[^;]+;/m, '');
  return text;
}

/** `/** @module Interface tessera:components/state@0.1.0 **\/` -> the interface name. */
function declaredInterface(dts: string): string | undefined {
  return /@module Interface (\S+) \*\*\//.exec(dts)?.[1];
}

/**
 * A declaration file as a set of its top-level declarations, comments removed: jco renders
 * every WIT type and function into TypeScript the same way, so two interfaces whose
 * declarations are equal have the same functions, parameters, fields, cases and names.
 */
function declarations(dts: string): Set<string> {
  const code = dts.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  return new Set(code.split(/\n(?=[^\s}])/).map((d) => d.replace(/\s+/g, ' ').trim()).filter((d) => d.length > 0));
}

const references = new Map<string, Promise<Map<string, Set<string>>>>();

/** The declarations jco writes for every interface of the kind's worlds, from our own WIT. */
function referenceDeclarations(contract: KindContract, pkg: WitPackage): Promise<Map<string, Set<string>>> {
  let found = references.get(contract.kind);
  if (found === undefined) {
    found = loadBindgen().then(({ generateTypes }) => {
      const world = `tessera-host-reference-${contract.kind}`;
      const lines = [
        ...[...contract.imports.keys()].map((i) => `import ${i};`),
        `export ${contract.exportInterface.name};`,
        ...[...contract.optionalExports.keys()].map((i) => `export ${i};`),
      ];
      const source = `${witSource(pkg)}\nworld ${world} {\n${lines.join('\n')}\n}\n`;
      const out = new Map<string, Set<string>>();
      for (const [file, bytes] of generateTypes(world, { wit: { tag: 'source', val: source }, world, instantiation: { tag: 'async' } })) {
        if (!file.startsWith('interfaces/')) continue;
        const text = new TextDecoder().decode(bytes);
        const iface = declaredInterface(text);
        if (iface !== undefined) out.set(iface, declarations(text));
      }
      return out;
    });
    references.set(contract.kind, found);
  }
  return found;
}

/**
 * The types of what the component imports and exports against our WIT: an exported
 * interface declares exactly what ours does; an imported one a subset (a component imports
 * only the functions it calls).
 */
async function checkTypes(transpiled: Transpiled, contract: KindContract, pkg: WitPackage, checked: CheckedModule): Promise<void> {
  const reference = await referenceDeclarations(contract, pkg);
  const problems: string[] = [];
  for (const [iface, dts] of transpiled.declarations) {
    const name = parseInterfaceName(iface);
    const want = reference.get(iface);
    if (name === undefined || want === undefined) continue;
    const have = declarations(dts);
    const exported = name.iface === contract.exportInterface.name || checked.optionalExports.has(name.iface);
    const extra = [...have].filter((d) => !want.has(d));
    const missing = exported ? [...want].filter((d) => !have.has(d)) : [];
    const show = (ds: string[]): string => ds.map((d) => `\`${d}\``).join(', ');
    if (extra.length > 0) problems.push(`${exported ? 'export' : 'import'} "${iface}" declares ${show(extra)}, which the ABI does not`);
    if (missing.length > 0) problems.push(`export "${iface}" lacks ${show(missing)}`);
  }
  if (problems.length > 0) throw refuse(`the component's types do not match ABI ${pkg.version}: ${problems.join('; ')}`);
}

/** The async host functions a component may import and the functions it exports, as jco names them for JSPI. */
function jspiNames(contract: KindContract, pkg: WitPackage, checked: CheckedModule): { imports: string[]; exports: string[] } {
  const imports: string[] = [];
  for (const iface of checked.importedInterfaces) {
    for (const fn of CAPABILITIES.get(iface)?.async ?? []) imports.push(`${qualified(pkg, iface)}#${fn}`);
  }
  const exports: string[] = [];
  for (const iface of [contract.exportInterface.name, ...checked.optionalExports]) {
    for (const fn of pkg.interfaces.get(iface)!.functions) exports.push(`${qualified(pkg, iface)}#${fn.name}`);
  }
  return { imports, exports };
}

function cached<T>(cache: Map<string, Promise<T>>, size: number, key: string, make: () => Promise<T>): Promise<T> {
  let found = cache.get(key);
  if (found !== undefined) {
    cache.delete(key);
    cache.set(key, found);
    return found;
  }
  found = make();
  cache.set(key, found);
  found.catch(() => cache.delete(key));
  while (cache.size > size) cache.delete(cache.keys().next().value!);
  return found;
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

async function transpile(bytes: Uint8Array, jspi: { imports: string[]; exports: string[] } | undefined): Promise<Transpiled> {
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
    throw refuse(`jco could not transpile the component: ${(err as Error).message}`);
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
  if (glue === undefined) throw refuse('jco produced no JavaScript for the component');
  return { glue: editGlue(glue), coreModules, declarations, imports: generated.imports };
}

/** Each core module hardened (checked by V8, memory capped, code metered), then compiled. */
async function compileCoreModule(file: string, bytes: Uint8Array, limits: HardenLimits): Promise<WebAssembly.Module> {
  let module: WebAssembly.Module;
  try {
    module = await compileHardened(harden(bytes, limits));
  } catch (err) {
    throw refuse(`core module ${file} of the component is ${(err as Error).message}`);
  }
  checkExportCount(WebAssembly.Module.exports(module).length, `core module ${file} of the component`);
  return module;
}

function loadGlue(key: string, source: string): Promise<GlueInstantiate> {
  return cached(glues, GLUE_CACHE_SIZE, key, async () => {
    const url = `data:text/javascript;base64,${Buffer.from(source).toString('base64')}`;
    const glue = (await import(url)) as { instantiate?: unknown };
    if (typeof glue.instantiate !== 'function') throw refuse('jco\'s glue for the component exports no instantiate function');
    return glue.instantiate as GlueInstantiate;
  });
}

/**
 * Checks a Component Model binary against its manifest and world, transpiles it (once per
 * sha256), checks its types, and compiles its core modules capped and metered. Runs on the
 * load worker: jco's transpile of a large component takes seconds.
 */
export async function prepareComponentModel(
  bytes: Uint8Array,
  manifest: Manifest,
  contract: KindContract,
  pkg: WitPackage,
  options: ComponentModelOptions,
): Promise<CheckedComponentModel> {
  const checked = checkComponentShape(readComponentShape(bytes), manifest, contract, pkg);
  const jspi = checked.needsJspi ? jspiNames(contract, pkg, checked) : undefined;
  const glueKey = `${options.sha256}${jspi ? '+jspi' : ''}`;
  const transpiled = await cached(transpiles, TRANSPILE_CACHE_SIZE, glueKey, () => transpile(bytes, jspi));
  await checkTypes(transpiled, contract, pkg, checked);

  const importSpecifiers = new Map<string, string>();
  for (const specifier of transpiled.imports) {
    const name = parseInterfaceName(specifier);
    if (name === undefined || name.pkg !== `${pkg.namespace}:${pkg.name}` || !pkg.interfaces.has(name.iface)) {
      throw refuse(`jco's glue for the component imports "${specifier}", which is no interface of ${pkg.namespace}:${pkg.name}`);
    }
    importSpecifiers.set(specifier, name.iface);
  }

  const files = [...transpiled.coreModules];
  if (files.length === 0) throw refuse('the component holds no core module');
  const compiled = await Promise.all(files.map(([file, b]) => compileCoreModule(file, b, options)));
  const modules = new Map(files.map(([file], i) => [file, compiled[i]!]));
  const largest = files.reduce((best, [, b], i) => (b.length > files[best]![1].length ? i : best), 0);
  return { ...checked, prepared: { glue: transpiled.glue, glueKey, modules, importSpecifiers, mainFile: files[largest]![0] } };
}

/** Loads the glue of a prepared component where it will run, once per key. */
async function code(prepared: PreparedComponentModel): Promise<ComponentModelCode> {
  const instantiate = await loadGlue(prepared.glueKey, prepared.glue);
  return { instantiate, modules: prepared.modules, importSpecifiers: prepared.importSpecifiers, mainModule: prepared.modules.get(prepared.mainFile)! };
}

const isResult = (t: WitType | undefined): boolean => {
  while (t?.kind === 'named') t = t.type;
  return t?.kind === 'result';
};

/** What jco's glue throws for an export's `result::err` (a ComponentError) carries it as `payload`. */
function componentErrorPayload(err: unknown): { found: boolean; payload?: unknown } {
  if (err instanceof Error && err.constructor.name === 'ComponentError' && Object.hasOwn(err, 'payload')) {
    return { found: true, payload: (err as Error & { payload: unknown }).payload };
  }
  return { found: false };
}

/** jco's glue treats an object thrown with a `payload` as the `err` of an import's `result`. */
class ImportErr {
  readonly payload: unknown;
  constructor(payload: unknown) {
    this.payload = payload;
  }
}

/** A capability function as jco's glue calls it: a `result` is returned as its `ok` value or thrown as its `err`. */
function importFunction(fn: WitFunction, host: (...args: unknown[]) => unknown, isAsync: boolean): Function {
  if (!isResult(fn.result)) return host;
  const unwrap = (r: { tag: string; val: unknown }): unknown => {
    if (r.tag === 'err') throw new ImportErr(r.val);
    return r.val;
  };
  return isAsync ? async (...args: unknown[]) => unwrap((await host(...args)) as { tag: string; val: unknown }) : (...args: unknown[]) => unwrap(host(...args) as { tag: string; val: unknown });
}

/** An export as the core path lifts it: a `result` comes back as `{ tag, val }` whether ok or err. */
function exportCall(fn: WitFunction, call: Function, isAsync: boolean): LiftedCall {
  if (!isResult(fn.result)) return call as LiftedCall;
  const err = (e: unknown): { tag: 'err'; val: unknown } => {
    const { found, payload } = componentErrorPayload(e);
    if (!found) throw e;
    return { tag: 'err', val: payload };
  };
  if (isAsync) {
    return async (...args: unknown[]) => {
      try {
        return { tag: 'ok', val: await call(...args) };
      } catch (e) {
        return err(e);
      }
    };
  }
  return (...args: unknown[]) => {
    try {
      return { tag: 'ok', val: call(...args) };
    } catch (e) {
      return err(e);
    }
  };
}

/**
 * The fuel of every metered core module behind one `WebAssembly.Global`-like face: setting
 * it refuels each module, reading it gives the lowest, so an exhausted module reads negative.
 */
function fuelGauge(globals: WebAssembly.Global[]): WebAssembly.Global | undefined {
  if (globals.length <= 1) return globals[0];
  return {
    get value(): bigint {
      let low = globals[0]!.value as bigint;
      for (const g of globals) if ((g.value as bigint) < low) low = g.value as bigint;
      return low;
    },
    set value(fuel: bigint) {
      for (const g of globals) g.value = fuel;
    },
  } as unknown as WebAssembly.Global;
}

/** One instance of a Component Model component, with the same face as a core module's. */
async function instantiate(compiled: CompiledComponent, options: InstanceOptions): Promise<ComponentInstance> {
  const code = compiled.componentModel!;
  const { pkg, contract } = compiled;
  const { name, logger, grants = NO_GRANTS } = options;
  const { meter, hooks, cleanups, dispose } = instanceMeter(compiled, options);
  const wrap = <F extends (...a: any[]) => unknown>(f: F): F => (meter ? meter.wrap(f) : f);

  const imports: Record<string, Record<string, Function>> = {};
  for (const [specifier, iface] of code.importSpecifiers) {
    const table: Record<string, Function> = {};
    imports[specifier] = table;
    if (!compiled.importedInterfaces.has(iface)) continue; // a type-only interface such as `types`
    const capability = CAPABILITIES.get(iface)!;
    const host = hostFunctions(capability, contract.imports.get(iface)!, { component: name, logger, grants, onDispose: (cleanup) => cleanups.push(cleanup) });
    for (const fn of contract.imports.get(iface)!.functions) {
      const isAsync = capability.async.has(fn.name);
      const hostFn = host[fn.name] as (...args: unknown[]) => unknown;
      table[jsName(fn.name)] = wrap(importFunction(fn, isAsync && meter ? meter.waiting(hostFn) : hostFn, isAsync) as (...args: unknown[]) => unknown);
    }
  }

  const handedOut = new Set(code.modules.values());
  const instances: { module: WebAssembly.Module; instance: WebAssembly.Instance }[] = [];
  const getCoreModule = (file: string): WebAssembly.Module => {
    const module = code.modules.get(file);
    if (module === undefined) throw refuse(`jco's glue asked for core module ${file}, which the component does not hold`);
    return module;
  };
  const instantiateCore = (module: WebAssembly.Module, coreImports?: WebAssembly.Imports): WebAssembly.Instance => {
    if (!handedOut.has(module)) throw refuse('jco\'s glue tried to instantiate a core module the host did not compile');
    // Metered core modules call the host's fuel hooks, which jco's glue knows nothing of.
    const withHooks = hooks && WebAssembly.Module.imports(module).some((i) => i.module === FUEL_HOOKS_MODULE) ? { ...coreImports, [FUEL_HOOKS_MODULE]: hooks } : coreImports;
    const instance = new WebAssembly.Instance(module, withHooks);
    instances.push({ module, instance });
    return instance;
  };

  let root: Awaited<ReturnType<GlueInstantiate>>;
  // Start-up code runs inside jco's glue, which cannot pause: it gets the life-cycle limit.
  meter?.begin(compiled.cpuBudget, false, false, LIFECYCLE_HARD_LIMIT_MS);
  try {
    root = await code.instantiate(getCoreModule, imports, instantiateCore);
  } catch (err) {
    dispose();
    // A core module's start-up code runs during instantiation, under the meter.
    if (meter?.stopped !== undefined) throw new TesseraError('ERR_COMPONENT_TRAP', `trapped while instantiating: ${meter.stopped}`);
    throw err;
  }

  const calls = new Map<string, LiftedCall>();
  const lift = (iface: string, key: (fn: WitFunction) => string): void => {
    const exported = root[qualified(pkg, iface)];
    for (const fn of pkg.interfaces.get(iface)!.functions) {
      const call = exported?.[jsName(fn.name)];
      if (typeof call !== 'function') {
        dispose();
        throw refuse(`the component's export "${qualified(pkg, iface)}" has no function "${fn.name}"`);
      }
      calls.set(key(fn), exportCall(fn, call, compiled.needsJspi));
    }
  };
  lift(contract.exportInterface.name, (fn) => fn.name);
  for (const iface of compiled.optionalExports) lift(iface, (fn) => `${iface}#${fn.name}`);

  const main = instances.find((i) => i.module === code.mainModule)?.instance;
  const memory =
    (main?.exports.memory as WebAssembly.Memory | undefined) ??
    (instances.flatMap((i) => Object.values(i.instance.exports)).find((e) => e instanceof WebAssembly.Memory) as WebAssembly.Memory | undefined) ??
    new WebAssembly.Memory({ initial: 0 });
  const fuel = fuelGauge(instances.map((i) => i.instance.exports[FUEL_EXPORT]).filter((g): g is WebAssembly.Global => g instanceof WebAssembly.Global));
  if (meter) meter.fuel = fuel;
  // jco's glue calls cabi_realloc and post-return itself, around the export: a pause is never safe.
  return { calls, pausableCalls: () => undefined, memory, fuel, meter, dispose, memoryBytes: () => memory.buffer.byteLength };
}

/** Gives CompiledComponent the code of a prepared component, and instantiates it for ComponentInstance. */
export const ComponentModelLoader = { code, instantiate } as const;
