// Wraps a Tessera core module (any SDK's output) into a Component Model component, as
// `jco embed --wit abi/wit -n <world>` + `jco new` do, through the wasm-tools that ship with
// @bytecodealliance/jco-transpile (an optional peer dependency, see sandbox/jco-transpile.ts:
// no CLI, no preopen trick). The core
// module keeps its `tessera:manifest` section inside the component, where the host finds it.
import { isTesseraError } from '../errors.ts';
import { abiContract } from '../sandbox/abi-contract.ts';
import { JCO_TRANSPILE, isMissingPackage } from '../sandbox/jco-transpile.ts';
import { exportName } from '../sandbox/canonical-abi.ts';
import { witSource } from '../sandbox/wit-source.ts';
import { readManifest } from '../sandbox/manifest.ts';
import { readModuleShape } from '../sandbox/wasm-binary.ts';
import { ComponentBuildError } from './build-error.ts';

/** A world of our package to wrap a module as: its name, and its WIT when abi/wit lacks it. */
interface WrapWorld {
  name: string;
  /** The world's definition, appended to the package's WIT; undefined for a world of abi/wit. */
  wit?: string;
}

/**
 * The world of the module's kind that exports exactly what the module does: the kind's
 * interface plus each optional interface (e.g. `snapshot`) the module exports. abi/wit names
 * the common ones; for another mix (a module exporting `snapshot` but not `snapshot-stream`,
 * say) a world of that mix is written beside them, since a world's exports are all required.
 */
function moduleWorld(core: Uint8Array): WrapWorld {
  const manifest = readManifest(core);
  const { pkg, kind } = abiContract(manifest.abi);
  const contract = kind(manifest.kind);
  const exported = new Set(readModuleShape(core).exports.map((e) => e.name));
  const wanted = [contract.exportInterface.name];
  for (const [iface, { functions }] of contract.optionalExports) {
    if (functions.some((fn) => exported.has(exportName(pkg, iface, fn.name)))) wanted.push(iface);
  }
  const imports = [...contract.imports.keys()];
  const world = [...pkg.worlds.values()].find(
    (w) => w.exports.length === wanted.length && wanted.every((i) => w.exports.includes(i)) && imports.every((i) => w.imports.includes(i)),
  );
  if (world !== undefined) return { name: world.name };
  const name = `tessera-wrap-${wanted.join('-')}`;
  const lines = [...imports.map((i) => `  import ${i};`), ...wanted.map((i) => `  export ${i};`)];
  return { name, wit: `\nworld ${name} {\n${lines.join('\n')}\n}\n` };
}

/** The ABI version the module's manifest names; this host's when it has none (wit-component then says what is wrong). */
function abiOf(core: Uint8Array): string | undefined {
  try {
    return readManifest(core).abi;
  } catch {
    return undefined;
  }
}

/** The name of the world `wrapAsComponent` wraps the module as (see moduleWorld). */
export function worldOfModule(core: Uint8Array): string {
  return moduleWorld(core).name;
}

/** The core module as a component of its world (`world` overrides the choice). */
export async function wrapAsComponent(core: Uint8Array, world?: string): Promise<Uint8Array> {
  let target: WrapWorld;
  try {
    target = world !== undefined ? { name: world } : moduleWorld(core);
  } catch (err) {
    if (!isTesseraError(err)) throw err;
    throw new ComponentBuildError(`cannot wrap the module as a component: ${err.message}`);
  }
  const { componentEmbed, componentNew } = await import('@bytecodealliance/jco-transpile/wasm-tools').catch((err: unknown) => {
    if (!isMissingPackage(err)) throw err;
    throw ComponentBuildError.missingToolchain('cannot wrap the module as a component: jco-transpile is not installed', { manager: 'npm', packages: [JCO_TRANSPILE] });
  });
  try {
    // As of the ABI version the module was built against: its names carry that version.
    const wit = witSource(abiContract(abiOf(core)).pkg) + (target.wit ?? '');
    const embedded = await componentEmbed({ binary: core, witSource: wit, world: target.name, stringEncoding: 'utf8' });
    return await componentNew(embedded);
  } catch (err) {
    throw new ComponentBuildError(`wit-component refused the module as world "${target.name}": ${(err as Error).message}`, { cause: err });
  }
}
