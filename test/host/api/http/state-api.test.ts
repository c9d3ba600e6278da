// Dapr's state checklist through the HTTP API, over real HTTP, against a JS memory store.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TesseraError } from '../../../../host/errors.ts';
import { FakeComponents } from '../../../support/fake-components.ts';
import { startTestApi, type TestApi } from '../../../support/http-api-server.ts';
import { MemoryStateStore } from '../../../support/memory-state-store.ts';

let api: TestApi;
let clock = Date.parse('2025-06-01T12:00:00Z');
const store = new MemoryStateStore({ now: () => clock });

before(async () => {
  const components = new FakeComponents()
    .addStateStore('statestore', store)
    .addStateStore('plain', new MemoryStateStore({ features: ['ETAG'] }))
    .addFailed({
      name: 'orders',
      kind: 'state-store',
      capabilities: [],
      status: 'failed',
      source: '/resources/orders.yaml',
      error: '/resources/orders.yaml: init failed: redis at 127.0.0.1:6379 is unreachable',
      nextRetryAt: '2025-06-01T12:00:04.000Z',
    });
  api = await startTestApi({ components, maxBodyBytes: 64 * 1024 });
});
after(() => api.close());

const url = (path: string): string => `${api.url}/v1.0/state/${path}`;

function save(items: unknown, query = '', init: RequestInit = {}): Promise<Response> {
  return fetch(url(`statestore${query}`), { method: 'POST', body: JSON.stringify(items), ...init });
}

async function expectError(response: Response | Promise<Response>, status: number, errorCode: string, message?: RegExp): Promise<void> {
  const res = await response;
  const body = (await res.json()) as { errorCode: string; message: string };
  assert.equal(res.status, status, JSON.stringify(body));
  assert.equal(body.errorCode, errorCode);
  if (message !== undefined) assert.match(body.message, message);
}

async function etagOf(key: string): Promise<string> {
  const res = await fetch(url(`statestore/${key}`));
  await res.arrayBuffer();
  const etag = res.headers.get('etag');
  assert.ok(etag, `no etag for ${key}`);
  return etag;
}

