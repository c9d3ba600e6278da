// state.memory's snapshot and restore through the real host (CompiledComponent + LiveComponent,
// CPU metering and memory cap included): what one instance snapshots, a fresh one restores
// with every key, ETag, content type and TTL as it was; whole (`snapshot`) or streamed in
// chunks (`snapshot-stream`, host/sandbox/snapshot-stream.ts), even with its data filling 90%
// of its memory limit.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, test, type TestContext } from 'node:test';
import type { GetResponse, SetRequest } from '../../abi/ts/state.ts';
import type { WitResult } from '../../abi/ts/types.ts';
import { isTesseraError } from '../../host/errors.ts';
import { silentLogger } from '../../host/observability/logger.ts';
import { CompiledComponent, type CompileOptions } from '../../host/sandbox/compiled-component.ts';
import { LiveComponent } from '../../host/sandbox/live-component.ts';
import { restoreSnapshot, takeSnapshot } from '../../host/sandbox/snapshot-stream.ts';
import { fullStoreAcrossGenerations, fullStoreRoundTrip, joined, portOf, readAll, streamEndsOnOtherCalls } from '../support/snapshot-fill.ts';

const WASM = new URL('../../components-wasm/state-memory/state-memory.wasm', import.meta.url);
const bytes = readFile(WASM).then((b) => new Uint8Array(b));
const T0 = Date.UTC(2026, 10, 26, 7, 29, 50);

/** A state.memory instance behind the host's own lifting, with the host clock under the test's control. */
class Store {
  readonly live: LiveComponent;

  constructor(live: LiveComponent) {
    this.live = live;
  }

  static async start(options: CompileOptions = {}): Promise<Store> {
    const compiled = await CompiledComponent.compile(await bytes, options);
    // These tests call the snapshot exports directly, as ordinary calls, with thousands of keys
    // in one bulk call: they are about the store, not the host's pacing, so a call may hold the
    // loop up to a second (the slice's own tests are in test/host/sandbox/guest-limits.test.ts).
    return new Store(await LiveComponent.start(compiled, { name: 'memory', config: new Map(), logger: silentLogger, cpuSliceMs: 1000, cpuShare: 0 }));
  }

  async set(key: string, value: string | Uint8Array, options: Partial<SetRequest> = {}): Promise<WitResult<undefined>> {
    const req: SetRequest = {
      key, value: typeof value === 'string' ? new TextEncoder().encode(value) : value,
      concurrency: 'last-write', consistency: 'eventual', metadata: [], ...options,
    };
    return (await this.live.call('set', [req])) as WitResult<undefined>;
  }

  async get(key: string): Promise<GetResponse | undefined> {
    const result = (await this.live.call('get', [{ key, consistency: 'eventual', metadata: [] }])) as WitResult<GetResponse | undefined>;
    assert.equal(result.tag, 'ok', `get ${key}`);
    return result.val as GetResponse | undefined;
  }

  async delete(key: string): Promise<void> {
    const result = (await this.live.call('delete', [{ key, concurrency: 'last-write', consistency: 'eventual', metadata: [] }])) as WitResult<undefined>;
    assert.equal(result.tag, 'ok', `delete ${key}`);
  }

  async snapshot(): Promise<Uint8Array> {
    const data = await this.live.call('snapshot#snapshot', []);
    assert.ok(data instanceof Uint8Array);
    return data;
  }

  async restore(data: Uint8Array): Promise<WitResult<undefined>> {
    return (await this.live.call('snapshot#restore', [data])) as WitResult<undefined>;
  }
}

/** The host clock (`Date.now`, which the clock capability reads) as the test sets it. */
function frozenClock(t: TestContext): { now: number } {
  const clock = { now: T0 };
  t.mock.method(Date, 'now', () => clock.now);
  return clock;
}

const ok = { tag: 'ok', val: undefined };
const text = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : new TextDecoder().decode(b));
const etagOf = async (store: Store, key: string): Promise<number> => Number((await store.get(key))?.etag);

