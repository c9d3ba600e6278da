// The queue in front of one instance: one call at a time, deadlines from when a call was
// queued, a bounded length, and a queue that moves on past a call abandoned at its deadline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { httpStatusOf } from '../../../host/api/http/http-status.ts';
import { TesseraError, isTesseraError } from '../../../host/errors.ts';
import { CallQueue } from '../../../host/sandbox/call-queue.ts';

const abandoned = (label: string) => () => new TesseraError('ERR_COMPONENT_TRAP', `${label} abandoned`);

test('calls run one at a time, in order', async () => {
  const queue = new CallQueue('c');
  const order: string[] = [];
  const task = (name: string, ms: number) => queue.push(name, 1000, async () => {
    order.push(`${name} start`);
    await delay(ms);
    order.push(`${name} end`);
    return name;
  }, abandoned(name));
  assert.deepEqual(await Promise.all([task('a', 20), task('b', 1), task('c', 5)]), ['a', 'b', 'c']);
  assert.deepEqual(order, ['a start', 'a end', 'b start', 'b end', 'c start', 'c end']);
});

test('a call that waits past its deadline fails without running; one that runs past it is abandoned and the queue moves on', async () => {
  const queue = new CallQueue('store');
  let ranLate = false;
  let stopRunning!: () => void;
  const long = queue.push('snapshot', 100, () => new Promise<string>((resolve) => (stopRunning = () => resolve('late'))), abandoned('snapshot'));
  const waiting = queue.push('get', 50, async () => {
    ranLate = true;
    return 'x';
  }, abandoned('get'));
  await assert.rejects(waiting, (err: unknown) => isTesseraError(err, 'ERR_COMPONENT_TIMEOUT') && /store": get waited \d+ ms behind other calls and did not start within its call timeout of 50 ms/.test(err.message));
  await assert.rejects(long, /snapshot abandoned/);
  assert.equal(await queue.push('next', 100, async () => 'served', abandoned('next')), 'served', 'the queue moved on past the abandoned call');
  stopRunning();
  await delay(5);
  assert.equal(ranLate, false, 'a call that timed out while waiting never runs');
});

test('a full queue refuses at once; what was queued still runs', async () => {
  const queue = new CallQueue('busy', 2);
  const first = queue.push('a', 1000, () => delay(20).then(() => 1), abandoned('a'));
  const second = queue.push('b', 1000, async () => 2, abandoned('b'));
  await assert.rejects(queue.push('c', 1000, async () => 3, abandoned('c')), (err: unknown) => isTesseraError(err, 'ERR_COMPONENT_BUSY') && httpStatusOf(err) === 429);
  assert.deepEqual(await Promise.all([first, second]), [1, 2]);
  assert.equal(queue.length, 0);
  await queue.whenIdle();
});

test('a call whose work throws at once fails with that error, and the queue moves on', async () => {
  const queue = new CallQueue('thrower');
  const broken = queue.push('broken', 1000, () => {
    throw new Error('no instance');
  }, abandoned('broken'));
  const next = queue.push('next', 1000, async () => 'served', abandoned('next'));
  await assert.rejects(broken, /no instance/);
  assert.equal(await next, 'served');
  await queue.whenIdle();
  assert.equal(queue.length, 0);
});

test('calls that timed out while waiting are skipped; the next live one starts when the head is done', async () => {
  const queue = new CallQueue('skips');
  let release!: () => void;
  const head = queue.push('head', 1000, () => new Promise<string>((resolve) => (release = () => resolve('head'))), abandoned('head'));
  const expired = queue.push('short', 20, async () => 'never', abandoned('short'));
  const live = queue.push('live', 1000, async () => 'live', abandoned('live'));
  await assert.rejects(expired, (err: unknown) => isTesseraError(err, 'ERR_COMPONENT_TIMEOUT'));
  assert.equal(queue.length, 3, 'the expired call keeps its place until the head is done');
  release();
  assert.deepEqual(await Promise.all([head, live]), ['head', 'live']);
  await queue.whenIdle();
  assert.equal(queue.length, 0);
});
