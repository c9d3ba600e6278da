// The semaphore behind --app-max-concurrency and a subscription's messages in flight: places
// in arrival order, a limit changed while held, and waiters leaving when their signal aborts
// (those under other signals keep their places).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConcurrencyLimit } from '../../../host/app-channel/concurrency-limit.ts';

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('ConcurrencyLimit', () => {
  it('admits up to the limit at once, the rest in arrival order as places free', async () => {
    const limit = new ConcurrencyLimit(2);
    const admitted: number[] = [];
    const calls = [1, 2, 3, 4].map((i) => limit.acquire().then(() => admitted.push(i)));
    await turn();
    assert.deepEqual(admitted, [1, 2]);
    assert.equal(limit.waiting, 2);
    limit.release();
    await turn();
    assert.deepEqual(admitted, [1, 2, 3]);
    limit.limit = 3;
    await Promise.all(calls);
    assert.deepEqual(admitted, [1, 2, 3, 4]);
    assert.equal(limit.active, 3);
  });

  it('a waiter whose signal aborts leaves with its reason; the others keep their places', async () => {
    const limit = new ConcurrencyLimit(1);
    await limit.acquire();
    const stopping = new AbortController();
    const other = new AbortController();
    const order: string[] = [];
    const a = limit.acquire(stopping.signal).then(() => order.push('a'), (e: Error) => order.push(`a: ${e.message}`));
    const b = limit.acquire(other.signal).then(() => order.push('b'));
    const c = limit.acquire(stopping.signal).then(() => order.push('c'), (e: Error) => order.push(`c: ${e.message}`));
    stopping.abort(new Error('stopped'));
    await Promise.all([a, c]);
    assert.deepEqual(order, ['a: stopped', 'c: stopped']);
    assert.equal(limit.waiting, 1);
    limit.release();
    await b;
    assert.deepEqual(order, ['a: stopped', 'c: stopped', 'b']);
    await assert.rejects(limit.acquire(stopping.signal), /stopped/);
  });

  it('many waiters under one signal add one listener to it, not one each', async () => {
    const limit = new ConcurrencyLimit(0);
    const controller = new AbortController();
    let added = 0;
    const add = controller.signal.addEventListener.bind(controller.signal);
    controller.signal.addEventListener = ((...args: Parameters<AbortSignal['addEventListener']>) => {
      added++;
      add(...args);
    }) as AbortSignal['addEventListener'];
    const waits = Array.from({ length: 50 }, () => limit.acquire(controller.signal).catch(() => 'left'));
    assert.equal(added, 1);
    controller.abort();
    assert.deepEqual(new Set(await Promise.all(waits)), new Set(['left']));
  });
});
