// Dapr's state query API (`POST /v1.0-alpha1/state/{store}/query`) through the real `tessera`
// process, against the bundled state.memory (which exports `query`) and state.memory-cpp (which
// does not), over plain HTTP and through the official `@dapr/dapr` client.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { CommunicationProtocolEnum, DaprClient, LogLevel } from '@dapr/dapr';
import { expectDaprError, startSidecar, STATE_MEMORY_WASM, type SidecarProcess } from '../support/sidecar-process.ts';

const CPP_WASM = fileURLToPath(new URL('../../components-wasm/state-memory-cpp/state-memory-cpp.wasm', import.meta.url));

let sidecar: SidecarProcess;
let client: DaprClient;

const PEOPLE = [
  { key: '1', value: { person: { org: 'Dev Ops', id: 1036 }, city: 'Seattle', state: 'WA' } },
  { key: '2', value: { person: { org: 'Hardware', id: 1028 }, city: 'Portland', state: 'OR' } },
  { key: '3', value: { person: { org: 'Finance', id: 1071 }, city: 'Sacramento', state: 'CA' } },
  { key: '4', value: { person: { org: 'Dev Ops', id: 1042 }, city: 'Spokane', state: 'WA' } },
];

function query(body: unknown, store = 'statestore'): Promise<Response> {
  return sidecar.fetch(`/v1.0-alpha1/state/${store}/query`, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) });
}

before(async () => {
  sidecar = await startSidecar({
    appId: 'query-app',
    resources: { 'statestore.wasm': { copyOf: STATE_MEMORY_WASM }, 'plainstore.wasm': { copyOf: CPP_WASM } },
  });
  const saved = await sidecar.fetch('/v1.0/state/statestore', { method: 'POST', body: JSON.stringify(PEOPLE) });
  assert.equal(saved.status, 204);
  client = new DaprClient({
    daprHost: '127.0.0.1',
    daprPort: String(sidecar.port),
    communicationProtocol: CommunicationProtocolEnum.HTTP,
    logger: { level: LogLevel.Error },
  });
});

after(async () => {
  await client?.stop();
  await sidecar?.stop();
});

describe('the state query API', () => {
  it('answers a filtered, sorted query with the user keys, the JSON values and the ETags', async () => {
    const res = await query({ filter: { EQ: { state: 'WA' } }, sort: [{ key: 'person.id', order: 'DESC' }] });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { results: { key: string; data: unknown; etag: string }[]; token?: string };
    assert.deepEqual(body.results.map((r) => r.key), ['4', '1']);
    assert.deepEqual(body.results[0]!.data, PEOPLE[3]!.value);
    const read = await sidecar.fetch('/v1.0/state/statestore/4');
    assert.equal(body.results[0]!.etag, read.headers.get('etag'));
    assert.equal(body.token, undefined);
  });

  it('pages with limit and token', async () => {
    const first = (await (await query({ sort: [{ key: 'person.id' }], page: { limit: 3 } })).json()) as { results: { key: string }[]; token: string };
    assert.deepEqual(first.results.map((r) => r.key), ['2', '1', '4']);
    assert.ok(first.token);
    const second = (await (await query({ sort: [{ key: 'person.id' }], page: { limit: 3, token: first.token } })).json()) as { results: { key: string }[]; token?: string };
    assert.deepEqual(second.results.map((r) => r.key), ['3']);
    assert.equal(second.token, undefined);
  });

  it('answers 204 with no body when nothing matches, as daprd does', async () => {
    const res = await query({ filter: { EQ: { state: 'TX' } } });
    assert.equal(res.status, 204);
    assert.equal(await res.text(), '');
  });

  it('refuses a query it cannot parse with ERR_STATE_QUERY naming where the mistake is', async () => {
    await expectDaprError(query('{"filter": '), 500, 'ERR_STATE_QUERY', /state store statestore query failed: failed to parse JSON query body/);
    await expectDaprError(query({ filter: { AND: [{ EQ: { state: 'WA' } }, { GT: { 'person.id': 1 } }] } }), 500, 'ERR_STATE_QUERY', /filter\.AND\[1\] uses operator "GT", which is not supported/);
    await expectDaprError(query({ sort: [{ key: 'city', order: 'UP' }] }), 500, 'ERR_STATE_QUERY', /sort\[0\]\.order is "UP"/);
  });

  it('a store without the query export answers ERR_STATE_STORE_NOT_SUPPORTED; an unknown one ERR_STATE_STORE_NOT_FOUND', async () => {
    await expectDaprError(query({}, 'plainstore'), 500, 'ERR_STATE_STORE_NOT_SUPPORTED', /state store does not support querying/);
    await expectDaprError(query({}, 'nosuchstore'), 400, 'ERR_STATE_STORE_NOT_FOUND');
  });

  it('metadata lists QUERY_API for the store that has it, and only for it', async () => {
    const metadata = (await (await sidecar.fetch('/v1.0/metadata')).json()) as { components: { name: string; capabilities: string[] }[] };
    const capabilities = Object.fromEntries(metadata.components.map((c) => [c.name, c.capabilities]));
    assert.ok(capabilities.statestore?.includes('QUERY_API'));
    assert.ok(!capabilities.plainstore?.includes('QUERY_API'));
  });

  it('the official @dapr/dapr client queries it unchanged', async () => {
    const result = await client.state.query('statestore', {
      filter: { OR: [{ EQ: { 'person.org': 'Finance' } }, { IN: { state: ['OR'] } }] },
      sort: [{ key: 'person.id', order: 'ASC' }],
      page: { limit: 10 },
    } as Parameters<DaprClient['state']['query']>[1]);
    assert.deepEqual(result.results.map((r) => r.key), ['2', '3']);
    assert.deepEqual(result.results[1]!.data, PEOPLE[2]!.value);
  });

  it('answers QueryStateAlpha1 over gRPC alike, through the official client', async () => {
    const grpc = new DaprClient({ daprHost: '127.0.0.1', daprPort: String(sidecar.grpcPort), communicationProtocol: CommunicationProtocolEnum.GRPC, logger: { level: LogLevel.Error } });
    try {
      const result = await grpc.state.query('statestore', { filter: { EQ: { state: 'WA' } }, sort: [{ key: 'person.id', order: 'DESC' }], page: { limit: 1 } } as Parameters<DaprClient['state']['query']>[1]);
      assert.deepEqual(result.results.map((r) => r.key), ['4']);
      // The SDK hands gRPC's `data` over as the stored bytes.
      const data: unknown = result.results[0]!.data;
      assert.deepEqual(data instanceof Uint8Array ? JSON.parse(Buffer.from(data).toString()) : data, PEOPLE[3]!.value);
      assert.equal(result.token, '1');
      await assert.rejects(grpc.state.query('plainstore', {} as Parameters<DaprClient['state']['query']>[1]), /does not support querying/);
    } finally {
      await grpc.stop();
    }
  });
});
