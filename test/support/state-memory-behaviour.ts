// What every build of state.memory (AssemblyScript, Rust, C++) does beyond the conformance
// kit, through the real host: ETags that count up and are decimal, the host clock's TTLs to the
// millisecond and their limits, transactions checked whole before anything applies, bulk
// deletes applied in order. Each build's test file declares these once with its module.
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import type { DeleteRequest, SetRequest, StateStore, TransactOperation } from '../../abi/ts/state.ts';
import { isTesseraError } from '../../host/errors.ts';
import { silentLogger } from '../../host/observability/logger.ts';
import type { CompiledComponent } from '../../host/sandbox/compiled-component.ts';
import { LiveComponent } from '../../host/sandbox/live-component.ts';
import { adaptStateStore } from '../../host/sandbox/kinds/state-store-adapter.ts';

/** 10 s before 2026-11-26T07:30:00Z, the ttlExpireTime of a 10-second TTL set then. */
const T0 = Date.UTC(2026, 10, 26, 7, 29, 50);

const encode = (s: string): Uint8Array => new TextEncoder().encode(s);
const decode = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : new TextDecoder().decode(b));
const setReq = (key: string, value: string, more: Partial<SetRequest> = {}): SetRequest => ({
  key, value: encode(value), concurrency: 'last-write', consistency: 'eventual', metadata: [], ...more,
});
const deleteReq = (key: string, more: Partial<DeleteRequest> = {}): DeleteRequest => ({ key, concurrency: 'last-write', consistency: 'eventual', metadata: [], ...more });
const set = (req: SetRequest): TransactOperation => ({ tag: 'set', val: req });
const del = (req: DeleteRequest): TransactOperation => ({ tag: 'delete', val: req });

/** A get as plain values: the value as text, ETag, content type and metadata. */
async function read(store: StateStore, key: string) {
  const r = await store.get({ key, consistency: 'eventual', metadata: [] });
  return r && { value: decode(r.value), etag: r.etag, contentType: r.contentType, metadata: r.metadata };
}

/** The component error a call failed with: its case and message. */
async function refusal(call: Promise<unknown>): Promise<{ tag: string; message: string }> {
  try {
    await call;
  } catch (err) {
    assert.ok(isTesseraError(err) && err.componentError, `expected a component error, got ${String(err)}`);
    return { tag: err.componentError.tag, message: err.componentError.val };
  }
  assert.fail('the call succeeded');
}
const tagOf = async (call: Promise<unknown>): Promise<string> => (await refusal(call)).tag;

/** The host clock (`Date.now`, which the clock capability reads) as the test sets it. */
function frozenClock(t: TestContext): { now: number } {
  const clock = { now: T0 };
  t.mock.method(Date, 'now', () => clock.now);
  return clock;
}

