// Hostile files in a resources folder, scanned and applied in this process beside a good
// store: each is refused by name, none stalls the event loop or bloats what metadata shows,
// and the good store loads as usual.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { ComponentRegistry } from '../../../host/components/registry.ts';
import { scanResources } from '../../../host/components/resources-loader.ts';
import { loadBundledTypes, type ModuleRef } from '../../../host/components/type-catalog.ts';
import { silentLogger } from '../../../host/observability/logger.ts';
import { HOSTILE_FILE_REFUSALS, OUTSIDE_SECRET, placeHostileFiles } from '../../support/load-attacks.ts';
import { componentYaml, tempDir } from '../../support/temp-dir.ts';

let bundled: Map<string, ModuleRef>;
let dir: { path: string; remove: () => Promise<void> };
let outside: { path: string; remove: () => Promise<void> };
let registry: ComponentRegistry;

before(async () => {
  bundled = await loadBundledTypes();
  dir = await tempDir();
  outside = await tempDir();
  await writeFile(join(dir.path, 'statestore.yaml'), componentYaml('statestore', 'state.memory'));
  await placeHostileFiles(dir.path, outside.path);
  registry = new ComponentRegistry({ logger: silentLogger });
});
after(async () => {
  await registry.close();
  await dir.remove();
  await outside.remove();
});

test('every hostile file is refused by name, quickly, with the event loop free, and the good store loads', async (t) => {
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  const t0 = performance.now();
  await registry.apply(await scanResources([dir.path], bundled, 'app'));
  const took = performance.now() - t0;
  delay.disable();
  const stallMs = delay.max / 1e6;
  t.diagnostic(`scan + apply took ${took.toFixed(0)} ms; the event loop stalled at most ${stallMs.toFixed(0)} ms`);

  assert.equal(registry.getStateStore('statestore') !== undefined, true, JSON.stringify(registry.list()));
  const listed = registry.list();
  for (const [file, reason] of Object.entries(HOSTILE_FILE_REFUSALS)) {
    const path = join(dir.path, file);
    const entry = listed.find((c) => c.source === path);
    assert.equal(entry?.status, 'failed', `${file}: ${JSON.stringify(entry)}`);
    assert.ok(entry.error!.startsWith(`${path}: `), entry.error);
    assert.match(entry.error!.slice(path.length + 2), reason);
  }
  const shown = JSON.stringify(listed);
  assert.ok(!shown.includes(OUTSIDE_SECRET) && !shown.includes(outside.path), 'nothing of the outside file is shown');
  assert.ok(shown.length < 8 * 1024, `what metadata shows is ${shown.length} bytes`);
  // Before: 5 s of uniqueItems for 15,000 capabilities, and a hang on the named pipe.
  assert.ok(stallMs < 300, `the event loop stalled ${stallMs.toFixed(0)} ms`);
  assert.ok(took < 10_000, `loading took ${took.toFixed(0)} ms`);
});
