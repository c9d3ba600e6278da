// Bytes -> a compiled, checked component ready to instantiate: manifest, ABI version,
// imports and exports against the world, hardened (harden.ts) and compiled. The work is
// `prepareComponent`, which the load worker runs off the event loop and posts back;
// `CompiledComponent.fromPrepared` builds the component from that. Compiled once per
// generation; instances are cheap to make from it.
import { createHash } from 'node:crypto';
import type { Manifest } from '../../abi/ts/manifest.ts';
import { TesseraError, isTesseraError } from '../errors.ts';
import { abiContract, type KindContract } from './abi-contract.ts';
import { CAPABILITIES } from './capabilities/index.ts';
import { ComponentModelLoader, prepareComponentModel, type ComponentModelCode, type PreparedComponentModel } from './component-model.ts';
import { compileHardened, harden } from './harden.ts';
import { checkModule, type CheckedModule } from './module-check.ts';
import { readComponentManifest, readManifest } from './manifest.ts';
import { isComponentBinary, readModuleShape } from './wasm-binary.ts';
import type { WitPackage } from './wit/ast.ts';

/** Default cap on a component instance's linear memory. */
export const DEFAULT_MEMORY_LIMIT_BYTES = 128 * 1024 * 1024;

/**
 * Default fuel per call: the most CPU one call may burn in all, about one unit per wasm
 * instruction (weighted where one costs more: memory accesses, divisions, memory.grow, bulk
 * operations) and per nanosecond of host calls. How long a call may hold the event loop at a
 * stretch is bounded apart from it, by the clock (call-meter.ts, `tessera.dev/cpu-slice`).
 */
export const DEFAULT_CPU_BUDGET = 200_000_000;

export interface CompileOptions {
  /** Hard cap on linear memory; rounded down to whole 64 KiB pages. */
  memoryLimitBytes?: number;
  /** Fuel per call; 0 compiles the module without metering. */
  cpuBudget?: number;
  /** The file the bytes came from, for messages. */
  source?: string;
}

const noAsync = new Set<string>();

/** A core-module component's plain fields: with its module, what a worker thread needs to rebuild it (`fromParts`). */
export interface CompiledParts {
  manifest: Manifest;
  sha256: string;
  importedInterfaces: readonly string[];
  needsJspi: boolean;
  optionalExports: readonly string[];
  memoryLimitBytes: number;
  cpuBudget: number;
}

export class CompiledComponent {
  readonly manifest: Manifest;
  readonly sha256: string;
  /** The core module; for a Component Model binary, its main (largest) core module. */
  readonly module: WebAssembly.Module;
  /** Set for a Component Model binary: what jco's glue needs to make an instance (component-model.ts). */
  readonly componentModel: ComponentModelCode | undefined;
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

  private constructor(fields: Omit<CompiledComponent, never>) {
    this.manifest = fields.manifest;
    this.sha256 = fields.sha256;
    this.module = fields.module;
    this.componentModel = fields.componentModel;
    this.contract = fields.contract;
    this.pkg = fields.pkg;
    this.importedInterfaces = fields.importedInterfaces;
    this.needsJspi = fields.needsJspi;
    this.optionalExports = fields.optionalExports;
    this.memoryLimitBytes = fields.memoryLimitBytes;
    this.cpuBudget = fields.cpuBudget;
  }

  /**
   * A core-module component rebuilt from its compiled (capped, metered) module and plain
   * fields, as a worker thread receives them (`tessera.dev/isolation: thread`); the WIT
   * contract is recomputed from abi/wit, not posted.
   */
  static fromParts(module: WebAssembly.Module, parts: CompiledParts): CompiledComponent {
    const { pkg } = abiContract();
    return new CompiledComponent({
      ...parts,
      module,
      componentModel: undefined,
      contract: abiContract().kind(parts.manifest.kind),
      pkg,
      importedInterfaces: new Set(parts.importedInterfaces),
      optionalExports: new Set(parts.optionalExports),
    });
  }

  /** A component from what `prepareComponent` gave, here or on the load worker; a Component Model binary's glue is loaded here. */
  static async fromPrepared(prepared: PreparedComponent): Promise<CompiledComponent> {
    const compiled = CompiledComponent.fromParts(prepared.module, prepared.parts);
    if (prepared.componentModel === undefined) return compiled;
    return new CompiledComponent({ ...compiled, componentModel: await ComponentModelLoader.code(prepared.componentModel) });
  }

  /** Prepares and builds a component on this thread (the toolchain, tests); the sidecar prepares on its load worker. */
  static async compile(bytes: Uint8Array, options: CompileOptions = {}): Promise<CompiledComponent> {
    return CompiledComponent.fromPrepared(await prepareComponent(bytes, options));
  }
}

/** What preparing a component's bytes gives, all of it fit to post between threads. */
export interface PreparedComponent {
  /** The core module; for a Component Model binary, its main (largest) core module. */
  module: WebAssembly.Module;
  parts: CompiledParts;
  /** Set for a Component Model binary. */
  componentModel?: PreparedComponentModel | undefined;
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
 * load worker; every refusal is an ERR_COMPONENT_LOAD naming `options.source`.
 */
export async function prepareComponent(bytes: Uint8Array, options: CompileOptions = {}): Promise<PreparedComponent> {
  const limits = { memoryLimitBytes: options.memoryLimitBytes ?? DEFAULT_MEMORY_LIMIT_BYTES, cpuBudget: options.cpuBudget ?? DEFAULT_CPU_BUDGET };
  try {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const { pkg } = abiContract();
    if (isComponentBinary(bytes)) {
      const manifest = readComponentManifest(bytes);
      const contract = abiContract().kind(manifest.kind);
      const { prepared, ...checked } = await prepareComponentModel(bytes, manifest, contract, pkg, { sha256, ...limits });
      return { module: prepared.modules.get(prepared.mainFile)!, parts: partsOf(manifest, sha256, checked, limits), componentModel: prepared };
    }
    const manifest = readManifest(bytes);
    const contract = abiContract().kind(manifest.kind);
    const checked = checkModule(readModuleShape(bytes), manifest, contract, pkg, (iface) => CAPABILITIES.get(iface)?.async ?? noAsync);
    const module = await compileHardened(harden(bytes, limits));
    return { module, parts: partsOf(manifest, sha256, checked, limits) };
  } catch (err) {
    const message = isTesseraError(err) ? err.message : String(err);
    throw new TesseraError('ERR_COMPONENT_LOAD', `${options.source ?? 'module'}: ${message}`, { cause: err });
  }
}
