// A core module's code: checked against its world (module-check.ts), hardened (harden.ts) and
// compiled by `prepareCoreModule` (on the load worker); its instances are made here: the
// import object holds only the capabilities it imports, lowered by the host's canonical ABI
// (canonical-abi.ts), and each export becomes one lifted JS function, made at its first
// call. Calls go through JSPI when an import can suspend, or once a call ran past its CPU
// slice (so the next ones can be paused); otherwise exports are called directly.
import type { Manifest } from '../../abi/ts/manifest.ts';
import { TesseraError } from '../errors.ts';
import type { KindContract } from './abi-contract.ts';
import { LIFECYCLE_HARD_LIMIT_MS } from './call-meter.ts';
import { CAPABILITIES } from './capabilities/index.ts';
import { GuestMemory, compileAsyncExportCall, compileExportCall, compileImport, exportName, importModuleName, postReturnName } from './canonical-abi.ts';
import type { CodeFacts, ComponentCode, ComponentInstance, InstanceOptions, LiftedCall, PostedCoreModule } from './component-code.ts';
import { GROW_REFUSED_EXPORT, takeRefusedGrow, withRefusedGrow } from './grow-watch.ts';
import { liftBudgetFor } from './guest-memory.ts';
import { compileHardened } from './compile-hardened.ts';
import { harden, type HardenLimits } from './harden.ts';
import { instanceHost } from './instance-host.ts';
import { FUEL_EXPORT, FUEL_HOOKS_MODULE } from './metering.ts';
import { checkModule, type CheckedModule } from './module-check.ts';
import { readModuleShape } from './wasm-binary.ts';
import type { WitFunction, WitPackage } from './wit/ast.ts';

const noAsync = new Set<string>();

/** Checks a core module against its manifest and world, then hardens and compiles it; `onHardened` sees the bytes compiled. */
export async function prepareCoreModule(
  bytes: Uint8Array,
  manifest: Manifest,
  contract: KindContract,
  pkg: WitPackage,
  limits: HardenLimits,
  onHardened?: (hardened: Uint8Array) => void,
): Promise<{ checked: CheckedModule; code: PostedCoreModule }> {
  const checked = checkModule(readModuleShape(bytes), manifest, contract, pkg, (iface) => CAPABILITIES.get(iface)?.async ?? noAsync);
  const hardened = harden(bytes, limits);
  const module = compileHardened(hardened);
  onHardened?.(hardened);
  return { checked, code: { format: 'core-module', module } };
}

export class CoreModuleCode implements ComponentCode {
  readonly format = 'core-module';
  readonly module: WebAssembly.Module;

  constructor(posted: PostedCoreModule) {
    this.module = posted.module;
  }

  posted(): PostedCoreModule {
    return { format: this.format, module: this.module };
  }

  /** Instantiates and runs the reactor initialiser (`_initialize`), if any, before any export. */
  async instantiate(facts: CodeFacts, options: InstanceOptions): Promise<ComponentInstance> {
    const { name } = options;
    const { meter, hooks, interfaces, charged, dispose } = instanceHost(facts, options);
    const { pkg, contract } = facts;
    const mem = new GuestMemory();
    mem.maxLift = liftBudgetFor(facts.memoryLimitBytes);
    const imports: WebAssembly.Imports = {};
    if (hooks) imports[FUEL_HOOKS_MODULE] = hooks;
    for (const iface of interfaces) {
      const table: Record<string, WebAssembly.ImportValue> = {};
      for (const { fn, host, isAsync } of iface.functions) {
        const compiledImport = compileImport(fn, host, mem, { async: isAsync, label: `${iface.name}.${fn.name}` }) as (...a: unknown[]) => unknown;
        const core = iface.flatCost && meter ? meter.flat(compiledImport) : charged(compiledImport);
        table[fn.name] = isAsync ? (new WebAssembly.Suspending(core) as unknown as Function) : core;
      }
      imports[importModuleName(pkg, iface.name)] = table;
    }

    const instance = new WebAssembly.Instance(this.module, imports);
    const exports = instance.exports;
    const memory = exports.memory as WebAssembly.Memory;
    mem.bind(memory, exports.cabi_realloc as (a: number, b: number, c: number, d: number) => number);
    const fuel = exports[FUEL_EXPORT] as WebAssembly.Global | undefined;
    if (meter) meter.fuel = fuel;
    const refusedGrow = exports[GROW_REFUSED_EXPORT] instanceof WebAssembly.Global ? [exports[GROW_REFUSED_EXPORT]] : [];
    const initialize = exports._initialize as Function | undefined;
    if (initialize) {
      meter?.begin(facts.cpuBudget, false, facts.needsJspi, LIFECYCLE_HARD_LIMIT_MS);
      try {
        if (facts.needsJspi) await WebAssembly.promising(initialize)();
        else initialize();
      } catch (err) {
        dispose();
        const trapped = String((err as Error)?.message ?? err);
        const why = meter?.stopped ?? withRefusedGrow(trapped, takeRefusedGrow(refusedGrow), facts.memoryLimitBytes, memory.buffer.byteLength);
        // No `cause`: this message already says what the guest did.
        throw new TesseraError('ERR_COMPONENT_TRAP', `trapped in _initialize: ${why}`);
      }
    }

    const lifted = (pausable: boolean): Map<string, LiftedCall> => {
      const calls = new Map<string, LiftedCall>();
      // Each export's lift and lower code is made at its first call: an instance that wakes
      // from hibernation, or joins a pool, to answer one get does not compile the other dozen.
      const lift = (ifaceName: string, fn: WitFunction, key: string): void => {
        const compile = (): LiftedCall => {
          const coreName = exportName(pkg, ifaceName, fn.name);
          const core = exports[coreName] as Function;
          const post = exports[postReturnName(coreName)] as Function | undefined;
          const label = `${name}.${key}`;
          const promising = (): Function => (meter ? meter.pausing(WebAssembly.promising(core)) : WebAssembly.promising(core));
          return pausable ? compileAsyncExportCall(fn, promising(), post, mem, label) : compileExportCall(fn, core, post, mem, label);
        };
        let compiled: LiftedCall | undefined;
        calls.set(key, (...args: unknown[]) => {
          if (compiled === undefined) {
            compiled = compile();
            // Callers look the call up each time: from now on they find the compiled one.
            calls.set(key, compiled);
          }
          return compiled(...args);
        });
      };
      for (const fn of contract.exports.values()) lift(contract.exportInterface.name, fn, fn.name);
      for (const ifaceName of facts.optionalExports) {
        for (const fn of contract.optionalExports.get(ifaceName)!.functions) lift(ifaceName, fn, `${ifaceName}#${fn.name}`);
      }
      return calls;
    };
    const calls = lifted(facts.needsJspi);
    let pausable: Map<string, LiftedCall> | undefined = facts.needsJspi ? calls : undefined;
    return {
      calls,
      pausableCalls: () => (pausable ??= lifted(true)),
      memory,
      fuel,
      meter,
      takeRefusedGrow: () => takeRefusedGrow(refusedGrow),
      dispose,
      memoryBytes: () => (mem.refresh(), mem.u8.length),
    };
  }
}
