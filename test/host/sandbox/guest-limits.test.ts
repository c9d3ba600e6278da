// The limits on one generation's calls, through the real sandbox (CompiledComponent +
// LiveComponent) with skeleton modules that misbehave on demand: a call's hold on the event
// loop (its CPU slice), host calls charged by their time however reached, deadlines counted
// from the queue, a bounded queue, a CPU share, and a suspension a guest attempts where it
// cannot suspend. Each asserts what a caller sees and that the event loop kept turning.
import { ABI_VERSION } from '../../../abi/ts/manifest.ts';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { httpStatusOf } from '../../../host/api/http/http-status.ts';
import { isTesseraError, type TesseraError } from '../../../host/errors.ts';
import { silentLogger } from '../../../host/observability/logger.ts';
import { CompiledComponent, type CompileOptions } from '../../../host/sandbox/compiled-component.ts';
import { LiveComponent, type LiveComponentOptions } from '../../../host/sandbox/live-component.ts';
import { hostImportWat, stateStoreModule, type SkeletonModuleOptions } from '../../support/state-store-wat.ts';

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
process.on('unhandledRejection', onUnhandled);
after(() => process.off('unhandledRejection', onUnhandled));

const live: LiveComponent[] = [];
after(async () => Promise.all(live.map((l) => l.close())));

async function start(skeleton: SkeletonModuleOptions, options: Partial<LiveComponentOptions> = {}, limits: CompileOptions = {}): Promise<LiveComponent> {
  const compiled = await CompiledComponent.compile(stateStoreModule(skeleton), { source: 'test.wasm', ...limits });
  const component = await LiveComponent.start(compiled, { name: 'guest', config: new Map(), logger: silentLogger, ...options });
  live.push(component);
  return component;
}

/** A `get` of a key of `length` bytes (the skeletons branch on the key's length). */
const get = (component: LiveComponent, length: number): Promise<unknown> =>
  component.call('get', [{ key: 'k'.repeat(length), consistency: 'eventual', metadata: [] }]);

