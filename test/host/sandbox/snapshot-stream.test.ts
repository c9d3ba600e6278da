// The host's half of snapshots (host/sandbox/snapshot-stream.ts) against fake instances: which
// export it uses, the chunk size it asks for, a turn of the event loop between chunks, and
// the guests it refuses (a chunk far too large, a stream that never ends), naming them.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isTesseraError } from '../../../host/errors.ts';
import { MAX_CHUNK_BYTES, SNAPSHOT_CHUNK_BYTES, TURN_AFTER_MS, canSnapshot, restoreSnapshot, takeSnapshot, type SnapshotPort } from '../../../host/sandbox/snapshot-stream.ts';

const OK = { tag: 'ok', val: undefined };

/** A fake instance: `calls` records every export called, `exports` answers them. */
function fakePort(optionalExports: string[], exports: Record<string, (...args: unknown[]) => unknown>, more: Partial<SnapshotPort> = {}): SnapshotPort & { calls: [string, unknown[]][] } {
  const calls: [string, unknown[]][] = [];
  return {
    name: 'fake',
    optionalExports: new Set(optionalExports),
    memoryLimitBytes: 1024 * 1024,
    calls,
    call: (fn, args) => {
      calls.push([fn, args]);
      const f = exports[fn];
      if (f === undefined) throw new Error(`no export ${fn}`);
      return f(...args);
    },
    ...more,
  };
}

/** A guest streaming `chunks`, one per `snapshot-chunk`, then an empty one. */
function streaming(chunks: Uint8Array[]): Record<string, (...args: unknown[]) => unknown> {
  let next = 0;
  return {
    'snapshot-stream#snapshot-begin': () => void (next = 0),
    'snapshot-stream#snapshot-chunk': () => chunks[next++] ?? new Uint8Array(0),
    'snapshot-stream#restore-chunk': () => OK,
    'snapshot-stream#restore-end': () => OK,
  };
}

const refusedAs = (pattern: RegExp, code = 'ERR_COMPONENT_TRAP') => (err: unknown): boolean => {
  assert.ok(isTesseraError(err), String(err));
  assert.equal(err.code, code);
  assert.match(err.message, pattern);
  return true;
};

