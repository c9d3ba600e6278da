import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { callStart, observed } from '../../../host/observability/component-observer.ts';

test('a call made inside an observed call shares its start; after it, the clock is read again', async () => {
  const reports: [boolean, number][] = [];
  let inside = NaN;
  let nested = NaN;
  const before = performance.now();
  await observed(
    () => {
      inside = callStart();
      // Time passes inside the synchronous part: the start stays the observed call's.
      const until = performance.now() + 2;
      while (performance.now() < until);
      assert.equal(callStart(), inside);
      return observed(() => {
        nested = callStart();
        return Promise.resolve();
      }, () => {});
    },
    (success, ms) => reports.push([success, ms]),
  );
  const afterNested = callStart();
  assert.ok(inside >= before);
  assert.ok(nested > inside, 'a nested observed call has a start of its own');
  assert.ok(afterNested > inside + 2, 'outside every observed call the clock is read');
  assert.equal(reports.length, 1);
  assert.equal(reports[0]![0], true);
  assert.ok(reports[0]![1] >= 2, `the call took at least 2 ms, reported ${reports[0]![1]}`);
});

test('the start is restored after a call that throws synchronously; a call that rejects is reported as a failure', async () => {
  const reports: boolean[] = [];
  assert.throws(() =>
    observed(() => {
      throw new Error('boom');
    }, (success) => reports.push(success)),
  );
  const a = callStart();
  const until = performance.now() + 1;
  while (performance.now() < until);
  assert.ok(callStart() > a, 'no start left behind by the throwing call');
  await assert.rejects(observed(() => Promise.reject(new Error('no')), (success) => reports.push(success)), /no/);
  assert.deepEqual(reports, [false]);
});

test('without a report, nothing is timed and callStart reads the clock', async () => {
  let inside = NaN;
  const before = performance.now();
  await observed(() => {
    inside = callStart();
    return Promise.resolve(1);
  }, undefined);
  assert.ok(inside >= before);
});
