// Hostile files present in the resources folder when the real `tessera` process starts: a
// named pipe, a symlink to /dev/zero, a YAML symlinked to a file outside the folder, files
// over their size limits, manifests costly to check, and a component whose init never
// returns. The API listens before they are dealt with, the good store answers as soon as it
// is loaded and at its usual latency, and metadata names each offender.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HOSTILE_FILE_REFUSALS, OUTSIDE_SECRET, placeHostileFiles, sleepyInitModule } from '../support/load-attacks.ts';
import { componentYaml, pollUntil, startSidecar, type SidecarProcess } from '../support/sidecar-process.ts';
/** The sleeping component's `spec.initTimeout`: how long the first scan takes to finish. */
const SLEEPY_INIT_TIMEOUT_MS = 6000;

let sidecar: SidecarProcess;
let outside: string;
let listenedAfterMs = 0;

interface Status {
  name: string;
  status: string;
  source: string;
  error?: string;
}

/** File name -> what its refusal must say after the file's path. */
const OFFENDERS: Record<string, RegExp> = {
  ...HOSTILE_FILE_REFUSALS,
  'sleepy.yaml': new RegExp(`^component "sleepy" did not start within ${SLEEPY_INIT_TIMEOUT_MS} ms|init did not finish within`),
};

before(async () => {
  outside = await mkdtemp(join(tmpdir(), 'tessera-outside-'));
  let spawned = 0;
  sidecar = await startSidecar({
    waitForComponents: false,
    resources: {
      'statestore.yaml': componentYaml('statestore'),
      'sleepy.wasm': sleepyInitModule(),
      'sleepy.yaml': componentYaml('sleepy', 'state.sleepy').replace('  version: v1\n', `  version: v1\n  initTimeout: ${SLEEPY_INIT_TIMEOUT_MS}ms\n`),
    },
    prepare: async (dir) => {
      await placeHostileFiles(dir, outside);
      spawned = performance.now();
    },
  });
  listenedAfterMs = performance.now() - spawned;
});

after(async () => {
  await sidecar?.stop();
  await rm(outside, { recursive: true, force: true });
});

describe('hostile files present at start', () => {
  it('the API listens before the folder is dealt with: healthz says not ready while the sleeping init holds the first scan', async (t) => {
    t.diagnostic(`listening ${listenedAfterMs.toFixed(0)} ms after the spawn`);
    assert.ok(listenedAfterMs < 10_000, `the API listened ${listenedAfterMs.toFixed(0)} ms after the spawn`);
    const health = await sidecar.fetch('/v1.0/healthz');
    assert.equal(health.status, 500);
    assert.equal(((await health.json()) as { errorCode: string }).errorCode, 'ERR_HEALTH_NOT_READY');
  });

  it('the good store answers as soon as it is loaded, at its usual latency, while the sleeping init hangs', async (t) => {
    const listening = performance.now();
    await pollUntil('statestore to answer', async () => ((await sidecar.fetch('/v1.0/state/statestore/missing')).status === 204 ? true : undefined), {
      timeoutMs: SLEEPY_INIT_TIMEOUT_MS,
      intervalMs: 10,
    });
    const answeredAfter = performance.now() - listening;
    assert.equal((await sidecar.fetch('/v1.0/healthz')).status, 500, 'the store answered before the first scan was done');

    const latencies: number[] = [];
    for (let i = 0; i < 40; i++) {
      const t0 = performance.now();
      const saved = await sidecar.fetch('/v1.0/state/statestore', { method: 'POST', body: JSON.stringify([{ key: `k${i}`, value: i }]) });
      assert.equal(saved.status, 204);
      const read = await sidecar.fetch(`/v1.0/state/statestore/k${i}`);
      assert.equal(await read.text(), String(i));
      latencies.push(performance.now() - t0);
    }
    const worst = Math.max(...latencies);
    const median = latencies.sort((a, b) => a - b)[latencies.length >> 1]!;
    t.diagnostic(`statestore answered ${answeredAfter.toFixed(0)} ms after the API listened; save+get median ${median.toFixed(1)} ms, worst ${worst.toFixed(1)} ms while "sleepy" hangs in init`);
    assert.ok(worst < 500, `a save+get took ${worst.toFixed(0)} ms`);
  });

  it('once the first scan is done, metadata names every offender and why, and shows nothing of the outside file', async () => {
    await pollUntil('healthz to say ready', async () => ((await sidecar.fetch('/v1.0/healthz')).status === 204 ? true : undefined), {
      timeoutMs: SLEEPY_INIT_TIMEOUT_MS + 10_000,
      intervalMs: 50,
    });
    const res = await sidecar.fetch('/v1.0/metadata');
    const text = await res.text();
    const { components, componentStatus } = JSON.parse(text) as { components: { name: string }[]; componentStatus: Status[] };
    assert.deepEqual(components.map((c) => c.name), ['statestore']);
    for (const [file, reason] of Object.entries(OFFENDERS)) {
      const path = sidecar.resource(file);
      const entry = componentStatus.find((s) => s.source === path);
      assert.equal(entry?.status, 'failed', `${file}: ${JSON.stringify(entry)}`);
      assert.ok(entry.error!.startsWith(`${path}: `), entry.error);
      assert.match(entry.error!.slice(path.length + 2), reason);
    }
    assert.ok(!text.includes(OUTSIDE_SECRET) && !text.includes(outside), 'nothing of the outside file is shown');
    assert.ok(text.length < 16 * 1024, `/v1.0/metadata is ${text.length} bytes`);
    assert.equal(sidecar.alive, true);
  });
});
