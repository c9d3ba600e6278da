// For the snapshot tests of the in-memory components: a LiveComponent's snapshot exports as
// the host's snapshot stream reaches them, and a state store filled to a share of its memory
// limit with keys, values, content types and TTLs, read back whole to compare.
import assert from 'node:assert/strict';
import type { GetResponse, SetRequest } from '../../abi/ts/state.ts';
import type { WitResult } from '../../abi/ts/types.ts';
import { isTesseraError } from '../../host/errors.ts';
import { silentLogger } from '../../host/observability/logger.ts';
import { CompiledComponent } from '../../host/sandbox/compiled-component.ts';
import type { SnapshotData } from '../../host/sandbox/guest-component.ts';
import { LiveComponent } from '../../host/sandbox/live-component.ts';
import { restoreSnapshot, SNAPSHOT_CHUNK_BYTES, takeSnapshot, type SnapshotPort } from '../../host/sandbox/snapshot-stream.ts';
import { PAGE_BYTES, readModuleShape } from '../../host/sandbox/wasm-binary.ts';

/** The instance's snapshot exports, each called as one ordinary call. */
export function portOf(live: LiveComponent, optionalExports: ReadonlySet<string> = live.compiled.optionalExports): SnapshotPort {
  return { name: live.name, optionalExports, memoryLimitBytes: live.compiled.memoryLimitBytes, call: (fn, args) => live.call(fn, args) };
}

export const sizeOf = (data: SnapshotData): number => data.reduce((n, chunk) => n + chunk.byteLength, 0);
export const joined = (data: SnapshotData): Uint8Array => new Uint8Array(Buffer.concat(data));

/** The memory a module declares before it holds any data: static data and, for Rust, its stack. */
export function initialMemoryBytes(wasm: Uint8Array): number {
  return (readModuleShape(wasm).memories[0]?.min ?? 0) * PAGE_BYTES;
}

/**
 * The data bytes that fill `share` of what a memory limit leaves the component for data (the
 * limit less the memory it starts with).
 */
export function dataTarget(wasm: Uint8Array, memoryLimitBytes: number, share = 0.9): number {
  return Math.floor(share * (memoryLimitBytes - initialMemoryBytes(wasm)));
}

/** Value sizes of a few KiB, varied so the allocator sees more than one size. */
const VALUE_SIZES = [12 * 1024, 16 * 1024, 20 * 1024];

/**
 * Sets keys until their keys and values add up to `bytes`: values of a few KiB whose bytes
 * tell them apart, every third with a content type, every fifth with a TTL of an hour, a few
 * keys outside ASCII. Returns the keys, in order.
 */
export async function fillStateStore(live: LiveComponent, bytes: number): Promise<string[]> {
  const keys: string[] = [];
  let total = 0;
  for (let i = 0; total < bytes; i++) {
    const key = i % 50 === 7 ? `app||ключ-${i}-✓` : `app||key-${i}`;
    const size = Math.min(VALUE_SIZES[i % VALUE_SIZES.length]!, Math.max(1, bytes - total));
    const value = new Uint8Array(size);
    for (let b = 0; b < size; b += 4096) value[b] = (i + b) & 0xff;
    value.fill(i & 0xff, size - 8);
    const req: SetRequest = {
      key, value, concurrency: 'last-write', consistency: 'eventual',
      metadata: i % 5 === 0 ? [['ttlInSeconds', '3600']] : [],
      ...(i % 3 === 0 ? { contentType: i % 2 === 0 ? 'application/json' : 'text/plain' } : {}),
    };
    const result = (await live.call('set', [req])) as WitResult<undefined>;
    assert.equal(result.tag, 'ok', `set ${key} at ${total} bytes of ${bytes}`);
    keys.push(key);
    total += Buffer.byteLength(key) + size;
  }
  return keys;
}

/** Every key's item as a get answers it (value, ETag, content type, metadata). */
export async function readAll(live: LiveComponent, keys: readonly string[]): Promise<(GetResponse | undefined)[]> {
  const found: (GetResponse | undefined)[] = [];
  for (const key of keys) {
    const result = (await live.call('get', [{ key, consistency: 'eventual', metadata: [] }])) as WitResult<GetResponse | undefined>;
    assert.equal(result.tag, 'ok', `get ${key}`);
    found.push(result.val as GetResponse | undefined);
  }
  return found;
}

/**
 * A state store whose data fills 90% of `memoryLimitBytes` (less its initial memory) crosses a
 * streamed snapshot into a fresh instance under the same limit: every key, value, ETag,
 * content type and TTL, and the ETag counter; while the whole-snapshot export, which needs a
 * second copy of the data in the instance, cannot take it.
 */
