// The layers of ARCHITECTURE.md hold with no import circle: no file of host/ reaches itself
// through its imports, type-only imports included (they tie two files together as much for
// whoever changes them), and no file imports from a layer above its own. A circle shows as
// the files it runs through; an upward import as the pair.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importCycles, importGraph } from '../support/import-graph.ts';
import { tempDir } from '../support/temp-dir.ts';

const HOST = fileURLToPath(new URL('../../host', import.meta.url));

test('host/ has no import circle', () => {
  const graph = importGraph(HOST);
  assert.ok(graph.size > 100 && graph.get('sandbox/compiled-component.ts')?.has('sandbox/component-model.ts'), 'the graph was read');
  assert.deepEqual(importCycles(graph), []);
});

/**
 * The layers, top to bottom: a file may import from its own layer or one below, never above
 * (the sandbox never sees a building block, a building block never sees HTTP). Shared leaves
 * (errors, units, the schema validator, the version) sit at the bottom; Dapr's gRPC contracts
 * (protos), which the API, invocation and the app channel all load, just above them.
 */
const LAYERS: readonly (readonly string[])[] = [
  ['cli'],
  ['sidecar.ts', 'idle-heap.ts'],
  ['api'],
  ['building-blocks', 'resiliency'],
  ['app-channel', 'components', 'toolchain'],
  ['sandbox'],
  ['observability', 'configuration', 'middleware', 'security', 'protos'],
  ['content-type.ts', 'errors.ts', 'http-header-check.ts', 'package-root.ts', 'schema-validator.ts', 'units.ts', 'version.ts', 'types'],
];

test('host/ imports only down its layers', () => {
  const layerOf = (file: string): number => {
    const top = file.split('/')[0]!;
    const layer = LAYERS.findIndex((names) => names.includes(top));
    assert.notEqual(layer, -1, `host/${top} has no layer in this test: add it to LAYERS`);
    return layer;
  };
  const upward: string[] = [];
  for (const [file, imports] of importGraph(HOST)) {
    for (const imported of imports) if (layerOf(imported) < layerOf(file)) upward.push(`${file} -> ${imported}`);
  }
  assert.deepEqual(upward, []);
});

test('a circle through a type-only import, a re-export and a dynamic import is found', async () => {
  const dir = await tempDir();
  try {
    await writeFile(join(dir.path, 'a.ts'), "import type {\n  B,\n} from './b.ts';\nexport type A = B;\n");
    await writeFile(join(dir.path, 'b.ts'), "export { c as B } from './c.ts';\n");
    await writeFile(join(dir.path, 'c.ts'), "import { readFile } from 'node:fs';\n// import { x } from './d.ts';\nexport const c = () => import('./a.ts');\n");
    await writeFile(join(dir.path, 'd.ts'), "import './c.ts';\n");
    assert.deepEqual(importCycles(importGraph(dir.path)), [['a.ts', 'b.ts', 'c.ts']]);
  } finally {
    await dir.remove();
  }
});
