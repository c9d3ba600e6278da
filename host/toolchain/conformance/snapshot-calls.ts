// Snapshot and restore as the host does them on a hot swap, for the snapshot checks of every
// kind: each export one ordinary call, a refusal a result, a trap a rejection.
import type { WitResult } from '../../../abi/ts/types.ts';
import { isTesseraError } from '../../errors.ts';
import type { SnapshotData } from '../../sandbox/guest-component.ts';
import type { LiveComponent } from '../../sandbox/live-component.ts';
import { canSnapshot, restoreSnapshot, streams, takeSnapshot, type SnapshotPort } from '../../sandbox/snapshot-stream.ts';
import { fail, sameBytes, type Subject } from './check.ts';

/** For `Check.skip`: the module exports `snapshot` or `snapshot-stream`. */
export const exportsSnapshot = (subject: Subject): string | undefined =>
  canSnapshot(subject.compiled.optionalExports) ? undefined : 'exports no snapshot interface';
/** For `Check.skip`: the module exports `snapshot-stream`. */
export const exportsStream = (subject: Subject): string | undefined =>
  streams(subject.compiled.optionalExports) ? undefined : 'exports no snapshot-stream interface';

/** Chunks this small split a snapshot into many, so every record boundary is crossed. */
export const SMALL_CHUNK_BYTES = 64;

function portOf(live: LiveComponent): SnapshotPort {
  return { name: live.name, optionalExports: live.compiled.optionalExports, memoryLimitBytes: live.compiled.memoryLimitBytes, call: (fn, args) => live.call(fn, args) };
}

/** The instance's snapshot, in chunks of about `chunkBytes` when it streams; fails when it holds no bytes. */
export async function snapshotOf(live: LiveComponent, chunkBytes?: number): Promise<SnapshotData> {
  const data = await takeSnapshot(portOf(live), chunkBytes === undefined ? {} : { chunkBytes });
  if (data.length === 0) fail('the snapshot holds no bytes (not even a format version)');
  return data;
}

export const joined = (data: SnapshotData): Uint8Array => new Uint8Array(Buffer.concat(data));

export const size = (data: SnapshotData): number => data.reduce((n, c) => n + c.byteLength, 0);

/** Where the module also exports the whole `snapshot`, fails unless `chunks` joined are what it returns. */
export async function expectChunksAreWhole(live: LiveComponent, chunks: SnapshotData): Promise<void> {
  if (!live.compiled.optionalExports.has('snapshot')) return;
  const whole = (await live.call('snapshot#snapshot', [])) as Uint8Array;
  if (!sameBytes(joined(chunks), whole)) fail(`the ${chunks.length} chunks joined (${size(chunks)} bytes) differ from what snapshot returns (${whole.length} bytes)`);
}

/** Restores `data` as the host does; a refusal is a result, a trap rejects. */
export async function restoreInto(live: LiveComponent, data: SnapshotData): Promise<WitResult<undefined>> {
  try {
    await restoreSnapshot(portOf(live), data);
    return { tag: 'ok', val: undefined };
  } catch (err) {
    if (isTesseraError(err) && err.componentError) return { tag: 'err', val: err.componentError };
    throw err;
  }
}

/** Restores `data` into `live`; a refusal fails the check, naming `what`. */
export async function expectRestored(live: LiveComponent, data: SnapshotData, what: string): Promise<void> {
  const restored = await restoreInto(live, data);
  if (restored.tag === 'err') fail(`restore of ${what} (${size(data)} bytes in ${data.length} chunks) was refused: ${restored.val.tag}: ${restored.val.val}`);
}

/** Restores an empty snapshot, which must be refused: `restore-end` with no chunk before it when it streams, else `restore` of no bytes. */
export async function expectEmptyRefused(live: LiveComponent): Promise<void> {
  const refused = await restoreInto(live, streams(live.compiled.optionalExports) ? [] : [new Uint8Array(0)]);
  if (refused.tag === 'ok') fail('restore of an empty snapshot (not even a format version byte) was accepted');
}
