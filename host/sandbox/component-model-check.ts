// Checks a Component Model binary against its world and manifest before it runs: what it
// imports and exports, by name (only host interfaces of its world that the manifest asks
// for, of this host's ABI version), and the types of those interfaces against our WIT,
// compared through the TypeScript declarations jco writes for both. Every refusal names the
// import or export.
import { SUPPORTED_ABI_VERSIONS, type Manifest } from '../../abi/ts/manifest.ts';
import { TesseraError } from '../errors.ts';
import type { KindContract } from './abi-contract.ts';
import { CAPABILITIES } from './capabilities/index.ts';
import type { ComponentShape } from './component-binary.ts';
import { declaredInterface, loadBindgen, type JspiNames, type Transpiled } from './jco-transpile.ts';
import type { CheckedModule } from './module-check.ts';
import type { WitPackage } from './wit/ast.ts';
import { witSource } from './wit-source.ts';

function refuse(message: string): TesseraError {
  return new TesseraError('ERR_COMPONENT_LOAD', message);
}

/** `tessera:components/state@0.1.0` -> its parts; undefined for a name of another shape. */
export function parseInterfaceName(name: string): { pkg: string; iface: string; version: string | undefined } | undefined {
  const m = /^([a-z][a-z0-9-]*:[a-z][a-z0-9-]*)\/([a-z][a-z0-9-]*)(?:@(.+))?$/.exec(name);
  return m ? { pkg: m[1]!, iface: m[2]!, version: m[3] } : undefined;
}

export const qualified = (pkg: WitPackage, iface: string): string => `${pkg.namespace}:${pkg.name}/${iface}@${pkg.version}`;

/**
 * The component's imports and exports against its world and manifest, by name: only host
 * interfaces of the world that the manifest requests (plus type-only interfaces of the
 * package, such as `types`), of this host's ABI version; the world's interface exported.
 * Every refusal names the import or export.
 */
export function checkComponentShape(shape: ComponentShape, manifest: Manifest, contract: KindContract, pkg: WitPackage): CheckedModule {
  const problems: string[] = [];
  const importedInterfaces = new Set<string>();
  const ours = `${pkg.namespace}:${pkg.name}`;
  const offered = [...contract.imports.keys()].map((i) => qualified(pkg, i));
  for (const imp of shape.imports) {
    const label = `import "${imp.name}"`;
    const name = parseInterfaceName(imp.name);
    if (imp.kind !== 'instance' || name === undefined) {
      const what = imp.kind !== 'instance' ? `is a ${imp.kind.replace('-', ' ')}` : 'is named as no WIT interface';
      problems.push(`${label} ${what}: a component imports only host interfaces (instances) of its world`);
      continue;
    }
    if (name.pkg !== ours) {
      const wasi = name.pkg.startsWith('wasi:') ? ' (WASI is never granted: the host offers its own capabilities instead)' : '';
      problems.push(`${label} is not offered by world "${contract.world}"${wasi} (it offers ${offered.join(', ')})`);
      continue;
    }
    if (name.version !== pkg.version) {
      problems.push(`${label} targets ABI ${name.version ?? '(no version)'} (${ours}@${name.version ?? '?'}) but its manifest says ${pkg.version}; this host supports ${SUPPORTED_ABI_VERSIONS.join(', ')}`);
      continue;
    }
    const iface = pkg.interfaces.get(name.iface);
    if (contract.imports.has(name.iface)) {
      if (!manifest.capabilities.includes(name.iface)) {
        problems.push(`${label} needs capability "${name.iface}", which the manifest does not request`);
        continue;
      }
      importedInterfaces.add(name.iface);
    } else if (iface === undefined || iface.functions.length > 0) {
      problems.push(`${label} is not offered by world "${contract.world}" (it offers ${offered.join(', ')})`);
    }
  }

  const exported = new Set(shape.exports.filter((e) => e.kind === 'instance').map((e) => e.name));
  const main = qualified(pkg, contract.exportInterface.name);
  if (!exported.has(main)) {
    const near = [...exported].filter((e) => parseInterfaceName(e)?.iface === contract.exportInterface.name);
    problems.push(
      `missing export "${main}" (interface "${contract.exportInterface.name}" of world "${contract.world}")` +
        (near.length ? `; it exports ${near.join(', ')} instead` : ''),
    );
  }
  const optionalExports = new Set([...contract.optionalExports.keys()].filter((i) => exported.has(qualified(pkg, i))));

  if (problems.length > 0) {
    throw refuse(`the component does not fit world "${contract.world}" of ABI ${manifest.abi}: ${problems.join('; ')}`);
  }
  const needsJspi = [...importedInterfaces].some((i) => (CAPABILITIES.get(i)?.async.size ?? 0) > 0);
  return { importedInterfaces, needsJspi, optionalExports };
}

