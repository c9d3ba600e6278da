// One live instance of a compiled component: its import object (only the capabilities it
// imports), its memory bound to the canonical ABI, and one lifted JS function per export.
// Calls through JSPI only when an import can suspend; otherwise exports are called directly.
import type { Logger } from '../observability/logger.ts';
import { NO_GRANTS, type Grants } from './capabilities/capability.ts';
import { CAPABILITIES } from './capabilities/index.ts';
import {
  GuestMemory,
  compileAsyncExportCall,
  compileExportCall,
  compileImport,
  exportName,
  importModuleName,
  postReturnName,
} from './canonical-abi.ts';
import type { CompiledComponent } from './compiled-component.ts';
import { ComponentModelLoader } from './component-model.ts';
import { FUEL_EXPORT, fuelExhausted } from './metering.ts';
import { TesseraError } from '../errors.ts';
import type { WitFunction } from './wit/ast.ts';

export type LiftedCall = (...args: unknown[]) => unknown;

export interface ComponentInstance {
  /**
   * Lifted exports: the world's interface by WIT function name (`get`), optional interfaces
   * as `interface#function` (`snapshot#restore`). Each returns a Promise under JSPI.
   */
  readonly calls: ReadonlyMap<string, LiftedCall>;
  readonly memory: WebAssembly.Memory;
  /** The CPU fuel counter of a metered module, reset before each call. */
  readonly fuel: WebAssembly.Global | undefined;
  /** Releases what the instance's capabilities hold (sockets); call when dropping it. */
  dispose(): void;
}

/** Instantiates and runs the reactor initialiser (`_initialize`), if any, before any export. */
export async function instantiate(compiled: CompiledComponent, name: string, logger: Logger, grants: Grants = NO_GRANTS): Promise<ComponentInstance> {
  if (compiled.componentModel !== undefined) return ComponentModelLoader.instantiate(compiled, name, logger, grants);
  const cleanups: (() => void)[] = [];
  const dispose = (): void => {
    for (const cleanup of cleanups.splice(0)) cleanup();
  };
  const { pkg, contract } = compiled;
  const mem = new GuestMemory();
  const imports: WebAssembly.Imports = {};
  for (const ifaceName of compiled.importedInterfaces) {
    const capability = CAPABILITIES.get(ifaceName)!;
    const host = capability.build({ component: name, logger, grants, onDispose: (cleanup) => cleanups.push(cleanup) });
    const table: Record<string, WebAssembly.ImportValue> = {};
    for (const fn of contract.imports.get(ifaceName)!.functions) {
      const isAsync = capability.async.has(fn.name);
      const core = compileImport(fn, host[fn.name]!, mem, { async: isAsync, label: `${ifaceName}.${fn.name}` });
      table[fn.name] = isAsync ? (new WebAssembly.Suspending(core as (...a: unknown[]) => unknown) as unknown as Function) : core;
    }
    imports[importModuleName(pkg, ifaceName)] = table;
  }

  const instance = new WebAssembly.Instance(compiled.module, imports);
  const exports = instance.exports;
  const memory = exports.memory as WebAssembly.Memory;
  mem.bind(memory, exports.cabi_realloc as (a: number, b: number, c: number, d: number) => number);
  const initialize = exports._initialize as Function | undefined;
  if (initialize) {
    const fuel = exports[FUEL_EXPORT] as WebAssembly.Global | undefined;
    if (fuel) fuel.value = BigInt(compiled.cpuBudget);
    try {
      if (compiled.needsJspi) await WebAssembly.promising(initialize)();
      else initialize();
    } catch (err) {
      dispose();
      const why = fuel !== undefined && fuelExhausted(fuel) ? `ran out of its CPU budget of ${compiled.cpuBudget} units (an endless loop?)` : String((err as Error)?.message ?? err);
      // No `cause`: this message already says what the guest did.
      throw new TesseraError('ERR_COMPONENT_TRAP', `trapped in _initialize: ${why}`);
    }
  }

  const calls = new Map<string, LiftedCall>();
  const lift = (ifaceName: string, fn: WitFunction, key: string): void => {
    const coreName = exportName(pkg, ifaceName, fn.name);
    const core = exports[coreName] as Function;
    const post = exports[postReturnName(coreName)] as Function | undefined;
    const label = `${name}.${key}`;
    calls.set(
      key,
      compiled.needsJspi
        ? compileAsyncExportCall(fn, WebAssembly.promising(core), post, mem, label)
        : compileExportCall(fn, core, post, mem, label),
    );
  };
  for (const fn of contract.exports.values()) lift(contract.exportInterface.name, fn, fn.name);
  for (const ifaceName of compiled.optionalExports) {
    for (const fn of contract.optionalExports.get(ifaceName)!.functions) lift(ifaceName, fn, `${ifaceName}#${fn.name}`);
  }
  return { calls, memory, fuel: exports[FUEL_EXPORT] as WebAssembly.Global | undefined, dispose };
}
