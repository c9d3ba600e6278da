// The official Dapr JS SDK's DaprServer over gRPC (CommunicationProtocolEnum.GRPC), unchanged,
// against `tessera run --app-protocol grpc`: the sidecar asks it ListTopicSubscriptions and
// delivers what is published (through the HTTP API) with OnTopicEvent, honouring its RETRY,
// and bulk subscriptions through OnBulkTopicEventAlpha1, the only bulk method it serves; its
// `invoker.listen` handlers are reached by service invocation, through OnInvoke.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CommunicationProtocolEnum, DaprPubSubStatusEnum, DaprServer, HttpMethod, LogLevel } from '@dapr/dapr';
import { componentYaml, pollUntil, startSidecar, type SidecarProcess } from '../support/sidecar-process.ts';
import { freePort } from '../support/test-app.ts';

const ignore = (): void => {};
const logger = { level: LogLevel.Error, service: { error: ignore, warn: ignore, info: ignore, verbose: ignore, debug: ignore } };

let sidecar: SidecarProcess;
let server: DaprServer;
const orders: unknown[] = [];
const flaky: unknown[] = [];
const batched: unknown[] = [];

before(async () => {
  const appPort = await freePort();
  sidecar = await startSidecar({
    appId: 'checkout',
    resources: { 'pubsub.yaml': componentYaml('pubsub', 'pubsub.memory') },
    args: ['--app-port', String(appPort), '--app-protocol', 'grpc', '--log-level', 'debug'],
  });
  server = new DaprServer({
    serverHost: '127.0.0.1',
    serverPort: String(appPort),
    communicationProtocol: CommunicationProtocolEnum.GRPC,
    // The embedded client talks to the sidecar's HTTP API.
    clientOptions: { daprHost: '127.0.0.1', daprPort: String(sidecar.port), communicationProtocol: CommunicationProtocolEnum.HTTP, logger },
    logger,
  });
  await server.pubsub.subscribe('pubsub', 'orders', async (data: unknown) => {
    orders.push(data);
  });
  let calls = 0;
  await server.pubsub.subscribe('pubsub', 'flaky', async (data: unknown) => {
    flaky.push(data);
    return ++calls === 1 ? DaprPubSubStatusEnum.RETRY : DaprPubSubStatusEnum.SUCCESS;
  });
  await server.pubsub.subscribeBulk(
    'pubsub',
    'batched',
    async (data: unknown) => {
      batched.push(data);
    },
    { maxMessagesCount: 10, maxAwaitDurationMs: 50 },
  );
  await server.invoker.listen('orders/total', async ({ body, query }) => ({ total: (JSON.parse(body ?? '{}') as { items: number[] }).items.reduce((a, b) => a + b, 0), query }), { method: HttpMethod.POST });
  await server.start();
  await sidecar.waitForLog(/the app subscribed to 3 topic\(s\) through ListTopicSubscriptions/, 30_000);
  // DaprServer.start() has no deadline of its own: a start that never completes fails here, named, instead of holding the run.
}, { timeout: 60_000 });

after(async () => {
  await server?.stop();
  await sidecar?.stop();
});

const publish = (topic: string, body: unknown): Promise<Response> =>
  sidecar.fetch(`/v1.0/publish/pubsub/${topic}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('official Dapr JS SDK: DaprServer over gRPC, against tessera run --app-protocol grpc', () => {
  it('lists what DaprServer answers to ListTopicSubscriptions, and says the app speaks gRPC', async () => {
    const doc = (await (await sidecar.fetch('/v1.0/metadata')).json()) as { subscriptions: { topic: string }[]; appConnectionProperties: Record<string, unknown> };
    assert.deepEqual(doc.subscriptions.map((s) => s.topic), ['orders', 'flaky', 'batched']);
    assert.equal(doc.appConnectionProperties.protocol, 'grpc');
  });

  it('delivers what is published to the server callback', async () => {
    assert.equal((await publish('orders', { orderId: 42 })).status, 204);
    await pollUntil('the order at the subscriber', () => (orders.length > 0 ? orders : undefined), { timeoutMs: 10_000 });
    assert.deepEqual(orders, [{ orderId: 42 }]);
  });

  it('delivers again after the server answers RETRY', async () => {
    assert.equal((await publish('flaky', { n: 1 })).status, 204);
    await pollUntil('delivered twice', () => (flaky.length >= 2 ? flaky : undefined), { timeoutMs: 10_000 });
    assert.deepEqual(flaky, [{ n: 1 }, { n: 1 }]);
  });

  it('invokes an invoker.listen handler through OnInvoke, its JSON answer coming back over HTTP', async () => {
    const res = await sidecar.fetch('/v1.0/invoke/checkout/method/orders/total?currency=eur', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ items: [2, 3, 4] }) });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.deepEqual(await res.json(), { total: 9, query: 'currency=eur' });
  });

  it('delivers a bulk subscription through OnBulkTopicEventAlpha1', async () => {
    for (const n of [1, 2, 3]) assert.equal((await publish('batched', { n })).status, 204);
    await pollUntil('three entries', () => (batched.length >= 3 ? batched : undefined), { timeoutMs: 10_000 });
    assert.deepEqual(batched, [{ n: 1 }, { n: 2 }, { n: 3 }]);
    assert.ok(sidecar.logs.every((l) => !/not delivered after/.test(l.message)), 'nothing failed on the way');
  });
});
