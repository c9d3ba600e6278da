// A component whose `init` never returns, against the registry: it holds up no other
// component's load, swap or unload, fails at its init timeout naming itself, is not tried
// again with the same bytes, and does not hold up shutdown.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ComponentRegistry } from '../../../host/components/registry.ts';
import { scanResources } from '../../../host/components/resources-loader.ts';
import { loadBundledTypes, type ModuleRef } from '../../../host/components/type-catalog.ts';
import { silentLogger } from '../../../host/observability/logger.ts';
import { sleepyInitModule } from '../../support/load-attacks.ts';
import { pollUntil } from '../../support/sidecar-process.ts';
import { componentYaml, tempDir } from '../../support/temp-dir.ts';

let bundled: Map<string, ModuleRef>;
let dir: { path: string; remove: () => Promise<void> };
const registries: ComponentRegistry[] = [];

const sleepyYaml = (initTimeout: string): string => componentYaml('sleepy', 'state.sleepy').replace('  version: v1\n', `  version: v1\n  initTimeout: ${initTimeout}\n`);
const fresh = (): ComponentRegistry => {
  const registry = new ComponentRegistry({ logger: silentLogger });
  registries.push(registry);
  return registry;
};
const scan = () => scanResources([dir.path], bundled, 'app');

before(async () => {
  bundled = await loadBundledTypes();
  dir = await tempDir();
  await writeFile(join(dir.path, 'sleepy.wasm'), sleepyInitModule());
  await writeFile(join(dir.path, 'statestore.yaml'), componentYaml('statestore', 'state.memory'));
});
after(async () => {
  await Promise.all(registries.map((r) => r.close()));
  await dir.remove();
});

test('an init that never returns holds up no other component, and fails at its init timeout naming the file', async () => {
  await writeFile(join(dir.path, 'sleepy.yaml'), sleepyYaml('1s'));
  const registry = fresh();
  const t0 = performance.now();
  const applied = registry.apply(await scan());
  await pollUntil('statestore to load', () => registry.getStateStore('statestore'), { timeoutMs: 5000, intervalMs: 5 });
  const storeMs = performance.now() - t0;
  assert.ok(storeMs < 900, `statestore waited ${storeMs.toFixed(0)} ms, behind the sleeping init`);
  assert.equal(registry.list().some((c) => c.name === 'sleepy'), false, 'a component still starting is not listed');
  assert.equal(registry.stateStoreCount(), 2, 'but it counts as configured');

  await applied;
  const appliedMs = performance.now() - t0;
  assert.ok(appliedMs >= 1000 && appliedMs < 3000, `apply resolved after ${appliedMs.toFixed(0)} ms`);
  const sleepy = registry.list().find((c) => c.name === 'sleepy');
  assert.equal(sleepy?.status, 'failed');
  assert.equal(sleepy.error, `${join(dir.path, 'sleepy.yaml')}: component "sleepy" did not start within 1000 ms (its init never returned?); given up`);

  // The same bytes and config are not started again on the next scan.
  const t1 = performance.now();
  await registry.apply(await scan());
  assert.ok(performance.now() - t1 < 500, 'the failed component was not tried again');
  assert.equal(registry.list().find((c) => c.name === 'sleepy')?.error, sleepy.error);
});

test('while one component hangs in init, another is swapped and a third unloaded at once', async () => {
  await writeFile(join(dir.path, 'sleepy.yaml'), sleepyYaml('4s'));
  await writeFile(join(dir.path, 'extra.yaml'), componentYaml('extra', 'state.memory'));
  const registry = fresh();
  const first = registry.apply(await scan());
  await pollUntil('statestore and extra to load', () => registry.getStateStore('statestore') && registry.getStateStore('extra'), { timeoutMs: 5000, intervalMs: 5 });

  await writeFile(join(dir.path, 'statestore.yaml'), componentYaml('statestore', 'state.memory', { keyPrefix: 'none' }));
  await writeFile(join(dir.path, 'extra.yaml'), '');
  const t0 = performance.now();
  await registry.apply({ ...(await scan()), failures: [] });
  const ms = performance.now() - t0;
  assert.ok(ms < 2000, `the second plan took ${ms.toFixed(0)} ms behind the sleeping init`);
  assert.deepEqual([...registry.getStateStore('statestore')!.config], [['keyPrefix', 'none']]);
  assert.equal(registry.getStateStore('extra'), undefined);

  const t1 = performance.now();
  await registry.close();
  assert.ok(performance.now() - t1 < 3000, 'close did not wait for the sleeping init');
  await first;
});
