// The AssemblyScript builder (host/toolchain/assemblyscript.ts) on a component made by
// `tessera component new` outside the checkout: manifest.json is checked by the host's rules
// before compiling, capabilities are written in the world's order, and an entry file that
// exports more than the ABI is refused. (The bundled state-memory is rebuilt byte for byte by
// `components-wasm/build.ts --check`.)
import assert from 'node:assert/strict';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildAssemblyScriptComponent } from '../../../host/toolchain/assemblyscript.ts';
import { ComponentBuildError } from '../../../host/toolchain/build-error.ts';
import { scaffoldComponent } from '../../../host/toolchain/scaffold.ts';
import { readManifest } from '../../../host/sandbox/manifest.ts';
import { tempDir } from '../../support/temp-dir.ts';

test('checks manifest.json first, writes capabilities in world order, refuses extra exports', async () => {
  const dir = await tempDir('tessera-as-');
  try {
    const { dir: component } = await scaffoldComponent({ kind: 'state', language: 'as', name: 'kv', parentDir: dir.path });
    const manifestFile = join(component, 'manifest.json');
    const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as Record<string, unknown>;
    const out = join(dir.path, 'kv.wasm');

    await writeFile(manifestFile, JSON.stringify({ ...manifest, kind: 'queue' }));
    await assert.rejects(
      buildAssemblyScriptComponent(component, out),
      (err: unknown) => err instanceof ComponentBuildError && err.message.startsWith(`${manifestFile}: it is invalid: `) && /kind/.test(err.message),
    );

    await writeFile(manifestFile, JSON.stringify({ ...manifest, capabilities: ['clock', 'log'] }));
    const bytes = await buildAssemblyScriptComponent(component, out);
    assert.deepEqual(readManifest(bytes).capabilities, ['log', 'clock']);
    assert.deepEqual(new Uint8Array(await readFile(out)), bytes);

    await appendFile(join(component, 'assembly', 'index.ts'), '\nexport function helper(): i32 {\n  return 1;\n}\n');
    await assert.rejects(
      buildAssemblyScriptComponent(component, out),
      /assembly\/index\.ts exports "helper", which the state-store ABI does not have: the entry file should export nothing but/,
    );
  } finally {
    await dir.remove();
  }
});