/**
 * A declaration file as a set of its top-level declarations, comments removed: jco renders
 * every WIT type and function into TypeScript the same way, so two interfaces whose
 * declarations are equal have the same functions, parameters, fields, cases and names.
 */
function declarations(dts: string): Set<string> {
  const code = dts.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  return new Set(code.split(/\n(?=[^\s}])/).map((d) => d.replace(/\s+/g, ' ').trim()).filter((d) => d.length > 0));
}

const references = new Map<string, Promise<Map<string, Set<string>>>>();

/** The declarations jco writes for every interface of the kind's worlds, from our own WIT. */
function referenceDeclarations(contract: KindContract, pkg: WitPackage): Promise<Map<string, Set<string>>> {
  let found = references.get(contract.kind);
  if (found === undefined) {
    found = loadBindgen().then(({ generateTypes }) => {
      const world = `tessera-host-reference-${contract.kind}`;
      const lines = [
        ...[...contract.imports.keys()].map((i) => `import ${i};`),
        `export ${contract.exportInterface.name};`,
        ...[...contract.optionalExports.keys()].map((i) => `export ${i};`),
      ];
      const source = `${witSource(pkg)}\nworld ${world} {\n${lines.join('\n')}\n}\n`;
      const out = new Map<string, Set<string>>();
      for (const [file, bytes] of generateTypes(world, { wit: { tag: 'source', val: source }, world, instantiation: { tag: 'async' } })) {
        if (!file.startsWith('interfaces/')) continue;
        const text = new TextDecoder().decode(bytes);
        const iface = declaredInterface(text);
        if (iface !== undefined) out.set(iface, declarations(text));
      }
      return out;
    });
    references.set(contract.kind, found);
  }
  return found;
}

/**
 * The types of what the component imports and exports against our WIT: an exported
 * interface declares exactly what ours does; an imported one a subset (a component imports
 * only the functions it calls).
 */
export async function checkTypes(transpiled: Transpiled, contract: KindContract, pkg: WitPackage, checked: CheckedModule): Promise<void> {
  const reference = await referenceDeclarations(contract, pkg);
  const problems: string[] = [];
  for (const [iface, dts] of transpiled.declarations) {
    const name = parseInterfaceName(iface);
    const want = reference.get(iface);
    if (name === undefined || want === undefined) continue;
    const have = declarations(dts);
    const exported = name.iface === contract.exportInterface.name || checked.optionalExports.has(name.iface);
    const extra = [...have].filter((d) => !want.has(d));
    const missing = exported ? [...want].filter((d) => !have.has(d)) : [];
    const show = (ds: string[]): string => ds.map((d) => `\`${d}\``).join(', ');
    if (extra.length > 0) problems.push(`${exported ? 'export' : 'import'} "${iface}" declares ${show(extra)}, which the ABI does not`);
    if (missing.length > 0) problems.push(`export "${iface}" lacks ${show(missing)}`);
  }
  if (problems.length > 0) throw refuse(`the component's types do not match ABI ${pkg.version}: ${problems.join('; ')}`);
}

/** The async host functions a component may import and the functions it exports, as jco names them for JSPI. */
export function jspiNames(contract: KindContract, pkg: WitPackage, checked: CheckedModule): JspiNames {
  const imports: string[] = [];
  for (const iface of checked.importedInterfaces) {
    for (const fn of CAPABILITIES.get(iface)?.async ?? []) imports.push(`${qualified(pkg, iface)}#${fn}`);
  }
  const exports: string[] = [];
  for (const iface of [contract.exportInterface.name, ...checked.optionalExports]) {
    for (const fn of pkg.interfaces.get(iface)!.functions) exports.push(`${qualified(pkg, iface)}#${fn.name}`);
  }
  return { imports, exports };
}
