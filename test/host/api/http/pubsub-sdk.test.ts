// The official Dapr JS SDK, unchanged, against Tessera's pub/sub: a DaprServer (HTTP, its
// own app port) subscribes, and a DaprClient publishes through the sidecar. The server
// answers GET /dapr/subscribe with its subscriptions ({pubsubname, topic, route} or routes
// with rules, paths like /pubsub--orders--default) and each route with {"status": ...}.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CommunicationProtocolEnum, DaprClient, DaprPubSubStatusEnum, DaprServer, LogLevel } from '@dapr/dapr';
import { startPubSubSidecar, type PubSubSidecar } from '../../../support/pubsub-sidecar.ts';
import { pollUntil } from '../../../support/sidecar-process.ts';
import { freePort } from '../../../support/test-app.ts';

const ignore = (): void => {};
const logger = { level: LogLevel.Error, service: { error: ignore, warn: ignore, info: ignore, verbose: ignore, debug: ignore } };

let sidecar: PubSubSidecar;
let server: DaprServer;
let client: DaprClient;
const orders: unknown[] = [];
const widgets: unknown[] = [];
const others: unknown[] = [];
const flaky: unknown[] = [];

before(async () => {
  const appPort = await freePort();
  sidecar = await startPubSubSidecar({ appPort, timings: { retryDelaysMs: [10, 20, 40] } });
  server = new DaprServer({
    serverHost: '127.0.0.1',
    serverPort: String(appPort),
    communicationProtocol: CommunicationProtocolEnum.HTTP,
    clientOptions: { daprHost: '127.0.0.1', daprPort: String(sidecar.port), logger },
    logger,
  });
  await server.pubsub.subscribe('pubsub', 'orders', async (data: unknown) => {
    orders.push(data);
  });
  await server.pubsub.subscribeWithOptions('pubsub', 'products', {
    route: { rules: [{ match: 'event.data.kind == "widget"', path: '/widgets' }], default: '/others' },
  });
  server.pubsub.subscribeToRoute('pubsub', 'products', 'widgets', async (data: unknown) => {
    widgets.push(data);
  });
  server.pubsub.subscribeToRoute('pubsub', 'products', 'others', async (data: unknown) => {
    others.push(data);
  });
  let calls = 0;
  await server.pubsub.subscribe('pubsub', 'flaky', async (data: unknown) => {
    flaky.push(data);
    return ++calls === 1 ? DaprPubSubStatusEnum.RETRY : DaprPubSubStatusEnum.SUCCESS;
  });
  await server.start();
  await sidecar.programmatic;
  client = new DaprClient({ daprHost: '127.0.0.1', daprPort: String(sidecar.port), communicationProtocol: CommunicationProtocolEnum.HTTP, logger });
});

after(async () => {
  await server?.stop();
  await sidecar?.close();
});

describe('official Dapr JS SDK: DaprServer subscribing, DaprClient publishing', () => {
  it('lists what DaprServer serves at /dapr/subscribe as the active subscriptions', async () => {
    const { subscriptions } = await sidecar.metadata();
    assert.deepEqual(
      subscriptions.map((s) => [s.topic, s.rules]),
      [
        ['orders', [{ path: '/pubsub--orders--default' }]],
        ['products', [{ match: 'event.data.kind == "widget"', path: '/pubsub--products--widgets' }, { path: '/pubsub--products--others' }]],
        ['flaky', [{ path: '/pubsub--flaky--default' }]],
      ],
    );
  });

  it('delivers what the client publishes to the server callback', async () => {
    const res = await client.pubsub.publish('pubsub', 'orders', { orderId: 42 });
    assert.equal(res.error, undefined);
    await pollUntil('the order at the subscriber', () => (orders.length > 0 ? orders : undefined));
    assert.deepEqual(orders, [{ orderId: 42 }]);
  });

  it('routes by the match rules the server declared', async () => {
    await client.pubsub.publish('pubsub', 'products', { kind: 'widget', id: 1 });
    await client.pubsub.publish('pubsub', 'products', { kind: 'gadget', id: 2 });
    await pollUntil('both products', () => (widgets.length + others.length === 2 ? true : undefined));
    assert.deepEqual([widgets, others], [[{ kind: 'widget', id: 1 }], [{ kind: 'gadget', id: 2 }]]);
  });

  it('redelivers when the callback answers RETRY', async () => {
    await client.pubsub.publish('pubsub', 'flaky', { n: 1 });
    await pollUntil('the redelivery', () => (flaky.length === 2 ? true : undefined));
    assert.deepEqual(flaky, [{ n: 1 }, { n: 1 }]);
  });

  it('publishes in bulk', async () => {
    const res = await client.pubsub.publishBulk('pubsub', 'orders', [{ orderId: 100 }, { orderId: 101 }]);
    assert.deepEqual(res.failedMessages, []);
    await pollUntil('both bulk orders', () => (orders.length === 3 ? true : undefined));
    assert.deepEqual(orders.slice(1), [{ orderId: 100 }, { orderId: 101 }]);
  });
});
