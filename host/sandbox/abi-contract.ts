// The ABI as the host reads it from abi/wit at start-up: per component kind, the WIT world,
// the interfaces it may import and the functions it must export.
import { fileURLToPath } from 'node:url';
import type { ComponentKind } from '../../abi/ts/manifest.ts';
import type { WitFunction, WitInterface, WitPackage } from './wit/ast.ts';
import { loadWitPackage } from './wit/parser.ts';

export const WIT_DIR = fileURLToPath(new URL('../../abi/wit/', import.meta.url));

/**
 * The world each component kind implements, and the worlds that extend it with optional
 * exports (a module that exports one function of an optional interface must export all).
 */
const WORLDS_OF_KIND: Record<ComponentKind, { base: string; extensions: string[] }> = {
  'state-store': { base: 'state-store', extensions: ['snapshotting-state-store'] },
  pubsub: { base: 'pubsub-broker', extensions: ['snapshotting-pubsub-broker'] },
};

export interface KindContract {
  kind: ComponentKind;
  world: string;
  /** Interfaces the world lets a component import, by name. */
  imports: ReadonlyMap<string, WitInterface>;
  /** The one interface the world exports. */
  exportInterface: WitInterface;
  /** Its functions by WIT name. */
  exports: ReadonlyMap<string, WitFunction>;
  /** Interfaces a module may also export (e.g. `snapshot`), by name. */
  optionalExports: ReadonlyMap<string, WitInterface>;
}

export interface AbiContract {
  pkg: WitPackage;
  kind(kind: ComponentKind): KindContract;
}

function interfaceOf(pkg: WitPackage, name: string, world: string): WitInterface {
  const iface = pkg.interfaces.get(name);
  if (!iface) throw new Error(`abi/wit: world "${world}" names interface "${name}", which is not defined`);
  return iface;
}

export function buildContract(pkg: WitPackage): AbiContract {
  const kinds = new Map<ComponentKind, KindContract>();
  for (const [kind, { base: worldName, extensions }] of Object.entries(WORLDS_OF_KIND) as [ComponentKind, { base: string; extensions: string[] }][]) {
    const world = pkg.worlds.get(worldName);
    if (!world) throw new Error(`abi/wit: world "${worldName}" for kind "${kind}" is not defined`);
    if (world.exports.length !== 1) throw new Error(`abi/wit: world "${worldName}" must export exactly one interface`);
    const exportInterface = interfaceOf(pkg, world.exports[0]!, worldName);
    const optionalExports = new Map<string, WitInterface>();
    for (const name of extensions) {
      const extension = pkg.worlds.get(name);
      if (!extension) throw new Error(`abi/wit: world "${name}" extending "${worldName}" is not defined`);
      for (const iface of extension.exports) if (iface !== exportInterface.name) optionalExports.set(iface, interfaceOf(pkg, iface, name));
    }
    kinds.set(kind, {
      kind,
      world: worldName,
      imports: new Map(world.imports.map((name) => [name, interfaceOf(pkg, name, worldName)])),
      exportInterface,
      exports: new Map(exportInterface.functions.map((f) => [f.name, f])),
      optionalExports,
    });
  }
  return { pkg, kind: (k) => kinds.get(k)! };
}

let cached: AbiContract | undefined;

/** The contract of this host, parsed from abi/wit once. */
export function abiContract(): AbiContract {
  cached ??= buildContract(loadWitPackage(WIT_DIR));
  return cached;
}
