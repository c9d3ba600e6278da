// Dapr's state checklist through the HTTP API of the real `tessera` process, against the real
// wasm `state.memory` component: one sidecar, two stores (default key prefix and `none`).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  componentYaml,
  expectDaprError,
  pollUntil,
  startSidecar,
  STATE_MEMORY_WASM,
  type SidecarProcess,
} from '../support/sidecar-process.ts';

let sidecar: SidecarProcess;

before(async () => {
  sidecar = await startSidecar({
    appId: 'myapp',
    resources: { 'statestore.wasm': { copyOf: STATE_MEMORY_WASM }, 'plain.yaml': componentYaml('plain', 'state.memory', { keyPrefix: 'none' }) },
  });
});
after(() => sidecar?.stop());

const path = (key: string): string => encodeURIComponent(key);

function save(items: unknown, { store = 'statestore', query = '' } = {}): Promise<Response> {
  return sidecar.fetch(`/v1.0/state/${store}${query}`, { method: 'POST', body: JSON.stringify(items) });
}

function transact(operations: unknown, store = 'statestore'): Promise<Response> {
  return sidecar.fetch(`/v1.0/state/${store}/transaction`, { method: 'POST', body: JSON.stringify({ operations }) });
}

function bulkGet(body: unknown, store = 'statestore'): Promise<Response> {
  return sidecar.fetch(`/v1.0/state/${store}/bulk`, { method: 'POST', body: JSON.stringify(body) });
}

interface Read {
  status: number;
  text: string;
  etag: string | null;
  headers: Headers;
}

async function read(key: string, store = 'statestore'): Promise<Read> {
  const res = await sidecar.fetch(`/v1.0/state/${store}/${path(key)}`);
  return { status: res.status, text: await res.text(), etag: res.headers.get('etag'), headers: res.headers };
}

async function expectNoContent(response: Promise<Response>): Promise<void> {
  const res = await response;
  const text = await res.text();
  assert.equal(res.status, 204, text);
  assert.equal(text, '');
}

/** An ETag the key had until just now: the value is saved again, unchanged, under a new one. */
async function staleEtagOf(key: string, store = 'statestore'): Promise<string> {
  const { text, etag } = await read(key, store);
  assert.ok(etag, `no ETag for ${key}`);
  await expectNoContent(save([{ key, value: JSON.parse(text) }], { store }));
  return etag;
}

async function etagOf(key: string, store = 'statestore'): Promise<string> {
  const { status, etag } = await read(key, store);
  assert.equal(status, 200, `${key} should exist`);
  assert.ok(etag, `no ETag for ${key}`);
  return etag;
}

describe('values', () => {
  it('reads back the JSON text of every kind of value, as saved', async () => {
    const values: Record<string, unknown> = {
      'int': 42,
      'zero': 0,
      'negative': -17.25,
      'tiny': 1e-300,
      'huge': 1.7976931348623157e308,
      'string': 'hello',
      'empty-string': '',
      'json-in-string': '{"a":1}',
      'true': true,
      'false': false,
      'null': null,
      'array': [1, 'two', null, false, [3], { four: 4 }],
      'empty-array': [],
      'object': { name: 'Ada', tags: ['x', 'y'], nested: { deep: [1, { two: 2 }] } },
      'empty-object': {},
      'unicode': 'héllo — 🌍 日本語 "quoted" \\ back\nslash \u0000',
    };
    await expectNoContent(save(Object.entries(values).map(([key, value]) => ({ key, value }))));
    for (const [key, value] of Object.entries(values)) {
      const got = await read(key);
      assert.equal(got.status, 200, key);
      assert.equal(got.headers.get('content-type'), 'application/json', key);
      assert.equal(got.text, JSON.stringify(value), key);
      assert.deepEqual(JSON.parse(got.text), value, key);
    }
  });

  it('keeps unicode keys apart and reads them back', async () => {
    const keys = ['ключ', 'clé', '鍵', '🔑', 'key with spaces', 'dots.and-dashes_ok'];
    await expectNoContent(save(keys.map((key, i) => ({ key, value: i }))));
    for (const [i, key] of keys.entries()) assert.equal((await read(key)).text, String(i), key);
    const res = await bulkGet({ keys });
    assert.deepEqual(
      ((await res.json()) as { key: string; data: number }[]).map(({ key, data }) => [key, data]),
      keys.map((key, i) => [key, i]),
    );
  });

  it('stores a ~1 MB value', async () => {
    const big = { blob: 'x'.repeat(1_000_000), tail: '🧩'.repeat(1000) };
    await expectNoContent(save([{ key: 'big', value: big }]));
    const got = await read('big');
    assert.equal(got.status, 200);
    assert.equal(got.text.length, JSON.stringify(big).length);
    assert.deepEqual(JSON.parse(got.text), big);
  });

  it('answers 204 with no body for a missing key, and for deleting one', async () => {
    const got = await read('never-saved');
    assert.equal(got.status, 204);
    assert.equal(got.text, '');
    assert.equal(got.etag, null);
    await expectNoContent(sidecar.fetch('/v1.0/state/statestore/never-saved', { method: 'DELETE' }));
  });

  it('deletes a key', async () => {
    await expectNoContent(save([{ key: 'doomed', value: 1 }]));
    await expectNoContent(sidecar.fetch('/v1.0/state/statestore/doomed', { method: 'DELETE' }));
    assert.equal((await read('doomed')).status, 204);
  });
});

