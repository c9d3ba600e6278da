import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { MANIFEST_SECTION } from '../../../abi/ts/manifest.ts';
import { DEFAULT_LIMITS } from '../../../host/components/limits.ts';
import { loadWorkers } from '../../../host/components/load-worker.ts';
import { scanResources } from '../../../host/components/resources-loader.ts';
import { loadBundledTypes, type ModuleRef } from '../../../host/components/type-catalog.ts';
import { appendCustomSection, removeCustomSections } from '../../../host/sandbox/wasm-binary.ts';
import { STATE_MEMORY_WASM, componentYaml, tempDir, withAnnotations } from '../../support/temp-dir.ts';

let bundled: Map<string, ModuleRef>;
let dir: { path: string; remove: () => Promise<void> };

before(async () => {
  bundled = await loadBundledTypes();
});
after(async () => dir?.remove());

async function freshDir(): Promise<string> {
  await dir?.remove();
  dir = await tempDir();
  return dir.path;
}

/** state-memory.wasm re-labelled with another type, as a third-party store would be. */
async function relabelled(type: string): Promise<Uint8Array> {
  const bytes = removeCustomSections(new Uint8Array(await readFile(STATE_MEMORY_WASM)), MANIFEST_SECTION);
  const manifest = { kind: 'state-store', type, version: 'v1', abi: '0.1.0', capabilities: ['log', 'clock'] };
  return appendCustomSection(bytes, MANIFEST_SECTION, new TextEncoder().encode(JSON.stringify(manifest)));
}

test('the bundled catalog has state.memory', () => {
  assert.equal(bundled.get('state.memory')?.manifest.kind, 'state-store');
});

test('a YAML naming a bundled type runs the bundled module with its config', async () => {
  const path = await freshDir();
  await writeFile(join(path, 'store.yaml'), componentYaml('statestore', 'state.memory', { keyPrefix: 'none' }));
  const plan = await scanResources([path], bundled, 'app');
  assert.deepEqual(plan.failures, []);
  assert.equal(plan.components.length, 1);
  assert.equal(plan.components[0]!.name, 'statestore');
  assert.equal(plan.components[0]!.modulePath, bundled.get('state.memory')!.path);
  assert.deepEqual([...plan.components[0]!.config], [['keyPrefix', 'none']]);
});

test('a lone .wasm becomes a component named after its file, beside a YAML of the same type', async () => {
  const path = await freshDir();
  await writeFile(join(path, 'statestore.yaml'), componentYaml('statestore', 'state.memory'));
  await copyFile(STATE_MEMORY_WASM, join(path, 'cache.wasm'));
  const plan = await scanResources([path], bundled, 'app');
  assert.deepEqual(plan.components.map((c) => [c.name, c.modulePath]).sort(), [
    ['cache', join(path, 'cache.wasm')],
    ['statestore', bundled.get('state.memory')!.path],
  ]);
});

test('a .wasm providing a new type is claimed by the YAML that names it, not run alone', async () => {
  const path = await freshDir();
  await writeFile(join(path, 'redis-state.wasm'), await relabelled('state.fancy'));
  await writeFile(join(path, 'orders.yaml'), componentYaml('orders', 'state.fancy'));
  const plan = await scanResources([path], bundled, 'app');
  assert.deepEqual(plan.failures, []);
  assert.deepEqual(plan.components.map((c) => [c.name, c.manifest.type]), [['orders', 'state.fancy']]);
});

test('a YAML and a .wasm with the same stem pair up, even for a bundled type', async () => {
  const path = await freshDir();
  await copyFile(STATE_MEMORY_WASM, join(path, 'mine.wasm'));
  await writeFile(join(path, 'mine.yaml'), componentYaml('custom', 'state.memory'));
  const plan = await scanResources([path], bundled, 'app');
  assert.deepEqual(plan.components.map((c) => [c.name, c.modulePath]), [['custom', join(path, 'mine.wasm')]]);
});

