// The component types the sidecar ships with: every `.wasm` under components-wasm/, indexed
// by the type its manifest declares. Manifests are read on the load worker, once per file
// version.
import { readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Manifest } from '../../abi/ts/manifest.ts';
import { BUNDLED_DIR } from './bundled-dir.ts';
import { READ_DEADLINE_MS, loadWorkers } from './load-worker.ts';


export interface ModuleRef {
  path: string;
  manifest: Manifest;
}

/** Manifests already read, by path, valid while the file's size and mtime stay the same. */
const cache = new Map<string, { stamp: string; manifest: Manifest }>();

async function manifestOf(path: string, dir: string): Promise<Manifest> {
  const info = await stat(path);
  const stamp = `${info.size}:${info.mtimeMs}`;
  const hit = cache.get(path);
  if (hit?.stamp === stamp) return hit.manifest;
  const manifest = await loadWorkers.run('readModuleManifest', [path, dir], path, READ_DEADLINE_MS);
  cache.set(path, { stamp, manifest });
  return manifest;
}

/**
 * Bundled types by `type` (e.g. `state.memory`); re-read on every reload so a rebuilt bundled
 * module is picked up, cheaply. A bundled file that cannot be read is passed to `onProblem`
 * and left out, so one broken file does not take every component down.
 */
export async function loadBundledTypes(
  dir = BUNDLED_DIR,
  onProblem: (path: string, error: Error) => void = () => {},
): Promise<Map<string, ModuleRef>> {
  const entries = await readdir(dir, { withFileTypes: true });
  const folders = entries.filter((e) => e.isDirectory()).map((e) => join(dir, e.name)).sort();
  const paths = (await Promise.all(folders.map(async (folder) => (await readdir(folder)).filter((f) => f.endsWith('.wasm')).sort().map((f) => join(folder, f))))).flat();
  // Read all at once; the first module (in folder order) to declare a type provides it.
  const read = await Promise.all(paths.map((path) => manifestOf(path, dirname(path)).then((manifest) => ({ path, manifest }), (err: Error) => ({ path, err }))));
  const types = new Map<string, ModuleRef>();
  for (const r of read) {
    if ('err' in r) onProblem(r.path, r.err);
    else if (!types.has(r.manifest.type)) types.set(r.manifest.type, r);
  }
  return types;
}
