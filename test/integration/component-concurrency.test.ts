// The per-component concurrency limit through the real `tessera` process: a store whose `get`
// waits on its engine (sleeps) runs at most `tessera.dev/max-instances` calls at once; calls
// beyond wait, up to `tessera.dev/queue-limit` in all, and the rest are refused at once with
// 429 ERR_COMPONENT_BUSY naming the component (not a 500 ERR_STATE_GET).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startSidecar, type SidecarProcess } from '../support/sidecar-process.ts';
import { hostImportWat, stateStoreModule } from '../support/state-store-wat.ts';

const SLEEP_MS = 600;

/** A store whose every `get` waits SLEEP_MS on the sleep capability (so its calls can suspend, and it is pooled). */
const sleeper = stateStoreModule({
  manifest: { capabilities: ['sleep'] },
  imports: [hostImportWat('sleep', 'sleep-ms').replace('(func', '(func $sleep')],
  bodies: { get: `(call $sleep (i32.const ${SLEEP_MS})) (i32.const 16)` },
});

const YAML = `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: sleepy
  annotations:
    tessera.dev/max-instances: "2"
    tessera.dev/queue-limit: "3"
spec:
  type: state.skeleton
  version: v1
`;

describe('a per-component concurrency limit (max-instances and queue-limit)', () => {
  let sidecar: SidecarProcess;
  before(async () => {
    sidecar = await startSidecar({ resources: { 'sleepy.wasm': sleeper, 'sleepy.yaml': YAML } });
  });
  after(() => sidecar?.stop());

  it('runs two at once, queues the third, and refuses the rest with 429 naming the component', async () => {
    const started = performance.now();
    const answers = await Promise.all(
      Array.from({ length: 6 }, async () => {
        const res = await sidecar.fetch('/v1.0/state/sleepy/k');
        return { status: res.status, body: await res.text(), doneMs: performance.now() - started };
      }),
    );
    const served = answers.filter((a) => a.status === 204);
    const refused = answers.filter((a) => a.status === 429);
    assert.equal(served.length + refused.length, answers.length, JSON.stringify(answers));
    assert.ok(served.length >= 3, `at most 3 taken at once, and the first 3 all are: ${JSON.stringify(answers)}`);
    assert.ok(refused.length >= 1, JSON.stringify(answers));
    for (const { body } of refused) {
      const error = JSON.parse(body) as { errorCode: string; message: string };
      assert.equal(error.errorCode, 'ERR_COMPONENT_BUSY');
      assert.match(error.message, /component "sleepy" has 3 calls waiting on its \d instances, its limit \(tessera\.dev\/queue-limit\); get was refused/);
    }
    // Two instances: the third call waited for one of them to finish its first.
    const slowest = Math.max(...served.map((a) => a.doneMs));
    assert.ok(slowest >= 2 * SLEEP_MS, `the queued call finished after ${Math.round(slowest)} ms`);
    // Refused at once, not after waiting.
    for (const { doneMs } of refused) assert.ok(doneMs < SLEEP_MS, `refused after ${Math.round(doneMs)} ms`);
  });
});
