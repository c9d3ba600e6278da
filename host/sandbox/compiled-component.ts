// Bytes -> a compiled, checked component ready to instantiate: manifest, ABI version,
// imports and exports against the world, memory capped. Compiled once per generation;
// instances are cheap to make from it.
import { createHash } from 'node:crypto';
import type { Manifest } from '../../abi/ts/manifest.ts';
import { TesseraError, isTesseraError } from '../errors.ts';
import { abiContract, type KindContract } from './abi-contract.ts';
import { CAPABILITIES } from './capabilities/index.ts';
import { ComponentModelLoader, type ComponentModelCode } from './component-model.ts';
import { checkModule } from './module-check.ts';
import { readComponentManifest, readManifest } from './manifest.ts';
import { instrumentFuel } from './metering.ts';
import { PAGE_BYTES, capMemory, capTables, isComponentBinary, readModuleShape } from './wasm-binary.ts';
import type { WitPackage } from './wit/ast.ts';

/** Default cap on a component instance's linear memory. */
export const DEFAULT_MEMORY_LIMIT_BYTES = 128 * 1024 * 1024;

/** Default fuel per call: roughly wasm instructions, so a runaway call ends in well under a second. */
export const DEFAULT_CPU_BUDGET = 500_000_000;

export interface CompileOptions {
  /** Hard cap on linear memory; rounded down to whole 64 KiB pages. */
  memoryLimitBytes?: number;
  /** Fuel per call; 0 compiles the module without metering. */
  cpuBudget?: number;
  /** The file the bytes came from, for messages. */
  source?: string;
}

const noAsync = new Set<string>();

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

  static async compile(bytes: Uint8Array, options: CompileOptions = {}): Promise<CompiledComponent> {
    const where = options.source ?? 'module';
    try {
      if (isComponentBinary(bytes)) {
        // The Component Model path: same manifest rules, world, capabilities, memory cap and metering, through jco.
        const manifest = readComponentManifest(bytes);
        const { pkg } = abiContract();
        const contract = abiContract().kind(manifest.kind);
        const memoryLimitBytes = options.memoryLimitBytes ?? DEFAULT_MEMORY_LIMIT_BYTES;
        const cpuBudget = options.cpuBudget ?? DEFAULT_CPU_BUDGET;
        const sha256 = createHash('sha256').update(bytes).digest('hex');
        const { code, ...checked } = await ComponentModelLoader.load(bytes, manifest, contract, pkg, { sha256, memoryLimitBytes, cpuBudget });
        return new CompiledComponent({ manifest, sha256, module: code.mainModule, componentModel: code, contract, pkg, ...checked, memoryLimitBytes, cpuBudget });
      }
      const manifest = readManifest(bytes);
      const { pkg } = abiContract();
      const contract = abiContract().kind(manifest.kind);
      const shape = readModuleShape(bytes);
      const checked = checkModule(shape, manifest, contract, pkg, (iface) => CAPABILITIES.get(iface)?.async ?? noAsync);
      // Validated before metering: code naming a global or local the module lacks would reach the injected fuel counter.
      if (!WebAssembly.validate(bytes)) throw new TesseraError('ERR_COMPONENT_LOAD', `invalid WebAssembly: ${await WebAssembly.compile(bytes).then(() => 'it does not validate', (e: Error) => e.message)}`);
      const memoryLimitBytes = options.memoryLimitBytes ?? DEFAULT_MEMORY_LIMIT_BYTES;
      const capped = capTables(capMemory(bytes, Math.floor(memoryLimitBytes / PAGE_BYTES)));
      const cpuBudget = options.cpuBudget ?? DEFAULT_CPU_BUDGET;
      const runnable = cpuBudget > 0 ? instrumentFuel(capped, cpuBudget) : capped;
      let module: WebAssembly.Module;
      try {
        module = await WebAssembly.compile(runnable);
      } catch (err) {
        throw new TesseraError('ERR_COMPONENT_LOAD', `invalid WebAssembly: ${(err as Error).message}`);
      }
      return new CompiledComponent({
        manifest,
        sha256: createHash('sha256').update(bytes).digest('hex'),
        module,
        componentModel: undefined,
        contract,
        pkg,
        importedInterfaces: checked.importedInterfaces,
        needsJspi: checked.needsJspi,
        optionalExports: checked.optionalExports,
        memoryLimitBytes,
        cpuBudget,
      });
    } catch (err) {
      const message = isTesseraError(err) ? err.message : String(err);
      throw new TesseraError('ERR_COMPONENT_LOAD', `${where}: ${message}`, { cause: err });
    }
  }
}