test('unusable files are failures naming the file and the reason; the rest still loads', async () => {
  const path = await freshDir();
  await writeFile(join(path, 'good.yaml'), componentYaml('good', 'state.memory'));
  await writeFile(join(path, 'unknown.yaml'), componentYaml('weird', 'state.nope'));
  await writeFile(join(path, 'broken.wasm'), 'not wasm');
  await writeFile(join(path, 'v2.yaml'), componentYaml('v2', 'state.memory').replace('version: v1', 'version: v2'));
  const plan = await scanResources([path], bundled, 'app');
  assert.deepEqual(plan.components.map((c) => c.name), ['good']);
  const errors = Object.fromEntries(plan.failures.map((f) => [f.name, f.error]));
  assert.match(errors.weird!, /unknown\.yaml: unknown component type "state\.nope" \(known types: .*state\.memory/);
  assert.match(errors.broken!, /broken\.wasm: malformed WebAssembly binary/);
  assert.match(errors.v2!, /spec\.version is "v2" but .* version "v1"/);
});

test('every definition of a name is in the plan, in scan order: YAML files by name, then bare modules', async () => {
  const path = await freshDir();
  await copyFile(STATE_MEMORY_WASM, join(path, 'good.wasm'));
  await writeFile(join(path, 'z.yaml'), componentYaml('good', 'state.memory'));
  await writeFile(join(path, 'a.yaml'), componentYaml('good', 'state.memory'));
  const plan = await scanResources([path], bundled, 'app');
  assert.deepEqual(plan.failures, []);
  assert.deepEqual(
    plan.components.map((c) => [c.name, basename(c.source)]),
    [
      ['good', 'a.yaml'],
      ['good', 'z.yaml'],
      ['good', 'good.wasm'],
    ],
  );
});

test('scopes leave out components this app may not use', async () => {
  const path = await freshDir();
  await writeFile(join(path, 'scoped.yaml'), `${componentYaml('scoped', 'state.memory')}scopes:\n  - billing\n`);
  assert.deepEqual((await scanResources([path], bundled, 'orders')).components, []);
  assert.equal((await scanResources([path], bundled, 'billing')).components.length, 1);
});

test('a missing resources folder is an empty one', async () => {
  const plan = await scanResources(['/nonexistent/tessera'], bundled, 'app');
  assert.deepEqual(plan, { components: [], failures: [], middlewares: [], others: [] });
});

test('with ScanAhead, a new module is prepared as it is read, once per new bytes, and only for the limits it was prepared with', async () => {
  const path = await freshDir();
  await copyFile(STATE_MEMORY_WASM, join(path, 'cache.wasm'));
  await writeFile(join(path, 'small.yaml'), withAnnotations(componentYaml('small', 'state.memory'), { 'tessera.dev/memory-limit': '8Mi' }));
  const ahead = { limits: DEFAULT_LIMITS, known: new Map<string, string>() };
  const first = await scanResources([path], bundled, 'app', loadWorkers, ahead);
  const byName = new Map(first.components.map((c) => [c.name, c]));
  const cache = byName.get('cache')!;
  assert.equal(cache.prepared?.parts.sha256, cache.sha256, 'the bytes read are the bytes prepared');
  assert.equal(cache.prepared?.parts.memoryLimitBytes, DEFAULT_LIMITS.memoryLimitBytes);
  assert.equal(byName.get('small')!.prepared, undefined, 'other limits: prepared apart, by the registry');

  const again = await scanResources([path], bundled, 'app', loadWorkers, { ...ahead, known: new Map([[cache.modulePath, cache.sha256]]) });
  assert.equal(again.components.find((c) => c.name === 'cache')!.prepared, undefined, 'the same bytes again are not prepared again');
  assert.equal((await scanResources([path], bundled, 'app')).components.find((c) => c.name === 'cache')!.prepared, undefined, 'without ScanAhead nothing is prepared');
});
