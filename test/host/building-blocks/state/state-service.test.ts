// The state building block over a JS memory store: what reaches the store, and the Dapr
// errors (codes, statuses, messages) that come back.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GetRequest, SetRequest, TransactOperation } from '../../../../abi/ts/state.ts';
import { StateService } from '../../../../host/building-blocks/state/state-service.ts';
import { httpStatusOf } from '../../../../host/api/http/http-status.ts';
import { isTesseraError, TesseraError } from '../../../../host/errors.ts';
import { FakeComponents } from '../../../support/fake-components.ts';
import { MemoryStateStore } from '../../../support/memory-state-store.ts';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (value: Uint8Array | undefined): string | undefined => (value === undefined ? undefined : new TextDecoder().decode(value));

function setup(options: { features?: string[]; config?: Record<string, string> } = {}) {
  const store = new MemoryStateStore(options.features === undefined ? {} : { features: options.features });
  const components = new FakeComponents().addStateStore('statestore', store, options.config);
  return { store, state: new StateService(components, { appId: 'orders' }) };
}

const rejectsWith = (promise: Promise<unknown>, code: string, status: number, message?: RegExp) =>
  assert.rejects(promise, (err) => {
    assert.ok(isTesseraError(err), `expected a TesseraError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.equal(httpStatusOf(err), status, 'the status the HTTP API answers with');
    if (message !== undefined) assert.match(err.message, message);
    return true;
  });

describe('state building block', () => {
  it('passes prefixed keys, defaults and the content type to the store', async () => {
    const { store, state } = setup({ config: { keyPrefix: 'name' } });
    await state.save('statestore', [{ key: 'k', value: bytes('1'), metadata: [], contentType: 'application/json' }]);
    const set = store.requests[0]?.request as SetRequest;
    assert.equal(store.requests[0]?.method, 'set');
    assert.equal(set.key, 'statestore||k');
    assert.equal(set.concurrency, 'last-write');
    assert.equal(set.consistency, 'eventual');
    assert.equal(set.contentType, 'application/json');
    assert.equal(set.etag, undefined);
  });

  it('lets metadata.contentType override the transport default', async () => {
    const { store, state } = setup();
    await state.save('statestore', [
      { key: 'k', value: bytes('"x"'), metadata: [['contentType', 'text/plain']], contentType: 'application/json' },
    ]);
    assert.equal((store.requests[0]?.request as SetRequest).contentType, 'text/plain');
  });

  it('saves several items with one bulk set', async () => {
    const { store, state } = setup();
    await state.save('statestore', [
      { key: 'a', value: bytes('1'), metadata: [] },
      { key: 'b', value: bytes('2'), metadata: [] },
    ]);
    assert.deepEqual(store.requests.map((r) => r.method), ['bulkSet']);
  });

  it('treats an empty ETag as none', async () => {
    const { store, state } = setup();
    await state.save('statestore', [{ key: 'a', value: bytes('1'), etag: '', metadata: [] }]);
    assert.equal((store.requests[0]?.request as SetRequest).etag, undefined);
  });

  it('refuses unknown concurrency and consistency words and bad TTLs before the store', async () => {
    const { store, state } = setup();
    const item = { key: 'a', value: bytes('1'), metadata: [] };
    await rejectsWith(state.save('statestore', [{ ...item, options: { concurrency: 'newest' } }]), 'ERR_MALFORMED_REQUEST', 400, /'newest'/);
    await rejectsWith(state.get('statestore', 'a', { consistency: 'sometimes', metadata: [] }), 'ERR_MALFORMED_REQUEST', 400, /'sometimes'/);
    for (const ttl of ['abc', '1.5', '-2', '99999999999']) {
      await rejectsWith(
        state.save('statestore', [{ ...item, metadata: [['ttlInSeconds', ttl]] }]),
        'ERR_MALFORMED_REQUEST',
        400,
        new RegExp(`"${ttl}"`),
      );
    }
    assert.equal(store.requests.length, 0);
  });

  it('requires a key on save', async () => {
    const { state } = setup();
    await rejectsWith(state.save('statestore', [{ key: '', value: bytes('1'), metadata: [] }]), 'ERR_MALFORMED_REQUEST', 400, /"key"/);
  });

  it('splits a bulk get into `parallelism` concurrent store calls and un-prefixes the keys', async () => {
    const { store, state } = setup();
    await state.save('statestore', [{ key: 'a', value: bytes('1'), metadata: [] }]);
    const keys = ['a', 'b', 'c', 'd', 'e'];
    const items = await state.bulkGet('statestore', keys, { parallelism: 2, metadata: [] });
    assert.deepEqual(items.map((i) => i.key), keys);
    assert.equal(text(items[0]?.response?.value), '1');
    assert.equal(items[1]?.response, undefined);
    const calls = store.requests.filter((r) => r.method === 'bulkGet').map((r) => (r.request as GetRequest[]).length);
    assert.deepEqual(calls, [3, 2]);
    await state.bulkGet('statestore', keys, { metadata: [] });
    assert.equal(store.requests.filter((r) => r.method === 'bulkGet').length, 3);
  });

  it('maps etag-mismatch to 409 and etag-invalid to 400 with Dapr codes and messages', async () => {
    const { state } = setup();
    await state.save('statestore', [{ key: 'a', value: bytes('1'), metadata: [] }]);
    await rejectsWith(
      state.save('statestore', [{ key: 'a', value: bytes('2'), etag: '999', metadata: [] }]),
      'ERR_STATE_SAVE',
      409,
      /^failed saving state in state store statestore: possible etag mismatch\. error from state store: /,
    );
    await rejectsWith(
      state.delete('statestore', 'a', { etag: 'not-a-number', metadata: [] }),
      'ERR_STATE_DELETE',
      400,
      /^failed deleting state with key a: invalid etag value: /,
    );
  });

  it('answers 500 for a failed transaction, ETag errors included, as daprd does', async () => {
    const { state } = setup();
    await rejectsWith(
      state.transact('statestore', [{ operation: 'delete', request: { key: 'a', etag: '5', metadata: [] } }], []),
      'ERR_STATE_TRANSACTION',
      500,
      /^error while executing state transaction: possible etag mismatch/,
    );
  });

  it('keeps a trap as it is, so the user sees which component trapped', async () => {
    const { store, state } = setup();
    const trap = new TesseraError('ERR_COMPONENT_TRAP', 'component "statestore" trapped in get: unreachable');
    store.failNext = trap;
    await assert.rejects(state.get('statestore', 'a', { metadata: [] }), (err) => err === trap);
  });

  it('wraps other failures with the operation code and status 500', async () => {
    const { store, state } = setup();
    store.failNext = new Error('disk on fire');
    await rejectsWith(state.get('statestore', 'a', { metadata: [] }), 'ERR_STATE_GET', 500, /^fail to get a from state store statestore: disk on fire$/);
    store.failNext = new Error('disk on fire');
    await rejectsWith(state.bulkGet('statestore', ['a'], { metadata: [] }), 'ERR_STATE_BULK_GET', 500, /disk on fire/);
  });

  it('refuses unknown stores, naming them, and says when none is configured', async () => {
    const { state } = setup();
    await rejectsWith(state.get('other', 'a', { metadata: [] }), 'ERR_STATE_STORE_NOT_FOUND', 400, /state store other is not found/);
    const empty = new StateService(new FakeComponents(), { appId: 'orders' });
    await rejectsWith(empty.get('statestore', 'a', { metadata: [] }), 'ERR_STATE_STORE_NOT_CONFIGURED', 500, /statestore/);
  });

  it('refuses transactions on a store without TRANSACTIONAL and unknown operations', async () => {
    const plain = setup({ features: ['ETAG'] });
    await rejectsWith(plain.state.transact('statestore', [], []), 'ERR_STATE_STORE_NOT_SUPPORTED', 500, /statestore/);
    const { store, state } = setup();
    await rejectsWith(
      state.transact('statestore', [{ operation: 'merge', request: { key: 'a', metadata: [] } }], []),
      'ERR_NOT_SUPPORTED_STATE_OPERATION',
      400,
      /operation type merge not supported/,
    );
    assert.equal(store.requests.length, 0);
  });

  it('passes transaction operations in order with prefixed keys', async () => {
    const { store, state } = setup();
    await state.transact(
      'statestore',
      [
        { operation: 'upsert', request: { key: 'a', value: bytes('1'), metadata: [] } },
        { operation: 'delete', request: { key: 'b', metadata: [] } },
      ],
      [['partitionKey', 'p']],
    );
    const { operations, metadata } = store.requests[0]?.request as { operations: TransactOperation[]; metadata: unknown };
    assert.deepEqual(operations.map((op) => [op.tag, op.val.key]), [['set', 'orders||a'], ['delete', 'orders||b']]);
    assert.deepEqual(metadata, [['partitionKey', 'p']]);
  });
});
