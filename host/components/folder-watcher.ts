// Watches resources folders and calls back, debounced, when anything in them changes, so a
// burst of writes (copy, rename into place, editor save) becomes one reload.
//
// How long to wait depends on what changed. A YAML caught half-written can still parse (cut at
// a line end, it is a valid file with less in it), so YAML and unknown changes wait for the
// writes to settle. A module caught half-written never validates (its sections run past its
// end): the scan marks it transient and looks again, so a change to `.wasm` files alone is
// scanned almost at once, and a module renamed into place (whole, the usual way to deploy
// one) at once. Files that are no resource (an editor's swap file, a `.tmp` renamed into
// place later) do not trigger a scan.
import { watch, type FSWatcher } from 'node:fs';
import { extname } from 'node:path';
import type { Logger } from '../observability/logger.ts';

export interface FolderWatcher {
  close(): void;
}

/** Quiet time before a scan after a YAML (or unknown) change. */
export const SETTLE_DEBOUNCE_MS = 25;
/** ... after changes to modules only. */
export const MODULE_DEBOUNCE_MS = 2;

const MODULE_EXTENSIONS = new Set(['.wasm']);
const RESOURCE_EXTENSIONS = new Set(['.wasm', '.yaml', '.yml']);

export function watchFolders(dirs: readonly string[], onChange: () => void, logger: Logger): FolderWatcher {
  let timer: NodeJS.Timeout | undefined;
  /** Whether a change since the last scan needs the longer wait. */
  let settle = false;
  const fire = (event: string, filename: string | Buffer | null): void => {
    const ext = typeof filename === 'string' ? extname(filename).toLowerCase() : undefined;
    if (ext !== undefined && !RESOURCE_EXTENSIONS.has(ext)) return;
    const module = ext !== undefined && MODULE_EXTENSIONS.has(ext);
    if (!module) settle = true;
    clearTimeout(timer);
    // A module that appeared (renamed into place, or created: then the writes that follow scan it again).
    const wait = settle ? SETTLE_DEBOUNCE_MS : event === 'rename' ? 0 : MODULE_DEBOUNCE_MS;
    timer = setTimeout(() => {
      settle = false;
      onChange();
    }, wait);
  };
  const watchers: FSWatcher[] = [];
  for (const dir of dirs) {
    try {
      const w = watch(dir, { persistent: false }, fire);
      w.on('error', (err) => logger.warn(`watching ${dir} stopped: ${err.message}`));
      watchers.push(w);
    } catch (err) {
      logger.warn(`cannot watch resources folder ${dir}: ${(err as Error).message}`);
    }
  }
  return {
    close() {
      clearTimeout(timer);
      for (const w of watchers) w.close();
    },
  };
}
