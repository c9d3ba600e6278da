// Watches resources folders and calls back, debounced, when anything in them changes, so a
// burst of writes (copy, rename into place, editor save) becomes one reload.
import { watch, type FSWatcher } from 'node:fs';
import type { Logger } from '../observability/logger.ts';

export interface FolderWatcher {
  close(): void;
}

export function watchFolders(dirs: readonly string[], onChange: () => void, logger: Logger, debounceMs = 25): FolderWatcher {
  let timer: NodeJS.Timeout | undefined;
  const fire = (): void => {
    clearTimeout(timer);
    timer = setTimeout(onChange, debounceMs);
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
