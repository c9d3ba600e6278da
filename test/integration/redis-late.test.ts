// The sidecar started before its Redis, as a compose file or a laptop often does it: the
// pubsub.redis component fails to start, publishes answer why (not "not found"), outbound
// health says not ready, metadata shows the failure and the next try; Redis started a few
// tries later makes publishes succeed, with no file touched.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RedisServer, redisPubSubYaml } from '../support/redis-server.ts';
import { expectDaprError, pollUntil, startSidecar, type SidecarProcess } from '../support/sidecar-process.ts';
import { freePort } from '../support/test-app.ts';
import { needs } from '../support/tools.ts';

interface Status {
  name: string;
  status: string;
  error?: string;
  failedStarts?: number;
  nextRetryAt?: string;
}

describe('a sidecar started before its Redis', needs('redis'), () => {
  let port: number;
  let sidecar: SidecarProcess;
  let redis: RedisServer | undefined;

  before(async () => {
    port = await freePort();
    sidecar = await startSidecar({ resources: { 'pubsub.yaml': redisPubSubYaml('pubsub', `127.0.0.1:${port}`) } });
  });
  after(async () => {
    await sidecar?.stop();
    await redis?.stop();
  });

  const publish = (): Promise<Response> =>
    sidecar.fetch('/v1.0/publish/pubsub/orders', { method: 'POST', body: '{"id":1}', headers: { 'content-type': 'application/json' } });
  const status = async (): Promise<Status> => {
    const body = (await (await sidecar.fetch('/v1.0/metadata')).json()) as { componentStatus: Status[] };
    return body.componentStatus.find((c) => c.name === 'pubsub')!;
  };

  it('says why it cannot publish until Redis is up, then publishes with no file touched', async (t) => {
    await expectDaprError(publish(), 503, 'ERR_PUBSUB_NOT_CONFIGURED', /^pubsub pubsub failed to load: .*pubsub\.yaml: .*unreachable/);
    await expectDaprError(sidecar.fetch('/v1.0/healthz/outbound'), 500, 'ERR_OUTBOUND_HEALTH_NOT_READY', /failed to load .*: pubsub$/);

    // A few tries in, so the backoff has grown.
    const failing = await pollUntil('three failed starts', async () => {
      const s = await status();
      return (s.failedStarts ?? 0) >= 3 && s.nextRetryAt !== undefined ? s : undefined;
    });
    assert.equal(failing.status, 'failed');
    assert.match(failing.error!, /unreachable/);
    assert.ok(Date.parse(failing.nextRetryAt!) > Date.now() - 1000, `next try ${failing.nextRetryAt}`);

    redis = await RedisServer.start(port);
    const up = Date.now();
    await pollUntil('a publish to succeed', async () => ((await publish()).status === 204 ? true : undefined), { timeoutMs: 40_000, intervalMs: 50 });
    t.diagnostic(`first publish answered 204 ${Date.now() - up} ms after Redis answered PING`);

    assert.equal((await sidecar.fetch('/v1.0/healthz/outbound')).status, 204);
    const ready = await status();
    assert.equal(ready.status, 'ready');
    assert.equal(ready.nextRetryAt, undefined);
    assert.ok(Number(await redis.cli('XLEN', 'orders')) >= 1);
    const failures = sidecar.logs.filter((e) => /^component "pubsub" failed to load:/.test(e.message));
    assert.equal(failures.length, 1, `the failure is logged once, not at every try:\n${sidecar.logText()}`);
    await sidecar.waitForLog(/component "pubsub" loaded after \d+ failed starts/);
  });
});
