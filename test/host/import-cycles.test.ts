// The layers of ARCHITECTURE.md hold with no import circle: no file of host/ reaches itself
// through its imports, type-only imports included (they tie two files together as much for
// whoever changes them). A circle shows as the files it runs through.
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