describe('bulk', () => {
  const saved = [
    { key: 'bulk-1', value: { n: 1 } },
    { key: 'bulk-2', value: 'two' },
    { key: 'bulk-3', value: [3] },
  ];
  const keys = ['bulk-1', 'missing-a', 'bulk-2', 'bulk-3', 'missing-b'];

  it('saves several items in one call and reads them in one call, missing keys without data', async () => {
    await expectNoContent(save(saved));
    const res = await bulkGet({ keys });
    assert.equal(res.status, 200);
    const items = (await res.json()) as { key: string; data?: unknown; etag?: string }[];
    assert.deepEqual(
      items.map(({ key, data }) => ({ key, data })),
      [
        { key: 'bulk-1', data: { n: 1 } },
        { key: 'missing-a', data: undefined },
        { key: 'bulk-2', data: 'two' },
        { key: 'bulk-3', data: [3] },
        { key: 'missing-b', data: undefined },
      ],
    );
    for (const item of items.filter((i) => i.key.startsWith('bulk-'))) assert.equal(item.etag, await etagOf(item.key));
    assert.deepEqual(items[1], { key: 'missing-a' }, 'a missing key carries neither data nor an ETag');
  });

  it('answers the same with parallelism', async () => {
    const plain = await (await bulkGet({ keys })).json();
    for (const parallelism of [1, 2, 3, 10]) {
      const res = await bulkGet({ keys, parallelism });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), plain, `parallelism ${parallelism}`);
    }
  });

  it('answers an empty list for no keys', async () => {
    const res = await bulkGet({ keys: [] });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), []);
  });
});

describe('ETags', () => {
  it('returns an ETag on every read, new on every write', async () => {
    await expectNoContent(save([{ key: 'versioned', value: 1 }]));
    const first = await etagOf('versioned');
    await expectNoContent(save([{ key: 'versioned', value: 2 }]));
    const second = await etagOf('versioned');
    assert.notEqual(first, second);
  });

  it('refuses a save with a stale ETag (409) and leaves the value', async () => {
    await expectNoContent(save([{ key: 'guarded', value: 'v1' }]));
    const stale = await staleEtagOf('guarded');
    const etag = await etagOf('guarded');
    await expectDaprError(save([{ key: 'guarded', value: 'v2', etag: stale }]), 409, 'ERR_STATE_SAVE', /possible etag mismatch/);
    const after = await read('guarded');
    assert.equal(after.text, '"v1"');
    assert.equal(after.etag, etag);
  });

  it('accepts the right ETag once, then refuses the stale one', async () => {
    await expectNoContent(save([{ key: 'renewed', value: 'v1' }]));
    const etag = await etagOf('renewed');
    await expectNoContent(save([{ key: 'renewed', value: 'v2', etag }]));
    const renewed = await etagOf('renewed');
    assert.notEqual(renewed, etag);
    await expectDaprError(save([{ key: 'renewed', value: 'v3', etag }]), 409, 'ERR_STATE_SAVE');
    await expectNoContent(save([{ key: 'renewed', value: 'v3', etag: renewed }]));
    assert.equal((await read('renewed')).text, '"v3"');
  });

  it('refuses a delete with a stale ETag (409) and accepts the right one', async () => {
    await expectNoContent(save([{ key: 'guarded-delete', value: 1 }]));
    const stale = await staleEtagOf('guarded-delete');
    const etag = await etagOf('guarded-delete');
    await expectDaprError(
      sidecar.fetch('/v1.0/state/statestore/guarded-delete', { method: 'DELETE', headers: { 'If-Match': stale } }),
      409,
      'ERR_STATE_DELETE',
      /possible etag mismatch/,
    );
    assert.equal((await read('guarded-delete')).status, 200);
    await expectNoContent(sidecar.fetch('/v1.0/state/statestore/guarded-delete', { method: 'DELETE', headers: { 'If-Match': etag } }));
    assert.equal((await read('guarded-delete')).status, 204);
  });

  it('refuses an ETag on a key that does not exist (409)', async () => {
    await expectDaprError(save([{ key: 'no-such-key', value: 1, etag: '1' }]), 409, 'ERR_STATE_SAVE');
    assert.equal((await read('no-such-key')).status, 204);
  });

  it('refuses an ETag that is not valid for the store (400)', async () => {
    await expectNoContent(save([{ key: 'bad-etag', value: 1 }]));
    await expectDaprError(save([{ key: 'bad-etag', value: 2, etag: 'not-an-etag' }]), 400, 'ERR_STATE_SAVE', /invalid etag value/);
    await expectDaprError(
      sidecar.fetch('/v1.0/state/statestore/bad-etag', { method: 'DELETE', headers: { 'If-Match': 'not-an-etag' } }),
      400,
      'ERR_STATE_DELETE',
      /invalid etag value/,
    );
    assert.equal((await read('bad-etag')).text, '1');
  });

  it('first-write without an ETag only inserts', async () => {
    const firstWrite = { concurrency: 'first-write' };
    await expectNoContent(save([{ key: 'first', value: 'original', options: firstWrite }]));
    await expectDaprError(save([{ key: 'first', value: 'overwrite', options: firstWrite }]), 409, 'ERR_STATE_SAVE');
    assert.equal((await read('first')).text, '"original"');
    await expectNoContent(save([{ key: 'first', value: 'with-etag', etag: await etagOf('first'), options: firstWrite }]));
    assert.equal((await read('first')).text, '"with-etag"');
    await expectNoContent(save([{ key: 'first', value: 'last-write wins', options: { concurrency: 'last-write' } }]));
    assert.equal((await read('first')).text, '"last-write wins"');
  });
});

