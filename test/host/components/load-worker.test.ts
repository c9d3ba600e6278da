import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { LoadWorkers } from '../../../host/components/load-worker.ts';
import { silentLogger } from '../../../host/observability/logger.ts';
import { CompiledComponent } from '../../../host/sandbox/compiled-component.ts';
import type { ComponentModelCode } from '../../../host/sandbox/component-model.ts';
import { LiveComponent } from '../../../host/sandbox/live-component.ts';
import { bigCodeModule } from '../../support/load-attacks.ts';
import { stateStoreModule } from '../../support/state-store-wat.ts';
import { STATE_MEMORY_WASM, tempDir } from '../../support/temp-dir.ts';

const pools: LoadWorkers[] = [];
const pool = (options: ConstructorParameters<typeof LoadWorkers>[0] = {}): LoadWorkers => {
  const made = new LoadWorkers(options);
  pools.push(made);
  return made;
};
after(async () => {
  await Promise.all(pools.map((p) => p.close()));
});

test('a module prepared on a worker is the one compiled here: same fields and exports', async () => {
  const bytes = new Uint8Array(await readFile(STATE_MEMORY_WASM));
  const prepared = await pool().run('prepare', [bytes, { source: 'state-memory.wasm', cpuBudget: 1_000_000 }], 'state-memory.wasm');
  const posted = await CompiledComponent.fromPrepared(prepared);
  const here = await CompiledComponent.compile(bytes, { source: 'state-memory.wasm', cpuBudget: 1_000_000 });
  assert.ok(posted.module instanceof WebAssembly.Module);
  for (const field of ['manifest', 'sha256', 'importedInterfaces', 'needsJspi', 'optionalExports', 'memoryLimitBytes', 'cpuBudget'] as const) {
    assert.deepEqual(posted[field], here[field], field);
  }
  assert.deepEqual(WebAssembly.Module.exports(posted.module), WebAssembly.Module.exports(here.module));
});

test('a Component Model component is transpiled and compiled on a worker, and its glue runs here', async () => {
  const path = new URL('../../../components-wasm/state-memory-rust/state-memory-rust.component.wasm', import.meta.url);
  const bytes = new Uint8Array(await readFile(path));
  const compiled = await CompiledComponent.fromPrepared(await pool().run('prepare', [bytes, { source: path.pathname }], path.pathname));
  assert.equal(compiled.code.format, 'component-model');
  assert.deepEqual([...(compiled.code as ComponentModelCode).modules.keys()].sort(), ['component.core.wasm', 'component.core2.wasm', 'component.core3.wasm']);
  assert.equal(compiled.manifest.type, 'state.memory');
  const live = await LiveComponent.start(compiled, { name: 'rust', config: new Map(), logger: silentLogger });
  try {
    assert.deepEqual([...live.features].sort(), ['ETAG', 'TRANSACTIONAL', 'TTL']);
  } finally {
    await live.close();
  }
});

test('a refusal on the worker comes back as the same coded error, naming the file', async () => {
  const bytes = stateStoreModule({ manifest: { abi: '9.9.9' } });
  await assert.rejects(pool().run('prepare', [bytes, { source: 'old.wasm' }], 'old.wasm'), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'ERR_COMPONENT_LOAD');
    assert.match(err.message, /^old\.wasm: the component targets ABI 9\.9\.9/);
    return true;
  });
});

test('a job past its deadline fails naming its file, its worker is stopped, and the next job gets a new one', async () => {
  const dir = await tempDir();
  try {
    const slow = pool({ maxWorkers: 1, deadlineMs: 50 });
    const bundled = [STATE_MEMORY_WASM.pathname, join(STATE_MEMORY_WASM.pathname, '..')] as const;
    // The deadline counts from when a worker takes the job: this one, once the worker is up.
    await slow.run('readModuleManifest', [...bundled], 'warm-up', 30_000);
    const path = join(dir.path, 'big.wasm');
    await writeFile(path, bigCodeModule(8 * 1024 * 1024));
    const t0 = performance.now();
    await assert.rejects(slow.run('prepare', [new Uint8Array(await readFile(path)), { source: path }], path), new RegExp(`^TesseraError: ${path}: loading took longer than 0\\.05 s and was stopped$`));
    assert.ok(performance.now() - t0 < 2000, 'the deadline, not the job, ended the wait');
    const manifest = await slow.run('readModuleManifest', [...bundled], 'state-memory.wasm', 30_000);
    assert.equal(manifest.type, 'state.memory');
  } finally {
    await dir.remove();
  }
});

