// The official Dapr JS SDK, unchanged, against Tessera's gRPC API
// (CommunicationProtocolEnum.GRPC): state, pub/sub, metadata and shutdown as an app calls them.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CommunicationProtocolEnum, DaprClient, LogLevel } from '@dapr/dapr';
import { startTestApis, type TestApis } from '../../../support/grpc-api-server.ts';
import { FakeComponents } from '../../../support/fake-components.ts';
import { MemoryBroker } from '../../../support/memory-pubsub.ts';
import { MemoryStateStore } from '../../../support/memory-state-store.ts';
import { pollUntil } from '../../../support/sidecar-process.ts';

const ignore = (): void => {};
const quiet = { error: ignore, warn: ignore, info: ignore, verbose: ignore, debug: ignore };

const store = new MemoryStateStore();
const broker = new MemoryBroker();
let apis: TestApis;
let client: DaprClient;

before(async () => {
  const components = new FakeComponents().addStateStore('statestore', store).addPubSub('pubsub', broker.client('myapp'));
  apis = await startTestApis({ components, apiToken: 'sdk-token' });
  client = new DaprClient({
    daprHost: '127.0.0.1',
    daprPort: String(apis.grpcPort),
    communicationProtocol: CommunicationProtocolEnum.GRPC,
    daprApiToken: 'sdk-token',
    logger: { level: LogLevel.Error, service: quiet },
  });
  await client.start();
});

after(async () => {
  await client.stop();
  await apis.close();
});

describe('official Dapr JS SDK over gRPC', () => {
  it('saves, gets and deletes values of several kinds', async () => {
    const saved = await client.state.save('statestore', [
      { key: 'order-1', value: { id: 1, items: ['apple', 'pear'] } },
      { key: 'greeting', value: 'hello' },
    ]);
    assert.equal(saved.error, undefined);
    assert.deepEqual(await client.state.get('statestore', 'order-1'), { id: 1, items: ['apple', 'pear'] });
    assert.equal(await client.state.get('statestore', 'greeting'), 'hello');
    assert.deepEqual(store.keys().sort(), ['myapp||greeting', 'myapp||order-1']);
    await client.state.delete('statestore', 'greeting');
    assert.deepEqual(store.keys(), ['myapp||order-1']);
  });

  it('transacts', async () => {
    await client.state.transaction('statestore', [
      { operation: 'upsert', request: { key: 'a', value: 'one' } },
      { operation: 'delete', request: { key: 'order-1' } },
    ]);
    assert.equal(await client.state.get('statestore', 'a'), 'one');
    assert.deepEqual(store.keys(), ['myapp||a']);
  });

  it('publishes a CloudEvent', async () => {
    const result = await client.pubsub.publish('pubsub', 'orders', { id: 7 });
    assert.equal(result.error, undefined);
    const [text] = broker.texts('orders');
    const event = JSON.parse(text!) as Record<string, unknown>;
    assert.deepEqual(event.data, { id: 7 });
    assert.equal(event.topic, 'orders');
    assert.equal(event.pubsubname, 'pubsub');
  });

  it('reads and sets metadata', async () => {
    await client.metadata.set('color', 'blue');
    const metadata = await client.metadata.get();
    assert.equal(metadata.id, 'myapp');
    assert.equal(metadata.extended.color, 'blue');
    assert.deepEqual(
      metadata.components.map((c) => c.name),
      ['statestore', 'pubsub'],
    );
  });

  it('asks the sidecar to shut down', async () => {
    await client.sidecar.shutdown();
    // Asked once the answer has gone out.
    await pollUntil('the shutdown request', () => (apis.shutdownCalls === 1 ? true : undefined));
  });
});