describe('state API: values', () => {
  it('stores the JSON text of every kind of value and reads it back as saved', async () => {
    const values: Record<string, unknown> = {
      string: 'hello',
      empty: '',
      number: 42.5,
      zero: 0,
      negative: -7,
      true: true,
      false: false,
      null: null,
      object: { name: 'Ada', tags: ['x', 'y'], nested: { deep: [1, { two: 2 }] } },
      array: [1, 'two', null, false],
      emptyObject: {},
      emptyArray: [],
      unicode: 'héllo — 🌍 "quoted" \\ slash',
      jsonInString: '{"a":1}',
    };
    const res = await save(Object.entries(values).map(([key, value]) => ({ key, value })));
    assert.equal(res.status, 204);
    for (const [key, value] of Object.entries(values)) {
      const got = await fetch(url(`statestore/${key}`));
      assert.equal(got.status, 200, key);
      assert.equal(got.headers.get('content-type'), 'application/json');
      assert.equal(await got.text(), JSON.stringify(value), key);
    }
  });

  it('reads a missing key as 204 with an empty body', async () => {
    const res = await fetch(url('statestore/never-saved'));
    assert.equal(res.status, 204);
    assert.equal(await res.text(), '');
  });

  it('parses the body as JSON whatever the Content-Type, and accepts PUT', async () => {
    assert.equal((await save([{ key: 'ct', value: 1 }], '', { headers: { 'content-type': 'text/plain' } })).status, 204);
    assert.equal((await save([{ key: 'ct', value: 2 }], '', { headers: { 'content-type': 'application/octet-stream' } })).status, 204);
    assert.equal((await save([{ key: 'ct', value: 3 }], '', { headers: { 'content-type': 'application/x-anything' } })).status, 204);
    assert.equal((await save([{ key: 'ct', value: 3 }], '', { headers: { 'content-type': 'application/json; charset=utf-8' } })).status, 204);
    assert.equal((await save([{ key: 'ct', value: 3 }], '', { method: 'PUT' })).status, 204);
    assert.equal(await (await fetch(url('statestore/ct'))).text(), '3');
    const typed = await fetch(url('statestore'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[{"key":' });
    assert.equal(typed.status, 400, 'a named type is parsed as JSON too');
    assert.equal(((await typed.json()) as { errorCode: string }).errorCode, 'ERR_MALFORMED_REQUEST');
    // A byte body makes fetch send no Content-Type at all.
    const bare = new TextEncoder().encode('[{"key":"ct","value":4}]');
    assert.equal((await fetch(url('statestore'), { method: 'POST', body: bare })).status, 204);
    assert.equal(await (await fetch(url('statestore/ct'))).text(), '4');
  });

  it('records application/json unless metadata.contentType says otherwise', async () => {
    await save([{ key: 'typed', value: 'x' }], '?metadata.contentType=text%2Fplain');
    await save([{ key: 'untyped', value: 'x' }]);
    const sets = store.requests.filter((r) => r.method === 'set').map((r) => r.request as { key: string; contentType?: string });
    assert.equal(sets.find((s) => s.key === 'myapp||typed')?.contentType, 'text/plain');
    assert.equal(sets.find((s) => s.key === 'myapp||untyped')?.contentType, 'application/json');
  });

  it('answers 204 to an empty array without calling the store', async () => {
    const before = store.requests.length;
    assert.equal((await save([])).status, 204);
    assert.equal(store.requests.length, before);
  });

  it('deletes a key, and deleting a missing key succeeds', async () => {
    await save([{ key: 'doomed', value: 1 }]);
    assert.equal((await fetch(url('statestore/doomed'), { method: 'DELETE' })).status, 204);
    assert.equal((await fetch(url('statestore/doomed'))).status, 204);
    assert.equal((await fetch(url('statestore/doomed'), { method: 'DELETE' })).status, 204);
  });

  it('takes keys with an encoded slash and keys longer than 100 characters', async () => {
    const long = 'k'.repeat(300);
    await save([{ key: 'a/b', value: 'slash' }, { key: long, value: 'long' }]);
    assert.equal(await (await fetch(url('statestore/a%2Fb'))).text(), '"slash"');
    assert.equal(await (await fetch(url(`statestore/${long}`))).text(), '"long"');
  });
});

describe('state API: requests it refuses', () => {
  it('refuses malformed JSON with 400 ERR_MALFORMED_REQUEST', async () => {
    await expectError(fetch(url('statestore'), { method: 'POST', body: '[{"key":' }), 400, 'ERR_MALFORMED_REQUEST', /failed deserializing HTTP body/);
    await expectError(fetch(url('statestore'), { method: 'POST', body: '{"key":"a"}' }), 400, 'ERR_MALFORMED_REQUEST', /must be array/);
    await expectError(save([{ key: 7, value: 1 }]), 400, 'ERR_MALFORMED_REQUEST', /key/);
    await expectError(save([{ value: 1 }]), 400, 'ERR_MALFORMED_REQUEST', /key/);
    await expectError(save([{ key: '', value: 1 }]), 400, 'ERR_MALFORMED_REQUEST', /"key" is a required field/);
    await expectError(save([{ key: 'a', value: 1, metadata: { n: 1 } }]), 400, 'ERR_MALFORMED_REQUEST', /metadata/);
  });

  it('refuses a body over the limit with 413', async () => {
    const big = [{ key: 'big', value: 'x'.repeat(70 * 1024) }];
    await expectError(save(big), 413, 'ERR_BODY_TOO_LARGE', /65536 bytes/);
  });

  it("refuses '||' in a key on every route, naming the key", async () => {
    const bad = /input key\/keyPrefix 'a\|\|b' can't contain '\|\|'/;
    await expectError(fetch(url('statestore/a||b')), 400, 'ERR_MALFORMED_REQUEST', bad);
    await expectError(fetch(url('statestore/a||b'), { method: 'DELETE' }), 400, 'ERR_MALFORMED_REQUEST', bad);
    await expectError(save([{ key: 'a||b', value: 1 }]), 400, 'ERR_MALFORMED_REQUEST', bad);
    await expectError(fetch(url('statestore/bulk'), { method: 'POST', body: '{"keys":["a||b"]}' }), 400, 'ERR_MALFORMED_REQUEST', bad);
  });

  it('refuses an unknown store with 400, naming it', async () => {
    await expectError(fetch(url('nosuch/a')), 400, 'ERR_STATE_STORE_NOT_FOUND', /state store nosuch is not found/);
    await expectError(fetch(url('nosuch'), { method: 'POST', body: '[]' }), 400, 'ERR_STATE_STORE_NOT_FOUND');
  });

  it('answers a store that failed to load with 503, why, and when it is tried again (not "not found")', async () => {
    const why = /^state store orders failed to load: \/resources\/orders\.yaml: init failed: redis at 127\.0\.0\.1:6379 is unreachable; tried again at 2025-06-01T12:00:04\.000Z$/;
    await expectError(fetch(url('orders/a')), 503, 'ERR_STATE_STORE_NOT_CONFIGURED', why);
    await expectError(fetch(url('orders'), { method: 'POST', body: '[{"key":"a","value":1}]' }), 503, 'ERR_STATE_STORE_NOT_CONFIGURED', why);
  });

  it('keeps a component trap as ERR_COMPONENT_TRAP with its message', async () => {
    store.failNext = new TesseraError('ERR_COMPONENT_TRAP', 'component "statestore" trapped in get: unreachable executed');
    await expectError(fetch(url('statestore/a')), 500, 'ERR_COMPONENT_TRAP', /statestore.*unreachable/);
  });

  it('refuses unknown concurrency values', async () => {
    await expectError(save([{ key: 'a', value: 1, options: { concurrency: 'whenever' } }]), 400, 'ERR_MALFORMED_REQUEST', /whenever/);
  });
});

describe('state API: ETags and concurrency', () => {
  it('returns an ETag on read and renews it on every write', async () => {
    await save([{ key: 'e1', value: 1 }]);
    const first = await etagOf('e1');
    assert.equal((await save([{ key: 'e1', value: 2, etag: first }])).status, 204);
    const second = await etagOf('e1');
    assert.notEqual(second, first);
  });

  it('answers 409 to a stale ETag in both concurrency modes, with Dapr message', async () => {
    await save([{ key: 'e2', value: 1 }]);
    const etag = await etagOf('e2');
    await save([{ key: 'e2', value: 2, etag }]);
    const mismatch = /^failed saving state in state store statestore: possible etag mismatch\. error from state store: /;
    for (const concurrency of ['last-write', 'first-write']) {
      await expectError(save([{ key: 'e2', value: 3, etag, options: { concurrency } }]), 409, 'ERR_STATE_SAVE', mismatch);
    }
    assert.equal(await (await fetch(url('statestore/e2'))).text(), '2');
  });

  it('answers 400 to an ETag the store cannot parse', async () => {
    await save([{ key: 'e3', value: 1 }]);
    await expectError(save([{ key: 'e3', value: 2, etag: 'not-an-etag' }]), 400, 'ERR_STATE_SAVE', /invalid etag value/);
  });

  it('checks If-Match on delete', async () => {
    await save([{ key: 'e4', value: 1 }]);
    const etag = await etagOf('e4');
    await expectError(
      fetch(url('statestore/e4'), { method: 'DELETE', headers: { 'if-match': '12345' } }),
      409,
      'ERR_STATE_DELETE',
      /^failed deleting state with key e4: possible etag mismatch/,
    );
    await expectError(fetch(url('statestore/e4'), { method: 'DELETE', headers: { 'if-match': 'zz' } }), 400, 'ERR_STATE_DELETE');
    assert.equal((await fetch(url('statestore/e4'), { method: 'DELETE', headers: { 'if-match': etag } })).status, 204);
    assert.equal((await fetch(url('statestore/e4'))).status, 204);
  });

  it('last write wins without an ETag; first-write without one only inserts', async () => {
    await save([{ key: 'e5', value: 1 }]);
    assert.equal((await save([{ key: 'e5', value: 2 }])).status, 204);
    await expectError(save([{ key: 'e5', value: 3, options: { concurrency: 'first-write' } }]), 409, 'ERR_STATE_SAVE', /etag mismatch/);
    assert.equal((await save([{ key: 'e6', value: 1, options: { concurrency: 'first-write' } }])).status, 204);
    assert.equal(await (await fetch(url('statestore/e5'))).text(), '2');
  });

  it('passes concurrency and consistency from the query on delete', async () => {
    await fetch(url('statestore/e7?concurrency=first-write&consistency=strong'), { method: 'DELETE' });
    const del = store.requests.filter((r) => r.method === 'delete').at(-1)?.request as { concurrency: string; consistency: string };
    assert.deepEqual([del.concurrency, del.consistency], ['first-write', 'strong']);
  });
});

describe('state API: TTL', () => {
  it('expires an item after ttlInSeconds and reports ttlExpireTime', async () => {
    await save([{ key: 't1', value: 'brief', metadata: { ttlInSeconds: '10' } }]);
    const res = await fetch(url('statestore/t1'));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('metadata.ttlExpireTime'), new Date(clock + 10_000).toISOString().replace('.000Z', 'Z'));
    await res.arrayBuffer();
    clock += 11_000;
    assert.equal((await fetch(url('statestore/t1'))).status, 204);
  });

  it('takes ttlInSeconds from the query as well', async () => {
    await save([{ key: 't2', value: 1 }], '?metadata.ttlInSeconds=5');
    clock += 6_000;
    assert.equal((await fetch(url('statestore/t2'))).status, 204);
  });

  it('never expires an item saved with -1, and reports no ttlExpireTime', async () => {
    await save([{ key: 't3', value: 1, metadata: { ttlInSeconds: '-1' } }]);
    clock += 1_000_000_000;
    const res = await fetch(url('statestore/t3'));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('metadata.ttlExpireTime'), null);
  });

  it('refuses a ttlInSeconds that is not an integer of -1 or more, naming the value', async () => {
    await expectError(save([{ key: 't4', value: 1, metadata: { ttlInSeconds: 'soon' } }]), 400, 'ERR_MALFORMED_REQUEST', /"soon"/);
    await expectError(save([{ key: 't4', value: 1 }], '?metadata.ttlInSeconds=-5'), 400, 'ERR_MALFORMED_REQUEST', /"-5"/);
  });
});

describe('state API: bulk get', () => {
  before(async () => {
    await save([{ key: 'b1', value: { n: 1 } }, { key: 'b2', value: 'two' }]);
  });

  for (const parallelism of [undefined, 1, 3]) {
    it(`returns every key under the user's name (parallelism ${parallelism ?? 'omitted'})`, async () => {
      const res = await fetch(url('statestore/bulk'), { method: 'POST', body: JSON.stringify({ keys: ['b1', 'b2', 'missing'], parallelism }) });
      assert.equal(res.status, 200);
      const items = (await res.json()) as Array<{ key: string; data?: unknown; etag?: string }>;
      assert.deepEqual(items.map(({ key, data }) => ({ key, data })), [
        { key: 'b1', data: { n: 1 } },
        { key: 'b2', data: 'two' },
        { key: 'missing', data: undefined },
      ]);
      assert.ok(items[0]?.etag);
      assert.equal(items[2]?.etag, undefined);
    });
  }

  it('answers [] for no keys', async () => {
    const res = await fetch(url('statestore/bulk'), { method: 'POST', body: '{"keys":[]}' });
    assert.deepEqual(await res.json(), []);
  });

  it('reports ttlExpireTime in item metadata', async () => {
    await save([{ key: 'b3', value: 1, metadata: { ttlInSeconds: '60' } }]);
    const res = await fetch(url('statestore/bulk'), { method: 'POST', body: '{"keys":["b3"]}' });
    const [item] = (await res.json()) as Array<{ metadata?: Record<string, string> }>;
    assert.ok(item?.metadata?.ttlExpireTime);
  });
});

describe('state API: transactions', () => {
  const transact = (body: unknown, store = 'statestore') => fetch(url(`${store}/transaction`), { method: 'POST', body: JSON.stringify(body) });

  it('applies operations in order', async () => {
    const res = await transact({
      operations: [
        { operation: 'upsert', request: { key: 'x1', value: 'first' } },
        { operation: 'delete', request: { key: 'x1' } },
        { operation: 'upsert', request: { key: 'x1', value: 'last' } },
        { operation: 'upsert', request: { key: 'x2', value: [1, 2] } },
      ],
      metadata: null,
    });
    assert.equal(res.status, 204);
    assert.equal(await (await fetch(url('statestore/x1'))).text(), '"last"');
    assert.equal(await (await fetch(url('statestore/x2'))).text(), '[1,2]');
  });

  it('applies all or none: a stale ETag in the last step leaves everything as it was', async () => {
    await save([{ key: 'x3', value: 'kept' }]);
    await expectError(
      transact({
        operations: [
          { operation: 'upsert', request: { key: 'x3', value: 'changed' } },
          { operation: 'upsert', request: { key: 'x4', value: 'new' } },
          { operation: 'delete', request: { key: 'x3', etag: '99999' } },
        ],
      }),
      500,
      'ERR_STATE_TRANSACTION',
      /^error while executing state transaction: possible etag mismatch/,
    );
    assert.equal(await (await fetch(url('statestore/x3'))).text(), '"kept"');
    assert.equal((await fetch(url('statestore/x4'))).status, 204);
  });

  it('refuses an unknown operation with 400', async () => {
    await expectError(
      transact({ operations: [{ operation: 'merge', request: { key: 'x5' } }] }),
      400,
      'ERR_NOT_SUPPORTED_STATE_OPERATION',
      /operation type merge not supported/,
    );
  });

  it('refuses a store without TRANSACTIONAL', async () => {
    await expectError(transact({ operations: [] }, 'plain'), 500, 'ERR_STATE_STORE_NOT_SUPPORTED', /plain doesn't support transactions/);
  });

  it('answers 204 to no operations and accepts PUT', async () => {
    assert.equal((await transact({ operations: [] })).status, 204);
    const res = await fetch(url('statestore/transaction'), { method: 'PUT', body: '{"operations":[{"operation":"upsert","request":{"key":"x6","value":1}}]}' });
    assert.equal(res.status, 204);
  });
});

describe('state API: key prefixes', () => {
  it('stores under <appId>||key, <store>||key, key, or <literal>||key', async () => {
    const stores = {
      byApp: new MemoryStateStore(),
      byName: new MemoryStateStore(),
      bare: new MemoryStateStore(),
      literal: new MemoryStateStore(),
    };
    const components = new FakeComponents()
      .addStateStore('byApp', stores.byApp, { keyPrefix: 'appid' })
      .addStateStore('byName', stores.byName, { keyPrefix: 'name' })
      .addStateStore('bare', stores.bare, { keyPrefix: 'none' })
      .addStateStore('literal', stores.literal, { keyPrefix: 'shared' });
    const prefixed = await startTestApi({ components, appId: 'orders' });
    try {
      for (const name of Object.keys(stores)) {
        const res = await fetch(`${prefixed.url}/v1.0/state/${name}`, { method: 'POST', body: '[{"key":"k","value":1}]' });
        assert.equal(res.status, 204);
        const bulk = await fetch(`${prefixed.url}/v1.0/state/${name}/bulk`, { method: 'POST', body: '{"keys":["k"]}' });
        assert.deepEqual(((await bulk.json()) as Array<{ key: string }>).map((i) => i.key), ['k']);
      }
      assert.deepEqual(stores.byApp.keys(), ['orders||k']);
      assert.deepEqual(stores.byName.keys(), ['byName||k']);
      assert.deepEqual(stores.bare.keys(), ['k']);
      assert.deepEqual(stores.literal.keys(), ['shared||k']);
    } finally {
      await prefixed.close();
    }
  });
});
