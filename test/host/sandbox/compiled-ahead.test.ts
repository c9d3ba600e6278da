// A guest's functions are compiled on the load worker, every one of them, before its module
// reaches the thread that calls it: V8 would otherwise compile each at its first call, on the
// event loop (compile-hardened.ts, compileEagerly). V8 tells which functions have code only to a process
// started with --allow-natives-syntax, so the probe runs in one of its own.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const PROBE = fileURLToPath(new URL('../../support/compiled-ahead-probe.mjs', import.meta.url));
const module = (path: string): string => fileURLToPath(new URL(`../../../components-wasm/${path}`, import.meta.url));

interface Report {
  functions: number;
  uncompiled: string[];
}

async function probe(file: string): Promise<{ fromWorker: Report; plain: Report }> {
  const { stdout } = await run(process.execPath, ['--allow-natives-syntax', PROBE, file], { timeout: 60_000 });
  return JSON.parse(stdout) as { fromWorker: Report; plain: Report };
}

for (const path of ['state-memory/state-memory.wasm', 'state-memory-cpp/state-memory-cpp.wasm', 'pubsub-redis/pubsub-redis.wasm']) {
  test(`${path}: every exported function arrives from the load worker compiled, and the process's other modules stay lazy`, async () => {
    const { fromWorker, plain } = await probe(module(path));
    assert.ok(fromWorker.functions > 5, `exports: ${fromWorker.functions}`);
    assert.deepEqual(fromWorker.uncompiled, [], 'functions left for their first call, on the event loop');
    // The flag the compile set is put back: a module compiled afterwards is compiled lazily, as V8 does by default.
    assert.equal(plain.uncompiled.length, plain.functions, `compiled ahead though not asked: ${plain.functions - plain.uncompiled.length}`);
  });
}