describe('state.memory snapshot and restore (through the host)', () => {
  test('the host sees the optional snapshot interface', async () => {
    const store = await Store.start();
    assert.ok(store.live.compiled.optionalExports.has('snapshot'));
    // QUERY_API comes from its `query` export, beside what `features()` lists.
    assert.deepEqual([...store.live.features].sort(), ['ETAG', 'QUERY_API', 'TRANSACTIONAL', 'TTL']);
  });

  test('a round trip keeps every key, value, ETag, content type and TTL', async (t) => {
    const clock = frozenClock(t);
    const old = await Store.start();
    const binary = Uint8Array.from({ length: 256 }, (_, i) => i);
    assert.deepEqual(await old.set('app||json', '{"n":1}', { contentType: 'application/json' }), ok);
    assert.deepEqual(await old.set('app||plain', 'no content type'), ok);
    assert.deepEqual(await old.set('app||empty', '', { contentType: '' }), ok);
    assert.deepEqual(await old.set('app||binary', binary, { contentType: 'application/octet-stream' }), ok);
    assert.deepEqual(await old.set('app||ключ ✓ 🔑', 'ü', { contentType: 'text/plain; charset=utf-8' }), ok);
    assert.deepEqual(await old.set('app||ttl', 'short-lived', { metadata: [['ttlInSeconds', '10']] }), ok);
    assert.deepEqual(await old.set('app||forever', 'kept', { metadata: [['ttlInSeconds', '-1']] }), ok);
    assert.deepEqual(await old.set('app||json', '{"n":2}', { contentType: 'application/json', etag: '1' }), ok);
    const keys = ['app||json', 'app||plain', 'app||empty', 'app||binary', 'app||ключ ✓ 🔑', 'app||ttl', 'app||forever'];
    const before = await Promise.all(keys.map((k) => old.get(k)));
    assert.deepEqual(before[5]?.metadata, [['ttlExpireTime', '2026-11-26T07:30:00Z']]);

    const data = await old.snapshot();
    clock.now += 5_000;
    const fresh = await Store.start();
    assert.deepEqual(await fresh.restore(data), ok);
    assert.deepEqual(await Promise.all(keys.map((k) => fresh.get(k))), before);
    assert.deepEqual(await fresh.snapshot(), data, 'a restored store snapshots to the same bytes');

    // The TTL runs on from where it was: 10 s after the first write, not 10 s after the restore.
    clock.now = T0 + 9_999;
    assert.equal((await fresh.get('app||ttl'))?.value.length, 11);
    clock.now = T0 + 10_000;
    assert.equal(await fresh.get('app||ttl'), undefined);
    assert.equal((await fresh.get('app||forever'))?.etag, '7');
  });

  test('ETags go on from the counter: after a restore, new ETags are greater than every old one', async () => {
    const old = await Store.start();
    for (const key of ['a', 'b', 'c']) assert.deepEqual(await old.set(key, key), ok);
    await old.delete('c'); // ETag 3 is gone with its key, but must not be handed out again
    const fresh = await Store.start();
    assert.deepEqual(await fresh.restore(await old.snapshot()), ok);
    assert.equal(await etagOf(fresh, 'b'), 2);
    assert.deepEqual(await fresh.set('c', 'again'), ok);
    assert.equal(await etagOf(fresh, 'c'), 4);
    // Restored ETags still guard writes.
    assert.equal((await fresh.set('a', 'x', { etag: '9' })).tag, 'err');
    assert.deepEqual(await fresh.set('a', 'x', { etag: '1' }), ok);
    assert.equal(await etagOf(fresh, 'a'), 5);
  });

  test('restore replaces whatever the instance held, but never lowers its ETag counter', async () => {
    const old = await Store.start();
    assert.deepEqual(await old.set('from-old', 'v'), ok);
    const fresh = await Store.start();
    for (let i = 0; i < 5; i++) assert.deepEqual(await fresh.set(`local-${i}`, 'v'), ok);
    assert.deepEqual(await fresh.restore(await old.snapshot()), ok);
    assert.equal(await fresh.get('local-0'), undefined);
    assert.equal(await etagOf(fresh, 'from-old'), 1);
    assert.deepEqual(await fresh.set('new', 'v'), ok);
    assert.equal(await etagOf(fresh, 'new'), 6);
  });

  test('expired items are left out of a snapshot, and dropped by a restore that finds them expired', async (t) => {
    const clock = frozenClock(t);
    const old = await Store.start();
    assert.deepEqual(await old.set('expired', 'x'.repeat(50), { metadata: [['ttlInSeconds', '1']] }), ok);
    assert.deepEqual(await old.set('expires-soon', 'y', { metadata: [['ttlInSeconds', '3']] }), ok);
    assert.deepEqual(await old.set('stays', 'z'), ok);
    clock.now += 2_000;
    const data = await old.snapshot();
    assert.ok(!Buffer.from(data).includes(Buffer.from('expired', 'utf16le')), 'the expired key is not in the snapshot');
    assert.ok(!Buffer.from(data).includes(Buffer.from('x'.repeat(50))), 'nor its value');

    const fresh = await Store.start();
    assert.deepEqual(await fresh.restore(data), ok);
    assert.equal(await fresh.get('expired'), undefined);
    assert.equal((await fresh.get('expires-soon'))?.value.length, 1);

    clock.now += 2_000; // expires-soon is past its time when the next restore reads it
    const later = await Store.start();
    assert.deepEqual(await later.restore(data), ok);
    assert.equal(await later.get('expires-soon'), undefined);
    assert.equal(await etagOf(later, 'stays'), 3);
    assert.deepEqual(await later.set('next', 'v'), ok);
    assert.equal(await etagOf(later, 'next'), 4, 'an ETag of a dropped item is not reused either');
  });

  test('a snapshot of an unknown format version is refused with invalid-argument naming both versions', async () => {
    const old = await Store.start();
    assert.deepEqual(await old.set('k', 'v'), ok);
    const data = await old.snapshot();
    assert.equal(data[0], 1, 'format version 1');
    const fresh = await Store.start();
    assert.deepEqual(await fresh.set('mine', 'v'), ok);
    const future = Uint8Array.from(data);
    future[0] = 2;
    const refused = await fresh.restore(future);
    assert.equal(refused.tag, 'err');
    assert.equal(refused.val?.tag, 'invalid-argument');
    assert.match(refused.val?.val ?? '', /format version is 2.*reads format version 1/);
    assert.equal((await fresh.get('mine'))?.etag, '1', 'a refused snapshot leaves the store as it was');
    assert.equal(await fresh.get('k'), undefined);
  });

  test('empty, truncated, padded or corrupt snapshots are refused without a trap', async () => {
    const old = await Store.start();
    for (let i = 0; i < 3; i++) assert.deepEqual(await old.set(`key-${i}`, `value-${i}`, { contentType: 'text/plain' }), ok);
    const data = await old.snapshot();
    const fresh = await Store.start();
    const refusal = async (bad: Uint8Array, why: RegExp): Promise<void> => {
      const result = await fresh.restore(bad);
      assert.equal(result.tag, 'err');
      assert.equal(result.val?.tag, 'invalid-argument');
      assert.match(result.val?.val ?? '', why);
    };
    await refusal(new Uint8Array(0), /empty/);
    for (const cut of [1, 12, 13, 20, data.length - 1]) await refusal(data.subarray(0, cut), /ends inside its data/);
    await refusal(Uint8Array.of(...data, 0), /1 bytes follow its last item/);
    const hugeKey = Uint8Array.from(data);
    new DataView(hugeKey.buffer).setUint32(13, 0xffffffff, true); // first key's length
    await refusal(hugeKey, /ends inside its data/);
    const twice = Uint8Array.from(data);
    new DataView(twice.buffer).setUint32(9, 0xffffffff, true); // item count
    await refusal(twice, /ends inside its data/);
    assert.equal(await fresh.get('key-0'), undefined);
    assert.deepEqual(await fresh.restore(data), ok, 'the instance is still healthy');
    assert.equal((await fresh.get('key-2'))?.contentType, 'text/plain');
  });

  test('repeated snapshots of a large store stay within a small memory cap', async () => {
    // Each snapshot lives in a block the post-return frees: forty 3 MB snapshots of a 3 MB
    // store fit in 24 MiB. Managed arrays left to the collector would have run it out of memory.
    const store = await Store.start({ memoryLimitBytes: 24 * 1024 * 1024 });
    const value = new Uint8Array(1000).fill(7);
    for (let i = 0; i < 3000; i += 500) {
      const batch = Array.from({ length: 500 }, (_, j) => ({
        key: `k${i + j}`, value, concurrency: 'last-write', consistency: 'eventual', metadata: [],
      }));
      assert.deepEqual(await store.live.call('bulk-set', [batch]), ok);
    }
    let size = 0;
    for (let round = 0; round < 40; round++) size = (await store.snapshot()).length;
    assert.ok(size > 3_000_000, `${size} bytes`);
    assert.equal((await store.get('k2999'))?.value.length, 1000);
  });

  /** A store of `count` keys of 100 bytes (a tenth with a TTL), filled 5000 at a time. */
  async function filled(count: number, options: CompileOptions = {}): Promise<Store> {
    const store = await Store.start(options);
    const value = new Uint8Array(100).fill(0x61);
    for (let i = 0; i < count; i += 5_000) {
      const batch = Array.from({ length: Math.min(5_000, count - i) }, (_, j) => ({
        key: `app||key-${i + j}`, value, contentType: 'application/json', concurrency: 'last-write', consistency: 'eventual',
        metadata: (i + j) % 10 === 0 ? [['ttlInSeconds', '3600']] : [],
      }));
      assert.deepEqual(await store.live.call('bulk-set', [batch]), ok);
    }
    return store;
  }

  test('10k keys snapshot and restore within the default CPU budget', async () => {
    const old = await filled(10_000);
    const fresh = await Store.start();
    assert.deepEqual(await fresh.restore(await old.snapshot()), ok);
    for (const i of [0, 1, 5_432, 9_999]) assert.deepEqual(await fresh.get(`app||key-${i}`), await old.get(`app||key-${i}`));
  });

  test('100k keys of 100 bytes: snapshot and restore times', async (t) => {
    // Unmetered: metered, a restore is charged about 17k fuel units a key, and 100k keys
    // would exceed the default per-call budget of 500M.
    const old = await filled(100_000, { cpuBudget: 0 });
    let start = performance.now();
    const data = await old.snapshot();
    const snapshotMs = performance.now() - start;
    const fresh = await Store.start({ cpuBudget: 0 });
    start = performance.now();
    assert.deepEqual(await fresh.restore(data), ok);
    const restoreMs = performance.now() - start;
    t.diagnostic(`${data.length} bytes; snapshot ${snapshotMs.toFixed(1)} ms, restore ${restoreMs.toFixed(1)} ms`);
    for (const i of [0, 1, 54_321, 99_999]) assert.deepEqual(await fresh.get(`app||key-${i}`), await old.get(`app||key-${i}`));
  });
});

