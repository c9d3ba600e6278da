// Where the HTTP API used to differ from daprd, checked as daprd's code has it: an unknown
// state store is the answer before the body is read; /v1.0/metadata shows how the sidecar
// reaches the app (appConnectionProperties, with the health settings); GET /dapr/subscribe
// carries `dapr-app-id`; an `application/cloudevents+json` event without `time` gets one; and
// `metadata.cloudevent.subject` sets the subject. Also: deliveries wait while the app's
// health checks fail.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createLogger } from '../../../../host/observability/logger.ts';
import { Sidecar } from '../../../../host/sidecar.ts';
import { startTestApi } from '../../../support/http-api-server.ts';
import { startAppAndSidecar } from '../../../support/pubsub-sidecar.ts';
import { componentYaml, expectDaprError, pollUntil, startSidecar } from '../../../support/sidecar-process.ts';
import { tempDir } from '../../../support/temp-dir.ts';
import { TestApp, freePort } from '../../../support/test-app.ts';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe('an unknown state store is answered before the body is read', () => {
  it('answers ERR_STATE_STORE_NOT_FOUND whatever the body: malformed, or too large', async () => {
    const api = await startTestApi({ maxBodyBytes: 1024 });
    cleanups.push(() => api.close());
    for (const path of ['/v1.0/state/nope', '/v1.0/state/nope/bulk', '/v1.0/state/nope/transaction']) {
      await expectDaprError(fetch(api.url + path, { method: 'POST', body: '{not json' }), 400, 'ERR_STATE_STORE_NOT_FOUND', /state store nope is not found/);
      await expectDaprError(fetch(api.url + path, { method: 'PUT', body: 'x'.repeat(4096) }), 400, 'ERR_STATE_STORE_NOT_FOUND');
    }
    // A known store still reads the body: the malformed one is refused as such.
    await expectDaprError(fetch(`${api.url}/v1.0/state/statestore`, { method: 'POST', body: '{not json' }), 400, 'ERR_MALFORMED_REQUEST');
  });

  it('answers while the body has not been sent at all', async () => {
    const api = await startTestApi();
    cleanups.push(() => api.close());
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${api.url}/v1.0/state/nope`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': 1_000_000 } }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      // Headers only: the million bytes promised never come.
      req.flushHeaders();
    });
    assert.equal(answer.status, 400);
    assert.equal(JSON.parse(answer.body).errorCode, 'ERR_STATE_STORE_NOT_FOUND');
  });
});

describe('/v1.0/metadata appConnectionProperties, as daprd shows them', () => {
  it('shows port, protocol, channel address, max concurrency and the health settings', async () => {
    const appPort = await freePort();
    const sidecar = await startSidecar({
      args: [
        '--app-port', String(appPort), '--app-max-concurrency', '4', '--app-channel-address', '127.0.0.1',
        '--enable-app-health-check', '--app-health-check-path', '/health', '--app-health-probe-interval', '2',
        '--app-health-probe-timeout', '300', '--app-health-threshold', '4',
      ],
    });
    cleanups.push(async () => void (await sidecar.stop()));
    const doc = (await (await sidecar.fetch('/v1.0/metadata')).json()) as Record<string, unknown>;
    assert.deepEqual(doc.appConnectionProperties, {
      port: appPort,
      protocol: 'http',
      channelAddress: '127.0.0.1',
      maxConcurrency: 4,
      health: { healthCheckPath: '/health', healthProbeInterval: '2s', healthProbeTimeout: '300ms', healthThreshold: 4 },
    });
    const keys = Object.keys(doc);
    assert.equal(keys.indexOf('appConnectionProperties'), keys.indexOf('httpEndpoints') + 1, "in daprd's place");
  });

  it('without an app port: the protocol and address only', async () => {
    const api = await startTestApi();
    cleanups.push(() => api.close());
    const doc = (await (await fetch(`${api.url}/v1.0/metadata`)).json()) as Record<string, unknown>;
    assert.deepEqual(doc.appConnectionProperties, { protocol: 'http', channelAddress: '127.0.0.1' });
  });

  it('refuses health settings that cannot work, naming the flag', async () => {
    const sidecar = startSidecar({ args: ['--enable-app-health-check', '--app-health-probe-interval', '1', '--app-health-probe-timeout', '1500'] });
    await assert.rejects(sidecar, /--app-health-probe-timeout \(1500 ms\) must not be longer than --app-health-probe-interval \(1 s\)/);
    await assert.rejects(startSidecar({ args: ['--app-protocol', 'grpcs'] }), /--app-protocol must be http or grpc, got "grpcs"/);
  });
});

describe('pub/sub as daprd sends it', () => {
  it('asks GET /dapr/subscribe with the dapr-app-id header', async () => {
    const { app } = await startAppAndSidecar(cleanups, [], { appId: 'checkout' });
    assert.equal(app.subscribeHeaders?.['dapr-app-id'], 'checkout');
  });

  it('gives an application/cloudevents+json event without time one, and keeps a given one', async () => {
    const { app, sidecar } = await startAppAndSidecar(cleanups, [{ pubsubname: 'pubsub', topic: 'ce', route: '/ce' }]);
    await sidecar.publish('pubsub', 'ce', { specversion: '1.0', id: 'a', source: 's', type: 't', data: 1 }, { contentType: 'application/cloudevents+json' });
    await sidecar.publish('pubsub', 'ce', { specversion: '1.0', id: 'b', source: 's', type: 't', time: '2020-01-01T00:00:00Z' }, { contentType: 'application/cloudevents+json' });
    const [first, second] = await app.waitFor('/ce', 2);
    assert.match(first!.json.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(second!.json.time, '2020-01-01T00:00:00Z');
  });

  it('sets the subject from metadata.cloudevent.subject, beside id, source and type', async () => {
    const { app, sidecar } = await startAppAndSidecar(cleanups, [{ pubsubname: 'pubsub', topic: 'subj', route: '/subj' }]);
    const query = '?metadata.cloudevent.subject=order-7&metadata.cloudevent.id=my-id&metadata.cloudevent.source=my-src&metadata.cloudevent.type=my.type';
    assert.equal((await sidecar.publish('pubsub', 'subj', { n: 1 }, { query })).status, 204);
    const [delivered] = await app.waitFor('/subj');
    assert.deepEqual([delivered!.json.subject, delivered!.json.id, delivered!.json.source, delivered!.json.type], ['order-7', 'my-id', 'my-src', 'my.type']);
  });
});

describe('app health checks', () => {
  it('delivers nothing until the app is healthy, and stops again when it is not', async () => {
    const dir = await tempDir();
    cleanups.push(() => dir.remove());
    await writeFile(join(dir.path, 'pubsub.yaml'), componentYaml('pubsub', 'pubsub.memory'));
    let healthy = false;
    const app = await new TestApp().listen();
    cleanups.push(() => app.close());
    app.subscribe = { status: 200, body: [{ pubsubname: 'pubsub', topic: 'orders', route: '/orders' }] };
    app.on('/healthz', () => ({ status: healthy ? 200 : 503 }));
    const logs: string[] = [];
    const sidecar = await Sidecar.start({
      appId: 'orders',
      appPort: app.port,
      appHealth: { path: '/healthz', intervalMs: 20, timeoutMs: 20, threshold: 2 },
      httpPort: 0,
      listenAddress: '127.0.0.1',
      resourcesPaths: [dir.path],
      maxBodyBytes: 4 * 1024 * 1024,
      logger: createLogger({ level: 'debug', json: false, write: (line) => logs.push(line) }),
    });
    cleanups.push(() => sidecar.stop());
    await sidecar.loaded;
    const url = `http://127.0.0.1:${sidecar.port}`;
    const publish = (n: number): Promise<Response> => fetch(`${url}/v1.0/publish/pubsub/orders`, { method: 'POST', body: JSON.stringify({ n }), headers: { 'content-type': 'application/json' } });
    const status = async (): Promise<{ subscriptions: unknown[]; subscriptionStatus: { error: string }[] }> => (await fetch(`${url}/v1.0/metadata`)).json() as never;

    await pollUntil('the subscription waits for a healthy app', async () => ((await status()).subscriptionStatus.some((p) => /the app is unhealthy/.test(p.error)) ? true : undefined));
    await app.waitFor('/healthz', 3);
    await publish(1);
    assert.equal(app.at('/orders').length, 0, 'nothing delivered to an unhealthy app');
    healthy = true;
    const [first] = await app.waitFor('/orders');
    assert.equal(first!.json.data.n, 1, 'what waited is delivered once the app is healthy');
    healthy = false;
    await pollUntil('unhealthy again', () => logs.find((l) => l.includes('the app entered unhealthy status')));
    assert.deepEqual((await status()).subscriptions, []);
  });
});
