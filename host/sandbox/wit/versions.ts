// The WIT package as a module built against an earlier version of it sees it. Items added
// after 0.1.0 carry `@since(version = x.y.z)`; an addition is a patch version (0.1.0 ->
// 0.1.1), so a module built against 0.1.0 keeps every name and layout it had, and the host
// binds it by the version it names: `packageAt(pkg, '0.1.0')` is the package without the
// later interfaces, worlds and world items, with version `0.1.0`, from which import and
// export names (`tessera:components/log@0.1.0`) come out as the module spells them.
import type { WitPackage, WitWorld } from './ast.ts';

/** Orders two `x.y.z` versions (a pre-release or build suffix is ignored). */
export function compareVersions(a: string, b: string): number {
  const parts = (v: string): number[] => v.split(/[-+]/)[0]!.split('.').map(Number);
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return 0;
}

const present = (since: string | undefined, version: string): boolean => since === undefined || compareVersions(since, version) <= 0;

/** `pkg` as of `version` (no later than pkg.version): what a module naming that version may use. */
export function packageAt(pkg: WitPackage, version: string): WitPackage {
  if (version === pkg.version) return pkg;
  const interfaces = new Map([...pkg.interfaces].filter(([, i]) => present(i.since, version)));
  const worlds = new Map<string, WitWorld>();
  for (const [name, world] of pkg.worlds) {
    if (!present(world.since, version)) continue;
    const keep = (iface: string): boolean => interfaces.has(iface) && present(world.itemSince?.get(iface), version);
    worlds.set(name, { name, imports: world.imports.filter(keep), exports: world.exports.filter(keep) });
  }
  return { ...pkg, version, interfaces, worlds };
}