async function rejectsWith(promise: Promise<unknown>, code: string, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isTesseraError(err), `expected a TesseraError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.match(err.message, pattern);
    return true;
  });
}

/** Runs `work` while measuring the event loop's longest stall, in ms. */
async function worstStall<T>(work: () => Promise<T>): Promise<{ result: PromiseSettledResult<T>; stallMs: number }> {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  // The histogram sees a stall when a tick comes late: one must be due before the work starts
  // (or a synchronous call goes unseen), and one more must come after it.
  await delay(5);
  const [result] = await Promise.allSettled([work()]);
  await delay(5);
  histogram.disable();
  return { result: result!, stallMs: histogram.max / 1e6 };
}

const SPIN = '(if (i32.eq (local.get 1) (i32.const 4)) (then (loop $l (br $l)))) (i32.const 16)';

test('a call that holds the event loop past its slice is stopped; later calls are paused and resumed instead', async () => {
  // No CPU share: the runaway's paused stretches would otherwise throttle its next call.
  const spinner = await start({ bodies: { get: SPIN } }, { cpuSliceMs: 10, callTimeoutMs: 2000, cpuShare: 0 }, { cpuBudget: 2_000_000_000 });
  const first = await worstStall(() => get(spinner, 4));
  assert.equal(first.result.status, 'rejected');
  assert.match(String((first.result as PromiseRejectedResult).reason.message), /held the event loop for \d+ ms without a pause, past its CPU slice of 10 ms/);
  assert.ok(first.stallMs < 200, `a call that cannot pause held the loop ${first.stallMs} ms`);

  // From now on its calls go through JSPI: the runaway is paused every slice, and ends at its
  // budget or its deadline while the loop keeps turning.
  const second = await worstStall(() => get(spinner, 4));
  assert.equal(second.result.status, 'rejected');
  assert.match(String((second.result as PromiseRejectedResult).reason.message), /CPU budget|call timeout/);
  assert.ok(second.stallMs < 100, `a paused runaway held the loop ${second.stallMs} ms at a stretch`);
  assert.deepEqual(await get(spinner, 1), { tag: 'ok', val: undefined }, 'the component serves again');
});

test('long legitimate work in a pausable call completes, a slice at a time', async () => {
  // ~300M loop iterations' worth of units: far past one slice, well within the budget.
  const counter = await start(
    {
      imports: [hostImportWat('sleep', 'sleep-ms')],
      manifest: { capabilities: ['sleep'] },
      bodies: { get: '(local $i i32) (local.set $i (i32.const 60000000)) (loop $l (local.set $i (i32.sub (local.get $i) (i32.const 1))) (br_if $l (local.get $i))) (i32.const 16)' },
    },
    { cpuSliceMs: 10, callTimeoutMs: 20_000 },
    { cpuBudget: 2_000_000_000 },
  );
  const { result, stallMs } = await worstStall(() => get(counter, 1));
  assert.deepEqual(result, { status: 'fulfilled', value: { tag: 'ok', val: undefined } });
  assert.ok(stallMs < 100, `the call held the loop ${stallMs} ms at a stretch`);
});

test('host calls are charged by their time, also through call_indirect: a loop of them is stopped as fast', async () => {
  const table = '(table 1 funcref) (elem (i32.const 0) $random) (type $rnd (func (param i32 i32)))';
  const random = `(import "tessera:components/random@${ABI_VERSION}" "get-random-bytes" (func $random (param i32 i32)))`;
  const loop = '(loop $l (call_indirect (type $rnd) (i32.const 65536) (i32.const 64) (i32.const 0)) (br $l)) (i32.const 16)';
  const burner = await start(
    { imports: [random], fields: [table], manifest: { capabilities: ['random'] }, bodies: { get: loop } },
    { cpuSliceMs: 10 },
    { cpuBudget: 50_000_000 },
  );
  const started = performance.now();
  const { result, stallMs } = await worstStall(() => get(burner, 1));
  assert.equal(result.status, 'rejected');
  assert.match(String((result as PromiseRejectedResult).reason.message), /CPU budget of 50000000 units|held the event loop/);
  assert.ok(performance.now() - started < 2000, 'the budget counted the host calls');
  assert.ok(stallMs < 150, `a loop of host calls held the loop ${stallMs} ms`);
});

test('a guest that suspends where it cannot (sleep in cabi_realloc) traps that call; nothing escapes', async () => {
  const realloc = `(func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (if (local.get 3) (then (call $sleep (i32.const 5)))) (i32.const 2048))`;
  const sleeper = await start({
    imports: [`(import "tessera:components/sleep@${ABI_VERSION}" "sleep-ms" (func $sleep (param i32)))`],
    manifest: { capabilities: ['sleep'] },
    omitRealloc: true,
    fields: [realloc],
  });
  // Lowering the key calls cabi_realloc, which asks to sleep outside any JSPI call.
  await rejectsWith(get(sleeper, 3), 'ERR_COMPONENT_TRAP', /trapped in get/);
  await delay(50);
  assert.deepEqual(unhandled, [], 'no promise was left rejected with nobody listening');
});

test('a queued call past its deadline is stopped from the inside, and a full queue fails fast', async () => {
  // `get` of a 4-byte key sleeps 150 ms; others answer at once.
  const slow = await start(
    {
      imports: [hostImportWat('sleep', 'sleep-ms')],
      manifest: { capabilities: ['sleep'] },
      bodies: { get: '(if (i32.eq (local.get 1) (i32.const 4)) (then (call 0 (i32.const 150)))) (i32.const 16)' },
    },
    { callTimeoutMs: 200, queueLimit: 2 },
  );
  const a = get(slow, 4); // runs 0-150 ms
  const b = get(slow, 4); // queued at 0: starts at 150 ms, still sleeping at its deadline (200 ms)
  const c = get(slow, 1); // the queue holds two: refused at once
  await rejectsWith(c, 'ERR_COMPONENT_BUSY', /component "guest" has 2 calls waiting, its limit \(tessera\.dev\/queue-limit\); get was refused/);
  assert.deepEqual(await a, { tag: 'ok', val: undefined });
  await rejectsWith(b, 'ERR_COMPONENT_TRAP', /get did not finish within its call timeout of 200 ms/);
  assert.deepEqual(await get(slow, 1), { tag: 'ok', val: undefined }, 'the component serves again');
});

test('a component over its CPU share fails fast while another is called; the other is not affected', async () => {
  // `get` of a 4-byte key burns ~20M units (a few ms); the share allows 2 ms a second.
  const burn = '(local $i i32) (if (i32.eq (local.get 1) (i32.const 4)) (then (local.set $i (i32.const 4000000)) (loop $l (local.set $i (i32.sub (local.get $i) (i32.const 1))) (br_if $l (local.get $i))))) (i32.const 16)';
  // A long slice: this is about the share, and a busy machine may run a call past 60 ms.
  const greedy = await start({ bodies: { get: burn } }, { cpuShare: 0.002, cpuSliceMs: 200 });
  const modest = await start({ bodies: { get: burn } }, { cpuSliceMs: 200 });
  let throttled: unknown;
  // The share is enforced while another component is being called too: modest serves short calls meanwhile.
  for (let i = 0; i < 50 && throttled === undefined; i++) {
    await get(greedy, 4).catch((err: unknown) => (throttled = err));
    assert.deepEqual(await get(modest, 1), { tag: 'ok', val: undefined });
  }
  assert.ok(isTesseraError(throttled, 'ERR_COMPONENT_THROTTLED'), `expected throttling, got ${String(throttled)}`);
  assert.match((throttled as Error).message, /component "guest" used \d+ ms of the event loop in the last second, over its CPU share of 2 ms \(tessera\.dev\/cpu-share\)/);
  assert.equal(httpStatusOf(throttled as TesseraError), 429);
  assert.deepEqual(await get(modest, 4), { tag: 'ok', val: undefined });
  await delay(2100);
  assert.deepEqual(await get(greedy, 1), { tag: 'ok', val: undefined }, 'its share comes back as the window rolls on');
});

test('a trap after a memory.grow refused at the memory limit names the limit; other traps do not', async () => {
  // The skeleton's allocator traps (unreachable) when memory.grow refuses it; a 100 KiB key needs a second page.
  const small = await start({ bodies: { get: '(if (i32.eq (local.get 1) (i32.const 3)) (then unreachable)) (i32.const 16)' } }, {}, { memoryLimitBytes: 64 * 1024 });
  await rejectsWith(
    get(small, 100 * 1024),
    'ERR_COMPONENT_TRAP',
    /^component "guest" \(state\.skeleton\) trapped in get: memory\.grow refused: the component reached its memory limit tessera\.dev\/memory-limit=64Ki \(it asked for 64Ki more with 64Ki in use\); .*trap: unreachable$/,
  );
  // The record is cleared once told: a later trap of another cause is not blamed on the limit.
  await rejectsWith(get(small, 3), 'ERR_COMPONENT_TRAP', /^component "guest" \(state\.skeleton\) trapped in get: trap: unreachable$/);
  assert.deepEqual(await get(small, 1), { tag: 'ok', val: undefined });

  // The same in _initialize, which fails the start.
  const grower = '(func (export "_initialize") (if (i32.eq (memory.grow (i32.const 4)) (i32.const -1)) (then unreachable)))';
  await rejectsWith(
    start({ fields: [grower] }, {}, { memoryLimitBytes: 128 * 1024 }),
    'ERR_COMPONENT_LOAD',
    /^component "guest" failed to start: trapped in _initialize: memory\.grow refused: the component reached its memory limit tessera\.dev\/memory-limit=128Ki \(it asked for 256Ki more with 64Ki in use\); unreachable$/,
  );
});

test('a component error message is bounded wherever it goes', async () => {
  // `get` answers err(internal(<2 MiB of "a">)).
  const size = 2 * 1024 * 1024;
  const body = `(memory.fill (i32.const 4096) (i32.const 0x61) (i32.const ${size})) (i32.store8 (i32.const 16) (i32.const 1)) (i32.store8 (i32.const 20) (i32.const 5)) (i32.store (i32.const 24) (i32.const 4096)) (i32.store (i32.const 28) (i32.const ${size})) (i32.const 16)`;
  const chatty = await start({ bodies: { get: `(drop (memory.grow (i32.const 40))) ${body}` }, memory: '1' });
  const answer = (await get(chatty, 1)) as { tag: string; val: { tag: string; val: string } };
  assert.equal(answer.tag, 'err');
  const { unwrapResult } = await import('../../../host/sandbox/kinds/wit-result.ts');
  assert.throws(
    () => unwrapResult('guest', 'get', answer as never),
    (err: unknown) => isTesseraError(err) && err.message.length < 4200 && /… \(\d+ more characters\)$/.test(err.message) && (err.componentError?.val.length ?? Infinity) < 4200,
  );
});

test('a component alone on the event loop is not throttled, however much it uses', async () => {
  for (const other of live) await other.close();
  const burn = '(local $i i32) (local.set $i (i32.const 1000000)) (loop $l (local.set $i (i32.sub (local.get $i) (i32.const 1))) (br_if $l (local.get $i))) (i32.const 16)';
  const alone = await start({ bodies: { get: burn } }, { cpuShare: 0.002 });
  for (let i = 0; i < 30; i++) assert.deepEqual(await get(alone, 1), { tag: 'ok', val: undefined }, `call ${i}`);
});
