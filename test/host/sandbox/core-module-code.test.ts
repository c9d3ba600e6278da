// A core module's instance: its exports' lift and lower code is made at their first call, and
// a call through a reference taken before then answers as one looked up after.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { CompiledComponent } from '../../../host/sandbox/compiled-component.ts';
import { instantiate } from '../../../host/sandbox/component-instance.ts';
import { silentLogger } from '../../../host/observability/logger.ts';

const STATE_MEMORY = new URL('../../../components-wasm/state-memory/state-memory.wasm', import.meta.url);

test('exports are compiled at their first call; a reference taken before it keeps answering the same', async () => {
  const compiled = await CompiledComponent.compile(new Uint8Array(readFileSync(STATE_MEMORY)));
  const instance = await instantiate(compiled, { name: 'lazy', logger: silentLogger });
  try {
    const early = instance.calls.get('features')!;
    assert.ok(instance.calls.has('get') && instance.calls.has('set'), 'every export is listed before any call');
    const first = early() as string[];
    const compiledFeatures = instance.calls.get('features')!;
    assert.notEqual(compiledFeatures, early, 'the first call put the compiled call in the map');
    assert.deepEqual(compiledFeatures(), first);
    assert.deepEqual(early(), first, 'the early reference still answers');
    assert.equal(instance.calls.get('features'), compiledFeatures, 'compiled once');
    assert.ok(first.includes('ETAG'), `features: ${first.join(', ')}`);
    // An export not called yet is still its first-call stub, and works when called.
    const set = instance.calls.get('set')!;
    const result = set({ key: 'k', value: new TextEncoder().encode('"v"'), etag: undefined, metadata: [], concurrency: 'last-write', consistency: 'eventual', contentType: undefined }) as { tag: string };
    assert.equal(result.tag, 'ok');
    assert.notEqual(instance.calls.get('set'), set);
  } finally {
    instance.dispose();
  }
});
