// Resources folders that declare too much by count: a file of too many documents, more
// components than --max-components, more files than a scan reads, and more failures than
// the log should repeat. Each is refused in one message naming the first offender and the
// limit; what runs keeps running when more is added; the log stays short.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MAX_RESOURCE_DOCUMENTS } from '../../../host/components/component-yaml.ts';
import { ComponentRegistry } from '../../../host/components/registry.ts';
import { MAX_RESOURCE_FILES, MAX_SCAN_MODULE_BYTES, scanResources } from '../../../host/components/resources-loader.ts';
import { loadBundledTypes, type ModuleRef } from '../../../host/components/type-catalog.ts';
import { createLogger, silentLogger } from '../../../host/observability/logger.ts';
import { componentYaml, tempDir } from '../../support/temp-dir.ts';

let bundled: Map<string, ModuleRef>;
const cleanups: (() => Promise<unknown>)[] = [];

before(async () => {
  bundled = await loadBundledTypes();
});
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function folder(): Promise<string> {
  const dir = await tempDir();
  cleanups.push(dir.remove);
  return dir.path;
}

function registryWith(maxComponents: number, lines: string[] = []): ComponentRegistry {
  const logger = createLogger({ level: 'info', json: true, write: (line) => lines.push((JSON.parse(line) as { msg: string }).msg) });
  const registry = new ComponentRegistry({ logger, maxComponents });
  cleanups.push(() => registry.close());
  return registry;
}

const stores = (prefix: string, n: number): string => Array.from({ length: n }, (_, i) => componentYaml(`${prefix}${i}`, 'state.memory')).join('---\n');
const running = (registry: ComponentRegistry): string[] =>
  registry
    .list()
    .filter((c) => c.status === 'ready')
    .map((c) => c.name)
    .sort();

test(`a file of more than ${MAX_RESOURCE_DOCUMENTS} YAML documents is refused whole, naming the file, the count and the limit`, async () => {
  const dir = await folder();
  await writeFile(join(dir, 'generated.yaml'), stores('s', MAX_RESOURCE_DOCUMENTS + 1));
  const plan = await scanResources([dir], bundled, 'app');
  assert.equal(plan.components.length, 0);
  assert.equal(plan.failures.length, 1);
  assert.equal(plan.failures[0]!.error, `${join(dir, 'generated.yaml')}: ${MAX_RESOURCE_DOCUMENTS + 1} YAML documents, over the ${MAX_RESOURCE_DOCUMENTS} one resource file may hold (split it into several files)`);
});

test('past --max-components the rest are refused in one failure naming the first and the flag; adding files never stops what runs', async () => {
  const dir = await folder();
  await writeFile(join(dir, 'm.yaml'), stores('m', 5));
  const lines: string[] = [];
  const registry = registryWith(3, lines);
  await registry.apply(await scanResources([dir], bundled, 'app'));
  assert.deepEqual(running(registry), ['m0', 'm1', 'm2']);
  const failed = registry.list().filter((c) => c.status === 'failed');
  assert.equal(failed.length, 1, JSON.stringify(failed));
  assert.equal(failed[0]!.error, `${join(dir, 'm.yaml')} (document 4): component "m3" and 1 more after it not loaded: the resources folders declare 5 components, over the 3 this sidecar runs (--max-components)`);
  assert.equal(lines.filter((l) => l.includes('not loaded')).length, 1, lines.join('\n'));

  // A file that sorts first, with components of its own: the three that run keep running.
  await writeFile(join(dir, 'a.yaml'), stores('a', 2));
  await registry.apply(await scanResources([dir], bundled, 'app', undefined, undefined, registry.files()));
  assert.deepEqual(running(registry), ['m0', 'm1', 'm2']);
  assert.match(registry.list().find((c) => c.status === 'failed')!.error!, /component "a0" and 3 more after it not loaded: the resources folders declare 7 components, over the 3/);
});

