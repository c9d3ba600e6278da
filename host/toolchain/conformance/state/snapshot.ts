// Snapshots (for a module that exports the optional `snapshot` or `snapshot-stream`
// interface): a fresh instance restored from a snapshot reads exactly as the old one did, ETags
// included, whichever way it was taken (in chunks when the module streams); and a snapshot it
// cannot read is refused with an error, not a trap, leaving its data as it was.
import type { GetResponse } from '../../../../abi/ts/state.ts';
import { exportsSnapshot, exportsStream, expectChunksAreWhole, expectEmptyRefused, joined, restoreInto, size, SMALL_CHUNK_BYTES, snapshotOf } from '../snapshot-calls.ts';
import { etagOf, expectRefused, expectValue, fail, get, key, needs, setRequest, type Check, type CheckContext, type Instance } from './harness.ts';

/** Keys of every kind, with a content type and (for a TTL store) a TTL. */
async function fill({ store, subject }: CheckContext): Promise<string[]> {
  const items: [string, Uint8Array | string, object][] = [
    [key('snap-text'), 'text', { contentType: 'text/plain' }],
    [key('snap-empty'), '', {}],
    [key('snap-bytes'), Uint8Array.from({ length: 256 }, (_, i) => 255 - i), {}],
    [key('snap ключ 😀'), '{"json":true}', { contentType: 'application/json' }],
  ];
  if (subject.features.has('TTL')) items.push([key('snap-ttl'), 'expires', { metadata: [['ttlInSeconds', '600']] }]);
  for (const [k, value, more] of items) await store.set(setRequest(k, value, more));
  await store.set(setRequest(key('snap-text'), 'text, again', { contentType: 'text/plain' }));
  return items.map(([k]) => k);
}

async function reads(instance: Instance, keys: string[]): Promise<(GetResponse | undefined)[]> {
  return Promise.all(keys.map((k) => get(instance.store, k)));
}

const shown = (r: GetResponse | undefined): string =>
  r === undefined ? 'not found' : JSON.stringify({ value: [...r.value.subarray(0, 16)], length: r.value.length, etag: r.etag, contentType: r.contentType, metadata: r.metadata });

function expectSameReads(got: (GetResponse | undefined)[], want: (GetResponse | undefined)[], keys: string[], when: string): void {
  for (const [i, k] of keys.entries()) {
    if (shown(got[i]) !== shown(want[i])) fail(`${JSON.stringify(k)} ${when} reads ${shown(got[i])}, before it read ${shown(want[i])}`);
  }
}

export const snapshotChecks: Check[] = [
  {
    area: 'snapshot',
    name: 'a fresh instance restored from a snapshot reads the same (values, ETags, metadata)',
    skip: exportsSnapshot,
    async run(cx) {
      const keys = await fill(cx);
      const before = await reads(cx, keys);
      const data = await snapshotOf(cx.live);
      expectSameReads(await reads(cx, keys), before, keys, 'after taking a snapshot');
      const next = await cx.fresh();
      const restored = await restoreInto(next.live, data);
      if (restored.tag === 'err') fail(`restore of its own ${size(data)}-byte snapshot was refused: ${restored.val.tag}: ${restored.val.val}`);
      expectSameReads(await reads(next, keys), before, keys, 'after restore into a fresh instance');
    },
  },
  {
    area: 'snapshot',
    name: 'a snapshot streamed in small chunks is the whole snapshot, and restores chunk by chunk or in one piece',
    skip: exportsStream,
    async run(cx) {
      const keys = await fill(cx);
      const before = await reads(cx, keys);
      const chunks = await snapshotOf(cx.live, SMALL_CHUNK_BYTES);
      await expectChunksAreWhole(cx.live, chunks);
      const next = await cx.fresh();
      const restored = await restoreInto(next.live, chunks);
      if (restored.tag === 'err') fail(`restore of its own snapshot in ${chunks.length} chunks was refused: ${restored.val.tag}: ${restored.val.val}`);
      expectSameReads(await reads(next, keys), before, keys, `after a restore in ${chunks.length} chunks`);
      // Chunks hold whole records, so the whole snapshot is one valid chunk (as an older host's `snapshot` gives it).
      const other = await cx.fresh();
      const whole = await restoreInto(other.live, [joined(chunks)]);
      if (whole.tag === 'err') fail(`restore of its own snapshot as one chunk was refused: ${whole.val.tag}: ${whole.val.val}`);
      expectSameReads(await reads(other, keys), before, keys, 'after a restore in one chunk');
    },
  },
  {
    area: 'snapshot',
    name: 'after a restore, writes renew ETags and the restored ones are checked',
    skip: (subject) => exportsSnapshot(subject) ?? needs('ETAG')(subject),
    async run(cx) {
      const k = key('snap-text');
      await fill(cx);
      const next = await cx.fresh();
      const restored = await restoreInto(next.live, await snapshotOf(cx.live));
      if (restored.tag === 'err') fail(`restore was refused: ${restored.val.tag}: ${restored.val.val}`);
      const old = etagOf(await expectValue(next.store, k, 'text, again', 'after restore'), k);
      await next.store.set(setRequest(k, 'after restore', { etag: old }));
      const renewed = etagOf(await expectValue(next.store, k, 'after restore', 'after a write with the restored ETag'), k);
      if (renewed === old) fail(`a write after restore kept ETag ${JSON.stringify(old)}`);
      await expectRefused(next.store.set(setRequest(k, 'x', { etag: old })), 'etag-mismatch', 'set with the ETag replaced after restore');
    },
  },
  {
    area: 'snapshot',
    name: 'restore refuses an empty snapshot with an error, not a trap, and keeps its data',
    skip: exportsSnapshot,
    async run(cx) {
      await cx.store.set(setRequest(key('kept'), 'v'));
      await expectEmptyRefused(cx.live);
      await expectValue(cx.store, key('kept'), 'v', 'after a refused restore');
    },
  },
];
