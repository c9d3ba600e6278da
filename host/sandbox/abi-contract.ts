// The ABI as the host reads it from abi/wit (plus the WIT of kinds and capabilities
// registered from outside it): per component kind of the table (kinds/index.ts), the WIT
// world, the interfaces it may import (each a capability of capabilities/index.ts) and the
// functions it must export.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TesseraError } from '../errors.ts';
import { packageFile } from '../package-root.ts';
import { CAPABILITIES, capabilitiesVersion, capabilityWit } from './capabilities/index.ts';
import type { KindDescriptor } from './kinds/kind.ts';
import { allKinds, kindsVersion, kindWit } from './kinds/index.ts';
import type { WitFunction, WitInterface, WitPackage } from './wit/ast.ts';
import { parseWitPackage, type WitSource } from './wit/parser.ts';
import { packageAt } from './wit/versions.ts';

export const WIT_DIR = packageFile('abi', 'wit');

export interface KindContract {
  kind: string;
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
  /** The contract of a kind of the table; refuses a kind the host does not know. */
  kind(kind: string): KindContract;
}

function interfaceOf(pkg: WitPackage, name: string, world: string): WitInterface {
  const iface = pkg.interfaces.get(name);
  if (!iface) throw new Error(`abi/wit: world "${world}" names interface "${name}", which is not defined`);
  return iface;
}

function kindContract(pkg: WitPackage, { kind, world: worldName, extensions }: KindDescriptor, latest: WitPackage): KindContract {
  const world = pkg.worlds.get(worldName);
  if (!world) throw new Error(`abi/wit: world "${worldName}" for kind "${kind}" is not defined`);
  if (world.exports.length !== 1) throw new Error(`abi/wit: world "${worldName}" must export exactly one interface`);
  const exportInterface = interfaceOf(pkg, world.exports[0]!, worldName);
  if (!exportInterface.functions.some((f) => f.name === 'init')) throw new Error(`abi/wit: interface "${exportInterface.name}" of world "${worldName}" has no init function`);
  for (const name of world.imports) {
    if (!CAPABILITIES.has(name)) throw new Error(`abi/wit: world "${worldName}" imports interface "${name}", which no host capability implements`);
  }
  const optionalExports = new Map<string, WitInterface>();
  for (const name of extensions) {
    const extension = pkg.worlds.get(name);
    // An extension added after the module's version (`queryable-state-store` came with 0.1.2) is not one it can export.
    if (!extension && pkg !== latest && latest.worlds.has(name)) continue;
    if (!extension) throw new Error(`abi/wit: world "${name}" extending "${worldName}" is not defined`);
    for (const iface of extension.exports) if (iface !== exportInterface.name) optionalExports.set(iface, interfaceOf(pkg, iface, name));
  }
  return {
    kind,
    world: worldName,
    imports: new Map(world.imports.map((name) => [name, interfaceOf(pkg, name, worldName)])),
    exportInterface,
    exports: new Map(exportInterface.functions.map((f) => [f.name, f])),
    optionalExports,
  };
}

/**
 * The contract of every kind of the table, over `pkg`. When `pkg` is the package as of an
 * earlier version (`packageAt`), a kind whose world came later is refused naming the
 * version that added it.
 */
export function buildContract(pkg: WitPackage, kinds: readonly KindDescriptor[] = allKinds(), latest: WitPackage = pkg): AbiContract {
  const present = kinds.filter((k) => pkg === latest || pkg.worlds.has(k.world));
  const contracts = new Map(present.map((k) => [k.kind, kindContract(pkg, k, latest)]));
  return {
    pkg,
    kind: (kind) => {
      const found = contracts.get(kind);
      if (found !== undefined) return found;
      const later = kinds.find((k) => k.kind === kind);
      if (later !== undefined) {
        const since = latest.worlds.get(later.world)?.since ?? latest.version;
        throw new TesseraError('ERR_COMPONENT_LOAD', `component kind "${kind}" came with ABI ${since}, but the component targets ABI ${pkg.version}: rebuild it against an SDK of ABI ${since} or later`);
      }
      throw new TesseraError('ERR_COMPONENT_LOAD', `component kind "${kind}" is not one this host knows (${[...contracts.keys()].join(', ')})`);
    },
  };
}

/** The files of abi/wit, then the WIT of registered kinds and capabilities: one package. */
export function witSources(): WitSource[] {
  const files = readdirSync(WIT_DIR).filter((f) => f.endsWith('.wit')).sort();
  const registered = [...kindWit(), ...capabilityWit()];
  return [...files.map((file) => ({ file, text: readFileSync(join(WIT_DIR, file), 'utf8') })), ...registered.map((text, i) => ({ file: `registered-${i + 1}.wit`, text }))];
}

let cached: { tables: string; latest: AbiContract; byAbi: Map<string, AbiContract> } | undefined;

/**
 * The contract of this host, parsed from abi/wit once (again after a kind or capability is
 * registered); with `abi`, as a module built against that earlier supported version sees it
 * (the names it binds carry that version).
 */
export function abiContract(abi?: string): AbiContract {
  const tables = `${kindsVersion()}:${capabilitiesVersion()}`;
  if (cached?.tables !== tables) cached = { tables, latest: buildContract(parseWitPackage(witSources())), byAbi: new Map() };
  const { latest, byAbi } = cached;
  if (abi === undefined || abi === latest.pkg.version) return latest;
  let contract = byAbi.get(abi);
  if (contract === undefined) {
    contract = buildContract(packageAt(latest.pkg, abi), allKinds(), latest.pkg);
    byAbi.set(abi, contract);
  }
  return contract;
}
