// Dapr's Resiliency resource on component calls, through the real `tessera` process: a
// circuit breaker on state.redis opens while the real redis-server is down (calls then fail at
// once, naming the breaker), closes once Redis is back; a retry policy outlasts a short outage;
// an edited file takes effect without a restart; a bad file is refused naming every problem,
// and the sidecar keeps serving.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RedisServer, redisComponentYaml } from '../support/redis-server.ts';
import { TestApp } from '../support/test-app.ts';
import { expectDaprError, pollUntil, startSidecar, type SidecarProcess } from '../support/sidecar-process.ts';
import { needs } from '../support/tools.ts';

function resiliencyYaml(outbound: string, policies: string): string {
  return `apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata:
  name: storepolicies
spec:
  policies:
${policies}
  targets:
    components:
      statestore:
        outbound:
${outbound}
`;
}

const BREAKER = resiliencyYaml(
  '          circuitBreaker: storecb',
  `    circuitBreakers:
      storecb:
        maxRequests: 1
        timeout: 1s
        trip: consecutiveFailures >= 2`,
);

const RETRY = resiliencyYaml(
  '          retry: patient',
  `    retries:
      patient:
        policy: constant
        duration: 200ms
        maxRetries: 50`,
);

describe('Resiliency policies on component calls', needs('redis'), () => {
  let redis: RedisServer;
  let sidecar: SidecarProcess;

  before(async () => {
    redis = await RedisServer.start();
    sidecar = await startSidecar({
      appId: 'resilient',
      resources: { 'statestore.yaml': redisComponentYaml('statestore', 'state.redis', redis.address), 'resiliency.yaml': BREAKER },
    });
    await sidecar.waitForLog(/resiliency policies in force: storepolicies/);
  });
  after(async () => {
    await sidecar?.stop();
    await redis?.stop();
  });

  const save = (value: number): Promise<Response> => sidecar.fetch('/v1.0/state/statestore', { method: 'POST', body: JSON.stringify([{ key: 'k', value }]) });

  it('a breaker opens while Redis is down, fails calls at once naming itself, and closes once Redis is back', async () => {
    assert.equal((await save(1)).status, 204);
    await redis.stop();
    // Two failures trip it; the call after that is refused by the breaker without reaching the store.
    await expectDaprError(save(2), 500, 'ERR_STATE_SAVE');
    await expectDaprError(save(3), 500, 'ERR_STATE_SAVE');
    await expectDaprError(save(4), 500, 'ERR_STATE_SAVE', /circuit breaker "storecb" is open/);
    await sidecar.waitForLog(/circuit breaker "storecb" of component "statestore" \(outbound\): closed -> open/);
    await redis.restart();
    // After its 1 s timeout the breaker lets a trial through; it succeeds, and the breaker closes.
    await pollUntil('a save to succeed again', async () => ((await save(5)).status === 204 ? true : undefined), { timeoutMs: 20_000, intervalMs: 100 });
    await sidecar.waitForLog(/storecb.*half-open -> closed/);
  });

  it('an edited file takes effect without a restart: a retry policy outlasts a short outage', async () => {
    await sidecar.writeResource('resiliency.yaml', RETRY);
    await pollUntil('the edited policies in force', async () => (sidecar.logs.filter((l) => /resiliency policies in force: storepolicies/.test(l.message)).length >= 2 ? true : undefined));
    await redis.stop();
    // The save is retried every 200 ms while Redis is down (without the policy it fails at once):
    // bring Redis back and the save goes through.
    const saving = save(6);
    await redis.restart();
    const res = await saving;
    assert.equal(res.status, 204, await res.text());
    const read = await sidecar.fetch('/v1.0/state/statestore/k');
    assert.equal(await read.text(), '6');
  });

  it('a bad Resiliency file is refused naming its problems; the sidecar keeps serving', async () => {
    await sidecar.writeResource('broken-resiliency.yaml', resiliencyYaml('          retry: nosuch', '    timeouts:\n      general: 5 seconds'));
    const logged = await sidecar.waitForLog(/broken-resiliency\.yaml: invalid Resiliency "storepolicies"/);
    assert.match(logged.message, /spec\.policies\.timeouts\.general: "5 seconds" is not a duration/);
    assert.match(logged.message, /spec\.targets\.components\.statestore\.outbound\.retry: names "nosuch"/);
    assert.equal((await save(7)).status, 204);
  });
});

describe('a Resiliency inbound policy on deliveries to the app', () => {
  let app: TestApp;
  let sidecar: SidecarProcess;

  before(async () => {
    app = await new TestApp().listen();
    app.subscribe = { status: 200, body: [{ pubsubname: 'bus', topic: 'orders', route: '/orders' }] };
    // The first delivery never gets an answer (the app hangs); later ones are answered at once.
    app.on('/orders', (_d, nth) => (nth === 1 ? new Promise(() => {}) : {}));
    sidecar = await startSidecar({
      appId: 'inbound',
      args: ['--app-port', String(app.port)],
      resources: {
        'bus.yaml': 'apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: bus\nspec:\n  type: pubsub.memory\n  version: v1\n',
        'resiliency.yaml': `apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata:
  name: inbound
spec:
  policies:
    timeouts:
      quick: 300ms
    retries:
      again: { policy: constant, duration: 10ms, maxRetries: 3 }
  targets:
    components:
      bus:
        inbound: { timeout: quick, retry: again }
`,
      },
    });
    await pollUntil('the subscription', async () => (((await (await sidecar.fetch('/v1.0/metadata')).json()) as { subscriptions: unknown[] }).subscriptions.length === 1 ? true : undefined));
  });
  after(async () => {
    await sidecar?.stop();
    await app?.close();
  });

  it("cuts a delivery the app never answers at the policy's timeout and retries it (the app's own 60 s deadline would hold it)", async () => {
    const res = await sidecar.fetch('/v1.0/publish/bus/orders', { method: 'POST', body: '{"n":1}', headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 204);
    const [first, second] = await app.waitFor('/orders', 2, 10_000);
    assert.equal(first!.json.id, second!.json.id, 'the same event, delivered again after the timeout');
  });
});
