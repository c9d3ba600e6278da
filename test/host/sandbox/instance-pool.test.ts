// Instance pools: a component whose calls can suspend runs up to max-instances instances side
// by side; one that keeps its data in its memory never does. Driven with skeleton state
// stores whose `get` sleeps (through the real sleep capability) or traps on demand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { isTesseraError, type TesseraError } from '../../../host/errors.ts';
import { silentLogger } from '../../../host/observability/logger.ts';
import { CompiledComponent } from '../../../host/sandbox/compiled-component.ts';
import { InstancePool, mayPoolInstances } from '../../../host/sandbox/instance-pool.ts';
import { LiveComponent } from '../../../host/sandbox/live-component.ts';
import { startGuest } from '../../../host/sandbox/start-guest.ts';
import { limitsFromAnnotations as parseLimits } from '../../../host/components/limits.ts';
import { hostImportWat, stateStoreModule } from '../../support/state-store-wat.ts';

/** `get` sleeps as many ms as its key is long, and traps on a 4-byte key ("trap"). */
const sleeper = stateStoreModule({
  manifest: { capabilities: ['sleep'] },
  imports: [hostImportWat('sleep', 'sleep-ms').replace('(func', '(func $sleep')],
  bodies: { get: '(if (i32.eq (local.get 1) (i32.const 4)) (then unreachable)) (call $sleep (i32.mul (local.get 1) (i32.const 10))) (i32.const 16)' },
});

const compile = (bytes: Uint8Array) => CompiledComponent.compile(bytes, { source: 'test.wasm' });
const get = (key: string) => [{ key, consistency: 'eventual', metadata: [] }];
/** A key whose get sleeps `ms` (rounded to tens). */
const sleepKey = (ms: number): string => 'k'.repeat(Math.max(1, Math.round(ms / 10))).replace(/^k{4}$/, 'kkkkk');

async function pool(options: { max?: number; queueLimit?: number; onTrap?: (e: TesseraError) => void } = {}): Promise<InstancePool> {
  const started = await startGuest(await compile(sleeper), { name: 'sleepy', config: new Map(), logger: silentLogger, ...options }, 'inline', options.max ?? 8);
  assert.ok(started instanceof InstancePool, 'a store that can suspend and keeps no data starts as a pool');
  return started;
}

test('a component that can suspend and keeps no data is pooled; one that keeps its data, or max-instances 1, is not', async () => {
  assert.equal(mayPoolInstances(await compile(sleeper)), true);
  const stateMemory = await compile(new Uint8Array(await readFile(new URL('../../../components-wasm/state-memory/state-memory.wasm', import.meta.url))));
  assert.equal(mayPoolInstances(stateMemory), false, 'state.memory exports snapshot: a pool would split its data');
  assert.equal(mayPoolInstances(await compile(stateStoreModule())), false, 'a store that cannot suspend serves each call at once anyway');
  const single = await startGuest(await compile(sleeper), { name: 'one', config: new Map(), logger: silentLogger }, 'inline', 1);
  assert.ok(single instanceof LiveComponent);
  await single.close();
});

test('overlapping calls run on instances side by side, up to max-instances', async () => {
  const p = await pool({ max: 4 });
  const started = performance.now();
  const results = await Promise.all(Array.from({ length: 4 }, () => p.call('get', get(sleepKey(300)))));
  const tookMs = performance.now() - started;
  assert.deepEqual(results, Array(4).fill({ tag: 'ok', val: undefined }));
  assert.equal(p.instances, 4);
  // One instance would take 4 x 300 ms; side by side they take about one sleep (plus starting three instances).
  assert.ok(tookMs < 900, `4 calls sleeping 300 ms each took ${Math.round(tookMs)} ms`);

  // More calls than instances wait for one: the pool does not grow past its cap.
  await Promise.all(Array.from({ length: 9 }, () => p.call('get', get(sleepKey(20)))));
  assert.equal(p.instances, 4);
  await p.close();
});

test('a trap drops only its own instance and is reported; the other calls finish', async () => {
  const traps: string[] = [];
  const p = await pool({ max: 2, onTrap: (e) => traps.push(e.message) });
  const slow = p.call('get', get(sleepKey(200)));
  const trapping = p.call('get', get('trap'));
  await assert.rejects(trapping, (err: unknown) => isTesseraError(err) && err.code === 'ERR_COMPONENT_TRAP' && /trapped in get/.test(err.message));
  assert.deepEqual(await slow, { tag: 'ok', val: undefined });
  assert.equal(traps.length, 1);
  assert.match(traps[0]!, /component "sleepy" \(state\.skeleton\) trapped in get/);
  assert.deepEqual(await p.call('get', get('k')), { tag: 'ok', val: undefined }, 'the next call is served');
  await p.close();
});

test('the queue limit holds for the whole pool', async () => {
  const p = await pool({ max: 2, queueLimit: 3 });
  const running = [1, 2, 3].map(() => p.call('get', get(sleepKey(100))));
  await assert.rejects(p.call('get', get('k')), (err: unknown) => isTesseraError(err) && err.code === 'ERR_COMPONENT_BUSY' && /queue-limit/.test(err.message));
  await Promise.all(running);
  await p.close();
});

test('a leased instance serves its holder alone, outside the shared instances, and closes with the pool', async () => {
  const p = await pool({ max: 1 + 1 });
  const lease = await p.lease();
  assert.equal(p.instances, 2);
  const leasedCall = lease.call('get', get(sleepKey(200)));
  // The shared instance is free while the leased one sleeps.
  const t0 = performance.now();
  assert.deepEqual(await p.call('get', get('k')), { tag: 'ok', val: undefined });
  assert.ok(performance.now() - t0 < 150, 'a shared call did not wait for the leased instance');
  await leasedCall;
  await lease.close();
  assert.equal(p.instances, 1);
  const kept = await p.lease();
  await p.close();
  await assert.rejects(kept.call('get', get('k')), /unloaded/);
});

test('hibernation shrinks the pool to nothing running; the next call starts an instance again', async () => {
  const p = await pool({ max: 3 });
  await Promise.all([1, 2, 3].map(() => p.call('get', get(sleepKey(50)))));
  assert.equal(p.instances, 3);
  await p.hibernate();
  assert.equal(p.instances, 1);
  assert.equal(p.idle, true);
  assert.deepEqual(await p.call('get', get('k')), { tag: 'ok', val: undefined });
  assert.equal(p.idle, false);
  await p.close();
});

test('tessera.dev/max-instances is read from the YAML and checked', () => {
  assert.equal(parseLimits({}, 'c').maxInstances, 8);
  assert.equal(parseLimits({ 'tessera.dev/max-instances': '2' }, 'c').maxInstances, 2);
  assert.throws(() => parseLimits({ 'tessera.dev/max-instances': '0' }, 'c'), /tessera\.dev\/max-instances/);
  assert.throws(() => parseLimits({ 'tessera.dev/max-instances': '1000' }, 'c'), /at most 256/);
});
