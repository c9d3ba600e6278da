// `tessera.dev/isolation: thread`: components on a worker thread, stopped at their deadline
// even when spinning in wasm with metering off, their crashes contained, their data kept
// across hibernation and swaps, their logs bounded; driven directly and through the registry.
import { afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import type { StateStore } from '../../../abi/ts/state.ts';
import { limitsFromAnnotations } from '../../../host/components/limits.ts';
import { TesseraError, isTesseraError } from '../../../host/errors.ts';
import { createLogger, silentLogger, type Logger } from '../../../host/observability/logger.ts';
import { CompiledComponent } from '../../../host/sandbox/compiled-component.ts';
import { LiveComponent } from '../../../host/sandbox/live-component.ts';
import { adaptStateStore } from '../../../host/sandbox/kinds/state-store-adapter.ts';
import { IsolatedComponent, type IsolatedComponentOptions } from '../../../host/sandbox/thread-isolation/isolated-component.ts';
import { registryFixture, type RegistryFixture } from '../../support/registry-fixture.ts';
import { hostImportWat, stateStoreModule } from '../../support/state-store-wat.ts';
import { STATE_MEMORY_WASM, componentYaml, withAnnotations } from '../../support/temp-dir.ts';

const STATE_MEMORY = new Uint8Array(readFileSync(STATE_MEMORY_WASM));
const text = (bytes: Uint8Array | undefined): string | undefined => (bytes === undefined ? undefined : new TextDecoder().decode(bytes));

/** WAT: `body` when the key (local 1 is its length) is 4 bytes long, e.g. "spin"; `get` answers `ok(none)` otherwise. */
const onKey4 = (body: string): string => `(if (i32.eq (local.get 1) (i32.const 4)) (then ${body})) (i32.const 16)`;
const spinner = stateStoreModule({ bodies: { get: onKey4('(loop $l (br $l))') } });

/** Where `get` builds `ok(some(get-response))`: +0 result, +4 option, +8/+12 value, +16 etag, +28 content-type, +40/+44 metadata. */
const AREA = 256;
/** Entries in the metadata `hog` answers: lifted, a quarter of a million small arrays and strings (the most a list may have), far more than a small worker heap holds. */
const HOG_ENTRIES = 250_000;
/** `get` of a 4-byte key answers `ok(some(get-response))` whose metadata lists HOG_ENTRIES pairs of 8-byte strings. */
const hog = stateStoreModule({
  bodies: {
    get: `(if (result i32) (i32.eq (local.get 1) (i32.const 4))
      (then
        (local.set 0 (i32.mul (memory.grow (i32.const ${Math.ceil((HOG_ENTRIES * 16) / 65536)})) (i32.const 65536)))
        (local.set 2 (local.get 0))
        (local.set 3 (i32.add (local.get 0) (i32.const ${HOG_ENTRIES * 16})))
        (loop $fill
          (i32.store (local.get 2) (i32.const 512)) (i32.store offset=4 (local.get 2) (i32.const 8))
          (i32.store offset=8 (local.get 2) (i32.const 520)) (i32.store offset=12 (local.get 2) (i32.const 8))
          (br_if $fill (i32.lt_u (local.tee 2 (i32.add (local.get 2) (i32.const 16))) (local.get 3))))
        (i32.store8 (i32.const ${AREA}) (i32.const 0)) (i32.store8 (i32.const ${AREA + 4}) (i32.const 1))
        (i32.store (i32.const ${AREA + 40}) (local.get 0)) (i32.store (i32.const ${AREA + 44}) (i32.const ${HOG_ENTRIES}))
        (i32.const ${AREA}))
      (else (i32.const 16)))`,
  },
});

let closing: { close(): Promise<void> }[] = [];
let fx: RegistryFixture | undefined;
beforeEach(() => {
  closing = [];
  fx = undefined;
});
afterEach(async () => {
  await Promise.all(closing.map((c) => c.close()));
  await fx?.close();
});

async function isolated(bytes: Uint8Array, options: Partial<IsolatedComponentOptions> & { cpuBudget?: number } = {}): Promise<IsolatedComponent> {
  const compiled = await CompiledComponent.compile(bytes, options.cpuBudget === undefined ? {} : { cpuBudget: options.cpuBudget });
  const component = await IsolatedComponent.start(compiled, { name: 'isolated', config: new Map(), logger: silentLogger, ...options });
  closing.push(component);
  return component;
}

const getReq = (key: string) => ({ key, consistency: 'eventual' as const, metadata: [] });
const setReq = (key: string, value: string) => ({ key, value: new TextEncoder().encode(value), concurrency: 'last-write' as const, consistency: 'eventual' as const, metadata: [] });

/** Worker threads of this process, as its diagnostic report lists them. */
const workers = (): number[] => (process.report.getReport() as { workers: { header: { threadId: number } }[] }).workers.map((w) => w.header.threadId);

async function eventually(what: string, check: () => boolean, ms = 2000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    assert.ok(Date.now() < until, what);
    await delay(10);
  }
}