test('preparing a 24 MiB module holds the event loop for milliseconds, not for its compile', async (t) => {
  // In shared memory, as the registry passes the bytes a worker read: posted without a copy.
  const built = bigCodeModule(24 * 1024 * 1024);
  const bytes = new Uint8Array(new SharedArrayBuffer(built.length));
  bytes.set(built);
  const workers = pool();
  await workers.run('readModuleManifest', [STATE_MEMORY_WASM.pathname, join(STATE_MEMORY_WASM.pathname, '..')], 'warm-up');
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  const t0 = performance.now();
  const prepared = await workers.run('prepare', [bytes, { source: 'big.wasm' }], 'big.wasm');
  const took = performance.now() - t0;
  delay.disable();
  assert.ok(prepared.code.format === 'core-module' && prepared.code.module instanceof WebAssembly.Module);
  const stallMs = delay.max / 1e6;
  t.diagnostic(`prepared on a worker in ${took.toFixed(0)} ms; the event loop stalled at most ${stallMs.toFixed(0)} ms`);
  // Before: 1.5 s, compiling on the event loop. The bound leaves room for a machine whose cores are all busy.
  assert.ok(stallMs < 300, `the event loop stalled ${stallMs.toFixed(0)} ms while the worker took ${took.toFixed(0)} ms`);
});

test('jobs queued behind a long one get a second worker: a read finishes while a large module is still being prepared', async () => {
  const workers = pool();
  const bundled = [STATE_MEMORY_WASM.pathname, join(STATE_MEMORY_WASM.pathname, '..')] as const;
  await workers.run('readModuleManifest', [...bundled], 'warm-up');
  const order: string[] = [];
  // Long enough (about 0.9 s of hardening here) that a second worker (started once the job has
  // run 250 ms with another waiting) starts and does the read inside it, with room to spare.
  const big = workers.run('prepare', [bigCodeModule(48 * 1024 * 1024), { source: 'big.wasm' }], 'big.wasm').then(() => order.push('big'));
  const read = workers.run('readModuleManifest', [...bundled], 'state-memory.wasm').then(() => order.push('read'));
  await Promise.all([big, read]);
  assert.deepEqual(order, ['read', 'big']);
});

/** The load workers' threads of this process (Linux names a worker thread `WorkerThread`), by id, with their nice values. */
function workerThreadNice(): Map<number, number> {
  const nice = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      if (readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim() !== 'WorkerThread') continue;
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      // Fields after the command's closing parenthesis start at the 3rd; nice is the 19th.
      nice.set(Number(tid), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]));
    } catch {
      // Gone meanwhile.
    }
  }
  return nice;
}

test('a quick job runs at the event loop priority; one that has used 100 ms of CPU finishes below it, on a worker that stays there', { skip: process.platform !== 'linux' && 'thread priorities are read from /proc (Linux)' }, async () => {
  const before = new Set(workerThreadNice().keys());
  const workers = pool();
  const bundled = [STATE_MEMORY_WASM.pathname, join(STATE_MEMORY_WASM.pathname, '..')] as const;
  await workers.run('readModuleManifest', [...bundled], 'state-memory.wasm');
  const ours = (): [number, number][] => [...workerThreadNice()].filter(([tid]) => !before.has(tid));
  assert.equal(ours().length, 1, 'the pool runs one worker');
  assert.deepEqual(ours().map(([, nice]) => nice), [0], 'a read runs at the usual priority');
  await workers.run('prepare', [bigCodeModule(24 * 1024 * 1024), { source: 'big.wasm' }], 'big.wasm');
  assert.deepEqual(ours().map(([, nice]) => nice), [10], 'the worker that prepared 24 MiB was lowered, and stays so');
});
