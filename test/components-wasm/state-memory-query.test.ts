// Dapr's state query API on state.memory (the `query` export, ABI 0.1.2) through the real host:
// compiled, started and bound as a StateStore, with queries as the host's parser makes them
// (host/building-blocks/state/query-language.ts). What an app sees over HTTP is in
// test/integration/state-query.test.ts.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import type { QueryRequest, QueryResponse, StateStore } from '../../abi/ts/state.ts';
import { parseQuery } from '../../host/building-blocks/state/query-language.ts';
import { isTesseraError } from '../../host/errors.ts';
import { silentLogger } from '../../host/observability/logger.ts';
import { CompiledComponent } from '../../host/sandbox/compiled-component.ts';
import { adaptStateStore } from '../../host/sandbox/kinds/state-store-adapter.ts';
import { LiveComponent } from '../../host/sandbox/live-component.ts';

const WASM = new URL('../../components-wasm/state-memory/state-memory.wasm', import.meta.url);
const compiled = readFile(WASM).then((b) => CompiledComponent.compile(new Uint8Array(b)));
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const PREFIX = 'app||';

const PEOPLE: Record<string, unknown> = {
  '1': { person: { org: 'Dev Ops', id: 1036 }, city: 'Seattle', state: 'WA' },
  '2': { person: { org: 'Hardware', id: 1028 }, city: 'Portland', state: 'OR' },
  '3': { person: { org: 'Finance', id: 1071 }, city: 'Sacramento', state: 'CA' },
  '4': { person: { org: 'Dev Ops', id: 1042 }, city: 'Spokane', state: 'WA' },
  '5': { person: { org: 'Hardware', id: 1007 }, city: 'Los Angeles', state: 'CA' },
};

async function storeWith(items: Record<string, unknown | string>, raw: Record<string, string> = {}): Promise<StateStore> {
  const live = await LiveComponent.start(await compiled, { name: 'memory', config: new Map(), logger: silentLogger });
  const store = adaptStateStore(live);
  const set = (key: string, bytes: Uint8Array) => store.set({ key, value: bytes, concurrency: 'last-write', consistency: 'eventual', metadata: [] });
  for (const [key, value] of Object.entries(items)) await set(PREFIX + key, utf8(JSON.stringify(value)));
  for (const [key, text] of Object.entries(raw)) await set(key, utf8(text));
  return store;
}

function request(query: object | string, prefix = PREFIX): QueryRequest {
  return { ...parseQuery('memory', typeof query === 'string' ? query : JSON.stringify(query)), keyPrefix: prefix, metadata: [] };
}

const keys = (page: QueryResponse): string[] => page.results.map((r) => r.key.slice(PREFIX.length));

