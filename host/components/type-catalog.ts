// The component types the sidecar ships with: every `.wasm` under components-wasm/, indexed
// by the type its manifest declares. Read once at start-up.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Manifest } from '../../abi/ts/manifest.ts';
import { readAnyManifest } from '../sandbox/manifest.ts';

export const BUNDLED_DIR = fileURLToPath(new URL('../../components-wasm/', import.meta.url));

export interface ModuleRef {
  path: string;
  manifest: Manifest;
}

/** Manifests already read, by path, valid while the file's size and mtime stay the same. */
const cache = new Map<string, { stamp: string; manifest: Manifest }>();

async function manifestOf(path: string): Promise<Manifest> {
  const info = await stat(path);
  const stamp = `${info.size}:${info.mtimeMs}`;
  const hit = cache.get(path);
  if (hit?.stamp === stamp) return hit.manifest;
  const bytes = new Uint8Array(await readFile(path));
  const manifest = readAnyManifest(bytes);
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
  const types = new Map<string, ModuleRef>();
  const entries = await readdir(dir, { withFileTypes: true });
  for (const entry of entries.filter((e) => e.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
    const files = await readdir(join(dir, entry.name));
    for (const file of files.filter((f) => f.endsWith('.wasm')).sort()) {
      const path = join(dir, entry.name, file);
      try {
        const manifest = await manifestOf(path);
        if (!types.has(manifest.type)) types.set(manifest.type, { path, manifest });
      } catch (err) {
        onProblem(path, err as Error);
      }
    }
  }
  return types;
}
