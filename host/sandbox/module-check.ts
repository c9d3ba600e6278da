// Checks a core module against its world before it is compiled or run: every import must be
// a host function the ABI offers and the manifest asks for, with the exact core signature;
// every export the world requires must be there with the exact signature. Nothing is
// granted by default, and each refusal names the import or export and why (the first few
// of them: a hostile module can get thousands wrong).
import type { Manifest } from '../../abi/ts/manifest.ts';
import { TesseraError, fewProblems } from '../errors.ts';
import type { KindContract } from './abi-contract.ts';
import { coreSignature, exportName, importModuleName, postReturnName } from './canonical-abi.ts';
import type { WitPackage } from './wit/ast.ts';
import type { FuncType, ModuleShape } from './wasm-binary.ts';

const sig = (t: FuncType | { params: string[]; results: string[] }): string => `(${t.params.join(', ')}) -> (${t.results.join(', ')})`;
const sameSig = (a: FuncType, b: { params: string[]; results: string[] }): boolean => sig(a) === sig(b);

const REALLOC = { params: ['i32', 'i32', 'i32', 'i32'], results: ['i32'] };
const NOTHING = { params: [], results: [] };

/**
 * Most exports a core module may have. A component exports its world's functions and a few
 * more (the bundled ones 22-35); V8 makes a wrapper per export at every instantiation, which
 * for 150,000 exports holds the event loop for half a second, each time an instance is made.
 */
export const MAX_EXPORTS = 1000;

/** Refuses a core module with more exports than a component needs; `what` names it in the message. */
export function checkExportCount(count: number, what = 'the module'): void {
  if (count > MAX_EXPORTS) {
    throw new TesseraError('ERR_COMPONENT_LOAD', `${what} has ${count} exports, over the ${MAX_EXPORTS} a component may have (its world's functions and a few more)`);
  }
}

export interface CheckedModule {
  /** WIT interface names the module imports. */
  importedInterfaces: Set<string>;
  /** Whether any import suspends, so exports must be called through JSPI. */
  needsJspi: boolean;
  /** Optional interfaces (e.g. `snapshot`) the module exports. */
  optionalExports: Set<string>;
}

/**
 * When the module's import and export names carry another ABI version than its manifest
 * (a manifest written by hand and not updated, or glue of another SDK), says so: the list
 * of every name it then misses would hide the cause.
 */
function versionMismatch(shape: ModuleShape, manifest: Manifest, pkg: WitPackage): string | undefined {
  const prefix = `${pkg.namespace}:${pkg.name}/`;
  const names = [...shape.imports.map((i) => i.module), ...shape.exports.map((e) => e.name.replace(/^cabi_post_/, '').split('#')[0]!)];
  const versions = new Set(names.filter((n) => n.startsWith(prefix)).map((n) => n.slice(n.lastIndexOf('@') + 1)));
  versions.delete(manifest.abi);
  if (versions.size === 0) return undefined;
  return `its imports and exports name ABI ${[...versions].join(', ')} but its manifest says "abi": "${manifest.abi}": the two must agree (build it with one SDK version, and let the SDK write the manifest's abi)`;
}

export function checkModule(
  shape: ModuleShape,
  manifest: Manifest,
  contract: KindContract,
  pkg: WitPackage,
  asyncImports: (iface: string) => ReadonlySet<string>,
): CheckedModule {
  checkExportCount(shape.exports.length);
  const versionProblem = versionMismatch(shape, manifest, pkg);
  if (versionProblem !== undefined) throw new TesseraError('ERR_COMPONENT_LOAD', versionProblem);
  const problems: string[] = [];
  const importedInterfaces = new Set<string>();
  let needsJspi = false;

  const moduleToInterface = new Map([...contract.imports.keys()].map((name) => [importModuleName(pkg, name), name]));
  for (const imp of shape.imports) {
    const label = `import "${imp.module}" "${imp.name}"`;
    if (imp.kind !== 'func') {
      problems.push(`${label} is a ${imp.kind}: a component defines its own memory, tables and globals and imports only host functions`);
      continue;
    }
    const iface = moduleToInterface.get(imp.module);
    if (iface === undefined) {
      problems.push(`${label} is not offered by world "${contract.world}" (it offers ${[...moduleToInterface.keys()].join(', ')})`);
      continue;
    }
    if (!manifest.capabilities.includes(iface)) {
      problems.push(`${label} needs capability "${iface}", which the manifest does not request`);
      continue;
    }
    const fn = contract.imports.get(iface)!.functions.find((f) => f.name === imp.name);
    if (!fn) {
      problems.push(`${label}: interface "${iface}" has no function "${imp.name}"`);
      continue;
    }
    const want = coreSignature(fn, 'import');
    if (!sameSig(imp.type!, want)) problems.push(`${label} has type ${sig(imp.type!)}, the ABI says ${sig(want)}`);
    importedInterfaces.add(iface);
    if (asyncImports(iface).has(fn.name)) needsJspi = true;
  }

  const exports = new Map(shape.exports.map((e) => [e.name, e]));
  const expectFunc = (name: string, want: { params: string[]; results: string[] }, why: string): void => {
    const e = exports.get(name);
    if (!e) problems.push(`missing export "${name}" (${why})`);
    else if (e.kind !== 'func') problems.push(`export "${name}" is a ${e.kind}, expected a function (${why})`);
    else if (!sameSig(e.type!, want)) problems.push(`export "${name}" has type ${sig(e.type!)}, the ABI says ${sig(want)}`);
  };
  if (shape.hasStart) {
    problems.push('the module has a start function, which would run outside any call and its limits: initialise in `_initialize` or `init`');
  }
  if (exports.get('memory')?.kind !== 'memory') problems.push('missing export "memory" (the linear memory the host reads and writes)');
  expectFunc('cabi_realloc', REALLOC, 'the allocator the host uses to pass strings and lists');
  if (exports.has('_initialize')) expectFunc('_initialize', NOTHING, 'a reactor initialiser');
  for (const fn of contract.exports.values()) {
    const name = exportName(pkg, contract.exportInterface.name, fn.name);
    const want = coreSignature(fn, 'export');
    expectFunc(name, want, `function "${fn.name}" of interface "${contract.exportInterface.name}"`);
    const post = postReturnName(name);
    if (exports.has(post)) expectFunc(post, { params: want.results, results: [] }, `post-return of "${fn.name}"`);
  }

  const optionalExports = new Set<string>();
  for (const [ifaceName, iface] of contract.optionalExports) {
    const names = iface.functions.map((fn) => exportName(pkg, ifaceName, fn.name));
    if (!names.some((n) => exports.has(n))) continue;
    optionalExports.add(ifaceName);
    for (const [i, fn] of iface.functions.entries()) {
      const want = coreSignature(fn, 'export');
      expectFunc(names[i]!, want, `function "${fn.name}" of optional interface "${ifaceName}", which the module exports in part`);
      const post = postReturnName(names[i]!);
      if (exports.has(post)) expectFunc(post, { params: want.results, results: [] }, `post-return of "${fn.name}"`);
    }
  }

  if (problems.length > 0) {
    throw new TesseraError('ERR_COMPONENT_LOAD', `the module does not fit world "${contract.world}" of ABI ${manifest.abi}: ${fewProblems(problems).join('; ')}`);
  }
  return { importedInterfaces, needsJspi, optionalExports };
}