describe('TTL', () => {
  it('expires an item after ttlInSeconds, reporting ttlExpireTime meanwhile; -1 never expires', async () => {
    const savedAt = Date.now();
    await expectNoContent(save([{ key: 'ttl-body', value: 'soon gone', metadata: { ttlInSeconds: '1' } }]));
    await expectNoContent(save([{ key: 'ttl-query', value: 'soon gone too' }], { query: '?metadata.ttlInSeconds=1' }));
    await expectNoContent(save([{ key: 'ttl-kept', value: 'first with a TTL' }], { query: '?metadata.ttlInSeconds=1' }));
    await expectNoContent(save([{ key: 'ttl-kept', value: 'kept', metadata: { ttlInSeconds: '-1' } }]));

    for (const key of ['ttl-body', 'ttl-query']) {
      const got = await read(key);
      assert.equal(got.status, 200, key);
      const expires = got.headers.get('metadata.ttlExpireTime');
      assert.match(expires ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, `${key}: metadata.ttlExpireTime header`);
      const at = Date.parse(expires!);
      assert.ok(at >= savedAt - 1000 && at <= Date.now() + 2000, `${key} expires at ${expires}, saved at ${new Date(savedAt).toISOString()}`);
    }
    const kept = await read('ttl-kept');
    assert.equal(kept.headers.get('metadata.ttlExpireTime'), null, 'ttlInSeconds -1 sets no expiry');

    const bulk = (await (await bulkGet({ keys: ['ttl-body'] })).json()) as { metadata?: Record<string, string> }[];
    assert.match(bulk[0]?.metadata?.ttlExpireTime ?? '', /Z$/, 'bulk get reports ttlExpireTime too');

    await pollUntil('ttl-body and ttl-query to expire', async () =>
      (await read('ttl-body')).status === 204 && (await read('ttl-query')).status === 204 ? true : undefined,
      { timeoutMs: 4000, intervalMs: 50 },
    );
    const elapsed = Date.now() - savedAt;
    assert.ok(elapsed >= 950, `expired after ${elapsed} ms, before its second was up`);
    assert.ok(elapsed < 3000, `expired only after ${elapsed} ms`);
    assert.equal((await read('ttl-kept')).text, '"kept"', 'the -1 save cancelled the earlier TTL');
  });

  it('refuses a ttlInSeconds that is not an integer from -1 up (400)', async () => {
    await expectDaprError(save([{ key: 'ttl-bad', value: 1, metadata: { ttlInSeconds: 'soon' } }]), 400, 'ERR_MALFORMED_REQUEST', /ttlInSeconds/);
    await expectDaprError(save([{ key: 'ttl-bad', value: 1, metadata: { ttlInSeconds: '-2' } }]), 400, 'ERR_MALFORMED_REQUEST', /ttlInSeconds/);
    assert.equal((await read('ttl-bad')).status, 204);
  });
});

