// A component registry over a temporary resources folder, for tests that drive loads, swaps,
// traps and hibernation through the real registry and sandbox.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GetResponse, SetRequest } from '../../abi/ts/state.ts';
import { ComponentRegistry } from '../../host/components/registry.ts';
import { scanResources } from '../../host/components/resources-loader.ts';
import { loadBundledTypes } from '../../host/components/type-catalog.ts';
import { silentLogger } from '../../host/observability/logger.ts';
import { tempDir } from './temp-dir.ts';

export interface RegistryFixture {
  dir: string;
  registry: ComponentRegistry;
  /** Rescans the folder and applies it, as the watcher would. */
  sync(): Promise<void>;
  write(file: string, content: string | Uint8Array): Promise<void>;
  set(store: string, key: string, value: string, metadata?: [string, string][]): Promise<void>;
  /** The value as text, or undefined when missing. */
  get(store: string, key: string): Promise<string | undefined>;
  getItem(store: string, key: string): Promise<GetResponse | undefined>;
  close(): Promise<void>;
}

export async function registryFixture(): Promise<RegistryFixture> {
  const dir = await tempDir();
  const bundled = await loadBundledTypes();
  const registry = new ComponentRegistry({ logger: silentLogger });
  const store = (name: string) => {
    const live = registry.getStateStore(name);
    if (!live) throw new Error(`no state store "${name}" (components: ${JSON.stringify(registry.list())})`);
    return live.store;
  };
  const getItem = (name: string, key: string) => store(name).get({ key, consistency: 'eventual', metadata: [] });
  return {
    dir: dir.path,
    registry,
    sync: async () => registry.apply(await scanResources([dir.path], bundled, 'app')),
    write: (file, content) => writeFile(join(dir.path, file), content),
    set: (name, key, value, metadata = []) => {
      const req: SetRequest = { key, value: new TextEncoder().encode(value), concurrency: 'last-write', consistency: 'eventual', metadata };
      return store(name).set(req);
    },
    get: async (name, key) => {
      const item = await getItem(name, key);
      return item === undefined ? undefined : new TextDecoder().decode(item.value);
    },
    getItem,
    close: async () => {
      await registry.close();
      await dir.remove();
    },
  };
}
