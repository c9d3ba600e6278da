// The check every builder ends with (host/toolchain/built-module-check.ts), on WAT modules:
// the host's own load check decides, the manifest may ask for no capability the module does
// not import, and each refusal names the folder, what is wrong and where to fix it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ComponentBuildError } from '../../../host/toolchain/build-error.ts';
import { checkBuiltModule } from '../../../host/toolchain/built-module-check.ts';
import { hostImportWat, stateStoreModule } from '../../support/state-store-wat.ts';

const refused = (message: RegExp) => (err: unknown) => err instanceof ComponentBuildError && message.test(err.message) && err.missing === undefined;

describe('checkBuiltModule', () => {
  test('accepts a module the host loads whose capabilities are the interfaces it imports', async () => {
    const bytes = stateStoreModule({ imports: [hostImportWat('log', 'log')], manifest: { capabilities: ['log'] } });
    const compiled = await checkBuiltModule('/src/kv', bytes, 'manifest.json');
    assert.deepEqual([...compiled.importedInterfaces], ['log']);
  });

  test('refuses a capability the module never imports, saying where it is declared', async () => {
    const bytes = stateStoreModule({ imports: [hostImportWat('log', 'log')], manifest: { capabilities: ['log', 'random'] } });
    await assert.rejects(
      checkBuiltModule('/src/kv', bytes, 'TESSERA_MANIFEST(...)'),
      refused(/^\/src\/kv: the manifest lists capabilities \[random\] the module never imports: drop them from TESSERA_MANIFEST\(\.\.\.\) \(it imports \[log\]\)$/),
    );
  });

  test('passes on the host\'s refusal: an import the manifest does not ask for', async () => {
    const bytes = stateStoreModule({ imports: [hostImportWat('clock', 'now-ms')] });
    await assert.rejects(checkBuiltModule('/src/kv', bytes, 'manifest.json'), refused(/^\/src\/kv: the host would refuse the built module: kv\.wasm: .*needs capability "clock", which the manifest does not request/));
  });

  test('explains a WASI import: some libc call pulled it in', async () => {
    const bytes = stateStoreModule({ imports: ['(import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))'] });
    await assert.rejects(checkBuiltModule('/src/kv', bytes, 'TESSERA_MANIFEST(...)'), refused(/is not offered by world .*: a libc or std call pulls WASI imports in \(printf\/iostream/));
  });

  test('a missing or broken manifest names where the manifest comes from', async () => {
    await assert.rejects(checkBuiltModule('/src/kv', stateStoreModule({ manifest: null }), 'the export macro'), refused(/^\/src\/kv: no tessera:manifest custom section.* \(the manifest comes from the export macro\)$/));
    await assert.rejects(checkBuiltModule('/src/kv', stateStoreModule({ manifest: { type: 'kv' } }), 'manifest.json'), refused(/the tessera:manifest section is invalid: .*type.* \(the manifest comes from manifest\.json\)$/));
  });
});
