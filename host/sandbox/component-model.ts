// The Component Model path: a `.wasm` in the component binary format becomes the same
// checked, capped, metered code (a `ComponentCode`) and the same `ComponentInstance` as a
// core module, so LiveComponent and the adapters above it cannot tell the two apart.
//
// jco's transpiler (jco-transpile.ts) turns the component into JS glue plus its core modules.
// The glue (jco-glue.ts) runs in instantiation mode with an explicit import object built from
// our capabilities (never jco's WASI shim, which grants the whole filesystem and network);
// every core module reaches V8 through our `getCoreModule` and `instantiateCore` hooks,
// hardened (harden.ts) like a core module; async host functions suspend the component
// through JSPI. What the glue throws for an export's `result::err` becomes the
// `{ tag: 'err', val }` value the core path lifts. Checking, transpiling and compiling
// (`prepareComponentModel`) run on the load worker; only the glue is evaluated where it runs.
import type { Manifest } from '../../abi/ts/manifest.ts';
import { TesseraError } from '../errors.ts';
import type { KindContract } from './abi-contract.ts';
import { jsName } from './abi-layout.ts';
import { LIFECYCLE_HARD_LIMIT_MS } from './call-meter.ts';
import type { CodeFacts, ComponentCode, ComponentInstance, InstanceOptions, LiftedCall, PostedComponentModel } from './component-code.ts';
import { readComponentShape } from './component-binary.ts';
import { checkComponentShape, checkTypes, jspiNames, parseInterfaceName, qualified } from './component-model-check.ts';
import { compileHardened } from './compile-hardened.ts';
import { harden, type HardenLimits } from './harden.ts';
import { instanceHost } from './instance-host.ts';
import { loadGlue, type GlueInstantiate, type LoadedGlue } from './jco-glue.ts';
import { transpileOnce } from './jco-transpile.ts';
import { GROW_REFUSED_EXPORT, takeRefusedGrow } from './grow-watch.ts';
import { FUEL_EXPORT, FUEL_HOOKS_MODULE } from './metering.ts';
import { checkExportCount, type CheckedModule } from './module-check.ts';
import type { WitFunction, WitPackage, WitType } from './wit/ast.ts';

function refuse(message: string): TesseraError {
  return new TesseraError('ERR_COMPONENT_LOAD', message);
}

/** Each core module hardened (checked by V8, memory capped, code metered), then compiled. */
function compileCoreModule(file: string, bytes: Uint8Array, limits: HardenLimits): WebAssembly.Module {
  let module: WebAssembly.Module;
  try {
    module = compileHardened(harden(bytes, limits));
  } catch (err) {
    throw refuse(`core module ${file} of the component is ${(err as Error).message}`);
  }
  checkExportCount(WebAssembly.Module.exports(module).length, `core module ${file} of the component`);
  return module;
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
  options: HardenLimits & { sha256: string },
): Promise<{ checked: CheckedModule; code: PostedComponentModel }> {
  const checked = checkComponentShape(readComponentShape(bytes), manifest, contract, pkg);
  const jspi = checked.needsJspi ? jspiNames(contract, pkg, checked) : undefined;
  const transpiled = await transpileOnce(`${options.sha256}${jspi ? '+jspi' : ''}`, bytes, jspi);
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
  const compiled = files.map(([file, b]) => compileCoreModule(file, b, options));
  const modules = new Map(files.map(([file], i) => [file, compiled[i]!]));
  const largest = files.reduce((best, [, b], i) => (b.length > files[best]![1].length ? i : best), 0);
  return { checked, code: { format: 'component-model', glue: transpiled.glue, modules, importSpecifiers, mainFile: files[largest]![0] } };
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
async function instantiate(code: ComponentModelCode, facts: CodeFacts, options: InstanceOptions): Promise<ComponentInstance> {
  const { pkg, contract } = facts;
  const { meter, hooks, interfaces, charged, dispose } = instanceHost(facts, options);

  const imports: Record<string, Record<string, Function>> = {};
  const hosted = new Map(interfaces.map((i) => [i.name, i]));
  for (const [specifier, iface] of code.importSpecifiers) {
    const table: Record<string, Function> = {};
    imports[specifier] = table;
    // A type-only interface such as `types` gets an empty table.
    for (const { fn, host, isAsync } of hosted.get(iface)?.functions ?? []) {
      table[jsName(fn.name)] = charged(importFunction(fn, host, isAsync) as (...args: unknown[]) => unknown);
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
  meter?.begin(facts.cpuBudget, false, false, LIFECYCLE_HARD_LIMIT_MS);
  try {
    root = await code.glue.instantiate(getCoreModule, imports, instantiateCore);
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
      calls.set(key(fn), exportCall(fn, call, facts.needsJspi));
    }
  };
  lift(contract.exportInterface.name, (fn) => fn.name);
  for (const iface of facts.optionalExports) lift(iface, (fn) => `${iface}#${fn.name}`);

  const main = instances.find((i) => i.module === code.module)?.instance;
  const memory =
    (main?.exports.memory as WebAssembly.Memory | undefined) ??
    (instances.flatMap((i) => Object.values(i.instance.exports)).find((e) => e instanceof WebAssembly.Memory) as WebAssembly.Memory | undefined) ??
    new WebAssembly.Memory({ initial: 0 });
  const globals = (name: string): WebAssembly.Global[] => instances.map((i) => i.instance.exports[name]).filter((g): g is WebAssembly.Global => g instanceof WebAssembly.Global);
  const fuel = fuelGauge(globals(FUEL_EXPORT));
  if (meter) meter.fuel = fuel;
  const refusedGrow = globals(GROW_REFUSED_EXPORT);
  // jco's glue calls cabi_realloc and post-return itself, around the export: a pause is never safe.
  return { calls, pausableCalls: () => undefined, memory, fuel, meter, takeRefusedGrow: () => takeRefusedGrow(refusedGrow), dispose, memoryBytes: () => memory.buffer.byteLength };
}

export class ComponentModelCode implements ComponentCode {
  readonly format = 'component-model';
  /** The largest core module: the component's own code, whose memory the host measures. */
  readonly module: WebAssembly.Module;
  /** jco's glue, shared with every component whose glue is the same; freed with the last of them. */
  readonly glue: LoadedGlue;
  /** Every core module the glue may ask for, by file name: capped and metered. */
  readonly modules: ReadonlyMap<string, WebAssembly.Module>;
  /** The glue's import specifiers (`tessera:components/log`) and the WIT interface of each. */
  readonly importSpecifiers: ReadonlyMap<string, string>;
  readonly #mainFile: string;

  /** The glue is evaluated here, where the instances will run. */
  constructor(posted: PostedComponentModel) {
    this.glue = loadGlue(posted.glue);
    this.modules = posted.modules;
    this.importSpecifiers = posted.importSpecifiers;
    this.#mainFile = posted.mainFile;
    this.module = posted.modules.get(posted.mainFile)!;
  }

  posted(): PostedComponentModel {
    return { format: this.format, glue: this.glue.source, modules: this.modules, importSpecifiers: this.importSpecifiers, mainFile: this.#mainFile };
  }

  instantiate(facts: CodeFacts, options: InstanceOptions): Promise<ComponentInstance> {
    return instantiate(this, facts, options);
  }
}
