// The snapshot file: what is written reads back chunk for chunk, replaced only whole; a
// damaged, foreign or oversized file is refused saying why.
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { readSnapshotFile, writeSnapshotFile } from '../../../host/components/snapshot-file.ts';
import { tempDir } from '../../support/temp-dir.ts';

let dir: Awaited<ReturnType<typeof tempDir>>;
before(async () => {
  dir = await tempDir('tessera-snapfile-');
});
after(() => dir.remove());

const chunks = [new Uint8Array([1, 2, 3]), new Uint8Array(0), new Uint8Array(300_000).fill(7)];

test('chunks written read back as they were, in a folder made for them, with no temp file left', async () => {
  const path = join(dir.path, 'made', 'store.snap');
  assert.equal(await readSnapshotFile(path, 'state.memory', 1 << 20), undefined, 'no file yet: nothing to restore');
  await writeSnapshotFile(path, 'state.memory', chunks);
  await writeSnapshotFile(path, 'state.memory', [chunks[0]!]);
  assert.deepEqual((await readSnapshotFile(path, 'state.memory', 1 << 20))?.map((c) => [...c.subarray(0, 4)]), [[1, 2, 3]]);
  await writeSnapshotFile(path, 'state.memory', chunks);
  const back = await readSnapshotFile(path, 'state.memory', 1 << 20);
  assert.deepEqual(back?.map((c) => Buffer.from(c)), chunks.map((c) => Buffer.from(c)));
  assert.deepEqual(await readdir(join(dir.path, 'made')), ['store.snap']);
});

test('a damaged, foreign or oversized file is refused, saying why', async () => {
  const path = join(dir.path, 'x.snap');
  await writeSnapshotFile(path, 'state.memory', chunks);
  const good = await readFile(path);
  const refused = async (bytes: Uint8Array | undefined, message: RegExp, type = 'state.memory', max = 1 << 20): Promise<void> => {
    if (bytes !== undefined) await writeFile(path, bytes);
    await assert.rejects(readSnapshotFile(path, type, max), message);
  };
  await refused(good.subarray(0, good.byteLength - 1), /damaged \(its checksum does not match/);
  const flipped = Buffer.from(good);
  flipped[40] = flipped[40]! ^ 1;
  await refused(flipped, /checksum does not match/);
  await refused(Buffer.from('{"not":"a snapshot"}'), /damaged \(not a Tessera snapshot file\)/);
  await writeFile(path, good);
  await refused(undefined, /it holds the data of a state\.memory component, not of pubsub\.memory/, 'pubsub.memory');
  await refused(undefined, /it holds \d+ bytes, more than the 1000 this component's memory limit could hold/, 'state.memory', 1000);
});
