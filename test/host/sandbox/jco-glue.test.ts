// jco's glue is evaluated as a function, not imported as an ES module: glue with the same
// source is shared while something holds it and freed once nothing does; glue that is not
// in the shape jco writes in instantiation mode is refused, saying so.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { isTesseraError } from '../../../host/errors.ts';
import { loadGlue } from '../../../host/sandbox/jco-glue.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** The shape of jco's glue in instantiation mode, small. */
const glue = (marker: string): string =>
  `"use components";\nexport function instantiate(getCoreModule, imports, instantiateCore = WebAssembly.instantiate) {\n  if (!getCoreModule) getCoreModule = (name) => new URL(name, import.meta.url);\n  return Promise.resolve({ marker: ${JSON.stringify(marker)}, strict: (function () { return this === undefined; })() });\n}\n\nexport const _util = {\n}\n`;

test('the glue runs as jco wrote it: strict, its instantiate exported', async () => {
  const loaded = loadGlue(glue('runs'));
  assert.deepEqual(await loaded.instantiate(() => new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0])), {}, () => undefined as never), { marker: 'runs', strict: true });
});

test('glue with the same source is evaluated once while held; freed once nothing holds it', async () => {
  let first: ReturnType<typeof loadGlue> | undefined = loadGlue(glue('shared'));
  assert.equal(loadGlue(glue('shared')), first);
  assert.notEqual(loadGlue(glue('other')).instantiate, first.instantiate);
  const held = new WeakRef(first.instantiate);
  first = undefined;
  for (let i = 0; i < 5 && held.deref() !== undefined; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    gc();
  }
  assert.equal(held.deref(), undefined, 'the glue was garbage-collected');
  assert.equal(typeof loadGlue(glue('shared')).instantiate, 'function', 'and is evaluated again when asked for');
});

test('glue in another shape is refused: module syntax a function cannot hold, or no instantiate', () => {
  const refused = (source: string, pattern: RegExp) =>
    assert.throws(() => loadGlue(source), (err: unknown) => isTesseraError(err, 'ERR_COMPONENT_LOAD') && pattern.test(err.message));
  refused(`import { x } from './x.js';\n${glue('import')}`, /jco's glue for the component is not in the shape this host evaluates: Cannot use import statement/);
  refused('export const instantiate = 1;\n', /declares no exported instantiate function/);
  refused(`${glue('await')}await 1;\n`, /not in the shape this host evaluates/);
});
