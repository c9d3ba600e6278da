// One live instance of a compiled component: its import object (only the capabilities it
// imports), its memory bound to the canonical ABI, and one lifted JS function per export.
// Calls through JSPI when an import can suspend, or once a call ran past its CPU slice (so the
// next ones can be paused); otherwise exports are called directly.
import type { Logger } from '../observability/logger.ts';
import { NO_GRANTS, type Grants } from './capabilities/capability.ts';
import { CAPABILITIES, hostFunctions } from './capabilities/index.ts';
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
import { liftBudgetFor } from './guest-memory.ts';
import { ComponentModelLoader } from './component-model.ts';
import { CallMeter, LIFECYCLE_HARD_LIMIT_MS } from './call-meter.ts';
import { FUEL_EXPORT, FUEL_HOOKS_MODULE } from './metering.ts';
import { TesseraError } from '../errors.ts';
import type { WitFunction } from './wit/ast.ts';

export type LiftedCall = (...args: unknown[]) => unknown;

export interface ComponentInstance {
  /**
   * Lifted exports: the world's interface by WIT function name (`get`), optional interfaces
   * as `interface#function` (`snapshot#restore`). Each returns a Promise under JSPI.
   */
  readonly calls: ReadonlyMap<string, LiftedCall>;
  /**
   * The same exports called through JSPI, so a call that runs past its CPU slice is paused
   * instead of holding the event loop; undefined where that is not possible (a Component
   * Model component's glue calls its core exports itself). Made on first use.
   */
  pausableCalls(): ReadonlyMap<string, LiftedCall> | undefined;
  readonly memory: WebAssembly.Memory;
  /** Bytes of linear memory now; cheap to read on every call. */
  memoryBytes(): number;
  /** The CPU fuel counter of a metered module, and the host's half of its metering. */
  readonly fuel: WebAssembly.Global | undefined;
  readonly meter: CallMeter | undefined;
  /** Releases what the instance's capabilities hold (sockets); call when dropping it. */
  dispose(): void;
}

export interface InstanceOptions {
  name: string;
  logger: Logger;
  grants?: Grants;
  /** The longest a call may hold the event loop at a stretch (`tessera.dev/cpu-slice`). */
  cpuSliceMs?: number;
  /**
   * Aborts an instantiation that overran its deadline: what its capabilities hold is
   * released and its fuel set negative, so a suspended `_initialize` unwinds.
   */
  signal?: AbortSignal;
}

/**
 * The metering of a new instance (none when the module is not metered), its `tessera:fuel`
 * hooks, and a `dispose` that releases what the instance's capabilities hold; an abort of
 * `signal` disposes.
 */
export function instanceMeter(compiled: CompiledComponent, options: InstanceOptions): { meter: CallMeter | undefined; hooks: Record<string, WebAssembly.ImportValue> | undefined; cleanups: (() => void)[]; dispose: () => void } {
  const cleanups: (() => void)[] = [];
  const dispose = (): void => {
    for (const cleanup of cleanups.splice(0)) cleanup();
  };
  const meter = compiled.cpuBudget > 0 ? new CallMeter(options.cpuSliceMs) : undefined;
  if (meter) cleanups.push(() => meter.dispose());
  options.signal?.addEventListener(
    'abort',
    () => {
      meter?.halt('stopped at its deadline');
      dispose();
    },
    { once: true },
  );
  const hooks = meter && { refuel: meter.refuel, yield: new WebAssembly.Suspending(meter.yield) as unknown as Function };
  return { meter, hooks, cleanups, dispose };
}

