import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, copyFile, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LoadWorkers } from '../../../host/components/load-worker.ts';
import type { PreparedComponent } from '../../../host/sandbox/compiled-component.ts';
import { STATE_MEMORY_WASM, tempDir } from '../../support/temp-dir.ts';

const BUNDLED = fileURLToPath(STATE_MEMORY_WASM);
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups) await cleanup();
});

/**
 * Prepares `path` on a fresh load worker (a new thread: it reads TESSERA_CACHE_DIR as set now)
 * with the cache in `cacheDir`.
 */
async function prepareWith(cacheDir: string, path: string): Promise<PreparedComponent> {
  process.env.TESSERA_CACHE_DIR = cacheDir;
  const workers = new LoadWorkers({ maxWorkers: 1 });
  try {
    return await workers.run('prepare', [new Uint8Array(await readFile(path)), { source: path }], path);
  } finally {
    delete process.env.TESSERA_CACHE_DIR;
    await workers.close();
  }
}

async function entries(cacheDir: string): Promise<string[]> {
  const found: string[] = [];
  for (const folder of await readdir(cacheDir).catch(() => [])) {
    for (const file of await readdir(join(cacheDir, folder))) found.push(join(cacheDir, folder, file));
  }
  return found;
}

async function cacheDir(): Promise<string> {
  const dir = await tempDir('tessera-cache-');
  cleanups.push(dir.remove);
  return join(dir.path, 'cache');
}

test('a bundled module prepared once is compiled from the cache the next time, with the facts its checks found', async () => {
  const dir = await cacheDir();
  const first = await prepareWith(dir, BUNDLED);
  const [entry, ...more] = await entries(dir);
  assert.ok(entry !== undefined && more.length === 0, 'one entry');
  // What the entry says is what the next start gets: change a fact in it, and see it come back.
  const data = await readFile(entry);
  const headerBytes = data.readUInt32LE(0);
  const header = JSON.parse(data.subarray(4, 4 + headerBytes).toString('utf8')) as { parts: { optionalExports: string[] } };
  assert.deepEqual(header.parts.optionalExports, first.parts.optionalExports);
  header.parts.optionalExports = ['from-the-cache'];
  const rewritten = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(4);
  length.writeUInt32LE(rewritten.length);
  await writeFile(entry, Buffer.concat([length, rewritten, data.subarray(4 + headerBytes)]));
  const second = await prepareWith(dir, BUNDLED);
  assert.deepEqual(second.parts.optionalExports, ['from-the-cache']);
  assert.ok(second.code.format === 'core-module' && first.code.format === 'core-module');
  assert.deepEqual(WebAssembly.Module.exports(second.code.module), WebAssembly.Module.exports(first.code.module));
});

test('an entry whose bytes do not match their hash is not used, and is written again', async () => {
  const dir = await cacheDir();
  const first = await prepareWith(dir, BUNDLED);
  const [entry] = await entries(dir);
  const data = await readFile(entry!);
  data[data.length - 1]! ^= 0xff;
  await writeFile(entry!, data);
  const second = await prepareWith(dir, BUNDLED);
  assert.deepEqual(second.parts, first.parts);
  assert.notDeepEqual(await readFile(entry!), data, 'the entry was written again');
});

test('modules from a resources folder are not cached, nor anything when the cache is off or others may write its folder', async () => {
  const resources = await tempDir();
  cleanups.push(resources.remove);
  const copy = join(resources.path, 'state-memory.wasm');
  await copyFile(BUNDLED, copy);
  const dir = await cacheDir();
  await prepareWith(dir, copy);
  assert.deepEqual(await entries(dir), []);

  assert.equal((await prepareWith('off', BUNDLED)).parts.manifest.type, 'state.memory');

  const shared = await cacheDir();
  await prepareWith(shared, BUNDLED);
  for (const entry of await entries(shared)) await writeFile(entry, '');
  await chmod(shared, 0o777);
  await prepareWith(shared, BUNDLED);
  for (const entry of await entries(shared)) assert.equal((await readFile(entry)).length, 0, 'nothing written to a folder others may write');
});

/** The manifest of `path` read on a fresh load worker with the cache in `cacheDir`. */
async function manifestWith(cacheDir: string, path: string): Promise<{ type: string }> {
  process.env.TESSERA_CACHE_DIR = cacheDir;
  const workers = new LoadWorkers({ maxWorkers: 1 });
  try {
    return await workers.run('readModuleManifest', [path, join(path, '..')], path);
  } finally {
    delete process.env.TESSERA_CACHE_DIR;
    await workers.close();
  }
}

test('a bundled module\'s manifest read once comes from the cache the next time; a resources-folder module\'s is never kept', async () => {
  const dir = await cacheDir();
  assert.equal((await manifestWith(dir, BUNDLED)).type, 'state.memory');
  const [entry, ...more] = (await entries(dir)).filter((path) => path.includes('manifest-'));
  assert.ok(entry !== undefined && more.length === 0, 'one manifest entry');
  // What the entry says is what the next start gets: change it, and see it come back.
  await writeFile(entry, JSON.stringify({ ...JSON.parse(await readFile(entry, 'utf8')), type: 'state.from-the-cache' }));
  assert.equal((await manifestWith(dir, BUNDLED)).type, 'state.from-the-cache');

  const resources = await tempDir();
  cleanups.push(resources.remove);
  const copy = join(resources.path, 'store.wasm');
  await copyFile(BUNDLED, copy);
  const other = await cacheDir();
  assert.equal((await manifestWith(other, copy)).type, 'state.memory');
  assert.deepEqual(await entries(other), []);
});