export function stateMemoryBehaviour(label: string, compiled: Promise<CompiledComponent>): void {
  async function start(): Promise<StateStore> {
    const live = await LiveComponent.start(await compiled, { name: 'state-memory', config: new Map(), logger: silentLogger });
    return adaptStateStore(live);
  }

  describe(`state.memory's own behaviour (${label})`, () => {
    test('ETags count up from 1, one per write, in transactions too; a refused transaction hands none out', async () => {
      const store = await start();
      await store.set(setReq('a', 'a1'));
      await store.set(setReq('b', ''));
      assert.deepEqual(await read(store, 'b'), { value: '', etag: '2', contentType: undefined, metadata: [] });
      assert.equal(await tagOf(store.transact([set(setReq('c', 'c')), set(setReq('a', 'x', { etag: '99' }))], [])), 'etag-mismatch');
      await store.transact([set(setReq('b', 'b1')), set(setReq('b', 'b2', { etag: '3' })), del(deleteReq('a', { etag: '1' })), set(setReq('c', 'c1', { concurrency: 'first-write' }))], [['meta', 'data']]);
      assert.deepEqual(await read(store, 'b'), { value: 'b2', etag: '4', contentType: undefined, metadata: [] });
      assert.equal((await read(store, 'c'))?.etag, '5');
      await store.bulkSet([setReq('x', '1'), setReq('y', '2')]);
      assert.deepEqual((await store.bulkGet(['x', 'y'].map((key) => ({ key, consistency: 'eventual', metadata: [] })))).map((i) => i.response?.etag), ['6', '7']);
    });

    test('an ETag that is not a decimal number is etag-invalid; an empty one counts as none; refusals name the key', async () => {
      const store = await start();
      await store.set(setReq('k', 'v1'));
      await store.set(setReq('k', 'v2'));
      assert.equal(await tagOf(store.set(setReq('k', 'x', { etag: 'abc' }))), 'etag-invalid');
      assert.equal(await tagOf(store.delete(deleteReq('k', { etag: 'x9' }))), 'etag-invalid');
      await store.set(setReq('k', 'v3', { etag: '' }));
      assert.equal((await read(store, 'k'))?.value, 'v3', 'an empty ETag counts as none');
      assert.equal((await refusal(store.set(setReq('k', 'x', { etag: '2' })))).message, 'ETag "2" does not match key "k" (now at ETag "3"): read it again and retry');
      assert.match((await refusal(store.set(setReq('k', 'x', { etag: 'x1' })))).message, /^ETag "x1" for key "k" is not valid/);
      assert.match((await refusal(store.set(setReq('k', 'b', { concurrency: 'first-write' })))).message, /key "k" already exists/);
    });

    test('ttlInSeconds runs on the host clock to the millisecond; ttlExpireTime is whole seconds; -1, 0 and empty never expire', async (t) => {
      const clock = frozenClock(t);
      const store = await start();
      await store.set(setReq('t', 'v', { metadata: [['ttlInSeconds', '10']] }));
      assert.deepEqual((await read(store, 't'))?.metadata, [['ttlExpireTime', '2026-11-26T07:30:00Z']]);
      clock.now += 9_999;
      assert.equal((await read(store, 't'))?.value, 'v');
      clock.now += 1;
      assert.equal(await read(store, 't'), undefined, 'expired at its time exactly');
      await store.set(setReq('t', 'again', { concurrency: 'first-write' }));
      assert.equal((await read(store, 't'))?.value, 'again', 'an expired key counts as missing');
      for (const forever of ['-1', '0', '']) {
        await store.set(setReq(`f${forever}`, 'v', { metadata: [['ttlInSeconds', forever]] }));
        clock.now += 1e9;
        assert.deepEqual((await read(store, `f${forever}`))?.metadata, [], `ttlInSeconds "${forever}" never expires`);
      }
      clock.now = Date.UTC(2024, 1, 29, 23, 59, 59);
      await store.set(setReq('leap', 'v', { metadata: [['ttlInSeconds', '2147483647']] }));
      assert.deepEqual((await read(store, 'leap'))?.metadata, [['ttlExpireTime', '2092-03-19T03:14:06Z']], 'the longest TTL, from a leap day');
    });

    test('a malformed ttlInSeconds is invalid-argument, in a set or anywhere in a transaction, which then applies nothing', async () => {
      const store = await start();
      for (const bad of ['abc', '-2', '1.5', '99999999999', '2147483648', '-']) {
        assert.equal(await tagOf(store.set(setReq('bad', 'v', { metadata: [['ttlInSeconds', bad]] }))), 'invalid-argument', bad);
      }
      assert.equal((await refusal(store.set(setReq('bad', 'v', { metadata: [['ttlInSeconds', '-2']] })))).message, 'ttlInSeconds "-2" for key "bad" is not an integer from -1 to 2147483647');
      assert.equal(await tagOf(store.transact([set(setReq('c', 'c')), set(setReq('d', 'd', { metadata: [['ttlInSeconds', 'x']] }))], [])), 'invalid-argument');
      assert.equal(await read(store, 'c'), undefined, 'checked before anything applied');
      await store.transact([set(setReq('c', 'c')), del(deleteReq('c')), set(setReq('c', 'again', { concurrency: 'first-write' }))], []);
      assert.equal((await read(store, 'c'))?.value, 'again', 'a key deleted earlier in the transaction counts as missing');
    });

    test('bulk delete applies its requests in order, up to one with a stale ETag', async () => {
      const store = await start();
      await store.bulkSet([setReq('x', '1'), setReq('y', '2')]);
      assert.equal(await tagOf(store.bulkDelete([deleteReq('x'), deleteReq('y', { etag: '1' })])), 'etag-mismatch');
      assert.equal(await read(store, 'x'), undefined, 'the request before the stale one applied');
      assert.equal((await read(store, 'y'))?.value, '2');
    });
  });
}
