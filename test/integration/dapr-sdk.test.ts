// The official Dapr JS SDK (DaprClient over HTTP), unchanged, against the real `tessera`
// process serving the real wasm `state.memory` component.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CommunicationProtocolEnum, DaprClient, LogLevel } from '@dapr/dapr';
import { startSidecar, STATE_MEMORY_WASM, type SidecarProcess } from '../support/sidecar-process.ts';

const ignore = (): void => {};
const quiet = { error: ignore, warn: ignore, info: ignore, verbose: ignore, debug: ignore };

let sidecar: SidecarProcess;
let client: DaprClient;

interface BulkItem {
  key: string;
  data?: unknown;
  etag?: string;
}

before(async () => {
  sidecar = await startSidecar({ appId: 'sdk-app', resources: { 'statestore.wasm': { copyOf: STATE_MEMORY_WASM } } });
  client = new DaprClient({
    daprHost: '127.0.0.1',
    daprPort: String(sidecar.port),
    communicationProtocol: CommunicationProtocolEnum.HTTP,
    // The SDK logs refused calls itself; the assertions below look at them instead.
    logger: { level: LogLevel.Error, service: quiet },
  });
  // Polls GET /v1.0/metadata until the sidecar answers.
  await client.start();
});

after(async () => {
  await client?.stop();
  await sidecar?.stop();
});

/**
 * The SDK types a transaction step's ETag as `{ value }` but sends the step as given, while
 * Dapr's HTTP API (daprd's too) reads the ETag as a string: pass the string.
 */
type StepEtag = NonNullable<Parameters<DaprClient['state']['transaction']>[1]>[number]['request']['etag'];
const stepEtag = (etag: string): StepEtag => etag as unknown as StepEtag;

async function etagOf(key: string): Promise<string> {
  const [item] = (await client.state.getBulk('statestore', [key])) as BulkItem[];
  assert.ok(item?.etag, `no ETag for ${key}`);
  return item.etag;
}

describe('official Dapr JS SDK against the real sidecar', () => {
  it('saves and gets values of several kinds', async () => {
    const saved = await client.state.save('statestore', [
      { key: 'order-1', value: { id: 1, items: ['apple', 'pear'], total: 12.5 } },
      { key: 'greeting', value: 'hello, 世界' },
      { key: 'count', value: 3 },
      { key: 'flag', value: false },
    ]);
    assert.equal(saved.error, undefined);
    assert.deepEqual(await client.state.get('statestore', 'order-1'), { id: 1, items: ['apple', 'pear'], total: 12.5 });
    assert.equal(await client.state.get('statestore', 'greeting'), 'hello, 世界');
    assert.equal(await client.state.get('statestore', 'count'), 3);
    assert.equal(await client.state.get('statestore', 'flag'), false);
    // The SDK turns the 204 of a missing key into an empty string.
    assert.equal(await client.state.get('statestore', 'missing'), '');
  });

  it('gets in bulk, with ETags, missing keys without data', async () => {
    const items = (await client.state.getBulk('statestore', ['order-1', 'missing', 'greeting'])) as BulkItem[];
    assert.deepEqual(
      items.map(({ key, data }) => ({ key, data })),
      [
        { key: 'order-1', data: { id: 1, items: ['apple', 'pear'], total: 12.5 } },
        { key: 'missing', data: undefined },
        { key: 'greeting', data: 'hello, 世界' },
      ],
    );
    assert.ok(items[0]?.etag);
    assert.equal(items[1]?.etag, undefined);
  });

  it('refuses a stale ETag on save and delete, and accepts the right one', async () => {
    assert.equal((await client.state.save('statestore', [{ key: 'guarded', value: 'v1' }])).error, undefined);
    const first = await etagOf('guarded');
    assert.equal((await client.state.save('statestore', [{ key: 'guarded', value: 'v2', etag: first }])).error, undefined);

    const staleSave = await client.state.save('statestore', [{ key: 'guarded', value: 'v3', etag: first }]);
    assert.match(String(staleSave.error), /409/);
    assert.match(String(staleSave.error), /possible etag mismatch/);
    assert.equal(await client.state.get('statestore', 'guarded'), 'v2');

    const staleDelete = await client.state.delete('statestore', 'guarded', { etag: first });
    assert.match(String(staleDelete.error), /409/);
    assert.equal(await client.state.get('statestore', 'guarded'), 'v2');

    const second = await etagOf('guarded');
    assert.notEqual(second, first);
    assert.equal((await client.state.delete('statestore', 'guarded', { etag: second })).error, undefined);
    assert.equal(await client.state.get('statestore', 'guarded'), '');
  });

  it('deletes without an ETag', async () => {
    await client.state.save('statestore', [{ key: 'temp', value: 1 }]);
    assert.equal((await client.state.delete('statestore', 'temp')).error, undefined);
    assert.equal(await client.state.get('statestore', 'temp'), '');
  });

  it('runs a transaction, and refuses one with a stale ETag as a whole', async () => {
    await client.state.transaction('statestore', [
      { operation: 'upsert', request: { key: 'tx-a', value: { step: 1 } } },
      { operation: 'upsert', request: { key: 'tx-b', value: 'b' } },
      { operation: 'delete', request: { key: 'order-1' } },
    ]);
    assert.deepEqual(await client.state.get('statestore', 'tx-a'), { step: 1 });
    assert.equal(await client.state.get('statestore', 'tx-b'), 'b');
    assert.equal(await client.state.get('statestore', 'order-1'), '');

    const stale = await etagOf('tx-a');
    await client.state.save('statestore', [{ key: 'tx-a', value: { step: 1 } }]);
    await assert.rejects(
      client.state.transaction('statestore', [
        { operation: 'upsert', request: { key: 'tx-b', value: 'changed' } },
        { operation: 'upsert', request: { key: 'tx-a', value: { step: 2 }, etag: stepEtag(stale) } },
      ]),
      /etag mismatch/,
    );
    assert.deepEqual(await client.state.get('statestore', 'tx-a'), { step: 1 });
    assert.equal(await client.state.get('statestore', 'tx-b'), 'b');
  });

  it('reads the sidecar metadata', async () => {
    const metadata = await client.metadata.get();
    assert.equal(metadata.id, 'sdk-app');
    assert.deepEqual(
      metadata.components.map(({ name, type, version }) => ({ name, type, version })),
      [{ name: 'statestore', type: 'state.memory', version: 'v1' }],
    );
  });
});
