// Builds a JavaScript component folder (`index.js` + `manifest.json`) into a Component Model
// component with componentize-js (StarlingMonkey), with every WASI feature of the engine
// disabled, so the component imports nothing but the host interfaces its manifest asks for.
//
// componentize-js imports every interface of the world it targets, used or not, so the build
// targets a world of its own, inside our package: the kind's world narrowed to the
// manifest's capabilities (plus `snapshot` when index.js exports it). The manifest goes in a
// top-level `tessera:manifest` custom section appended after componentize, where the host
// looks first. The result is checked by the host's own load path before it is written.
//
// The output is not byte-reproducible: the engine snapshot componentize-js takes (wizer)
// differs from build to build of the same sources, work folder and working directory alike,
// so a check of a committed build compares what the host sees (`sameInterface`), not bytes.
import { cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { MANIFEST_SECTION, type Manifest } from '../../abi/ts/manifest.ts';
import { isTesseraError } from '../errors.ts';
import { WIT_DIR, abiContract } from '../sandbox/abi-contract.ts';
import { jsName } from '../sandbox/abi-layout.ts';
import { appendComponentCustomSection, readComponentShape } from '../sandbox/component-binary.ts';
import { CompiledComponent } from '../sandbox/compiled-component.ts';
import { parseManifest } from '../sandbox/manifest.ts';
import { ComponentBuildError, type MissingToolchain } from './build-error.ts';
import { NPM_INSTALL_FOLDER, exists } from './build-support.ts';

/** The entry module of a JavaScript component folder. */
export const JS_ENTRY = 'index.js';
/** The world a JavaScript component is built against (see the top of this file). */
const WORLD = 'tessera-javascript-component';
/** Every WASI feature StarlingMonkey can leave out: none is granted by the host. */
const DISABLED_FEATURES = ['stdio', 'random', 'clocks', 'http', 'fetch-event'] as const;

type Componentize = typeof import('@bytecodealliance/componentize-js').componentize;

/** What the JavaScript builder needs installed (devDependencies of this checkout). */
export const JS_PACKAGES: MissingToolchain = {
  manager: 'npm',
  packages: ['@bytecodealliance/componentize-js@^0.23.0', '@bytecodealliance/preview2-shim@^0.26.1'],
  folder: NPM_INSTALL_FOLDER,
};

/**
 * componentize-js, with file access for the duration of one call: it reads the source and
 * WIT through preview2-shim, which sees no file until a folder is preopened (and the same
 * shim serves jco's transpiler in this process, which should see none afterwards).
 */
async function loadComponentize(): Promise<Componentize> {
  try {
    const [{ componentize }, { _setPreopens }] = await Promise.all([
      import('@bytecodealliance/componentize-js'),
      import('@bytecodealliance/preview2-shim/filesystem') as Promise<{ _setPreopens(p: Record<string, string>): void }>,
    ]);
    return (async (...args: Parameters<Componentize>) => {
      _setPreopens({ '/': '/' });
      try {
        return await componentize(...args);
      } finally {
        _setPreopens({});
      }
    }) as Componentize;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw err;
    throw ComponentBuildError.missingToolchain('cannot build JavaScript components: componentize-js is not installed', JS_PACKAGES);
  }
}

/** Whether the module source exports a binding named `name` (`export const snapshot = ...`, `export { snapshot }`). */
function exportsName(source: string, name: string): boolean {
  const declared = new RegExp(`export\\s+(?:const|let|var|function|class)\\s+${name}\\b`);
  const listed = new RegExp(`export\\s*\\{[^}]*\\b${name}\\b[^}]*\\}`);
  return declared.test(source) || listed.test(source);
}

/** The WIT of the world the component is built against, appended to our package. */
function worldWit(manifest: Manifest, source: string): string {
  const contract = abiContract().kind(manifest.kind);
  const lines = [
    ...manifest.capabilities.map((c) => `  import ${c};`),
    `  export ${contract.exportInterface.name};`,
    ...[...contract.optionalExports.keys()].filter((i) => exportsName(source, jsName(i))).map((i) => `  export ${i};`),
  ];
  const { pkg } = abiContract();
  return `package ${pkg.namespace}:${pkg.name}@${pkg.version};\n\nworld ${WORLD} {\n${lines.join('\n')}\n}\n`;
}

/**
 * Builds `dir` (with `index.js` and `manifest.json`) into `outFile` and resolves to its
 * bytes; fails with a ComponentBuildError naming the folder and what to change.
 */
export async function buildJavaScriptComponent(dir: string, outFile: string): Promise<Uint8Array> {
  dir = resolve(dir);
  const entry = join(dir, JS_ENTRY);
  if (!(await exists(entry))) throw new ComponentBuildError(`${dir}: no ${JS_ENTRY}, the entry module of a JavaScript component`);
  let manifest: Manifest;
  try {
    manifest = parseManifest(await readFile(join(dir, 'manifest.json')));
  } catch (err) {
    if (!isTesseraError(err)) throw new ComponentBuildError(`${dir}: cannot read manifest.json: ${(err as Error).message}`);
    throw new ComponentBuildError(`${dir}: manifest.json: ${err.message}`);
  }
  const source = await readFile(entry, 'utf8');
  const componentize = await loadComponentize();

  const wit = await mkdtemp(join(tmpdir(), 'tessera-js-wit-'));
  let component: Uint8Array;
  try {
    for (const file of (await readdir(WIT_DIR)).filter((f) => f.endsWith('.wit'))) await cp(join(WIT_DIR, file), join(wit, file));
    await writeFile(join(wit, `${WORLD}.wit`), worldWit(manifest, source));
    ({ component } = await componentize({
      sourcePath: entry,
      witPath: wit,
      worldName: WORLD,
      disableFeatures: [...DISABLED_FEATURES],
    }));
  } catch (err) {
    if (err instanceof ComponentBuildError) throw err;
    throw new ComponentBuildError(`${dir}: componentize-js failed: ${(err as Error).message}`, { cause: err });
  } finally {
    await rm(wit, { recursive: true, force: true });
  }

  const bytes = appendComponentCustomSection(component, MANIFEST_SECTION, new TextEncoder().encode(JSON.stringify(manifest)));
  let compiled: CompiledComponent;
  try {
    compiled = await CompiledComponent.compile(bytes, { source: `${dir}/${JS_ENTRY}` });
  } catch (err) {
    if (!isTesseraError(err)) throw err;
    throw new ComponentBuildError(`${dir}: the host would refuse the built component: ${err.message}`);
  }
  const unused = manifest.capabilities.filter((c) => !compiled.importedInterfaces.has(c));
  if (unused.length > 0) {
    throw new ComponentBuildError(`${dir}: the manifest lists capabilities [${unused.join(', ')}] the component never imports: remove them from manifest.json`);
  }
  await mkdir(dirname(outFile), { recursive: true });
  await writeFile(outFile, bytes);
  return bytes;
}

/**
 * Whether two builds of a JavaScript component agree on everything the host reads: the
 * manifest and the names and kinds of the imports and exports (the engine snapshot inside
 * differs from build to build).
 */
export function sameInterface(a: Uint8Array, b: Uint8Array): boolean {
  const view = (bytes: Uint8Array): string => {
    const shape = readComponentShape(bytes);
    const manifest = shape.customSections.filter((s) => s.name === MANIFEST_SECTION).map((s) => new TextDecoder().decode(s.data));
    return JSON.stringify({ manifest, imports: shape.imports, exports: shape.exports });
  };
  return view(a) === view(b);
}
