// The component types the sidecar ships with: every `.wasm` under components-wasm/, indexed
// by the type its manifest declares. Read once at start-up.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Manifest } from '../../abi/ts/manifest.ts';
import { readManifest } from '../sandbox/manifest.ts';

export const BUNDLED_DIR = fileURLToPath(new URL('../../components-wasm/', import.meta.url));

export interface ModuleRef {
  path: string;
  manifest: Manifest;
}

/** Bundled types by `type` (e.g. `state.memory`). A bundled file that fails to read is a bug: it throws. */
export async function loadBundledTypes(dir = BUNDLED_DIR): Promise<Map<string, ModuleRef>> {
  const types = new Map<string, ModuleRef>();
  const entries = await readdir(dir, { withFileTypes: true });
  for (const entry of entries.filter((e) => e.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
    const files = await readdir(join(dir, entry.name));
    for (const file of files.filter((f) => f.endsWith('.wasm')).sort()) {
      const path = join(dir, entry.name, file);
      const manifest = readManifest(new Uint8Array(await readFile(path)));
      if (!types.has(manifest.type)) types.set(manifest.type, { path, manifest });
    }
  }
  return types;
}