export async function fullStoreRoundTrip(wasm: Uint8Array, memoryLimitBytes: number): Promise<void> {
  const compiled = await CompiledComponent.compile(wasm, { memoryLimitBytes });
  const start = (): Promise<LiveComponent> => LiveComponent.start(compiled, { name: 'full', config: new Map(), logger: silentLogger });
  const old = await start();
  const keys = await fillStateStore(old, dataTarget(wasm, memoryLimitBytes));
  const before = await readAll(old, keys);
  const data = await takeSnapshot(portOf(old));
  assert.ok(sizeOf(data) > 0.85 * (memoryLimitBytes - initialMemoryBytes(wasm)), `${sizeOf(data)} bytes of snapshot`);
  assert.ok(data.length > 20 && data.every((chunk) => chunk.length <= SNAPSHOT_CHUNK_BYTES), `bounded chunks: ${data.map((c) => c.length).join(', ')}`);

  const fresh = await start();
  await restoreSnapshot(portOf(fresh), data);
  const after = await readAll(fresh, keys);
  assert.equal(after.filter((item) => item === undefined).length, 0, 'every key');
  assert.deepEqual(after, before, 'every value, ETag, content type and TTL');
  assert.equal(sizeOf(await takeSnapshot(portOf(fresh))), sizeOf(data), 'and it snapshots again');
  const set = (await fresh.call('set', [{ key: 'one-more', value: new Uint8Array(1), concurrency: 'last-write', consistency: 'eventual', metadata: [] }])) as WitResult<undefined>;
  assert.equal(set.tag, 'ok');
  const [added] = await readAll(fresh, ['one-more']);
  assert.equal(added?.etag, String(keys.length + 1), 'ETags go on from the restored counter');

  await assert.rejects(
    Promise.resolve().then(() => old.call('snapshot#snapshot', [])),
    (err) => isTesseraError(err) && err.code === 'ERR_COMPONENT_TRAP',
    'the whole snapshot does not fit beside the data',
  );
}

/**
 * The SDK's guard, for a store holding a few keys: a call between two calls of a stream ends
 * it, since the state under its cursor may have changed. The next chunk of a snapshot is then
 * empty, and a chunk after another call starts a new restore (here: one without its header).
 */
export async function streamEndsOnOtherCalls(live: LiveComponent, fresh: LiveComponent): Promise<void> {
  const chunk = async (): Promise<Uint8Array> => (await live.call('snapshot-stream#snapshot-chunk', [64])) as Uint8Array;
  await live.call('snapshot-stream#snapshot-begin', []);
  assert.ok((await chunk()).length > 0);
  await live.call('ping', []);
  assert.equal((await chunk()).length, 0, 'a snapshot chunk after another call is empty');
  assert.equal((await chunk()).length, 0, 'and the snapshot stays ended');

  const chunks = await takeSnapshot(portOf(live), { chunkBytes: 64 });
  assert.ok(chunks.length > 2);
  assert.deepEqual(await fresh.call('snapshot-stream#restore-chunk', [chunks[0]]), { tag: 'ok', val: undefined });
  await fresh.call('ping', []);
  const next = (await fresh.call('snapshot-stream#restore-chunk', [chunks[1]])) as WitResult<undefined>;
  assert.equal(next.tag, 'err', 'a chunk after another call starts a new restore, and has no header');
  const end = (await fresh.call('snapshot-stream#restore-end', [])) as WitResult<undefined>;
  assert.ok(end.tag === 'err' && /empty/.test(end.val.val), 'restore-end with no restore under way refuses an empty snapshot');
  await restoreSnapshot(portOf(fresh), chunks);
}

/**
 * The same through LiveComponent's own life cycle: a new generation takes the old one's data
 * (`snapshot`, `restore`), then hibernates and wakes on the next call with all of it.
 */
export async function fullStoreAcrossGenerations(wasm: Uint8Array, memoryLimitBytes: number): Promise<void> {
  const compiled = await CompiledComponent.compile(wasm, { memoryLimitBytes });
  const start = (): Promise<LiveComponent> => LiveComponent.start(compiled, { name: 'full', config: new Map(), logger: silentLogger });
  const old = await start();
  const keys = await fillStateStore(old, dataTarget(wasm, memoryLimitBytes));
  const before = await readAll(old, keys);
  const data = await old.snapshot();
  assert.ok(data !== undefined && data.length > 20, 'streamed, in chunks');
  const next = await start();
  await next.restore(data);
  assert.deepEqual(await readAll(next, keys), before, 'the new generation has every item');
  await next.hibernate();
  assert.equal(next.idle, true);
  assert.deepEqual(await readAll(next, keys), before, 'and wakes from hibernation with every item');
}
