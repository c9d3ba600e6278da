import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ComponentRegistry } from '../../../host/components/registry.ts';
import { scanResources } from '../../../host/components/resources-loader.ts';
import { loadBundledTypes, type ModuleRef } from '../../../host/components/type-catalog.ts';
import { silentLogger } from '../../../host/observability/logger.ts';
import { STATE_MEMORY_WASM, componentYaml, tempDir } from '../../support/temp-dir.ts';

let bundled: Map<string, ModuleRef>;
let dir: { path: string; remove: () => Promise<void> };
let registry: ComponentRegistry;
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

before(async () => {
  bundled = await loadBundledTypes();
  dir = await tempDir();
  registry = new ComponentRegistry({ logger: silentLogger });
});
after(async () => {
  await registry.close();
  await dir.remove();
});

const sync = async (): Promise<void> => registry.apply(await scanResources([dir.path], bundled, 'app'));
const set = (name: string, key: string, value: string) =>
  registry.getStateStore(name)!.store.set({ key, value: bytes(value), concurrency: 'last-write', consistency: 'eventual', metadata: [] });
const get = async (name: string, key: string) =>
  new TextDecoder().decode((await registry.getStateStore(name)!.store.get({ key, consistency: 'eventual', metadata: [] }))?.value);

test('applying a plan loads, keeps unchanged components running, and unloads removed ones', async () => {
  await writeFile(join(dir.path, 'statestore.yaml'), componentYaml('statestore', 'state.memory'));
  await sync();
  assert.deepEqual(registry.list().map((c) => [c.name, c.status, c.capabilities.sort().join(',')]), [['statestore', 'ready', 'ETAG,QUERY_API,TRANSACTIONAL,TTL']]);
  await set('statestore', 'k', '"v"');

  await copyFile(STATE_MEMORY_WASM, join(dir.path, 'cache.wasm'));
  await sync();
  assert.equal(await get('statestore', 'k'), '"v"', 'an unchanged component keeps its instance and data');
  assert.ok(registry.getStateStore('cache'));

  await rm(join(dir.path, 'cache.wasm'));
  await sync();
  assert.equal(registry.getStateStore('cache'), undefined);
  assert.equal(registry.stateStoreCount(), 1);
});

test('a broken edit never replaces a running component; the error is reported on it', async () => {
  await writeFile(join(dir.path, 'statestore.yaml'), 'apiVersion: dapr.io/v1alpha1\nkind: Component\nspec: [oops');
  await sync();
  assert.equal(await get('statestore', 'k'), '"v"');
  const info = registry.list().find((c) => c.name === 'statestore')!;
  assert.equal(info.status, 'ready');
  assert.match(info.error!, /statestore\.yaml: invalid YAML/);

  await writeFile(join(dir.path, 'statestore.yaml'), componentYaml('statestore', 'state.memory'));
  await sync();
  assert.equal(registry.list().find((c) => c.name === 'statestore')!.error, undefined);
});

test('a changed configuration reloads the component', async () => {
  await writeFile(join(dir.path, 'statestore.yaml'), componentYaml('statestore', 'state.memory', { keyPrefix: 'none' }));
  await sync();
  assert.deepEqual([...registry.getStateStore('statestore')!.config], [['keyPrefix', 'none']]);
});

test('a file that fails is listed as failed and counts as a configured state store', async () => {
  await writeFile(join(dir.path, 'bad.yaml'), componentYaml('bad', 'state.nope'));
  await sync();
  const bad = registry.list().find((c) => c.name === 'bad')!;
  assert.equal(bad.status, 'failed');
  assert.equal(bad.type, 'state.nope');
  assert.match(bad.error!, /unknown component type "state\.nope"/);
  assert.equal(registry.stateStoreCount(), 2);
  assert.deepEqual(await registry.pingAll(), []);
});
