// Wraps a Tessera core module (any SDK's output) into a Component Model component, as
// `jco embed --wit abi/wit -n <world>` + `jco new` do, through the wasm-tools that ship with
// @bytecodealliance/jco-transpile (a runtime dependency: no CLI, no preopen trick). The core
// module keeps its `tessera:manifest` section inside the component, where the host finds it.
import { isTesseraError } from '../errors.ts';
import { abiContract } from '../sandbox/abi-contract.ts';
import { exportName } from '../sandbox/canonical-abi.ts';
import { witSource } from '../sandbox/component-model.ts';
import { readManifest } from '../sandbox/manifest.ts';
import { readModuleShape } from '../sandbox/wasm-binary.ts';
import { ComponentBuildError } from './build-error.ts';

/**
 * The world of the module's kind that exports exactly what the module does: the kind's
 * interface plus each optional interface (e.g. `snapshot`) the module exports.
 */
export function worldOfModule(core: Uint8Array): string {
  const manifest = readManifest(core);
  const { pkg, kind } = abiContract();
  const contract = kind(manifest.kind);
  const exported = new Set(readModuleShape(core).exports.map((e) => e.name));
  const wanted = [contract.exportInterface.name];
  for (const [iface, { functions }] of contract.optionalExports) {
    if (functions.some((fn) => exported.has(exportName(pkg, iface, fn.name)))) wanted.push(iface);
  }
  const world = [...pkg.worlds.values()].find(
    (w) => w.exports.length === wanted.length && wanted.every((i) => w.exports.includes(i)) && [...contract.imports.keys()].every((i) => w.imports.includes(i)),
  );
  if (world === undefined) throw new ComponentBuildError(`abi/wit has no world of kind "${manifest.kind}" exporting exactly ${wanted.join(', ')}`);
  return world.name;
}

/** The core module as a component of its world (`world` overrides the choice). */
export async function wrapAsComponent(core: Uint8Array, world?: string): Promise<Uint8Array> {
  let target: string;
  try {
    target = world ?? worldOfModule(core);
  } catch (err) {
    if (!isTesseraError(err)) throw err;
    throw new ComponentBuildError(`cannot wrap the module as a component: ${err.message}`);
  }
  const { componentEmbed, componentNew } = await import('@bytecodealliance/jco-transpile/wasm-tools');
  try {
    const embedded = await componentEmbed({ binary: core, witSource: witSource(abiContract().pkg), world: target, stringEncoding: 'utf8' });
    return await componentNew(embedded);
  } catch (err) {
    throw new ComponentBuildError(`wit-component refused the module as world "${target}": ${(err as Error).message}`, { cause: err });
  }
}
