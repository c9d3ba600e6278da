// Makes a core module safe to run: validated by V8, its memories and tables capped, its code
// metered. Pure and synchronous, so the load worker runs it off the event loop; both binary
// forms (a core module, each core module of a Component Model component) go through it.
import { TesseraError } from '../errors.ts';
import { watchMemoryGrow } from './grow-watch.ts';
import { instrumentFuel } from './metering.ts';
import { PAGE_BYTES, capMemory, capTables } from './wasm-binary.ts';

export interface HardenLimits {
  /** Hard cap on linear memory; rounded down to whole 64 KiB pages. */
  memoryLimitBytes: number;
  /** Fuel per call; 0 leaves the module unmetered. */
  cpuBudget: number;
}

/** Why V8 refuses `bytes`; only asked once `WebAssembly.validate` said no. */
function invalidity(bytes: Uint8Array): string {
  try {
    new WebAssembly.Module(bytes);
    return 'it does not validate';
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * validate -> cap memory -> cap tables -> watch memory.grow -> meter. Validated first: code
 * naming a global or local the module lacks would otherwise reach the injected fuel counter.
 */
export function harden(bytes: Uint8Array, limits: HardenLimits): Uint8Array {
  if (!WebAssembly.validate(bytes)) throw new TesseraError('ERR_COMPONENT_LOAD', `invalid WebAssembly: ${invalidity(bytes)}`);
  const capped = watchMemoryGrow(capTables(capMemory(bytes, Math.floor(limits.memoryLimitBytes / PAGE_BYTES))));
  return limits.cpuBudget > 0 ? instrumentFuel(capped, limits.cpuBudget) : capped;
}
