// The contract between a component's code and the rest of the sandbox, whichever binary form
// it came in: a `ComponentCode` makes `ComponentInstance`s, all with one face, so the live
// component and the adapters above it cannot tell a core module (core-module-code.ts) from
// a Component Model component (component-model.ts). Its `posted` form is plain data (compiled
// `WebAssembly.Module`s included) that crosses to another thread, where `loadCode`
// (compiled-component.ts) makes the same code again: the load worker prepares code, the main
// thread or an isolation worker runs it.
import type { Logger } from '../observability/logger.ts';
import type { KindContract } from './abi-contract.ts';
import type { CallMeter } from './call-meter.ts';
import type { Grants } from './capabilities/capability.ts';
import type { WitPackage } from './wit/ast.ts';

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
  /**
   * Pages a `memory.grow` asked for and was refused (the memory limit) since the last time
   * this was asked, or 0; asked when a call traps, to say why (grow-watch.ts).
   */
  takeRefusedGrow(): number;
  /** Releases what the instance's capabilities hold (sockets); call when dropping it. */
  dispose(): void;
}

export interface InstanceOptions {
  name: string;
  logger: Logger;
  grants?: Grants;
  /** What capabilities share among the instances of the component (a connection); one instance's own when omitted. */
  shared?: Map<string, unknown>;
  /** The longest a call may hold the event loop at a stretch (`tessera.dev/cpu-slice`). */
  cpuSliceMs?: number;
  /**
   * Aborts an instantiation that overran its deadline: what its capabilities hold is
   * released and its fuel set negative, so a suspended `_initialize` unwinds.
   */
  signal?: AbortSignal;
}

/** What checking a component found and the limits it was hardened to: the same facts for both binary forms. */
export interface CodeFacts {
  readonly contract: KindContract;
  readonly pkg: WitPackage;
  /** WIT interfaces the component imports; each becomes a capability in its import object. */
  readonly importedInterfaces: ReadonlySet<string>;
  /** True when an import suspends, so every export is called through JSPI. */
  readonly needsJspi: boolean;
  /** Optional interfaces the component exports, e.g. `snapshot`. */
  readonly optionalExports: ReadonlySet<string>;
  readonly memoryLimitBytes: number;
  /** Fuel each call starts with; 0 when the code is not metered. */
  readonly cpuBudget: number;
}

/** A core module's code as it crosses threads. */
export interface PostedCoreModule {
  readonly format: 'core-module';
  /** Capped and metered (harden.ts), compiled. */
  readonly module: WebAssembly.Module;
}

/** A Component Model component's code as it crosses threads: jco's glue as source text, and its core modules. */
export interface PostedComponentModel {
  readonly format: 'component-model';
  readonly glue: string;
  /** Every core module the glue may ask for, by file name: capped and metered. */
  readonly modules: ReadonlyMap<string, WebAssembly.Module>;
  /** The glue's import specifiers (`tessera:components/log`) and the WIT interface of each. */
  readonly importSpecifiers: ReadonlyMap<string, string>;
  /** The file name of the largest core module: the component's own code. */
  readonly mainFile: string;
}

export type PostedCode = PostedCoreModule | PostedComponentModel;
export type CodeFormat = PostedCode['format'];

/** Checked, hardened, compiled code of one component, ready to make instances of. */
export interface ComponentCode {
  readonly format: CodeFormat;
  /** The core module; for a Component Model component, its main (largest) core module. */
  readonly module: WebAssembly.Module;
  /** A new instance, its reactor initialiser (if any) run; refuses or traps as ERR_COMPONENT_*. */
  instantiate(facts: CodeFacts, options: InstanceOptions): Promise<ComponentInstance>;
  /** The code as plain data for another thread. */
  posted(): PostedCode;
}
