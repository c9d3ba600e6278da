// A quiet sidecar gives back the heap it grew under load: after a burst that grows V8's young
// generation, two quiet checks in a row trim the heap (logged, with the sizes), and the
// process's committed heap is smaller than before; a busy loop is never trimmed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import v8 from 'node:v8';
import { trimHeapWhenIdle } from '../../host/idle-heap.ts';
import { createLogger, type Logger } from '../../host/observability/logger.ts';

function logged(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  return { logger: createLogger({ level: 'debug', json: false, write: (line) => lines.push(line) }), lines };
}

/** Allocates enough short-lived objects, some surviving a while, that V8 grows its young generation. */
function burst(): void {
  let keep: object[][] = [];
  for (let i = 0; i < 150; i++) {
    const batch: object[] = [];
    for (let j = 0; j < 20_000; j++) batch.push({ j, text: `x${j}` });
    keep.push(batch);
    if (keep.length > 5) keep.shift();
  }
  keep = [];
}

const committed = (): number => v8.getHeapStatistics().total_heap_size;
const until = async (what: string, done: () => boolean, timeoutMs: number): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

test('after a burst, a quiet process trims its heap once', async () => {
  burst();
  const before = committed();
  const { logger, lines } = logged();
  // Checks of 500 ms, so that "quiet" (at most 1% busy: 5 ms a check) leaves room for the
  // work V8 and the test runner do on an idle loop after a burst (1-3 ms in 100 ms here at
  // times), as the sidecar's 5 s checks do; 100 ms checks made this test fail one run in three.
  const stop = trimHeapWhenIdle(logger, { checkMs: 500 });
  try {
    await until('the heap to be trimmed', () => lines.some((line) => line.includes('heap trimmed')), 15_000);
    const after = committed();
    assert.ok(after < before - 4 * 1024 * 1024, `committed heap ${before} -> ${after} bytes`);
    assert.match(lines.find((line) => line.includes('heap trimmed'))!, /heap trimmed from [\d.]+ to [\d.]+ MB in \d+ ms/);
    // Still quiet, nothing more to give back: no second trim.
    await new Promise((resolve) => setTimeout(resolve, 1200));
    assert.equal(lines.filter((line) => line.includes('heap trimmed')).length, 1);
  } finally {
    stop();
  }
});

test('a busy event loop is not trimmed', async () => {
  const { logger, lines } = logged();
  const stop = trimHeapWhenIdle(logger, { checkMs: 100 });
  try {
    // Busy for 1 s: most of every check's time running, growing the heap as it goes.
    const end = Date.now() + 1000;
    while (Date.now() < end) {
      burst();
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.deepEqual(lines.filter((line) => line.includes('heap trimmed')), []);
  } finally {
    stop();
  }
});
