// The Dapr gRPC API with a raw @grpc/grpc-js client: the RPCs the SDK test does not reach
// (bulk state, bulk publish under both names, output bindings), the API token, malformed
// requests, and the UNIMPLEMENTED answer naming every RPC Tessera does not serve.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { status as GrpcCode, type ServiceError } from '@grpc/grpc-js';
import { FakeComponents } from '../../../support/fake-components.ts';
import { callMetadata, daprGrpcClient, rejection, richStatusOf, unary, type DaprGrpcClient } from '../../../support/grpc-client.ts';
import { startTestApis, type TestApis } from '../../../support/grpc-api-server.ts';
import { MemoryBinding } from '../../../support/memory-binding.ts';
import { MemoryBroker } from '../../../support/memory-pubsub.ts';
import { MemoryStateStore } from '../../../support/memory-state-store.ts';

const TOKEN = 'grpc-token';
const store = new MemoryStateStore();
const broker = new MemoryBroker();
let apis: TestApis;
let client: DaprGrpcClient;
const meta = (): ReturnType<typeof callMetadata> => callMetadata(TOKEN);

before(async () => {
  const components = new FakeComponents()
    .addStateStore('statestore', store)
    .addPubSub('pubsub', broker.client('myapp'))
    .addBinding('echo', new MemoryBinding('echo'));
  apis = await startTestApis({ components, apiToken: TOKEN });
  client = daprGrpcClient(apis.grpcAddress);
});

after(async () => {
  client.close();
  await apis.close();
});

describe('the Dapr gRPC API', () => {
  it('gets and deletes state in bulk, keeping bytes as they are', async () => {
    const bytes = Buffer.from([0, 1, 2, 255]);
    await unary(client, 'SaveState', { store_name: 'statestore', states: [{ key: 'a', value: bytes }, { key: 'b', value: Buffer.from('"b"') }] }, meta());
    const { items } = await unary<{ items: { key: string; data: Buffer; etag: string; error: string }[] }>(client, 'GetBulkState', { store_name: 'statestore', keys: ['a', 'b', 'none'] }, meta());
    assert.deepEqual(
      items.map(({ key, data, error }) => ({ key, data: data.toString('hex'), error })),
      [
        { key: 'a', data: '000102ff', error: '' },
        { key: 'b', data: Buffer.from('"b"').toString('hex'), error: '' },
        { key: 'none', data: '', error: '' },
      ],
    );
    assert.ok(items[0]!.etag !== '');
    await unary(client, 'DeleteBulkState', { store_name: 'statestore', states: [{ key: 'a' }, { key: 'b' }] }, meta());
    assert.deepEqual(store.keys(), []);
  });

  it('deletes with a stale ETag as ABORTED, as daprd does', async () => {
    await unary(client, 'SaveState', { store_name: 'statestore', states: [{ key: 'c', value: Buffer.from('1') }] }, meta());
    const err = await rejection(unary(client, 'DeleteState', { store_name: 'statestore', key: 'c', etag: { value: '999' } }, meta()));
    assert.equal(err.code, GrpcCode.ABORTED);
    assert.match(err.details, /failed deleting state with key c: possible etag mismatch/);
  });

  for (const method of ['BulkPublishEvent', 'BulkPublishEventAlpha1']) {
    it(`${method} publishes each entry and answers the ones the broker refused`, async () => {
      broker.refuse = (_topic, data) => (new TextDecoder().decode(data).includes('"bad"') ? 'too bad' : undefined);
      try {
        const topic = `bulk-${method}`;
        const response = await unary<{ failedEntries: { entry_id: string; error: string }[] }>(
          client,
          method,
          {
            pubsub_name: 'pubsub',
            topic,
            entries: [
              { entry_id: '1', event: Buffer.from('{"n":1}'), content_type: 'application/json' },
              { entry_id: '2', event: Buffer.from('"bad"'), content_type: 'application/json' },
            ],
          },
          meta(),
        );
        assert.deepEqual(response.failedEntries, [{ entry_id: '2', error: 'too bad' }]);
        assert.deepEqual(JSON.parse(broker.texts(topic)[0]!).data, { n: 1 });
      } finally {
        broker.refuse = undefined;
      }
    });
  }

  it('invokes an output binding with the bytes as they are', async () => {
    const response = await unary<{ data: Buffer; metadata: Record<string, string> }>(
      client,
      'InvokeBinding',
      { name: 'echo', operation: 'echo', data: Buffer.from('raw bytes'), metadata: { k: 'v' } },
      meta(),
    );
    assert.equal(response.data.toString(), 'raw bytes');
    assert.deepEqual(response.metadata, { k: 'v' });
    const err = await rejection(unary(client, 'InvokeBinding', { name: 'nope', operation: 'echo' }, meta()));
    assert.equal(err.code, GrpcCode.INTERNAL);
    assert.equal(richStatusOf(err)?.errorInfo?.reason, 'DAPR_BINDING_INVOKE_OUTPUT_BINDING');
    assert.equal(richStatusOf(err)?.errorInfo?.metadata.name, 'nope');
  });

  it('refuses calls without the API token, or with another', async () => {
    for (const metadata of [callMetadata(), callMetadata('wrong')]) {
      const err = await rejection(unary(client, 'GetState', { store_name: 'statestore', key: 'k' }, metadata));
      assert.equal(err.code, GrpcCode.UNAUTHENTICATED);
      assert.equal(err.details, 'authentication error: api token mismatch');
    }
  });

  it('refuses a malformed request message', async () => {
    // A SaveState whose `states` field (2, length-delimited) says it is longer than the message.
    const raw = client.makeUnaryRequest(
      '/dapr.proto.runtime.v1.Dapr/SaveState',
      (bytes: Buffer) => bytes,
      (bytes: Buffer) => bytes,
      Buffer.from([0x12, 0x7f, 0x01]),
      meta(),
      () => {},
    );
    const err = await new Promise<ServiceError>((resolve) => raw.on('status', (status) => resolve(status as ServiceError)));
    // As grpc-go answers a request it cannot unmarshal.
    assert.equal(err.code, GrpcCode.INTERNAL, err.details);
    assert.match(err.details, /deserializ/i);
  });

  for (const method of ['InvokeService', 'GetSecret', 'TryLockAlpha1', 'SubscribeConfiguration', 'EncryptAlpha1']) {
    it(`answers ${method} UNIMPLEMENTED, naming it`, async () => {
      const err = await new Promise<ServiceError>((resolve) => {
        const stub = client[method]!;
        if (method === 'SubscribeConfiguration') {
          const call = stub.call(client, {}, meta()) as NodeJS.EventEmitter;
          call.on('error', resolve);
          call.on('data', () => {});
        } else if (method === 'EncryptAlpha1') {
          const call = stub.call(client, meta()) as NodeJS.EventEmitter & { end(): void };
          call.on('error', resolve);
          call.on('data', () => {});
          call.end();
        } else {
          stub.call(client, {}, meta(), (e: ServiceError | null) => resolve(e!));
        }
      });
      assert.equal(err.code, GrpcCode.UNIMPLEMENTED);
      assert.equal(err.details, `method ${method} is not implemented by Tessera`);
      assert.equal(richStatusOf(err)?.errorInfo?.reason, 'ERR_API_UNIMPLEMENTED');
    });
  }
});