test(`past ${MAX_RESOURCE_FILES} resource files a scan reads no more, says so once, and reads the files of running components first`, async () => {
  const dir = await folder();
  const total = MAX_RESOURCE_FILES + 3;
  const name = (i: number): string => `f${String(i).padStart(4, '0')}.yaml`;
  // Resources of a kind the loader only passes on: nothing to start.
  for (let i = 0; i < total; i++) await writeFile(join(dir, name(i)), `apiVersion: dapr.io/v1alpha1\nkind: Note\nmetadata:\n  name: n${i}\n`);
  await writeFile(join(dir, 'zz-held.yaml'), componentYaml('held', 'state.memory'));

  const plan = await scanResources([dir], bundled, 'app', undefined, undefined, new Set([join(dir, 'zz-held.yaml')]));
  assert.deepEqual(
    plan.components.map((c) => c.name),
    ['held'],
  );
  assert.equal(plan.others.length, MAX_RESOURCE_FILES - 1);
  assert.equal(plan.failures.length, 1, JSON.stringify(plan.failures));
  const first = join(dir, name(MAX_RESOURCE_FILES - 1));
  assert.equal(plan.failures[0]!.error, `${first} and 3 more files after it: not read: the resources folders hold ${total + 1} resource files, over the ${MAX_RESOURCE_FILES} a sidecar reads`);
});

test('thirty broken files log twenty lines and one that counts the rest; metadata lists all thirty', async () => {
  const dir = await folder();
  for (let i = 0; i < 30; i++) await writeFile(join(dir, `b${String(i).padStart(2, '0')}.yaml`), componentYaml(`b${i}`, 'state.nothing'));
  const lines: string[] = [];
  const registry = registryWith(256, lines);
  await registry.apply(await scanResources([dir], bundled, 'app'));
  const notLoaded = lines.filter((l) => l.includes('not loaded'));
  assert.equal(notLoaded.length, 21, notLoaded.join('\n'));
  assert.equal(notLoaded[20], '10 more resources not loaded, not logged one by one: GET /v1.0/metadata lists them');
  assert.equal(registry.list().filter((c) => c.status === 'failed').length, 30);
  // Scanned again unchanged: the twenty already said are not said again; the ten are, now.
  lines.length = 0;
  await registry.apply(await scanResources([dir], bundled, 'app'));
  assert.equal(lines.filter((l) => l.includes('not loaded')).length, 10, lines.join('\n'));
});

test('the registry alone, without a cap given, runs what a small folder declares', async () => {
  const dir = await folder();
  await writeFile(join(dir, 's.yaml'), stores('s', 3));
  const registry = new ComponentRegistry({ logger: silentLogger });
  cleanups.push(() => registry.close());
  await registry.apply(await scanResources([dir], bundled, 'app'));
  assert.deepEqual(running(registry), ['s0', 's1', 's2']);
});

test('modules past the bytes a scan reads are not read, said once; a YAML paired with one fails rather than run a bundled type', async () => {
  const dir = await folder();
  // Sparse files: their size is what the folder says; nothing is written.
  const big = Math.ceil((MAX_SCAN_MODULE_BYTES * 3) / 4);
  await writeFile(join(dir, 'a.wasm'), '');
  await truncate(join(dir, 'a.wasm'), big);
  await writeFile(join(dir, 'b.wasm'), '');
  await truncate(join(dir, 'b.wasm'), big);
  await writeFile(join(dir, 'b.yaml'), componentYaml('b', 'state.memory'));
  const plan = await scanResources([dir], bundled, 'app');
  assert.deepEqual(plan.components, []);
  const errors = plan.failures.map((f) => f.error).sort();
  const total = `${((2 * big) / 1024 ** 2).toFixed(0)} MiB`;
  assert.deepEqual(errors, [
    `${join(dir, 'a.wasm')}: the file is ${(big / 1024 ** 2).toFixed(1)} MiB, over the 32 MiB module limit`,
    `${join(dir, 'b.wasm')}: not read: the modules in the resources folders come to ${total}, over the ${MAX_SCAN_MODULE_BYTES / 1024 ** 2} MiB a scan reads`,
    `${join(dir, 'b.yaml')}: its module ${join(dir, 'b.wasm')} was not read (the scan's ${MAX_SCAN_MODULE_BYTES / 1024 ** 2} MiB of modules were used up)`,
  ]);
  // The module of a running component is counted first.
  const held = await scanResources([dir], bundled, 'app', undefined, undefined, new Set([join(dir, 'b.wasm')]));
  assert.match(held.failures.map((f) => f.error).join('\n'), /a\.wasm: not read: the modules/);
});
