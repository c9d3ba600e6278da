// The official Dapr JS SDK, unchanged, against Tessera's HTTP API. At start the SDK polls
// GET /v1.0/metadata (without initialisation) until it answers, then sends its state calls.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CommunicationProtocolEnum, DaprClient, LogLevel } from '@dapr/dapr';
import { startTestApi, type TestApi } from '../../../support/http-api-server.ts';

const ignore = (): void => {};
const quiet = { error: ignore, warn: ignore, info: ignore, verbose: ignore, debug: ignore };

let api: TestApi;
let client: DaprClient;

before(async () => {
  api = await startTestApi({ apiToken: 'sdk-token' });
  client = new DaprClient({
    daprHost: '127.0.0.1',
    daprPort: String(api.port),
    communicationProtocol: CommunicationProtocolEnum.HTTP,
    daprApiToken: 'sdk-token',
    // The SDK logs refused calls itself; the assertions below look at them instead.
    logger: { level: LogLevel.Error, service: quiet },
  });
  await client.start();
});

after(async () => {
  await client.stop();
  await api.close();
});

describe('official Dapr JS SDK over HTTP', () => {
  it('saves and gets values of several kinds', async () => {
    const saved = await client.state.save('statestore', [
      { key: 'order-1', value: { id: 1, items: ['apple', 'pear'] } },
      { key: 'greeting', value: 'hello' },
      { key: 'count', value: 3 },
    ]);
    assert.equal(saved.error, undefined);
    assert.deepEqual(await client.state.get('statestore', 'order-1'), { id: 1, items: ['apple', 'pear'] });
    assert.equal(await client.state.get('statestore', 'greeting'), 'hello');
    assert.equal(await client.state.get('statestore', 'count'), 3);
    assert.equal(await client.state.get('statestore', 'missing'), '');
    assert.deepEqual(api.store.keys().sort(), ['myapp||count', 'myapp||greeting', 'myapp||order-1']);
  });

  it('gets in bulk with ETags', async () => {
    const items = (await client.state.getBulk('statestore', ['order-1', 'greeting', 'missing'])) as Array<{
      key: string;
      data?: unknown;
      etag?: string;
    }>;
    assert.deepEqual(items.map(({ key, data }) => ({ key, data })), [
      { key: 'order-1', data: { id: 1, items: ['apple', 'pear'] } },
      { key: 'greeting', data: 'hello' },
      { key: 'missing', data: undefined },
    ]);
    assert.ok(items[0]?.etag);
  });

  it('saves and deletes with ETags, refusing stale ones', async () => {
    await client.state.save('statestore', [{ key: 'guarded', value: 'v1' }]);
    const [first] = (await client.state.getBulk('statestore', ['guarded'])) as Array<{ etag: string }>;
    assert.equal((await client.state.save('statestore', [{ key: 'guarded', value: 'v2', etag: first!.etag }])).error, undefined);
    const stale = await client.state.save('statestore', [{ key: 'guarded', value: 'v3', etag: first!.etag }]);
    assert.match(String(stale.error), /409/);
    assert.match(String(stale.error), /possible etag mismatch/);
    assert.equal(await client.state.get('statestore', 'guarded'), 'v2');

    const staleDelete = await client.state.delete('statestore', 'guarded', { etag: first!.etag });
    assert.match(String(staleDelete.error), /409/);
    const [second] = (await client.state.getBulk('statestore', ['guarded'])) as Array<{ etag: string }>;
    assert.equal((await client.state.delete('statestore', 'guarded', { etag: second!.etag })).error, undefined);
    assert.equal(await client.state.get('statestore', 'guarded'), '');
  });

  it('runs a transaction', async () => {
    await client.state.transaction('statestore', [
      { operation: 'upsert', request: { key: 'tx-a', value: { step: 1 } } },
      { operation: 'upsert', request: { key: 'tx-b', value: 'b' } },
      { operation: 'delete', request: { key: 'order-1' } },
    ]);
    assert.deepEqual(await client.state.get('statestore', 'tx-a'), { step: 1 });
    assert.equal(await client.state.get('statestore', 'tx-b'), 'b');
    assert.equal(await client.state.get('statestore', 'order-1'), '');
  });

  it('reads the sidecar metadata', async () => {
    const metadata = await client.metadata.get();
    assert.equal(metadata.id, 'myapp');
    assert.deepEqual(
      metadata.components.map((c) => c.name),
      ['statestore'],
    );
  });
});
