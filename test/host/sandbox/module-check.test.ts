import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CompiledComponent } from '../../../host/sandbox/compiled-component.ts';
import { manyFunctions } from '../../support/load-attacks.ts';
import { importModule, stateStoreModule } from '../../support/state-store-wat.ts';

const refusal = async (bytes: Uint8Array): Promise<string> => {
  try {
    await CompiledComponent.compile(bytes, { source: 'm.wasm' });
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('the module was accepted');
};

test('a module with more exports than a component needs is refused before V8 makes a wrapper for each', async () => {
  assert.equal(await refusal(manyFunctions(2_000)), 'm.wasm: the module has 2012 exports, over the 1000 a component may have (its world\'s functions and a few more)');
});

test('a refusal lists the first ten problems and counts the rest', async () => {
  const imports = Array.from({ length: 50 }, (_, i) => `(import "${importModule('log')}" "nope-${i}" (func))`);
  const message = await refusal(stateStoreModule({ imports, manifest: { capabilities: ['log'] } }));
  assert.match(message, /^m\.wasm: the module does not fit world "state-store" of ABI 0\.1\.3: import "tessera:components\/log@0\.1\.3" "nope-0": interface "log" has no function "nope-0"; /);
  assert.equal(message.split('; ').length, 11);
  assert.match(message, /; and 40 more problems$/);
});
