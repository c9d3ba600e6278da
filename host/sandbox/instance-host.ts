// What the host gives every new instance, whichever binary form its code is: the metering of
// its calls with the `tessera:fuel` hooks, its capabilities' host functions (only those of
// the interfaces it imports), and one `dispose` that releases what both hold. Each form then
// wraps the host functions its own way (canonical ABI lowering, or jco's calling convention).
import { CallMeter } from './call-meter.ts';
import { NO_GRANTS, type HostFunction } from './capabilities/capability.ts';
import { CAPABILITIES, hostFunctions } from './capabilities/index.ts';
import type { CodeFacts, InstanceOptions } from './component-code.ts';
import type { WitFunction } from './wit/ast.ts';
// Sized before any instance can make a JSPI call.
import './jspi-stacks.ts';

export interface HostImport {
  readonly fn: WitFunction;
  /** The capability's function; an async one already tells the meter while it waits. */
  readonly host: HostFunction;
  /** Whether the function suspends the guest (JSPI). */
  readonly isAsync: boolean;
}

export interface HostInterface {
  /** The WIT interface name (`log`). */
  readonly name: string;
  /** Whether the capability charges a flat cost per call instead of the time it takes. */
  readonly flatCost: boolean;
  readonly functions: readonly HostImport[];
}

export interface InstanceHost {
  /** Undefined when the code is not metered. */
  readonly meter: CallMeter | undefined;
  /** The `tessera:fuel` imports of metered code. */
  readonly hooks: Record<string, WebAssembly.ImportValue> | undefined;
  /** The capabilities the instance imports, each with its host functions. */
  readonly interfaces: readonly HostInterface[];
  /** Wraps a host function so the time it takes is charged to the call (identity when unmetered). */
  charged<F extends (...a: any[]) => unknown>(f: F): F;
  /** Releases what the meter and the capabilities hold; an abort of `options.signal` calls it too. */
  dispose(): void;
}

export function instanceHost(facts: CodeFacts, options: InstanceOptions): InstanceHost {
  const { name: component, logger, grants = NO_GRANTS, shared = new Map<string, unknown>() } = options;
  const cleanups: (() => void)[] = [];
  const dispose = (): void => {
    for (const cleanup of cleanups.splice(0)) cleanup();
  };
  const meter = facts.cpuBudget > 0 ? new CallMeter(options.cpuSliceMs) : undefined;
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

  const interfaces: HostInterface[] = [];
  for (const name of facts.importedInterfaces) {
    const capability = CAPABILITIES.get(name)!;
    const iface = facts.contract.imports.get(name)!;
    const host = hostFunctions(capability, iface, { component, logger, grants, shared, memoryLimitBytes: facts.memoryLimitBytes, onDispose: (cleanup) => cleanups.push(cleanup) });
    const functions = iface.functions.map((fn): HostImport => {
      const isAsync = capability.async.has(fn.name);
      const hostFn = host[fn.name]!;
      return { fn, host: isAsync && meter ? meter.waiting(hostFn) : hostFn, isAsync };
    });
    interfaces.push({ name, flatCost: capability.flatCost === true, functions });
  }
  const charged = <F extends (...a: any[]) => unknown>(f: F): F => (meter ? meter.wrap(f) : f);
  return { meter, hooks, interfaces, charged, dispose };
}
