// Compiles a hardened module (harden.ts) with every function compiled now, on the calling
// thread: the load worker's, off the event loop. Apart from harden.ts so that a module read
// from the prepared cache (prepared-cache.ts) is compiled without loading the hardening's
// code (metering, the grow watch): a worker whose modules are all cached never loads it.
import { setFlagsFromString } from 'node:v8';
import { TesseraError } from '../errors.ts';

/** Whether the process was started compiling every function up front (then it stays so). */
const STARTED_EAGER = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].includes('--no-wasm-lazy-compilation');

/**
 * Compiles `bytes` with every function compiled now, not at its first call. V8 compiles a
 * module's functions lazily by default, on the thread that first calls each one: for a guest
 * that is the event loop, where a large function took 16–18 ms (3.4 MB of code; 0.35–0.44 ms
 * compiled ahead: test/bench/compile-ahead.bench.ts) and a module of many could take a
 * multiple of that within one call, none of it counted as the guest's fuel. Compiled here, on the load worker, the code travels with the
 * module to the thread that runs it (a posted module shares its compiled code).
 *
 * V8 has no per-module switch: the flag is process-wide, so it is set for this one compile,
 * which is synchronous (nothing else runs on this thread while it is set), then put back, so
 * the process's other WebAssembly (jco's, undici's) stays lazy. Another thread compiling in
 * that window compiles eagerly or, if its start straddles the reset, lazily: either is correct
 * code, only its first calls' cost differs.
 */
function compileEagerly(bytes: Uint8Array): WebAssembly.Module {
  if (STARTED_EAGER) return new WebAssembly.Module(bytes);
  setFlagsFromString('--no-wasm-lazy-compilation');
  try {
    return new WebAssembly.Module(bytes);
  } finally {
    setFlagsFromString('--wasm-lazy-compilation');
  }
}

/**
 * Compiles what `harden` gave, every function ahead of its first call (`compileEagerly`); a
 * refusal now means the rewriting broke the module, said as V8 says it. Synchronous on the
 * calling thread: the load worker's, off the event loop.
 */
export function compileHardened(bytes: Uint8Array): WebAssembly.Module {
  try {
    return compileEagerly(bytes);
  } catch (err) {
    throw new TesseraError('ERR_COMPONENT_LOAD', `invalid WebAssembly: ${(err as Error).message}`);
  }
}
