// The state store adapter: a WIT result becomes the store's value or a TesseraError carrying
// the component's error; a get answered `not-found` is a key that is not there, as daprd has it.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { WitError } from '../../../../abi/ts/types.ts';
import { isTesseraError } from '../../../../host/errors.ts';
import { adaptStateStore, type StateStoreHost } from '../../../../host/sandbox/kinds/state-store-adapter.ts';

/** A store whose every call answers `answer`. */
function storeAnswering(answer: unknown): ReturnType<typeof adaptStateStore> {
  const host = { name: 'flaky', features: new Set<string>(), compiled: { optionalExports: new Set<string>() }, call: async () => answer } as unknown as StateStoreHost;
  return adaptStateStore(host);
}

const req = { key: 'k', consistency: 'eventual' as const, metadata: [] };
const err = (e: WitError) => ({ tag: 'err', val: e });

it('reads a get answered not-found as a missing key, and rejects any other error naming the component', async () => {
  assert.equal(await storeAnswering(err({ tag: 'not-found', val: 'no key k' })).get(req), undefined);
  assert.equal(await storeAnswering({ tag: 'ok', val: undefined }).get(req), undefined);
  const value = { value: new Uint8Array([49]), metadata: [] };
  assert.deepEqual(await storeAnswering({ tag: 'ok', val: value }).get(req), value);
  await assert.rejects(storeAnswering(err({ tag: 'unavailable', val: 'down' })).get(req), (e: unknown) => {
    assert.ok(isTesseraError(e));
    assert.deepEqual(e.componentError, { tag: 'unavailable', val: 'down' });
    assert.match(e.message, /component "flaky" get: unavailable: down/);
    return true;
  });
  // Only a get reads not-found as absence: a delete still learns of it.
  await assert.rejects(storeAnswering(err({ tag: 'not-found', val: 'no key k' })).delete({ key: 'k', concurrency: 'last-write', consistency: 'eventual', metadata: [] }), /not-found/);
});
