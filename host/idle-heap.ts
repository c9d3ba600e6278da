// Gives the heap V8 grew for a burst of work back to the system once the sidecar has gone
// quiet. V8 sizes its young generation to the load (at start, loading the components grows it
// to 16 MB of which a few are live) and rarely shrinks it by itself in a process that is idle,
// so a sidecar at rest held 10-15 MB it did not use; platform teams run one beside every app.
// When the event loop has been almost idle for two checks in a row and V8 holds well more than
// the live heap, one full collection that reduces memory (V8's "last resort" flavour, as under
// memory pressure) runs: 20-30 ms once per quiet spell, never under load, and not when the live
// heap is so large that the pause would be long. Only the CLI's process does this (`tessera
// run`); a sidecar embedded in another process leaves its heap alone.
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { Logger } from './observability/logger.ts';

/** How often the event loop's use is looked at. */
const CHECK_MS = 5_000;
/** At or below this share of a check's time busy, the sidecar is quiet. */
const QUIET_UTILIZATION = 0.01;
/** Quiet checks in a row before the heap is trimmed: 10 s. */
const QUIET_CHECKS = 2;
/** Trim only when V8 holds at least this much more than the live heap: less is not worth the pause. */
const SLACK_BYTES = 6 * 1024 * 1024;
/**
 * Nor when the live heap is larger than this: the collection's pause grows with what is live
 * (about 20 ms for the quickstart's 20 MB), and a request that arrives during it waits.
 */
const MAX_LIVE_BYTES = 128 * 1024 * 1024;

type Gc = (options: { type: 'major'; flavor: 'last-resort' }) => void;

let gcFunction: Gc | undefined;

/** V8's `gc`, exposed for this process without adding it to the global object. */
function gc(): Gc {
  if (gcFunction !== undefined) return gcFunction;
  const global = (globalThis as { gc?: Gc }).gc;
  if (typeof global === 'function') return (gcFunction = global);
  // Set only while a fresh context is made, which then has `gc`; contexts made later do not.
  v8.setFlagsFromString('--expose-gc');
  try {
    gcFunction = vm.runInNewContext('gc') as Gc;
  } finally {
    v8.setFlagsFromString('--no-expose-gc');
  }
  return gcFunction;
}

const mb = (bytes: number): string => (bytes / (1024 * 1024)).toFixed(1);

/** Starts watching for quiet spells; returns a function that stops it. The timer does not keep the process alive. */
export function trimHeapWhenIdle(logger: Logger, { checkMs = CHECK_MS }: { checkMs?: number } = {}): () => void {
  let last = performance.eventLoopUtilization();
  let quiet = 0;
  let trimmed = false;
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    const busy = performance.eventLoopUtilization(now, last).utilization;
    last = now;
    if (busy > QUIET_UTILIZATION) {
      quiet = 0;
      trimmed = false;
      return;
    }
    if (trimmed || ++quiet < QUIET_CHECKS) return;
    const before = v8.getHeapStatistics();
    if (before.total_heap_size - before.used_heap_size < SLACK_BYTES || before.used_heap_size > MAX_LIVE_BYTES) return;
    trimmed = true;
    const started = performance.now();
    try {
      gc()({ type: 'major', flavor: 'last-resort' });
    } catch (err) {
      // A Node whose V8 no longer lets `gc` be exposed this way: said once, and no more trims.
      logger.warn(`quiet: the heap cannot be trimmed on this Node (${(err as Error).message}); idle memory stays as V8 leaves it`);
      clearInterval(timer);
      return;
    }
    const after = v8.getHeapStatistics();
    logger.debug(`quiet: heap trimmed from ${mb(before.total_heap_size)} to ${mb(after.total_heap_size)} MB in ${(performance.now() - started).toFixed(0)} ms`);
    // The trim's own time is not activity.
    last = performance.eventLoopUtilization();
  }, checkMs);
  timer.unref();
  return () => clearInterval(timer);
}
