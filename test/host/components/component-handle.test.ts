// Generations, traps, crash loops, CPU budgets, JSPI deadlines and rollback, driven through
// the real registry and sandbox with skeleton modules that misbehave on demand.
import { ABI_VERSION } from '../../../abi/ts/manifest.ts';
import { after, afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { isTesseraError } from '../../../host/errors.ts';
import { hostImportWat, stateStoreModule } from '../../support/state-store-wat.ts';
import { componentYaml, withAnnotations } from '../../support/temp-dir.ts';
import { registryFixture, type RegistryFixture } from '../../support/registry-fixture.ts';
import { dataTarget } from '../../support/snapshot-fill.ts';

let fx: RegistryFixture;
beforeEach(async () => {
  fx = await registryFixture();
});
afterEach(async () => fx.close());
after(() => undefined);

/** A store whose `get` traps when the key is 4 bytes long (e.g. "trap"). */
const trapOnDemand = stateStoreModule({ bodies: { get: '(if (i32.eq (local.get 1) (i32.const 4)) (then unreachable)) (i32.const 16)' } });

async function rejectsWith(promise: Promise<unknown>, code: string, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isTesseraError(err), `expected a TesseraError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.match(err.message, pattern);
    return true;
  });
}

test('a trap fails only that call, names the component and function, and the next call is served', async () => {
  await fx.write('flaky.wasm', trapOnDemand);
  await fx.sync();
  await rejectsWith(fx.get('flaky', 'trap'), 'ERR_COMPONENT_TRAP', /component "flaky" \(state\.skeleton\) trapped in get: trap: unreachable/);
  assert.equal(await fx.get('flaky', 'ok'), undefined);
  const info = fx.registry.list().find((c) => c.name === 'flaky')!;
  assert.equal(info.recentTraps, 1);
  assert.match(info.error!, /trapped in get/);
});

test('repeated traps back off, then a crash loop fails fast until a new version arrives', async () => {
  await fx.write('flaky.yaml', withAnnotations(componentYaml('flaky', 'state.skeleton'), { 'tessera.dev/crash-loop-traps': '3', 'tessera.dev/crash-loop-window': '1m' }));
  await fx.write('flaky.wasm', trapOnDemand);
  await fx.sync();
  await rejectsWith(fx.get('flaky', 'trap'), 'ERR_COMPONENT_TRAP', /trapped in get/);
  await rejectsWith(fx.get('flaky', 'trap'), 'ERR_COMPONENT_TRAP', /trapped in get/);
  const started = Date.now();
  assert.equal(await fx.get('flaky', 'ok'), undefined, 'after two traps a call waits out the backoff, then succeeds');
  assert.ok(Date.now() - started >= 40, `the second trap backs off about 50 ms (waited ${Date.now() - started} ms)`);
  await rejectsWith(fx.get('flaky', 'trap'), 'ERR_COMPONENT_TRAP', /trapped in get/);
  await rejectsWith(fx.get('flaky', 'ok'), 'ERR_COMPONENT_UNHEALTHY', /component "flaky" is in a crash loop \(3 traps within 60000 ms\)/);
  assert.equal(fx.registry.list().find((c) => c.name === 'flaky')!.status, 'unhealthy');

  await fx.write('flaky.wasm', stateStoreModule({ bodies: { ping: '(i32.const 16)' }, fields: ['(func (export "v2"))'] }));
  await fx.sync();
  assert.equal(await fx.get('flaky', 'trap'), undefined, 'a new generation starts healthy');
  assert.equal(fx.registry.list().find((c) => c.name === 'flaky')!.status, 'ready');
});

test('an endless loop runs out of its CPU budget (or its time on the event loop) and the component keeps serving', async () => {
  const spinner = stateStoreModule({ bodies: { get: '(if (i32.eq (local.get 1) (i32.const 4)) (then (loop $l (br $l)))) (i32.const 16)' } });
  await fx.write('spin.yaml', withAnnotations(componentYaml('spin', 'state.skeleton'), { 'tessera.dev/cpu-budget': '10M' }));
  await fx.write('spin.wasm', spinner);
  await fx.sync();
  const started = Date.now();
  // Whichever comes first: the budget, or the hard limit on holding the event loop (V8's
  // baseline tier runs this loop at ~5 ns a unit).
  await rejectsWith(fx.get('spin', 'spin'), 'ERR_COMPONENT_TRAP', /trapped in get: (ran out of its CPU budget of 10000000 units|held the event loop for \d+ ms without a pause)/);
  assert.ok(Date.now() - started < 2000, 'the budget ends the loop quickly');
  assert.equal(await fx.get('spin', 'ok'), undefined);
});

test('an endless loop in init fails the load, naming the budget; other components are untouched', async () => {
  await fx.write('store.yaml', componentYaml('store', 'state.memory'));
  await fx.write('stuck.wasm', stateStoreModule({ bodies: { init: '(loop $l (br $l)) (i32.const 16)' } }));
  await fx.sync();
  const stuck = fx.registry.list().find((c) => c.name === 'stuck')!;
  assert.equal(stuck.status, 'failed');
  assert.match(stuck.error!, /stuck\.wasm: component "stuck" failed to start: .*CPU budget/);
  await fx.set('store', 'k', '1');
  assert.equal(await fx.get('store', 'k'), '1');
});

test('a component that sleeps suspends through JSPI while other calls are served', async () => {
  const sleeper = stateStoreModule({
    manifest: { capabilities: ['sleep'] },
    imports: [hostImportWat('sleep', 'sleep-ms').replace('(func', '(func $sleep')],
    bodies: { get: '(call $sleep (i32.const 100)) (i32.const 16)' },
  });
  await fx.write('sleepy.wasm', sleeper);
  await fx.write('store.yaml', componentYaml('store', 'state.memory'));
  await fx.sync();
  const started = Date.now();
  const slow = fx.get('sleepy', 'k');
  await fx.set('store', 'k', '"v"');
  assert.equal(await fx.get('store', 'k'), '"v"');
  assert.ok(Date.now() - started < 80, 'the other store answered while the sleeper was suspended');
  assert.equal(await slow, undefined);
  assert.ok(Date.now() - started >= 95, 'the sleeper really slept');
});

test('a call suspended past its call timeout fails, and the component recovers', async () => {
  const sleeper = stateStoreModule({
    manifest: { capabilities: ['sleep'] },
    imports: [hostImportWat('sleep', 'sleep-ms').replace('(func', '(func $sleep')],
    bodies: { get: '(if (i32.eq (local.get 1) (i32.const 4)) (then (call $sleep (i32.const 2000)))) (i32.const 16)' },
  });
  await fx.write('sleepy.yaml', withAnnotations(componentYaml('sleepy', 'state.skeleton'), { 'tessera.dev/call-timeout': '100ms' }));
  await fx.write('sleepy.wasm', sleeper);
  await fx.sync();
  await rejectsWith(fx.get('sleepy', 'slow'), 'ERR_COMPONENT_TRAP', /get did not finish within its call timeout of 100 ms/);
  assert.equal(await fx.get('sleepy', 'ok'), undefined);
});

test('a memory.grow bomb is stopped at the memory limit inside the module, and its trap names the limit', async () => {
  const bomb = stateStoreModule({
    bodies: { get: '(if (i32.eq (memory.grow (i32.const 4096)) (i32.const -1)) (then unreachable)) (i32.const 16)' },
  });
  await fx.write('bomb.yaml', withAnnotations(componentYaml('bomb', 'state.skeleton'), { 'tessera.dev/memory-limit': '1Mi' }));
  await fx.write('bomb.wasm', bomb);
  await fx.sync();
  await rejectsWith(
    fx.get('bomb', 'k'),
    'ERR_COMPONENT_TRAP',
    /trapped in get: memory\.grow refused: the component reached its memory limit tessera\.dev\/memory-limit=1Mi \(it asked for 256Mi more with 64Ki in use\); trap: unreachable/,
  );
});

test('rollback brings back the previous generation; the admin view lists generations', async () => {
  await fx.write('roll.wasm', stateStoreModule());
  await fx.sync();
  await fx.write('roll.wasm', trapOnDemand);
  await fx.sync();
  const gens = fx.registry.generations('roll');
  assert.equal(gens.current.generation, 2);
  assert.deepEqual(gens.previous.map((g) => g.generation), [1]);
  await rejectsWith(fx.get('roll', 'trap'), 'ERR_COMPONENT_TRAP', /trapped/);

  const back = await fx.registry.rollback('roll');
  assert.equal(back.generation, 1);
  assert.equal(await fx.get('roll', 'trap'), undefined, 'generation 1 does not trap');
  assert.equal(fx.registry.list().find((c) => c.name === 'roll')!.generation, 1);
  await rejectsWith(fx.registry.rollback('roll'), 'ERR_COMPONENT_NOT_FOUND', /no earlier generation/);
  await rejectsWith(fx.registry.rollback('nope'), 'ERR_COMPONENT_NOT_FOUND', /component "nope" is not loaded/);
});

test('identical bytes are a no-op; a bad new version never replaces the running one', async () => {
  await fx.write('keep.wasm', stateStoreModule());
  await fx.sync();
  await fx.write('keep.wasm', stateStoreModule());
  await fx.sync();
  assert.equal(fx.registry.generations('keep').current.generation, 1);
  await fx.write('keep.wasm', stateStoreModule({ bodies: { init: 'unreachable' } }));
  await fx.sync();
  const info = fx.registry.list().find((c) => c.name === 'keep')!;
  assert.equal(info.status, 'ready');
  assert.equal(info.generation, 1);
  assert.match(info.error!, /keep\.wasm: component "keep" failed to start: .*unreachable/);
  assert.equal(await fx.get('keep', 'k'), undefined);
});

test('annotations with bad values fail the YAML, naming the annotation', async () => {
  await fx.write('bad.yaml', withAnnotations(componentYaml('bad', 'state.memory'), { 'tessera.dev/memory-limit': 'lots' }));
  await fx.write('typo.yaml', withAnnotations(componentYaml('typo', 'state.memory'), { 'tessera.dev/memroy-limit': '1Mi' }));
  await fx.write('share.yaml', withAnnotations(componentYaml('share', 'state.memory'), { 'tessera.dev/cpu-share': '150%' }));
  await fx.write('slice.yaml', withAnnotations(componentYaml('slice', 'state.memory'), { 'tessera.dev/cpu-slice': '5s' }));
  await fx.write('queue.yaml', withAnnotations(componentYaml('queue', 'state.memory'), { 'tessera.dev/queue-limit': '0' }));
  await fx.sync();
  const errors = Object.fromEntries(fx.registry.list().map((c) => [c.name, c.error]));
  assert.match(errors.share!, /annotation "tessera\.dev\/cpu-share" must be a share of one core from 0 to 100% \(e\.g\. "50%" or "0\.5"\), got "150%"/);
  assert.match(errors.slice!, /annotation "tessera\.dev\/cpu-slice" must be from 1ms to 1s, got "5s"/);
  assert.match(errors.queue!, /annotation "tessera\.dev\/queue-limit" must be at least 1, got "0"/);
  assert.match(errors.bad!, /annotation "tessera\.dev\/memory-limit" must be a size like 64Mi, 512Ki or 1048576, got "lots"/);
  assert.match(errors.typo!, /unknown annotation "tessera\.dev\/memroy-limit"/);
  await delay(0);
});

test('an idle component hibernates, keeping its data through a snapshot, and wakes on the next call', async () => {
  await fx.write('sleepy.yaml', withAnnotations(componentYaml('sleepy', 'state.memory'), { 'tessera.dev/hibernate-after': '100ms' }));
  await fx.sync();
  await fx.set('sleepy', 'k', '"kept"', [['ttlInSeconds', '3600']]);
  const before = await fx.getItem('sleepy', 'k');
  const deadline = Date.now() + 3000;
  while (fx.registry.list().find((c) => c.name === 'sleepy')!.status !== 'hibernating') {
    assert.ok(Date.now() < deadline, 'the component hibernates within 3 s of going idle');
    await delay(20);
  }
  const after = await fx.getItem('sleepy', 'k');
  assert.equal(new TextDecoder().decode(after!.value), '"kept"');
  assert.equal(after!.etag, before!.etag);
  assert.deepEqual(after!.metadata, before!.metadata, 'the TTL survives hibernation');
  assert.equal(fx.registry.list().find((c) => c.name === 'sleepy')!.status, 'ready');
});

test('a swap carries every key, ETag and TTL across to the new generation', async () => {
  await fx.write('statestore.yaml', componentYaml('statestore', 'state.memory'));
  await fx.sync();
  for (let i = 0; i < 50; i++) await fx.set('statestore', `k${i}`, String(i), i % 2 ? [['ttlInSeconds', '600']] : []);
  const before = await Promise.all(Array.from({ length: 50 }, (_, i) => fx.getItem('statestore', `k${i}`)));
  await fx.write('statestore.yaml', componentYaml('statestore', 'state.memory', { keyPrefix: 'none' }));
  await fx.sync();
  assert.equal(fx.registry.generations('statestore').current.generation, 2);
  const after = await Promise.all(Array.from({ length: 50 }, (_, i) => fx.getItem('statestore', `k${i}`)));
  assert.deepEqual(after, before);
});

test('a large store crosses a swap under the default CPU budget (snapshot and restore scale their budget)', async () => {
  await fx.write('big.yaml', componentYaml('big', 'state.memory'));
  await fx.sync();
  const store = fx.registry.getStateStore('big')!.store;
  const value = new TextEncoder().encode(JSON.stringify({ payload: 'x'.repeat(90) }));
  const keys = 60_000;
  for (let i = 0; i < keys; i += 1000) {
    await store.bulkSet(Array.from({ length: 1000 }, (_, j) => ({ key: `k${i + j}`, value, concurrency: 'last-write' as const, consistency: 'eventual' as const, metadata: [] })));
  }
  await fx.write('big.yaml', componentYaml('big', 'state.memory', { keyPrefix: 'name' }));
  await fx.sync();
  assert.equal(fx.registry.generations('big').current.generation, 2, `the swap happened: ${JSON.stringify(fx.registry.list())}`);
  assert.equal(new TextDecoder().decode((await fx.getItem('big', `k${keys - 1}`))!.value), JSON.stringify({ payload: 'x'.repeat(90) }));
});

/** A store exporting `snapshot` whose snapshot traps: its data can never be handed over. */
const cannotSnapshot = (extra: string[] = []): Uint8Array =>
  stateStoreModule({
    fields: [
      `(func (export "tessera:components/snapshot@${ABI_VERSION}#snapshot") (result i32) unreachable)`,
      `(func (export "tessera:components/snapshot@${ABI_VERSION}#restore") (param i32 i32) (result i32) (i32.const 16))`,
      ...extra,
    ],
  });

test('a swap whose running generation cannot hand over its data is refused: the old one keeps serving', async () => {
  await fx.write('keeper.wasm', cannotSnapshot());
  await fx.sync();
  assert.equal(fx.registry.generations('keeper').current.generation, 1);
  await fx.write('keeper.wasm', cannotSnapshot(['(func (export "v2"))']));
  await fx.sync();
  assert.equal(fx.registry.generations('keeper').current.generation, 1, 'the new version was not swapped in');
  const info = fx.registry.list().find((c) => c.name === 'keeper')!;
  assert.equal(info.status, 'ready');
  assert.match(info.error!, /the running generation 1 could not hand over its data, so the new version was not swapped in \(generation 1 keeps serving, with its data\)/);
  assert.match(info.error!, /could not take a snapshot of its data/);
  assert.equal(await fx.get('keeper', 'k'), undefined, 'generation 1 still answers');
});

test('a component whose snapshot fails does not hibernate: it keeps its instance', async () => {
  await fx.write('keeper.yaml', withAnnotations(componentYaml('keeper', 'state.skeleton'), { 'tessera.dev/hibernate-after': '50ms' }));
  await fx.write('keeper.wasm', cannotSnapshot());
  await fx.sync();
  await fx.get('keeper', 'k');
  await delay(1300);
  const info = fx.registry.list().find((c) => c.name === 'keeper')!;
  assert.equal(info.status, 'ready', 'not hibernating: its data would have been lost');
  assert.equal(fx.registry.generations('keeper').current.generation, 1);
});

test('state.memory filled to 90% of its memory limit keeps every key across a YAML edit and across hibernation', async () => {
  const limit = 8 * 1024 * 1024;
  const yaml = (hibernate: string, extra: Record<string, string> = {}): string =>
    withAnnotations(componentYaml('full', 'state.memory', extra), { 'tessera.dev/memory-limit': '8Mi', 'tessera.dev/hibernate-after': hibernate });
  await fx.write('full.yaml', yaml('0s'));
  await fx.sync();
  assert.ok(fx.registry.getStateStore('full'), JSON.stringify(fx.registry.list()));
  const store = () => fx.registry.getStateStore('full')!.store;
  const wasm = new Uint8Array(await readFile(new URL('../../../components-wasm/state-memory/state-memory.wasm', import.meta.url)));
  const target = dataTarget(wasm, limit);
  const keys: string[] = [];
  for (let total = 0, i = 0; total < target; i++) {
    const value = new Uint8Array(Math.min(16 * 1024, target - total)).fill(i & 0xff);
    await store().set({ key: `app||k${i}`, value, concurrency: 'last-write', consistency: 'eventual', metadata: i % 5 === 0 ? [['ttlInSeconds', '3600']] : [] });
    keys.push(`app||k${i}`);
    total += value.length + 6;
  }
  const read = () => Promise.all(keys.map((key) => store().get({ key, consistency: 'eventual', metadata: [] })));
  const before = await read();
  assert.ok(before.every((item) => item !== undefined));

  await fx.write('full.yaml', yaml('300ms', { edited: 'yes' }));
  await fx.sync();
  assert.equal(fx.registry.generations('full').current.generation, 2, `the swap happened: ${JSON.stringify(fx.registry.list())}`);
  assert.deepEqual(await read(), before, 'every key, value, ETag and TTL crossed the YAML edit');

  const deadline = Date.now() + 5000;
  while (fx.registry.list().find((c) => c.name === 'full')!.status !== 'hibernating') {
    assert.ok(Date.now() < deadline, `it never hibernated: ${JSON.stringify(fx.registry.list())}`);
    await delay(50);
  }
  assert.deepEqual(await read(), before, 'every key came back after hibernation');
});
