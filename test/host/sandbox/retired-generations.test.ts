// Retired generations are freed: after 200 hot swaps of the jco-wrapped Rust state store, the
// process's RSS after GC is within 20 MB of where it was after the first swap. Each run is a
// child process (test/support/generation-memory.ts) with --expose-gc and a few settings that
// keep what the runtime and the allocator merely keep in reserve out of the figure:
// - a fixed young generation (--max-semi-space-size=1): V8 grows it with the allocation rate
//   (here from 8 to 32 MB over the run), and shrinks it only when the process is idle;
// - one malloc arena and a fixed mmap threshold: glibc keeps freed memory of each thread's
//   arena (the load workers', V8's compiler threads') as RSS, and raises its mmap threshold
//   after large frees, so freed buffers stay in the heap; the figure then depends on which
//   thread allocated what;
// - with glue of its own per generation, no compilation cache (--no-compilation-cache): V8
//   keeps the source of every script it compiled until the script's code has gone unused for
//   six major GCs, and gc() is a forced GC, which ages nothing (in the long run the cache lets
//   go: 200 glues kept 57 MB after forced GCs, 4 MB after the natural GCs of a busy process).
// None of these hides a retired generation that is still reachable: the glue of each would
// add ~1.5 MB (an ES module of jco's glue, imported as a data: URL, made 300 MB of 200).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test, type TestContext } from 'node:test';
import { promisify } from 'node:util';

const CHILD = new URL('../../support/generation-memory.ts', import.meta.url).pathname;
const ALLOCATOR = { ...process.env, MALLOC_ARENA_MAX: '1', MALLOC_MMAP_THRESHOLD_: '65536' };

/** The least-squares slope of `points`, in MB per swap. */
function slope(points: [number, number][]): number {
  const n = points.length;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  const sxy = points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0);
  const sxx = points.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  return sxy / sxx;
}

/**
 * 200 swaps in a child process; RSS after GC after the first swap and every tenth. The check
 * is on the trend through those 21 points (what 200 swaps add, by the least-squares line), as
 * a single reading moves by ±15 MB between runs; a retained generation of this component
 * costs 1.5 MB, so a leak would show as +300 MB.
 */
async function swaps(t: TestContext, scenario: 'registry' | 'glue', flags: string[]): Promise<void> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', '--max-semi-space-size=1', ...flags, CHILD, scenario], { env: ALLOCATOR, timeout: 180_000 });
  const { points, value } = JSON.parse(stdout.trim().split('\n').at(-1)!) as { points: [number, number][]; value: string };
  const first = points[0]![1];
  const last = points.at(-1)![1];
  const trend = slope(points) * 200;
  t.diagnostic(`RSS after GC: ${first.toFixed(1)} MB after the first swap, ${last.toFixed(1)} MB after 200; the trend over 200 swaps: ${trend >= 0 ? '+' : ''}${trend.toFixed(1)} MB`);
  assert.equal(points.length, 21);
  assert.equal(value, 'written by generation 200', 'the data crossed every swap');
  assert.ok(trend < 20, `RSS grew ${trend.toFixed(1)} MB over 200 swaps (least-squares trend of ${points.map(([, y]) => y.toFixed(0)).join(', ')} MB)`);
}

test('200 hot swaps through the registry, each a new build of the component, leave RSS within 20 MB of the first', (t) => swaps(t, 'registry', []));

test('200 generations each with glue of its own (a rebuild that changes jco\'s output) leave RSS within 20 MB of the first', (t) =>
  swaps(t, 'glue', ['--no-compilation-cache']));