/** Instantiates and runs the reactor initialiser (`_initialize`), if any, before any export. */
export async function instantiate(compiled: CompiledComponent, options: InstanceOptions): Promise<ComponentInstance> {
  if (compiled.componentModel !== undefined) return ComponentModelLoader.instantiate(compiled, options);
  const { name, logger, grants = NO_GRANTS } = options;
  const { meter, hooks, cleanups, dispose } = instanceMeter(compiled, options);
  const { pkg, contract } = compiled;
  const mem = new GuestMemory();
  mem.maxLift = liftBudgetFor(compiled.memoryLimitBytes);
  const imports: WebAssembly.Imports = {};
  if (hooks) imports[FUEL_HOOKS_MODULE] = hooks;
  const wrap = <F extends (...a: any[]) => unknown>(f: F): F => (meter ? meter.wrap(f) : f);
  for (const ifaceName of compiled.importedInterfaces) {
    const capability = CAPABILITIES.get(ifaceName)!;
    const iface = contract.imports.get(ifaceName)!;
    const host = hostFunctions(capability, iface, { component: name, logger, grants, onDispose: (cleanup) => cleanups.push(cleanup) });
    const table: Record<string, WebAssembly.ImportValue> = {};
    for (const fn of iface.functions) {
      const isAsync = capability.async.has(fn.name);
      const hostFn = isAsync && meter ? meter.waiting(host[fn.name]!) : host[fn.name]!;
      const compiledImport = compileImport(fn, hostFn, mem, { async: isAsync, label: `${ifaceName}.${fn.name}` }) as (...a: unknown[]) => unknown;
      const core = capability.flatCost && meter ? meter.flat(compiledImport) : wrap(compiledImport);
      table[fn.name] = isAsync ? (new WebAssembly.Suspending(core) as unknown as Function) : core;
    }
    imports[importModuleName(pkg, ifaceName)] = table;
  }

  const instance = new WebAssembly.Instance(compiled.module, imports);
  const exports = instance.exports;
  const memory = exports.memory as WebAssembly.Memory;
  mem.bind(memory, exports.cabi_realloc as (a: number, b: number, c: number, d: number) => number);
  const fuel = exports[FUEL_EXPORT] as WebAssembly.Global | undefined;
  if (meter) meter.fuel = fuel;
  const initialize = exports._initialize as Function | undefined;
  if (initialize) {
    meter?.begin(compiled.cpuBudget, false, compiled.needsJspi, LIFECYCLE_HARD_LIMIT_MS);
    try {
      if (compiled.needsJspi) await WebAssembly.promising(initialize)();
      else initialize();
    } catch (err) {
      dispose();
      const why = meter?.stopped ?? String((err as Error)?.message ?? err);
      // No `cause`: this message already says what the guest did.
      throw new TesseraError('ERR_COMPONENT_TRAP', `trapped in _initialize: ${why}`);
    }
  }

  const lifted = (pausable: boolean): Map<string, LiftedCall> => {
    const calls = new Map<string, LiftedCall>();
    const lift = (ifaceName: string, fn: WitFunction, key: string): void => {
      const coreName = exportName(pkg, ifaceName, fn.name);
      const core = exports[coreName] as Function;
      const post = exports[postReturnName(coreName)] as Function | undefined;
      const label = `${name}.${key}`;
      const promising = (): Function => (meter ? meter.pausing(WebAssembly.promising(core)) : WebAssembly.promising(core));
      calls.set(key, pausable ? compileAsyncExportCall(fn, promising(), post, mem, label) : compileExportCall(fn, core, post, mem, label));
    };
    for (const fn of contract.exports.values()) lift(contract.exportInterface.name, fn, fn.name);
    for (const ifaceName of compiled.optionalExports) {
      for (const fn of contract.optionalExports.get(ifaceName)!.functions) lift(ifaceName, fn, `${ifaceName}#${fn.name}`);
    }
    return calls;
  };
  const calls = lifted(compiled.needsJspi);
  let pausable: Map<string, LiftedCall> | undefined = compiled.needsJspi ? calls : undefined;
  return {
    calls,
    pausableCalls: () => (pausable ??= lifted(true)),
    memory,
    fuel,
    meter,
    dispose,
    memoryBytes: () => (mem.refresh(), mem.u8.length),
  };
}
