// The crash test: pubsub.redis delivering to an app whose handler takes 5-20 ms, N messages
// published through the sidecar, the sidecar killed with SIGKILL in the middle of the
// deliveries (the app holds those after the first KILL_AFTER until the kill, so messages are
// read but not acknowledged, and others not read yet, however fast deliveries go), and a new sidecar process started on the same resources folder and app. Every
// message whose publish was answered 204 must reach the app at least once: those never read
// come through the consumer group, and those the dead sidecar had read but not acknowledged
// are taken over (XAUTOCLAIM) once they have been pending for `processingTimeout`, set short
// here. The duplicates (delivered again because the dead sidecar never acknowledged them)
// are counted and reported.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RedisServer, redisPubSubYaml } from '../support/redis-server.ts';
import { pollUntil, startSidecar, type SidecarProcess } from '../support/sidecar-process.ts';
import { tempDir } from '../support/temp-dir.ts';
import { TestApp } from '../support/test-app.ts';
import { needs } from '../support/tools.ts';

const APP_ID = 'worker';
const TOPIC = 'jobs';
const N = 300;
const KILL_AFTER = 100;
const PUBLISHERS = 4;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('a sidecar killed (SIGKILL) while pubsub.redis delivers', needs('redis'), () => {
  let redis: RedisServer;
  let app: TestApp;
  let resources: { path: string; remove: () => Promise<void> };
  const sidecars: SidecarProcess[] = [];
  /** Resolved once the first sidecar is killed: until then the app holds deliveries after the first KILL_AFTER. */
  const killed = Promise.withResolvers<void>();

  before(async () => {
    redis = await RedisServer.start();
    resources = await tempDir('tessera-crash-');
    await writeFile(join(resources.path, 'pubsub.yaml'), redisPubSubYaml('pubsub', redis.address, { processingTimeout: '1000ms', redeliverInterval: '250ms' }));
    app = await new TestApp().listen();
    app.subscribe = { status: 200, body: [{ pubsubname: 'pubsub', topic: TOPIC, route: '/jobs' }] };
    app.on('/jobs', async () => {
      if (app.at('/jobs').length > KILL_AFTER) await killed.promise;
      await sleep(5 + Math.random() * 15);
      return {};
    });
  });

  after(async () => {
    for (const sidecar of sidecars) await sidecar.stop('SIGTERM').catch(() => undefined);
    await app?.close();
    await redis?.stop();
    await resources?.remove();
  });

  /** `tessera run` on the shared resources folder, delivering to the app. */
  async function sidecar(): Promise<SidecarProcess> {
    const started = await startSidecar({ appId: APP_ID, args: ['--app-port', String(app.port), '--resources-path', resources.path] });
    sidecars.push(started);
    return started;
  }

  const received = (): number[] => app.at('/jobs').map((d) => d.json.data.seq as number);

  it('delivers every message whose publish returned 204 at least once, after a new sidecar takes over', async (t) => {
    const first = await sidecar();
    await pollUntil('the consumer group on Redis', async () => ((await redis.groups(TOPIC)).includes(APP_ID) ? true : undefined), { timeoutMs: 15_000, intervalMs: 50 });

    // Publish N messages, PUBLISHERS at a time, recording which were accepted (204).
    const accepted = new Set<number>();
    const refused: string[] = [];
    let next = 1;
    const publisher = async (): Promise<void> => {
      while (next <= N) {
        const seq = next++;
        try {
          const res = await fetch(`${first.url}/v1.0/publish/pubsub/${TOPIC}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ seq }),
            signal: AbortSignal.timeout(5000),
          });
          if (res.status === 204) accepted.add(seq);
          else refused.push(`${seq}: ${res.status} ${await res.text()}`);
        } catch (err) {
          refused.push(`${seq}: ${(err as Error).message}`);
        }
      }
    };
    const publishing = Promise.all(Array.from({ length: PUBLISHERS }, publisher));

    // Kill it in the middle of the deliveries, with publishes accepted beyond those delivered.
    await app.waitFor('/jobs', KILL_AFTER, 20_000);
    await pollUntil('publishes accepted beyond the deliveries', () => (accepted.size >= KILL_AFTER + 50 || next > N ? true : undefined), { timeoutMs: 20_000 });
    const exit = await first.stop('SIGKILL');
    killed.resolve();
    assert.equal(exit.signal, 'SIGKILL');
    const atKill = app.at('/jobs').length;
    await publishing;
    const pending = Number((await redis.cli('XPENDING', TOPIC, APP_ID)).split('\n')[0]);
    const length = Number((await redis.cli('XLEN', TOPIC)).trim());
    assert.ok(atKill < accepted.size, `the kill came after every delivery (${atKill} of ${accepted.size}); nothing was left to take over`);

    // A new sidecar process on the same resources folder and app.
    const restarted = Date.now();
    await sidecar();
    const missing = (): number[] => {
      const got = new Set(received());
      return [...accepted].filter((seq) => !got.has(seq)).sort((a, b) => a - b);
    };
    await pollUntil(
      () => `every accepted message delivered; ${missing().length} missing: ${missing().slice(0, 20).join(', ')}`,
      () => (missing().length === 0 ? true : undefined),
      { timeoutMs: 30_000, intervalMs: 50 },
    );
    const recoveredMs = Date.now() - restarted;
    // Nothing stays pending in the group once the takeover is done.
    await pollUntil('no pending message in the group', async () => (Number((await redis.cli('XPENDING', TOPIC, APP_ID)).split('\n')[0]) === 0 ? true : undefined), {
      timeoutMs: 10_000,
      intervalMs: 100,
    });

    const all = received();
    const distinct = new Set(all).size;
    const counts = new Map<number, number>();
    for (const seq of all) counts.set(seq, (counts.get(seq) ?? 0) + 1);
    const duplicated = [...counts].filter(([, n]) => n > 1).map(([seq, n]) => `${seq}×${n}`);
    const summary =
      `${N} published, ${accepted.size} accepted (204), ${refused.length} refused; killed after ${atKill} deliveries ` +
      `(stream length ${length}, ${pending} pending for the dead sidecar); all accepted delivered ${recoveredMs} ms after the restart; ` +
      `${all.length} deliveries of ${distinct} messages: ${all.length - distinct} duplicates (${duplicated.join(' ') || 'none'})`;
    t.diagnostic(summary);
    console.log(`pubsub-crash: ${summary}`);
    if (refused.length > 0) t.diagnostic(`refused publishes: ${refused.slice(0, 5).join('; ')}`);
    // At least once, not more than a few times: the duplicates are at most what the dead sidecar held unacknowledged.
    assert.ok(all.length - distinct <= pending, `${all.length - distinct} duplicates but only ${pending} messages were pending when the sidecar died`);
  });
});