describe('taking a snapshot', () => {
  test('streams when the module exports snapshot-stream, asking for bounded chunks, until an empty one', async () => {
    const chunks = [Uint8Array.of(1, 2), Uint8Array.of(3), Uint8Array.of(4, 5, 6)];
    const port = fakePort(['snapshot', 'snapshot-stream'], { ...streaming(chunks), 'snapshot#snapshot': () => assert.fail('the whole snapshot is not taken') });
    assert.deepEqual(await takeSnapshot(port), chunks);
    assert.deepEqual(port.calls.map(([fn, args]) => `${fn}(${args.join(', ')})`), [
      'snapshot-stream#snapshot-begin()',
      ...Array(4).fill(`snapshot-stream#snapshot-chunk(${SNAPSHOT_CHUNK_BYTES})`),
    ]);
    const small = fakePort(['snapshot-stream'], streaming(chunks));
    await takeSnapshot(small, { chunkBytes: 64 });
    assert.deepEqual(small.calls[1], ['snapshot-stream#snapshot-chunk', [64]]);
  });

  test('takes the whole snapshot, as one chunk, from a module that exports only snapshot', async () => {
    const port = fakePort(['snapshot'], { 'snapshot#snapshot': () => Uint8Array.of(1, 9) });
    assert.deepEqual(await takeSnapshot(port), [Uint8Array.of(1, 9)]);
    await assert.rejects(takeSnapshot(fakePort([], {})), refusedAs(/^component "fake" exports neither "snapshot-stream" nor "snapshot"/, 'ERR_COMPONENT_LOAD'));
    assert.equal(canSnapshot(new Set(['snapshot-stream'])), true);
    assert.equal(canSnapshot(new Set(['snapshot'])), true);
    assert.equal(canSnapshot(new Set()), false);
  });

  test('gives the event loop a turn between two chunks once they have held it a while', async () => {
    const order: string[] = [];
    const chunks = [Uint8Array.of(1), Uint8Array.of(2), Uint8Array.of(3)];
    const exports = streaming(chunks);
    const chunk = exports['snapshot-stream#snapshot-chunk']!;
    // Each chunk takes as long as the event loop may go without a turn.
    const slowChunk = (): unknown => {
      const until = performance.now() + TURN_AFTER_MS;
      while (performance.now() < until);
      order.push('chunk');
      return chunk();
    };
    const port = fakePort(['snapshot-stream'], { ...exports, 'snapshot-stream#snapshot-chunk': slowChunk });
    const taking = takeSnapshot(port);
    setImmediate(() => order.push('other work'));
    await taking;
    assert.deepEqual(order.slice(0, 3), ['chunk', 'other work', 'chunk']);
  });

  test('refuses a chunk far larger than asked, naming the component', async () => {
    const huge = new Uint8Array(MAX_CHUNK_BYTES + 1);
    await assert.rejects(takeSnapshot(fakePort(['snapshot-stream'], streaming([Uint8Array.of(1), huge]))), refusedAs(/^component "fake" returned a snapshot chunk of 16777217 bytes when asked for at most 262144/));
    // Larger than asked by one lone record is fine.
    const record = new Uint8Array(3 * SNAPSHOT_CHUNK_BYTES);
    assert.equal((await takeSnapshot(fakePort(['snapshot-stream'], streaming([record]), { memoryLimitBytes: 8 * 1024 * 1024 }))).length, 1);
  });

  test('refuses a stream that never ends: past twice the memory limit', async () => {
    const forever = fakePort(['snapshot-stream'], {
      'snapshot-stream#snapshot-begin': () => undefined,
      'snapshot-stream#snapshot-chunk': (max) => new Uint8Array(max as number),
    }, { memoryLimitBytes: 1024 * 1024 });
    await assert.rejects(takeSnapshot(forever, { chunkBytes: 64 * 1024 }), refusedAs(/^component "fake" streamed 2162688 bytes of snapshot without ending it, more than 2 times its memory limit of 1048576 bytes/));
    assert.equal(forever.calls.length, 1 + 33);
  });

  test('refuses an answer that is not bytes, and passes a guest failure on as it is', async () => {
    await assert.rejects(takeSnapshot(fakePort(['snapshot-stream'], { ...streaming([]), 'snapshot-stream#snapshot-chunk': () => 'text' })), refusedAs(/answered snapshot-chunk with string, not bytes/));
    const trap = new Error('unreachable');
    await assert.rejects(takeSnapshot(fakePort(['snapshot-stream'], { ...streaming([]), 'snapshot-stream#snapshot-chunk': () => Promise.reject(trap) })), (err) => err === trap);
  });

  test('stops between two chunks once its signal is aborted', async () => {
    const abort = new AbortController();
    const exports = streaming([Uint8Array.of(1), Uint8Array.of(2), Uint8Array.of(3)]);
    const chunk = exports['snapshot-stream#snapshot-chunk']!;
    const port = fakePort(['snapshot-stream'], { ...exports, 'snapshot-stream#snapshot-chunk': () => (abort.abort(new Error('deadline')), chunk()) }, { signal: abort.signal });
    await assert.rejects(takeSnapshot(port), /deadline/);
    assert.equal(port.calls.length, 2, 'no chunk after the abort');
  });
});

describe('restoring a snapshot', () => {
  test('hands each chunk to restore-chunk in order, then restore-end', async () => {
    const chunks = [Uint8Array.of(1), Uint8Array.of(2, 3)];
    const port = fakePort(['snapshot', 'snapshot-stream'], { ...streaming([]), 'snapshot#restore': () => assert.fail('the whole restore is not used') });
    await restoreSnapshot(port, chunks);
    assert.deepEqual(port.calls, [
      ['snapshot-stream#restore-chunk', [chunks[0]]],
      ['snapshot-stream#restore-chunk', [chunks[1]]],
      ['snapshot-stream#restore-end', []],
    ]);
  });

  test('joins the chunks for a module that exports only restore', async () => {
    const port = fakePort(['snapshot'], { 'snapshot#restore': () => OK });
    await restoreSnapshot(port, [Uint8Array.of(1), Uint8Array.of(2, 3)]);
    assert.deepEqual(port.calls, [['snapshot#restore', [Uint8Array.of(1, 2, 3)]]]);
  });

  test('a refusal rejects with the component\'s error, and stops the restore', async () => {
    const error = { tag: 'invalid-argument', val: 'truncated' };
    const port = fakePort(['snapshot-stream'], { ...streaming([]), 'snapshot-stream#restore-chunk': () => ({ tag: 'err', val: error }) });
    await assert.rejects(restoreSnapshot(port, [Uint8Array.of(1), Uint8Array.of(2)]), (err) => {
      assert.ok(isTesseraError(err));
      assert.equal(err.code, 'ERR_COMPONENT_LOAD');
      assert.equal(err.message, 'component "fake" refused the snapshot: invalid-argument: truncated');
      assert.deepEqual(err.componentError, error);
      return true;
    });
    assert.equal(port.calls.length, 1);
    const atEnd = fakePort(['snapshot-stream'], { ...streaming([]), 'snapshot-stream#restore-end': () => ({ tag: 'err', val: error }) });
    await assert.rejects(restoreSnapshot(atEnd, []), /refused the snapshot: invalid-argument: truncated/);
  });
});
