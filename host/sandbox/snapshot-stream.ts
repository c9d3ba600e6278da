// The host's half of carrying a component's data across instances: takes its snapshot and
// restores it through `snapshot-stream` in bounded chunks when the module exports it, else
// through the whole-snapshot `snapshot`, yielding to the event loop between chunks once they
// have held it a while.
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { WitResult } from '../../abi/ts/types.ts';
import type { SnapshotFunction } from '../../abi/ts/wit/snapshot.ts';
import type { SnapshotStreamFunction } from '../../abi/ts/wit/snapshot-stream.ts';
import { TesseraError } from '../errors.ts';
import type { SnapshotData } from './guest-component.ts';

/** What the host asks of each `snapshot-chunk`: small enough that one chunk is one short call. */
export const SNAPSHOT_CHUNK_BYTES = 256 * 1024;

/**
 * A chunk may exceed `max-bytes` by one record that does not fit anywhere else (it comes
 * alone); a chunk over four times the request and over this is refused, whatever its records.
 */
export const MAX_CHUNK_BYTES = 16 * 1024 * 1024;

/**
 * A snapshot may spell data wider than memory holds it (state.memory writes UTF-8 keys as
 * UTF-16), but not by more than this: a stream longer than this many memory limits never ends.
 */
const MAX_SNAPSHOT_PER_MEMORY_BYTE = 2;

export const STREAM = 'snapshot-stream';
export const WHOLE = 'snapshot';

// The keys of the optional exports, from the function names the WIT gives (abi/ts/wit/): a
// renamed function fails to compile here rather than to call at run time.
const whole = (fn: SnapshotFunction): string => `${WHOLE}#${fn}`;
const stream = (fn: SnapshotStreamFunction): string => `${STREAM}#${fn}`;

/** One instance's snapshot exports, as the host reaches them. */
export interface SnapshotPort {
  /** The component's name, for messages. */
  readonly name: string;
  /** The optional interfaces the module exports (`snapshot`, `snapshot-stream`). */
  readonly optionalExports: ReadonlySet<string>;
  /** The instance's memory cap, which bounds how long a snapshot may run. */
  readonly memoryLimitBytes: number;
  /**
   * Calls a lifted export by its key (`snapshot-stream#snapshot-chunk`, `snapshot#restore`),
   * synchronously or not; rejects (or throws) when the guest fails. The stream's calls are
   * ordinary calls, each with the per-call CPU budget; the whole-snapshot exports get whatever
   * allowance the caller gives work in proportion to the data.
   */
  call(fn: string, args: unknown[]): unknown;
  /** Stops the work between two chunks (a deadline); its reason is what rejects. */
  readonly signal?: AbortSignal;
}

export interface SnapshotStreamOptions {
  /** `max-bytes` of each `snapshot-chunk`; SNAPSHOT_CHUNK_BYTES by default. */
  chunkBytes?: number;
}

/** Whether the module exports a way to take (and restore) its data. */
export function canSnapshot(optionalExports: ReadonlySet<string>): boolean {
  return optionalExports.has(STREAM) || optionalExports.has(WHOLE);
}

/** Whether a snapshot is taken and restored in chunks (`snapshot-stream`) rather than whole. */
export function streams(optionalExports: ReadonlySet<string>): boolean {
  return optionalExports.has(STREAM);
}

function misbehaved(port: SnapshotPort, problem: string): TesseraError {
  return new TesseraError('ERR_COMPONENT_TRAP', `component "${port.name}" ${problem}`);
}

function noSnapshot(port: SnapshotPort): TesseraError {
  const why = `exports neither "${STREAM}" nor "${WHOLE}": its data cannot be carried over`;
  return new TesseraError('ERR_COMPONENT_LOAD', `component "${port.name}" ${why}`);
}

function bytesOf(port: SnapshotPort, fn: string, value: unknown): Uint8Array {
  if (!(value instanceof Uint8Array)) throw misbehaved(port, `answered ${fn} with ${typeof value}, not bytes`);
  return value;
}

/**
 * How long chunks may follow one another before the event loop gets a turn. A small
 * snapshot (one chunk, then the empty one that ends it) goes without: during a hot swap the
 * calls wait for it, and a turn under load is a millisecond or more.
 */