describe('transactions', () => {
  it('applies operations in order: set then delete leaves nothing, delete then set leaves the value', async () => {
    await expectNoContent(save([{ key: 'tx-delete-last', value: 'before' }, { key: 'tx-set-last', value: 'before' }]));
    await expectNoContent(
      transact([
        { operation: 'upsert', request: { key: 'tx-delete-last', value: 'during' } },
        { operation: 'delete', request: { key: 'tx-delete-last' } },
        { operation: 'delete', request: { key: 'tx-set-last' } },
        { operation: 'upsert', request: { key: 'tx-set-last', value: { after: true } } },
        { operation: 'upsert', request: { key: 'tx-new', value: 'new' } },
      ]),
    );
    assert.equal((await read('tx-delete-last')).status, 204);
    assert.equal((await read('tx-set-last')).text, '{"after":true}');
    assert.equal((await read('tx-new')).text, '"new"');
  });

  it('checks ETags inside a transaction', async () => {
    await expectNoContent(save([{ key: 'tx-etag', value: 1 }]));
    const etag = await etagOf('tx-etag');
    await expectNoContent(transact([{ operation: 'upsert', request: { key: 'tx-etag', value: 2, etag } }]));
    assert.equal((await read('tx-etag')).text, '2');
  });

  it('is atomic: a stale ETag in the last operation changes nothing', async () => {
    await expectNoContent(save([{ key: 'atomic-a', value: 'a1' }, { key: 'atomic-b', value: 'b1' }]));
    const staleA = await staleEtagOf('atomic-a');
    const etagA = await etagOf('atomic-a');
    const etagB = await etagOf('atomic-b');
    await expectDaprError(
      transact([
        { operation: 'upsert', request: { key: 'atomic-a', value: 'a2' } },
        { operation: 'delete', request: { key: 'atomic-b' } },
        { operation: 'upsert', request: { key: 'atomic-c', value: 'c2' } },
        { operation: 'upsert', request: { key: 'atomic-a', value: 'a3', etag: staleA } },
      ]),
      500,
      'ERR_STATE_TRANSACTION',
      /etag mismatch/,
    );
    assert.deepEqual(await read('atomic-a').then((r) => [r.text, r.etag]), ['"a1"', etagA]);
    assert.deepEqual(await read('atomic-b').then((r) => [r.text, r.etag]), ['"b1"', etagB]);
    assert.equal((await read('atomic-c')).status, 204);
  });

  it('refuses an unknown operation', async () => {
    await expectDaprError(transact([{ operation: 'merge', request: { key: 'tx-x', value: 1 } }]), 400, 'ERR_NOT_SUPPORTED_STATE_OPERATION');
  });
});

describe('keys', () => {
  it('refuses a key containing "||" on every route (400)', async () => {
    const key = 'tenant||order';
    await expectDaprError(sidecar.fetch(`/v1.0/state/statestore/${path(key)}`), 400, 'ERR_MALFORMED_REQUEST', /\|\|/);
    await expectDaprError(save([{ key, value: 1 }]), 400, 'ERR_MALFORMED_REQUEST', /\|\|/);
    await expectDaprError(sidecar.fetch(`/v1.0/state/statestore/${path(key)}`, { method: 'DELETE' }), 400, 'ERR_MALFORMED_REQUEST', /\|\|/);
    await expectDaprError(bulkGet({ keys: ['fine', key] }), 400, 'ERR_MALFORMED_REQUEST', /\|\|/);
    await expectDaprError(transact([{ operation: 'upsert', request: { key, value: 1 } }]), 400, 'ERR_MALFORMED_REQUEST', /\|\|/);
    await expectDaprError(save([{ key, value: 1 }], { store: 'plain' }), 400, 'ERR_MALFORMED_REQUEST', /\|\|/);
  });

  it('prefixes keys with the app id by default, and not with keyPrefix none', async () => {
    // The store names the key it holds in its errors: that shows the prefix the host applied.
    for (const store of ['statestore', 'plain']) await expectNoContent(save([{ key: 'prefixed', value: store }], { store }));
    const withPrefix = await expectDaprError(save([{ key: 'prefixed', value: 0, etag: await staleEtagOf('prefixed') }]), 409, 'ERR_STATE_SAVE');
    assert.match(withPrefix, /key "myapp\|\|prefixed"/);
    const stale = await staleEtagOf('prefixed', 'plain');
    const without = await expectDaprError(save([{ key: 'prefixed', value: 0, etag: stale }], { store: 'plain' }), 409, 'ERR_STATE_SAVE');
    assert.match(without, /key "prefixed"/);
    assert.doesNotMatch(without, /\|\|/);
    // Either way the app sees its own key, and each store its own value.
    assert.equal((await read('prefixed')).text, '"statestore"');
    assert.equal((await read('prefixed', 'plain')).text, '"plain"');
    for (const store of ['statestore', 'plain']) {
      const items = (await (await bulkGet({ keys: ['prefixed'] }, store)).json()) as { key: string }[];
      assert.deepEqual(items.map((i) => i.key), ['prefixed'], store);
    }
  });
});