describe('state.memory streamed snapshot (snapshot-stream, through the host)', () => {
  /** The bytes an item takes in the snapshot format (snapshot-format.ts): a record. */
  const recordSize = (key: string, value: number, contentType?: string): number =>
    25 + 2 * key.length + value + (contentType === undefined ? 0 : 4 + 2 * contentType.length);

  test('the host sees both snapshot interfaces', async () => {
    const store = await Store.start();
    assert.deepEqual([...store.live.compiled.optionalExports].sort(), ['query', 'snapshot', 'snapshot-stream']);
  });

  test('chunks hold whole records of at most about max-bytes, and joined are the whole snapshot', async () => {
    const store = await Store.start();
    const items: [string, number, string | undefined][] = [];
    for (let i = 0; i < 40; i++) items.push([`k-${i}`, (i * 37) % 300, i % 4 === 0 ? 'text/plain' : undefined]);
    for (const [key, size, contentType] of items) assert.deepEqual(await store.set(key, new Uint8Array(size).fill(1), contentType === undefined ? {} : { contentType }), ok);
    const whole = await store.snapshot();
    const largest = Math.max(13, ...items.map(([k, n, c]) => recordSize(k, n, c)));
    for (const chunkBytes of [1, 13, 100, 1000, 1 << 20]) {
      const chunks = await takeSnapshot(portOf(store.live), { chunkBytes });
      assert.deepEqual(joined(chunks), whole, `chunks of ${chunkBytes} bytes joined`);
      for (const chunk of chunks) assert.ok(chunk.length <= Math.max(chunkBytes, largest), `a chunk of ${chunk.length} bytes, asked for ${chunkBytes}`);
      if (chunkBytes === 1) assert.equal(chunks.length, 41, 'the header, then one record per chunk');
      if (chunkBytes === 1 << 20) assert.equal(chunks.length, 1);
    }
  });

  test('a snapshot taken in chunks restores whole, and one taken whole restores as one chunk', async () => {
    const old = await Store.start();
    for (let i = 0; i < 30; i++) assert.deepEqual(await old.set(`k-${i}`, `v-${i}`.repeat(i), i % 2 ? { contentType: 'text/plain' } : { metadata: [['ttlInSeconds', '60']] }), ok);
    const keys = Array.from({ length: 30 }, (_, i) => `k-${i}`);
    const before = await readAll(old.live, keys);
    const chunks = await takeSnapshot(portOf(old.live), { chunkBytes: 64 });
    assert.ok(chunks.length > 10);

    const viaRestore = await Store.start(); // a host that knows only `snapshot`: the chunks joined
    await restoreSnapshot(portOf(viaRestore.live, new Set(['snapshot'])), chunks);
    assert.deepEqual(await readAll(viaRestore.live, keys), before);

    const oneChunk = await Store.start(); // an older snapshot, taken whole: one chunk
    await restoreSnapshot(portOf(oneChunk.live), [await old.snapshot()]);
    assert.deepEqual(await readAll(oneChunk.live, keys), before);

    const streamed = await Store.start();
    await restoreSnapshot(portOf(streamed.live), chunks);
    assert.deepEqual(await readAll(streamed.live, keys), before);
    assert.deepEqual(joined(await takeSnapshot(portOf(streamed.live))), joined(chunks), 'the restored store streams the same bytes');
  });

  test('a chunk that ends inside a record, or a stream that stops short, is refused and leaves the store as it was', async () => {
    const old = await Store.start();
    for (let i = 0; i < 10; i++) assert.deepEqual(await old.set(`k-${i}`, 'x'.repeat(50)), ok);
    const chunks = await takeSnapshot(portOf(old.live), { chunkBytes: 200 });
    const fresh = await Store.start();
    assert.deepEqual(await fresh.set('mine', 'kept'), ok);
    const refusal = async (data: Uint8Array[], why: RegExp): Promise<void> => {
      await assert.rejects(restoreSnapshot(portOf(fresh.live), data), (err) => {
        assert.ok(isTesseraError(err));
        assert.equal(err.componentError?.tag, 'invalid-argument');
        assert.match(err.message, /^component "memory" refused the snapshot: invalid-argument: state\.memory cannot restore this snapshot: /);
        assert.match(err.message, why);
        return true;
      });
      assert.equal(text((await fresh.get('mine'))?.value), 'kept', 'a refused snapshot leaves the store as it was');
      assert.equal(await fresh.get('k-0'), undefined);
    };
    await refusal([chunks[0]!, chunks[1]!.subarray(0, 40)], /ends inside its data/);
    await refusal(chunks.slice(0, -1), /ends inside its data/);
    await refusal([], /empty/);
    await refusal([...chunks, Uint8Array.of(0)], /1 bytes follow its last item/);
    await restoreSnapshot(portOf(fresh.live), chunks);
    assert.equal(await fresh.get('mine'), undefined);
    assert.equal(text((await fresh.get('k-9'))?.value), 'x'.repeat(50));
  });

  test('any other call ends a stream: the snapshot under way, or the restore', async () => {
    const old = await Store.start();
    for (let i = 0; i < 10; i++) assert.deepEqual(await old.set(`k-${i}`, 'x'.repeat(40)), ok);
    const fresh = await Store.start();
    await streamEndsOnOtherCalls(old.live, fresh.live);
    assert.equal(text((await fresh.get('k-9'))?.value), 'x'.repeat(40));
  });

  test('data at 90% of an 8 MiB memory limit survives snapshot and restore into a fresh instance', async () => {
    // The whole-snapshot export needs a second copy of all data in the instance's memory; the
    // stream needs one chunk at a time, on both sides.
    await fullStoreRoundTrip(await bytes, 8 * 1024 * 1024);
  });

  test('at 90% of an 8 MiB memory limit, a new generation takes the data, hibernates and wakes with it (LiveComponent)', async () => {
    await fullStoreAcrossGenerations(await bytes, 8 * 1024 * 1024);
  });
});
