// One behaviour, two transports: the same state and pub/sub cases over the HTTP API and the
// gRPC API, over one set of building blocks, expecting the same outcome from both — the same
// value, or the same error (message, Dapr's ErrorInfo, and each transport's status for it).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ServiceError } from '@grpc/grpc-js';
import { FakeComponents } from '../../../support/fake-components.ts';
import { callMetadata, daprGrpcClient, richStatusOf, unary, type DaprGrpcClient } from '../../../support/grpc-client.ts';
import { startTestApis, type TestApis } from '../../../support/grpc-api-server.ts';
import { MemoryBroker } from '../../../support/memory-pubsub.ts';
import { MemoryStateStore } from '../../../support/memory-state-store.ts';

const broker = new MemoryBroker();
let apis: TestApis;
let client: DaprGrpcClient;

before(async () => {
  const components = new FakeComponents()
    .addStateStore('statestore', new MemoryStateStore())
    .addPubSub('pubsub', broker.client('myapp'))
    .addPubSub('scoped', broker.client('myapp'), { publishingScopes: 'myapp=open' });
  apis = await startTestApis({ components });
  client = daprGrpcClient(apis.grpcAddress);
});

after(async () => {
  client.close();
  await apis.close();
});

/** What a call came to, in terms both transports share; `status` is the transport's own code. */
type Outcome = { ok: unknown } | { error: { message: string; reason: string | undefined; metadata: Record<string, string> | undefined; status: number } };

/** The statuses daprd answers with, as [HTTP, gRPC] pairs named so one expectation holds for both transports. */
const STATUS = {
  'invalid-argument': [400, 3],
  'pubsub-not-found': [404, 3],
  conflict: [409, 10],
  forbidden: [403, 7],
} as const satisfies Record<string, [http: number, grpc: number]>;
type StatusName = keyof typeof STATUS;

interface Transport {
  save(store: string, key: string, value: unknown, etag?: string): Promise<Outcome>;
  get(store: string, key: string): Promise<Outcome>;
  remove(store: string, key: string): Promise<Outcome>;
  transact(store: string, operations: { operation: string; key: string; value?: unknown }[]): Promise<Outcome>;
  publish(pubsub: string, topic: string, data: unknown, metadata?: Record<string, string>): Promise<Outcome>;
}

async function httpOutcome(res: Response): Promise<Outcome> {
  const text = await res.text();
  if (res.ok) return { ok: text === '' ? undefined : JSON.parse(text) };
  const body = JSON.parse(text) as { message: string; details?: { reason: string; metadata?: Record<string, string> }[] };
  return { error: { message: body.message, reason: body.details?.[0]?.reason, metadata: body.details?.[0]?.metadata ?? {}, status: res.status } };
}

