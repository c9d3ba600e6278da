// The last step of every build, whatever the language: the built bytes go through the host's
// own load check (`CompiledComponent.compile`), which decides what imports, exports and
// manifests are acceptable, plus the one rule only a build can enforce — the manifest asks
// for no capability the module never imports (the host refuses the converse at load).
import { basename, resolve } from 'node:path';
import { isTesseraError } from '../errors.ts';
import { CompiledComponent } from '../sandbox/compiled-component.ts';
import { readManifest } from '../sandbox/manifest.ts';
import { readModuleShape } from '../sandbox/wasm-binary.ts';
import { ComponentBuildError } from './build-error.ts';

const WASI_HINT =
  ': a libc or std call pulls WASI imports in (printf/iostream, getenv, time(), std::random_device, ' +
  'assert without NDEBUG, ...); use the Tessera SDK\'s log, clock and random instead';

/**
 * Refuses, naming the folder and what to change, a built module the host would not load or
 * whose manifest lists a capability it does not use. `declaredIn` says where the author
 * writes the manifest (`manifest.json`, `TESSERA_MANIFEST(...)`), for the messages.
 * Resolves to the compiled component.
 */
export async function checkBuiltModule(dir: string, bytes: Uint8Array, declaredIn: string): Promise<CompiledComponent> {
  try {
    readManifest(bytes);
  } catch (err) {
    if (!isTesseraError(err)) throw err;
    throw new ComponentBuildError(`${dir}: ${err.message} (the manifest comes from ${declaredIn})`);
  }
  let compiled: CompiledComponent;
  try {
    // `basename(resolve(dir))`: a build of `.` names the folder's module, not `..wasm`.
    compiled = await CompiledComponent.compile(bytes, { source: `${basename(resolve(dir))}.wasm` });
  } catch (err) {
    if (!isTesseraError(err)) throw err;
    const wasi = readModuleShape(bytes).imports.some((imp) => imp.module.startsWith('wasi'));
    throw new ComponentBuildError(`${dir}: the host would refuse the built module: ${err.message}${wasi ? WASI_HINT : ''}`);
  }
  const unused = compiled.manifest.capabilities.filter((c) => !compiled.importedInterfaces.has(c));
  if (unused.length > 0) {
    throw new ComponentBuildError(
      `${dir}: the manifest lists capabilities [${unused.join(', ')}] the module never imports: ` +
        `drop them from ${declaredIn} (it imports [${[...compiled.importedInterfaces].join(', ')}])`,
    );
  }
  return compiled;
}