describe('state.memory answers Dapr state queries', () => {
  test('advertises QUERY_API because it exports `query`', async () => {
    const store = await storeWith({});
    assert.ok(store.features.has('QUERY_API'));
  });

  test('EQ on a top-level and a nested field; an empty filter returns everything in key order', async () => {
    const store = await storeWith(PEOPLE);
    assert.deepEqual(keys(await store.query(request({ filter: { EQ: { state: 'WA' } } }))), ['1', '4']);
    assert.deepEqual(keys(await store.query(request({ filter: { EQ: { 'person.org': 'Hardware' } } }))), ['2', '5']);
    assert.deepEqual(keys(await store.query(request({}))), ['1', '2', '3', '4', '5']);
    assert.deepEqual(keys(await store.query(request({ filter: { EQ: { state: 'TX' } } }))), []);
  });

  test('results carry the whole key, the stored bytes and the ETag', async () => {
    const store = await storeWith(PEOPLE);
    const page = await store.query(request({ filter: { EQ: { 'person.id': 1071 } } }));
    assert.equal(page.results.length, 1);
    const [item] = page.results;
    assert.equal(item!.key, 'app||3');
    assert.deepEqual(JSON.parse(new TextDecoder().decode(item!.value)), PEOPLE['3']);
    assert.equal(item!.etag, (await store.get({ key: 'app||3', consistency: 'eventual', metadata: [] }))?.etag);
  });

  test('IN, AND and OR, nested', async () => {
    const store = await storeWith(PEOPLE);
    assert.deepEqual(keys(await store.query(request({ filter: { IN: { state: ['CA', 'OR'] } } }))), ['2', '3', '5']);
    const query = { filter: { OR: [{ AND: [{ EQ: { state: 'CA' } }, { EQ: { 'person.org': 'Hardware' } }] }, { EQ: { city: 'Seattle' } }] } };
    assert.deepEqual(keys(await store.query(request(query))), ['1', '5']);
    assert.deepEqual(keys(await store.query(request({ filter: { AND: [{ EQ: { state: 'WA' } }, { IN: { 'person.id': [1042, 1] } }] } }))), ['4']);
  });

  test('numbers compare by value, strings by their decoded characters, objects by their text', async () => {
    const store = await storeWith({}, {
      'app||a': '{"n": 1.0, "s": "caf\\u00e9", "o": {"x": [1, 2]}, "b": true, "z": null}',
      'app||b': '{"n":2,"s":"cafe","o":{"x":[1,3]},"b":false}',
    });
    assert.deepEqual(keys(await store.query(request({ filter: { EQ: { n: 1 } } }))), ['a']);
    assert.deepEqual(keys(await store.query(request({ filter: { EQ: { s: 'café' } } }))), ['a']);
    assert.deepEqual(keys(await store.query(request({ filter: { EQ: { o: { x: [1, 2] } } } }))), ['a']);
    assert.deepEqual(keys(await store.query(request({ filter: { EQ: { b: false } } }))), ['b']);
    assert.deepEqual(keys(await store.query(request({ filter: { EQ: { z: null } } }))), ['a']);
    // "1" the string is not 1 the number.
    assert.deepEqual(keys(await store.query(request({ filter: { EQ: { n: '1' } } }))), []);
  });

  test('sorts ascending and descending, on several keys, with ties by key', async () => {
    const store = await storeWith(PEOPLE);
    assert.deepEqual(keys(await store.query(request({ sort: [{ key: 'person.id' }] }))), ['5', '2', '1', '4', '3']);
    assert.deepEqual(keys(await store.query(request({ sort: [{ key: 'person.id', order: 'DESC' }] }))), ['3', '4', '1', '2', '5']);
    assert.deepEqual(keys(await store.query(request({ sort: [{ key: 'state' }, { key: 'city', order: 'DESC' }] }))), ['3', '5', '2', '4', '1']);
    assert.deepEqual(keys(await store.query(request({ sort: [{ key: 'person.org' }] }))), ['1', '4', '3', '2', '5']);
  });

  test('pages with limit and token until the last page, which has no token', async () => {
    const store = await storeWith(PEOPLE);
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await store.query(request({ sort: [{ key: 'person.id' }], page: { limit: 2, ...(token === undefined ? {} : { token }) } }));
      seen.push(...keys(page));
      token = page.token;
      pages++;
    } while (token !== undefined && pages < 10);
    assert.deepEqual(seen, ['5', '2', '1', '4', '3']);
    assert.equal(pages, 3);
  });

  test('a token the store never gave is refused with invalid-argument', async () => {
    const store = await storeWith(PEOPLE);
    await assert.rejects(store.query(request({ page: { token: 'next please' } })), (err) => {
      assert.ok(isTesseraError(err));
      assert.equal(err.componentError?.tag, 'invalid-argument');
      assert.match(err.message, /query token "next please" is not one this store gave/);
      return true;
    });
  });

  test("only the app's keys are searched; values that are not JSON match nothing but an empty filter", async () => {
    const store = await storeWith(PEOPLE, { 'other||1': JSON.stringify(PEOPLE['1']), 'app||text': 'not json {', 'app||arr': '[1,2]' });
    assert.deepEqual(keys(await store.query(request({ filter: { EQ: { state: 'WA' } } }))), ['1', '4']);
    assert.deepEqual(keys(await store.query(request({ filter: { EQ: { state: 'WA' } } }, 'other||'))).length, 1);
    assert.deepEqual(keys(await store.query(request({}))), ['1', '2', '3', '4', '5', 'arr', 'text']);
  });

  test('expired items are not returned', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: Date.UTC(2026, 11, 3) });
    const store = await storeWith(PEOPLE);
    await store.set({ key: 'app||6', value: utf8('{"state":"WA"}'), concurrency: 'last-write', consistency: 'eventual', metadata: [['ttlInSeconds', '5']] });
    assert.deepEqual(keys(await store.query(request({ filter: { EQ: { state: 'WA' } } }))), ['1', '4', '6']);
    t.mock.timers.tick(6000);
    assert.deepEqual(keys(await store.query(request({ filter: { EQ: { state: 'WA' } } }))), ['1', '4']);
  });
});
