// `tessera bindgen`: every file generated from the WIT, for the host and each SDK, written
// under a root (the package, or a copy of it) or checked against what is there. Each
// language's generator is one file of this folder; this one only runs them.
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { WitPackage } from '../../sandbox/wit/ast.ts';
import { AS_OUT_DIR, generateAssemblyScript } from './assemblyscript.ts';
import { GENERATED_MARK, type GeneratedFile } from './model.ts';
import { CPP_OUT_DIR, generateCpp } from './cpp.ts';
import { RUST_OUT_DIR, generateRust } from './rust.ts';
import { TS_OUT_DIR, generateTypeScript } from './typescript.ts';
import { VALIDATORS_OUT_DIRS, generateSchemaValidators } from './schema-validators.ts';
import { PROTOS_OUT_DIR, daprProtosInstalled, generateProtoDescriptors } from './proto-descriptors.ts';

export type { GeneratedFile } from './model.ts';

interface Generator {
  /** The folders (relative to the root) whose generated files this generator owns: a generated file there it no longer writes is stale. */
  outDirs: string[];
  generate(pkg: WitPackage): GeneratedFile[];
}

const GENERATORS: Generator[] = [
  { outDirs: VALIDATORS_OUT_DIRS, generate: generateSchemaValidators },
  // Only where @dapr/dapr (a development dependency) is installed; elsewhere its files are neither written nor stale.
  ...(daprProtosInstalled() ? [{ outDirs: [PROTOS_OUT_DIR], generate: generateProtoDescriptors }] : []),
  { outDirs: [TS_OUT_DIR], generate: generateTypeScript },
  { outDirs: [CPP_OUT_DIR], generate: generateCpp },
  { outDirs: [AS_OUT_DIR], generate: generateAssemblyScript },
  { outDirs: [RUST_OUT_DIR], generate: generateRust },
];

/** Every generated file for `pkg`, sorted by path. */
export function generate(pkg: WitPackage): GeneratedFile[] {
  const files = GENERATORS.flatMap((g) => g.generate(pkg));
  const seen = new Set<string>();
  for (const f of files) {
    if (seen.has(f.path)) throw new Error(`bindgen: two generators write ${f.path}`);
    seen.add(f.path);
  }
  return files.sort((a, b) => a.path.localeCompare(b.path));
}

async function readOrUndefined(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Files in the generators' folders that say they are generated but that no generator writes any more. */
async function staleFiles(root: string, expected: ReadonlySet<string>): Promise<string[]> {
  const stale: string[] = [];
  for (const dir of GENERATORS.flatMap((g) => g.outDirs)) {
    let entries;
    try {
      entries = await readdir(join(root, dir), { withFileTypes: true, recursive: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    for (const entry of entries) {
      if (!entry.isFile()) continue;
      const path = relative(root, join(entry.parentPath, entry.name)).split(sep).join('/');
      if (expected.has(path)) continue;
      const text = await readFile(join(root, path), 'utf8');
      if (text.split('\n', 1)[0]!.includes(GENERATED_MARK)) stale.push(path);
    }
  }
  return stale;
}

export interface BindgenReport {
  /** Files whose contents differ from what the WIT gives (or that are missing). */
  changed: string[];
  /** Generated files no generator writes any more. */
  stale: string[];
}

/** Writes every generated file under `root` and removes stale ones; reports what changed. */
export async function writeGenerated(pkg: WitPackage, root: string): Promise<BindgenReport> {
  const files = generate(pkg);
  const changed: string[] = [];
  for (const f of files) {
    const path = join(root, f.path);
    if ((await readOrUndefined(path)) === f.text) continue;
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, f.text);
    changed.push(f.path);
  }
  const stale = await staleFiles(root, new Set(files.map((f) => f.path)));
  for (const path of stale) await rm(join(root, path));
  return { changed, stale };
}

/** What differs between the generated files under `root` and what the WIT gives; nothing is written. */
export async function checkGenerated(pkg: WitPackage, root: string): Promise<BindgenReport> {
  const files = generate(pkg);
  const changed: string[] = [];
  for (const f of files) if ((await readOrUndefined(join(root, f.path))) !== f.text) changed.push(f.path);
  return { changed, stale: await staleFiles(root, new Set(files.map((f) => f.path))) };
}