async function rejectsWith(promise: Promise<unknown>, code: string, pattern: RegExp): Promise<TesseraError> {
  let caught: TesseraError | undefined;
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isTesseraError(err), `expected a TesseraError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.match(err.message, pattern);
    caught = err;
    return true;
  });
  return caught!;
}

/** How a runaway call went, seen from the main thread. */
interface RunawayWatch {
  took: number;
  /** The longest the event loop was late, in ms (monitorEventLoopDelay). */
  maxStall: number;
  /** How long the event loop was busy meanwhile, in ms: what the host itself held it for. */
  busy: number;
  /** How often a 10 ms timer fired meanwhile. */
  ticks: number;
}

async function watchRunaway(call: () => Promise<unknown>): Promise<RunawayWatch> {
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const elu = performance.eventLoopUtilization();
  const started = performance.now();
  let ticks = 0;
  const ticker = setInterval(() => ticks++, 10);
  await rejectsWith(call(), 'ERR_COMPONENT_TRAP', /component "spinner" \(state\.skeleton\): get did not finish within its call timeout of 300 ms/);
  const took = performance.now() - started;
  clearInterval(ticker);
  loop.disable();
  return { took, maxStall: loop.max / 1e6, busy: performance.eventLoopUtilization(elu).active, ticks };
}

test('a runaway loop with metering off is stopped at its call timeout, the event loop stays responsive, and the next call gets a fresh worker', async () => {
  fx = await registryFixture();
  const annotations = { 'tessera.dev/isolation': 'thread', 'tessera.dev/cpu-budget': '0', 'tessera.dev/call-timeout': '300ms', 'tessera.dev/crash-loop-traps': '10' };
  await fx.write('spinner.yaml', withAnnotations(componentYaml('spinner', 'state.skeleton'), annotations));
  await fx.write('spinner.wasm', spinner);
  await fx.sync();
  assert.equal(fx.registry.list().find((c) => c.name === 'spinner')?.status, 'ready');
  assert.equal(await fx.get('spinner', 'ok'), undefined);

  // On a loaded machine the OS may keep the main thread off a core for a while: a stall while
  // the loop was not busy is the machine's, not the host's, and is measured again (at most 3 times).
  let watch = await watchRunaway(() => fx!.get('spinner', 'spin'));
  let traps = 1;
  while (watch.maxStall >= 50 && watch.busy < 60 && traps < 3) {
    await fx.get('spinner', 'ok');
    watch = await watchRunaway(() => fx!.get('spinner', 'spin'));
    traps++;
  }
  const { took, maxStall, busy, ticks } = watch;
  assert.ok(took >= 290 && took < 300 + 250, `stopped after ${took.toFixed(0)} ms`);
  assert.ok(maxStall < 50, `the event loop stalled ${maxStall.toFixed(1)} ms at most`);
  assert.ok(busy < 60, `the event loop was busy ${busy.toFixed(1)} ms of ${took.toFixed(0)}`);
  assert.ok(ticks >= 15, `a 10 ms timer fired ${ticks} times in ${took.toFixed(0)} ms`);
  const info = fx.registry.list().find((c) => c.name === 'spinner')!;
  assert.equal(info.recentTraps, traps, 'each trap is counted once, for crash-loop detection');
  assert.match(info.error!, /did not finish within its call timeout/);

  assert.equal(await fx.get('spinner', 'ok'), undefined, 'the next call is served by a fresh worker');
});

test('a runaway init on a worker fails the load at its deadline, naming the component', async () => {
  const compiled = await CompiledComponent.compile(stateStoreModule({ bodies: { init: '(loop $l (br $l)) (i32.const 16)' } }), { cpuBudget: 0 });
  const workersBefore = workers().length;
  const started = performance.now();
  await rejectsWith(
    IsolatedComponent.start(compiled, { name: 'spin-init', config: new Map(), logger: silentLogger, callTimeoutMs: 200 }),
    'ERR_COMPONENT_LOAD',
    /component "spin-init" failed to start: init did not finish within its call timeout of 200 ms/,
  );
  assert.ok(performance.now() - started < 200 + 2000, 'stopped at the deadline (plus the worker start)');
  await eventually('the worker is terminated', () => workers().length <= workersBefore);
});

test('state.memory serves get, set, bulk calls and transactions through its worker, and many calls in flight keep their order', async () => {
  const component = await isolated(STATE_MEMORY);
  assert.deepEqual([...component.features].sort(), ['ETAG', 'QUERY_API', 'TRANSACTIONAL', 'TTL']);
  const store: StateStore = adaptStateStore(component);
  await store.set(setReq('a', '"1"'));
  assert.equal(text((await store.get(getReq('a')))?.value), '"1"');
  await store.transact(
    [
      { tag: 'set', val: setReq('b', '"2"') },
      { tag: 'delete', val: { key: 'a', concurrency: 'last-write', consistency: 'eventual', metadata: [] } },
    ],
    [],
  );
  assert.equal(await store.get(getReq('a')), undefined);
  assert.equal(text((await store.get(getReq('b')))?.value), '"2"');
  await store.bulkSet([setReq('c', '"3"'), setReq('d', '"4"')]);
  const bulk = await store.bulkGet([getReq('c'), getReq('d')]);
  assert.deepEqual(bulk.map((item) => text(item.response?.value)), ['"3"', '"4"']);

  // Pipelined: sent at once, answered in order, the last write wins.
  const writes = Array.from({ length: 200 }, (_, i) => store.set(setReq('n', String(i))));
  const reads = Array.from({ length: 50 }, () => store.get(getReq('n')));
  await Promise.all(writes);
  assert.ok((await Promise.all(reads)).every((item) => text(item?.value) === '199'));
  assert.equal(text((await store.get(getReq('n')))?.value), '199');
  await assert.rejects(store.set({ ...setReq('n', 'x'), etag: '12345', concurrency: 'first-write' }), (err: unknown) => isTesseraError(err) && err.componentError?.tag === 'etag-mismatch');
});

test('data crosses swaps between inline and thread generations, both ways', async () => {
  fx = await registryFixture();
  const yaml = (isolation: string, prefix: string): string =>
    withAnnotations(componentYaml('store', 'state.memory', { keyPrefix: prefix }), { 'tessera.dev/isolation': isolation });
  await fx.write('store.yaml', yaml('thread', 'none'));
  await fx.sync();
  for (let i = 0; i < 20; i++) await fx.set('store', `k${i}`, String(i), i % 2 ? [['ttlInSeconds', '600']] : []);
  const before = await Promise.all(Array.from({ length: 20 }, (_, i) => fx!.getItem('store', `k${i}`)));

  await fx.write('store.yaml', yaml('inline', 'name'));
  await fx.sync();
  assert.equal(fx.registry.generations('store').current.generation, 2);
  assert.ok(fx.registry.list().find((c) => c.name === 'store')!.error === undefined);
  assert.deepEqual(await Promise.all(Array.from({ length: 20 }, (_, i) => fx!.getItem('store', `k${i}`))), before, 'thread -> inline');

  await fx.write('store.yaml', yaml('thread', 'none'));
  await fx.sync();
  assert.equal(fx.registry.generations('store').current.generation, 3);
  assert.deepEqual(await Promise.all(Array.from({ length: 20 }, (_, i) => fx!.getItem('store', `k${i}`))), before, 'inline -> thread');
});

test('a snapshot taken on a worker restores inline, and an inline one on a worker', async () => {
  const onThread = await isolated(STATE_MEMORY);
  await adaptStateStore(onThread).set(setReq('k', '"from the thread"'));
  const data = await onThread.snapshot();
  assert.ok(data !== undefined && data.length > 0);

  const inline = await LiveComponent.start(await CompiledComponent.compile(STATE_MEMORY), { name: 'inline', config: new Map(), logger: silentLogger });
  closing.push(inline);
  await inline.restore(data);
  assert.equal(text((await adaptStateStore(inline).get(getReq('k')))?.value), '"from the thread"');

  await adaptStateStore(inline).set(setReq('j', '"from inline"'));
  const back = await isolated(STATE_MEMORY);
  await back.restore((await inline.snapshot())!);
  assert.equal(text((await adaptStateStore(back).get(getReq('j')))?.value), '"from inline"');
});

test('a large restore runs on the worker while the event loop stays free', async () => {
  const source = await isolated(STATE_MEMORY, { cpuShare: 0 });
  const value = new Uint8Array(1024).fill(65);
  for (let i = 0; i < 20; i++) {
    await adaptStateStore(source).bulkSet(Array.from({ length: 1000 }, (_, j) => ({ ...setReq(`k${i}-${j}`, ''), value })));
  }
  const data = (await source.snapshot())!;
  assert.ok(data.reduce((n, chunk) => n + chunk.byteLength, 0) > 20_000_000);

  const onThread = await isolated(STATE_MEMORY);
  const elu = performance.eventLoopUtilization();
  const started = performance.now();
  await onThread.restore(data);
  const took = performance.now() - started;
  const busy = performance.eventLoopUtilization(elu).active;
  // The main thread only copies the data across; the guest's restore runs on the worker.
  assert.ok(busy < took / 2, `the event loop was busy ${busy.toFixed(0)} ms of the ${took.toFixed(0)} ms restore`);
  assert.equal((await adaptStateStore(onThread).get(getReq('k19-999')))?.value.length, 1024);
});

test('hibernation ends the worker and keeps the data; the next call wakes a new worker; close ends it', async () => {
  const component = await isolated(STATE_MEMORY);
  const store = adaptStateStore(component);
  await store.set(setReq('k', '"kept"'));
  assert.equal(component.idle, false);
  const first = component.threadId!;
  assert.ok(workers().includes(first));

  await component.hibernate();
  assert.equal(component.idle, true);
  assert.equal(component.threadId, undefined);
  assert.ok(!workers().includes(first), 'the hibernating component holds no thread');
  const parked = await component.snapshot();
  assert.ok(parked !== undefined && parked.length > 0, 'a hibernating component still hands over its data');

  assert.equal(text((await store.get(getReq('k')))?.value), '"kept"', 'woken with its data');
  assert.equal(component.idle, false);
  const second = component.threadId!;
  assert.ok(second !== first && workers().includes(second));

  await component.close();
  assert.ok(!workers().includes(second), 'close terminates the worker');
  await rejectsWith(store.get(getReq('k')), 'ERR_COMPONENT_TRAP', /component "isolated" is unloaded/);
});

test('an idle thread-isolated component hibernates through its handle and wakes with its data', async () => {
  fx = await registryFixture();
  await fx.write('sleepy.yaml', withAnnotations(componentYaml('sleepy', 'state.memory'), { 'tessera.dev/isolation': 'thread', 'tessera.dev/hibernate-after': '100ms' }));
  await fx.sync();
  await fx.set('sleepy', 'k', '"kept"', [['ttlInSeconds', '3600']]);
  const before = await fx.getItem('sleepy', 'k');
  await eventually('the component hibernates', () => fx!.registry.list().find((c) => c.name === 'sleepy')!.status === 'hibernating', 3000);
  const after = await fx.getItem('sleepy', 'k');
  assert.equal(text(after?.value), '"kept"');
  assert.equal(after!.etag, before!.etag);
  assert.deepEqual(after!.metadata, before!.metadata);
});

test('calls past the queue limit fail fast with ERR_COMPONENT_BUSY', async () => {
  const sleeper = stateStoreModule({
    manifest: { capabilities: ['sleep'] },
    imports: [hostImportWat('sleep', 'sleep-ms').replace('(func', '(func $sleep')],
    bodies: { get: '(call $sleep (i32.const 50)) (i32.const 16)' },
  });
  const store = adaptStateStore(await isolated(sleeper, { queueLimit: 3 }));
  const results = await Promise.allSettled(Array.from({ length: 6 }, () => store.get(getReq('k'))));
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 3);
  for (const r of results.filter((r) => r.status === 'rejected')) {
    assert.ok(isTesseraError(r.reason, 'ERR_COMPONENT_BUSY') && /component "isolated" has 3 calls waiting/.test(r.reason.message));
  }
});

test('a worker that dies (out of memory) fails only its own calls; the next call starts a new worker', async () => {
  const traps: TesseraError[] = [];
  const victim = await isolated(hog, { name: 'hog', cpuBudget: 0, resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 }, onTrap: (e) => traps.push(e) });
  const neighbour = await isolated(STATE_MEMORY, { name: 'neighbour' });
  const inline = await LiveComponent.start(await CompiledComponent.compile(STATE_MEMORY), { name: 'inline', config: new Map(), logger: silentLogger });
  closing.push(inline);
  await adaptStateStore(neighbour).set(setReq('k', '"n"'));
  await adaptStateStore(inline).set(setReq('k', '"i"'));

  await rejectsWith(adaptStateStore(victim).get(getReq('boom')), 'ERR_COMPONENT_TRAP', /component "hog" \(state\.skeleton\).*worker thread/);
  assert.equal(traps.length, 1, 'the crash is reported once');
  assert.match(traps[0]!.message, /component "hog"/);
  assert.equal(victim.idle, true);

  assert.equal(text((await adaptStateStore(neighbour).get(getReq('k')))?.value), '"n"', 'another worker keeps its data');
  assert.equal(text((await adaptStateStore(inline).get(getReq('k')))?.value), '"i"', 'inline components keep theirs');
  assert.equal(victim.threadId, undefined);
  assert.equal(await adaptStateStore(victim).get(getReq('ok')), undefined, 'a new worker serves the next call');
  assert.equal(victim.idle, false);
  assert.ok(workers().includes(victim.threadId!));
});

test('log lines from the worker reach the sidecar log, rate-limited', async () => {
  const lines: string[] = [];
  const logger: Logger = createLogger({ level: 'debug', json: false, write: (line) => lines.push(line) });
  const chatty = stateStoreModule({
    manifest: { capabilities: ['log'] },
    imports: [hostImportWat('log', 'log').replace('(func', '(func $log')],
    fields: ['(data (i32.const 512) "hello from the guest")'],
    bodies: { get: '(local.set 0 (i32.const 5000)) (loop $l (call $log (i32.const 2) (i32.const 512) (i32.const 20)) (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1))))) (i32.const 16)' },
  });
  const component = await isolated(chatty, { logger, cpuBudget: 0 });
  await adaptStateStore(component).get(getReq('k'));
  await eventually('the lines arrive', () => lines.some((l) => l.includes('hello from the guest')));
  await delay(50);
  const fromGuest = lines.filter((l) => l.includes('hello from the guest'));
  assert.ok(fromGuest.length > 0 && fromGuest.length <= 250, `${fromGuest.length} of 5000 lines got through`);
});

test('a call suspended past its deadline fails on the worker, and the component keeps serving', async () => {
  const sleeper = stateStoreModule({
    manifest: { capabilities: ['sleep', 'clock'] },
    imports: [hostImportWat('sleep', 'sleep-ms').replace('(func', '(func $sleep')],
    bodies: { get: `(if (i32.eq (local.get 1) (i32.const 4)) (then (call $sleep (i32.const 5000)))) (call $sleep (i32.const 30)) (i32.const 16)` },
  });
  const traps: TesseraError[] = [];
  const component = await isolated(sleeper, { callTimeoutMs: 200, onTrap: (e) => traps.push(e) });
  const store = adaptStateStore(component);
  const started = performance.now();
  assert.equal(await store.get(getReq('ok')), undefined);
  assert.ok(performance.now() - started >= 29, 'the sleep capability works on the worker');
  await rejectsWith(store.get(getReq('slow')), 'ERR_COMPONENT_TRAP', /get did not finish within its call timeout of 200 ms/);
  assert.equal(traps.length, 1);
  assert.equal(await store.get(getReq('ok')), undefined);
});

test('tessera.dev/isolation takes inline or thread, and refuses anything else naming the annotation and the file', () => {
  assert.equal(limitsFromAnnotations({}, 'a.yaml').isolation, 'inline');
  assert.equal(limitsFromAnnotations({ 'tessera.dev/isolation': 'thread' }, 'a.yaml').isolation, 'thread');
  assert.throws(
    () => limitsFromAnnotations({ 'tessera.dev/isolation': 'process' }, 'resources/a.yaml'),
    (err: unknown) => isTesseraError(err, 'ERR_COMPONENT_CONFIG') && /resources\/a\.yaml: annotation "tessera\.dev\/isolation" must be inline or thread, got "process"/.test(err.message),
  );
});

test('a Component Model binary is refused in thread mode, naming the component', async () => {
  const componentModel = await CompiledComponent.compile(readFileSync(new URL('../../../components-wasm/state-memory-rust/state-memory-rust.component.wasm', import.meta.url)));
  await rejectsWith(
    IsolatedComponent.start(componentModel, { name: 'cm', config: new Map(), logger: silentLogger }),
    'ERR_COMPONENT_LOAD',
    /component "cm" is a Component Model binary, which tessera\.dev\/isolation: thread does not run/,
  );
});