export const TURN_AFTER_MS = 2;

/**
 * Between two chunks: stops when the caller gave up, and lets other work run once the
 * chunks since the last turn held the event loop `TURN_AFTER_MS`. Returns when that turn
 * (or this call, when there was none) began.
 */
async function pause(port: SnapshotPort, since: number): Promise<number> {
  port.signal?.throwIfAborted();
  const now = performance.now();
  if (now - since < TURN_AFTER_MS) return since;
  await nextTurn();
  port.signal?.throwIfAborted();
  return performance.now();
}

/** A refused `restore`/`restore-chunk`/`restore-end`, as the component said it. */
function refused(port: SnapshotPort, result: unknown): void {
  const r = result as WitResult<undefined>;
  if (r?.tag === 'err') {
    throw new TesseraError('ERR_COMPONENT_LOAD', `component "${port.name}" refused the snapshot: ${r.val.tag}: ${r.val.val}`, { componentError: r.val });
  }
}

/**
 * The component's data: the chunks of `snapshot-stream`, each asked for at most
 * `chunkBytes`, with a turn of the event loop between two once they held it `TURN_AFTER_MS`;
 * or the whole of `snapshot` as one chunk. A chunk far over what was asked, or a stream that runs past what the component's
 * memory could hold, fails naming the component.
 */
export async function takeSnapshot(port: SnapshotPort, options: SnapshotStreamOptions = {}): Promise<SnapshotData> {
  if (!streams(port.optionalExports)) {
    if (!port.optionalExports.has(WHOLE)) throw noSnapshot(port);
    return [bytesOf(port, 'snapshot', await port.call(whole('snapshot'), []))];
  }
  const chunkBytes = options.chunkBytes ?? SNAPSHOT_CHUNK_BYTES;
  const largest = Math.max(4 * chunkBytes, MAX_CHUNK_BYTES);
  const most = MAX_SNAPSHOT_PER_MEMORY_BYTE * port.memoryLimitBytes;
  const chunks: Uint8Array[] = [];
  let total = 0;
  let since = performance.now();
  await port.call(stream('snapshot-begin'), []);
  for (;;) {
    const chunk = bytesOf(port, 'snapshot-chunk', await port.call(stream('snapshot-chunk'), [chunkBytes]));
    if (chunk.byteLength === 0) return chunks;
    if (chunk.byteLength > largest) {
      throw misbehaved(
        port,
        `returned a snapshot chunk of ${chunk.byteLength} bytes when asked for at most ${chunkBytes} ` +
          `(a chunk holds whole records, and more than ${largest} bytes is refused)`,
      );
    }
    total += chunk.byteLength;
    if (total > most) {
      throw misbehaved(
        port,
        `streamed ${total} bytes of snapshot without ending it, ` +
          `more than ${MAX_SNAPSHOT_PER_MEMORY_BYTE} times its memory limit of ${port.memoryLimitBytes} bytes could hold`,
      );
    }
    chunks.push(chunk);
    since = await pause(port, since);
  }
}

function joined(data: SnapshotData): Uint8Array {
  return new Uint8Array(Buffer.concat(data));
}

/**
 * Hands `data` (chunks from either export, of this or another version of the component) to a
 * fresh instance: chunk by chunk through `snapshot-stream` (turns of the event loop between
 * them as when taken), then `restore-end`; or joined into one for a module that exports only
 * `snapshot`. Rejects with the component's refusal, or its failure.
 */
export async function restoreSnapshot(port: SnapshotPort, data: SnapshotData): Promise<void> {
  if (!streams(port.optionalExports)) {
    if (!port.optionalExports.has(WHOLE)) throw noSnapshot(port);
    // Only `restore`: the chunks joined are the same snapshot (the one copy this path costs).
    refused(port, await port.call(whole('restore'), [data.length === 1 ? data[0]! : joined(data)]));
    return;
  }
  let since = performance.now();
  for (const [i, chunk] of data.entries()) {
    if (i > 0) since = await pause(port, since);
    refused(port, await port.call(stream('restore-chunk'), [chunk]));
  }
  refused(port, await port.call(stream('restore-end'), []));
}