const http: Transport = {
  save: (store, key, value, etag) => fetch(`${apis.url}/v1.0/state/${store}`, { method: 'POST', body: JSON.stringify([{ key, value, ...(etag ? { etag } : {}) }]) }).then(httpOutcome),
  get: (store, key) => fetch(`${apis.url}/v1.0/state/${store}/${key}`).then(httpOutcome),
  remove: (store, key) => fetch(`${apis.url}/v1.0/state/${store}/${key}`, { method: 'DELETE' }).then(httpOutcome),
  transact: (store, operations) =>
    fetch(`${apis.url}/v1.0/state/${store}/transaction`, {
      method: 'POST',
      body: JSON.stringify({ operations: operations.map(({ operation, key, value }) => ({ operation, request: { key, value } })) }),
    }).then(httpOutcome),
  publish: (pubsub, topic, data, metadata = {}) => {
    const query = new URLSearchParams(Object.entries(metadata).map(([k, v]): [string, string] => [`metadata.${k}`, v])).toString();
    return fetch(`${apis.url}/v1.0/publish/${pubsub}/${topic}${query ? `?${query}` : ''}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(data) }).then(httpOutcome);
  },
};

async function grpcOutcome(call: Promise<Record<string, unknown>>, read: (response: Record<string, unknown>) => unknown = () => undefined): Promise<Outcome> {
  try {
    return { ok: read(await call) };
  } catch (err) {
    const info = richStatusOf(err as ServiceError)?.errorInfo;
    return { error: { message: (err as ServiceError).details, reason: info?.reason, metadata: info?.metadata, status: (err as ServiceError).code } };
  }
}

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));

const grpc: Transport = {
  save: (store, key, value, etag) => grpcOutcome(unary(client, 'SaveState', { store_name: store, states: [{ key, value: json(value), ...(etag ? { etag: { value: etag } } : {}) }] })),
  get: (store, key) => grpcOutcome(unary(client, 'GetState', { store_name: store, key }), (r) => ((r.data as Buffer).length === 0 ? undefined : JSON.parse((r.data as Buffer).toString()))),
  remove: (store, key) => grpcOutcome(unary(client, 'DeleteState', { store_name: store, key })),
  transact: (store, operations) =>
    grpcOutcome(unary(client, 'ExecuteStateTransaction', { storeName: store, operations: operations.map(({ operation, key, value }) => ({ operationType: operation, request: { key, value: json(value ?? null) } })) })),
  publish: (pubsub, topic, data, metadata = {}) =>
    grpcOutcome(unary(client, 'PublishEvent', { pubsub_name: pubsub, topic, data: json(data), data_content_type: 'application/json', metadata }, callMetadata())),
};

/** An expected error: the status by name, turned into each transport's code when compared. */
type Expected = { ok: unknown } | { error: { message: string; reason: string; metadata: Record<string, string>; status: StatusName } };

interface Case {
  name: string;
  /** Runs the case on one transport; `tag` keeps each transport's keys and topics apart. */
  run(t: Transport, tag: string): Promise<Outcome>;
  expect: Expected | ((tag: string) => Expected);
}

const error = (status: StatusName, reason: string, message: string, metadata: Record<string, string> = {}): Expected => ({ error: { message, reason, metadata, status } });

/** The outcome with a store's ETag (a counter) written as N. */
function anyEtag(outcome: Outcome): Outcome {
  return 'error' in outcome ? { error: { ...outcome.error, message: outcome.error.message.replace(/has etag \d+/, 'has etag N') } } : outcome;
}

const CASES: Case[] = [
  { name: 'a saved value reads back', run: async (t, tag) => (await t.save('statestore', `k-${tag}`, { n: 1 }), t.get('statestore', `k-${tag}`)), expect: { ok: { n: 1 } } },
  { name: 'a missing key reads as nothing', run: (t, tag) => t.get('statestore', `missing-${tag}`), expect: { ok: undefined } },
  { name: 'a deleted key reads as nothing', run: async (t, tag) => (await t.save('statestore', `d-${tag}`, 1), await t.remove('statestore', `d-${tag}`), t.get('statestore', `d-${tag}`)), expect: { ok: undefined } },
  {
    name: 'a transaction applies its operations',
    run: async (t, tag) => (await t.transact('statestore', [{ operation: 'upsert', key: `t-${tag}`, value: 'x' }]), t.get('statestore', `t-${tag}`)),
    expect: { ok: 'x' },
  },
  {
    name: 'an unknown store',
    run: (t) => t.get('nostore', 'k'),
    expect: error('invalid-argument', 'DAPR_STATE_NOT_FOUND', 'state store nostore is not found', { appID: 'myapp' }),
  },
  {
    name: 'a save with a stale ETag',
    run: async (t, tag) => (await t.save('statestore', `e-${tag}`, 1), anyEtag(await t.save('statestore', `e-${tag}`, 2, '999'))),
    expect: (tag) => error('conflict', 'ERR_STATE_SAVE', `failed saving state in state store statestore: possible etag mismatch. error from state store: key myapp||e-${tag} has etag N, not 999`),
  },
  { name: 'a save without a key', run: (t) => t.save('statestore', '', 1), expect: error('invalid-argument', 'ERR_MALFORMED_REQUEST', '"key" is a required field') },
  {
    name: 'a transaction with an unknown operation',
    run: (t, tag) => t.transact('statestore', [{ operation: 'merge', key: `m-${tag}` }]),
    expect: error('invalid-argument', 'ERR_NOT_SUPPORTED_STATE_OPERATION', 'operation type merge not supported'),
  },
  {
    name: 'a publish reaches the broker as a CloudEvent',
    run: async (t, tag) => {
      const published = await t.publish('pubsub', `topic-${tag}`, { hello: tag });
      if ('error' in published) return published;
      return { ok: (JSON.parse(broker.texts(`topic-${tag}`)[0]!) as { data: unknown }).data };
    },
    expect: (tag) => ({ ok: { hello: tag } }),
  },
  { name: 'an unknown pubsub', run: (t) => t.publish('nopubsub', 'x', {}), expect: error('pubsub-not-found', 'DAPR_PUBSUB_NOT_FOUND', 'pubsub nopubsub is not found') },
  {
    name: 'a bad rawPayload',
    run: (t) => t.publish('pubsub', 'x', {}, { rawPayload: 'maybe' }),
    expect: error('invalid-argument', 'DAPR_PUBSUB_METADATA_DESERIALIZATION', "failed deserializing metadata. Error: rawPayload value must be a valid boolean: actual is 'maybe'"),
  },
  {
    name: 'a topic the app may not publish to',
    run: (t) => t.publish('scoped', 'closed', {}),
    expect: error('forbidden', 'DAPR_PUBSUB_FORBIDDEN', 'topic closed is not allowed for app id myapp', { topic: 'closed', error: 'topic closed is not allowed for app id myapp' }),
  },
];

describe('the same state and pub/sub cases over HTTP and gRPC', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const overHttp = await c.run(http, 'http');
      const overGrpc = await c.run(grpc, 'grpc');
      const expected = (tag: string, transport: 0 | 1): Outcome => {
        const e = typeof c.expect === 'function' ? c.expect(tag) : c.expect;
        return 'error' in e ? { error: { ...e.error, status: STATUS[e.error.status][transport] } } : e;
      };
      assert.deepEqual(overHttp, expected('http', 0), 'HTTP');
      assert.deepEqual(overGrpc, expected('grpc', 1), 'gRPC');
    });
  }
});

describe('rich error details (issue 14, done when)', () => {
  it('an unknown store: the HTTP body and the gRPC status carry the same ErrorInfo', async () => {
    const res = await fetch(`${apis.url}/v1.0/state/nostore/k`);
    assert.equal(res.status, 400);
    const body = (await res.json()) as { errorCode: string; details: Record<string, unknown>[] };
    assert.equal(body.errorCode, 'ERR_STATE_STORE_NOT_FOUND');
    assert.deepEqual(body.details, [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'DAPR_STATE_NOT_FOUND', domain: 'dapr.io', metadata: { appID: 'myapp' } }]);
    const err = await unary(client, 'GetState', { store_name: 'nostore', key: 'k' }).catch((e: ServiceError) => e);
    const status = richStatusOf(err as ServiceError);
    assert.equal(status?.code, 3);
    assert.equal(status?.message, 'state store nostore is not found');
    assert.deepEqual(status?.errorInfo, { reason: 'DAPR_STATE_NOT_FOUND', domain: 'dapr.io', metadata: { appID: 'myapp' } });
  });
});
