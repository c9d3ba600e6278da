// Bytes -> a compiled, checked component ready to instantiate: manifest, ABI version,
// imports and exports against the world, hardened (harden.ts) and compiled, as the code of
// its binary form (component-code.ts: a core module or a Component Model component). The
// work is `prepareComponent`, which the load worker runs off the event loop and posts back;
// `CompiledComponent.fromPrepared` builds the component from that, on whichever thread will
// run it. Compiled once per generation; instances are cheap to make from it.
import { createHash } from 'node:crypto';
import type { Manifest } from '../../abi/ts/manifest.ts';
import { TesseraError, isTesseraError } from '../errors.ts';
import { abiContract, type KindContract } from './abi-contract.ts';
import type { CodeFacts, ComponentCode, PostedCode } from './component-code.ts';
import { ComponentModelCode, prepareComponentModel } from './component-model.ts';
import { DEFAULT_CPU_BUDGET, DEFAULT_MEMORY_LIMIT_BYTES } from './default-limits.ts';
import { CoreModuleCode, prepareCoreModule } from './core-module-code.ts';
import type { CheckedModule } from './module-check.ts';
import { readComponentManifest, readManifest } from './manifest.ts';
import { kindOf } from './kinds/index.ts';
import { isComponentBinary } from './wasm-binary.ts';
import type { WitPackage } from './wit/ast.ts';


export interface CompileOptions {
  /** Hard cap on linear memory; rounded down to whole 64 KiB pages. */
  memoryLimitBytes?: number;
  /** Fuel per call; 0 compiles the module without metering. */
  cpuBudget?: number;
  /** The file the bytes came from, for messages. */
  source?: string;
}

/** A component's plain fields: with its posted code, what another thread needs to rebuild it. */
export interface CompiledParts {
  manifest: Manifest;
  sha256: string;
  importedInterfaces: readonly string[];
  needsJspi: boolean;
  optionalExports: readonly string[];
  memoryLimitBytes: number;
  cpuBudget: number;
}

/** What preparing a component's bytes gives, all of it fit to post between threads. */
export interface PreparedComponent {
  code: PostedCode;
  parts: CompiledParts;
}

/** The code of a prepared component, made where it will run (a Component Model component's glue is evaluated here). */
function loadCode(posted: PostedCode): ComponentCode {
  return posted.format === 'core-module' ? new CoreModuleCode(posted) : new ComponentModelCode(posted);
}

export class CompiledComponent implements CodeFacts {
  readonly manifest: Manifest;
  readonly sha256: string;
  /** How instances are made, whichever binary form the component came in. */
  readonly code: ComponentCode;
  readonly contract: KindContract;
  readonly pkg: WitPackage;
  /** WIT interfaces the module imports; each becomes a capability in its import object. */
  readonly importedInterfaces: ReadonlySet<string>;
  /** True when an import suspends, so every export is called through JSPI. */
  readonly needsJspi: boolean;
  /** Optional interfaces the module exports, e.g. `snapshot`. */
  readonly optionalExports: ReadonlySet<string>;
  readonly memoryLimitBytes: number;
  /** Fuel each call starts with; 0 when the module is not metered. */
  readonly cpuBudget: number;

  private constructor(code: ComponentCode, parts: CompiledParts) {
    const abi = abiContract(parts.manifest.abi);
    const { pkg } = abi;
    this.manifest = parts.manifest;
    this.sha256 = parts.sha256;
    this.code = code;
    this.contract = abi.kind(parts.manifest.kind);
    this.pkg = pkg;
    this.importedInterfaces = new Set(parts.importedInterfaces);
    this.needsJspi = parts.needsJspi;
    this.optionalExports = new Set(parts.optionalExports);
    this.memoryLimitBytes = parts.memoryLimitBytes;
    this.cpuBudget = parts.cpuBudget;
  }

  /** The core module; for a Component Model component, its main (largest) core module. */
  get module(): WebAssembly.Module {
    return this.code.module;
  }

  /**
   * A component from what `prepareComponent` gave, here or on another thread (the load
   * worker; an isolation worker receives `prepared()`); the WIT contract is recomputed from
   * abi/wit, not posted.
   */
  static fromPrepared(prepared: PreparedComponent): CompiledComponent {
    return new CompiledComponent(loadCode(prepared.code), prepared.parts);
  }

  /** Prepares and builds a component on this thread (the toolchain, tests); the sidecar prepares on its load worker. */
  static async compile(bytes: Uint8Array, options: CompileOptions = {}): Promise<CompiledComponent> {
    return CompiledComponent.fromPrepared(await prepareComponent(bytes, options));
  }

  /** This component as plain data, to build it again on another thread. */
  prepared(): PreparedComponent {
    const parts: CompiledParts = {
      manifest: this.manifest,
      sha256: this.sha256,
      importedInterfaces: [...this.importedInterfaces],
      needsJspi: this.needsJspi,
      optionalExports: [...this.optionalExports],
      memoryLimitBytes: this.memoryLimitBytes,
      cpuBudget: this.cpuBudget,
    };
    return { code: this.code.posted(), parts };
  }
}

function partsOf(manifest: Manifest, sha256: string, checked: CheckedModule, limits: { memoryLimitBytes: number; cpuBudget: number }): CompiledParts {
  return {
    manifest,
    sha256,
    importedInterfaces: [...checked.importedInterfaces],
    needsJspi: checked.needsJspi,
    optionalExports: [...checked.optionalExports],
    ...limits,
  };
}

/**
 * Checks, hardens and compiles a component's bytes: the same manifest rules, world,
 * capabilities, memory cap and metering for both binary forms (a Component Model binary
 * through jco). Touches no state of the thread it runs on but caches, so it runs on the
 * load worker; every refusal is an ERR_COMPONENT_LOAD naming `options.source`. A core
 * module's hardened bytes are handed to `onHardened` (the load worker's prepared cache).
 */
export async function prepareComponent(
  bytes: Uint8Array,
  options: CompileOptions = {},
  onHardened?: (hardened: Uint8Array) => void,
): Promise<PreparedComponent> {
  const limits = { memoryLimitBytes: options.memoryLimitBytes ?? DEFAULT_MEMORY_LIMIT_BYTES, cpuBudget: options.cpuBudget ?? DEFAULT_CPU_BUDGET };
  try {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const componentModel = isComponentBinary(bytes);
    const manifest = componentModel ? readComponentManifest(bytes) : readManifest(bytes);
    const abi = abiContract(manifest.abi);
    const { pkg } = abi;
    const contract = abi.kind(manifest.kind);
    const { checked, code } = componentModel
      ? await prepareComponentModel(bytes, manifest, contract, pkg, { sha256, ...limits })
      : await prepareCoreModule(bytes, manifest, contract, pkg, limits, onHardened);
    const refused = kindOf(manifest.kind)?.checkExports?.(checked.optionalExports);
    if (refused !== undefined) throw new TesseraError('ERR_COMPONENT_LOAD', refused);
    return { code, parts: partsOf(manifest, sha256, checked, limits) };
  } catch (err) {
    const message = isTesseraError(err) ? err.message : String(err);
    throw new TesseraError('ERR_COMPONENT_LOAD', `${options.source ?? 'module'}: ${message}`, { cause: err });
  }
}
