// Dapr's state query (for a store that advertises QUERY_API, by exporting `query`): a filter
// finds exactly the matching items under the key prefix, sorted pages with tokens visit every
// item once, and a token the store never gave is refused with an error, not a trap. Each
// check writes under a key prefix of its own, so items of other checks (or of an earlier run,
// in a store that outlives the instance) are never in its results.
import type { Filter, QueryRequest, QueryResponse, SortKey, StateStore } from '../../../../abi/ts/state.ts';
import { isTesseraError } from '../../../errors.ts';
import { fail, needs, setRequest, type Check } from './harness.ts';

const PEOPLE: [string, object][] = [
  ['1', { person: { org: 'Dev Ops', id: 1036 }, state: 'WA' }],
  ['2', { person: { org: 'Hardware', id: 1028 }, state: 'OR' }],
  ['3', { person: { org: 'Finance', id: 1071 }, state: 'CA' }],
  ['4', { person: { org: 'Dev Ops', id: 1042 }, state: 'WA' }],
  ['5', { person: { org: 'Hardware', id: 1007 }, state: 'CA' }],
];

/** A prefix no other check or run writes under. */
const prefixFor = (name: string): string => `conformance-query-${name}-${process.pid}-${Date.now()}||`;

async function fill(store: StateStore, prefix: string): Promise<void> {
  for (const [k, value] of PEOPLE) await store.set(setRequest(prefix + k, JSON.stringify(value)));
}

/** A query as the host hands it to a store (the WIT form, filter flattened; see the state building block's query-language.ts). */
function request(prefix: string, query: { filter?: Filter[]; sort?: SortKey[]; limit?: number; token?: string }): QueryRequest {
  return { filter: query.filter ?? [], sort: query.sort ?? [], limit: query.limit ?? 0, token: query.token, keyPrefix: prefix, metadata: [] };
}

const eq = (key: string, value: unknown): Filter => ({ tag: 'eq', val: { key, value: JSON.stringify(value) } });
const byId = (descending = false): SortKey[] => [{ key: 'person.id', descending }];

function keysOf(page: QueryResponse, prefix: string, what: string): string[] {
  return page.results.map((r) => {
    if (!r.key.startsWith(prefix)) fail(`${what} returned key ${JSON.stringify(r.key)}, outside the key prefix ${JSON.stringify(prefix)}`);
    return r.key.slice(prefix.length);
  });
}

function expectKeys(got: string[], want: string[], what: string): void {
  if (JSON.stringify(got) !== JSON.stringify(want)) fail(`${what} returned keys ${JSON.stringify(got)}; expected ${JSON.stringify(want)}`);
}

export const queryChecks: Check[] = [
  {
    area: 'query',
    name: 'EQ, IN and OR find exactly the matching items under the key prefix, with their values and ETags',
    skip: needs('QUERY_API'),
    async run({ store }) {
      const prefix = prefixFor('filter');
      await fill(store, prefix);
      const wa = await store.query(request(prefix, { filter: [eq('state', 'WA')], sort: byId() }));
      expectKeys(keysOf(wa, prefix, 'EQ state=WA'), ['1', '4'], 'EQ state=WA sorted by person.id');
      const [first] = wa.results;
      if (JSON.stringify(JSON.parse(new TextDecoder().decode(first!.value))) !== JSON.stringify(PEOPLE[0]![1])) fail('a result does not carry the stored value');
      if (first!.etag === undefined) fail('a result of a store with ETAG carries no ETag');
      const or: Filter[] = [{ tag: 'group', val: { matchAny: true, children: [1, 2] } }, eq('person.org', 'Finance'), { tag: 'in', val: { key: 'state', values: ['"OR"'] } }];
      const mixed = await store.query(request(prefix, { filter: or, sort: byId() }));
      expectKeys(keysOf(mixed, prefix, 'OR'), ['2', '3'], 'OR of EQ person.org=Finance and IN state=[OR]');
      const none = await store.query(request(prefix, { filter: [eq('state', 'TX')] }));
      expectKeys(keysOf(none, prefix, 'EQ state=TX'), [], 'EQ state=TX');
    },
  },
  {
    area: 'query',
    name: 'sorted pages of limit 2 with tokens visit every item once, and the last page has no token',
    skip: needs('QUERY_API'),
    async run({ store }) {
      const prefix = prefixFor('pages');
      await fill(store, prefix);
      const seen: string[] = [];
      let token: string | undefined;
      for (let pages = 0; ; pages++) {
        if (pages > PEOPLE.length) fail(`paging did not end after ${pages} pages of 2 (of ${PEOPLE.length} items)`);
        const page = await store.query(request(prefix, { sort: byId(true), limit: 2, ...(token === undefined ? {} : { token }) }));
        if (page.results.length > 2) fail(`a page of limit 2 returned ${page.results.length} items`);
        seen.push(...keysOf(page, prefix, 'a page'));
        token = page.token;
        if (token === undefined) break;
      }
      expectKeys(seen, ['3', '4', '1', '2', '5'], 'the pages, in order, sorted by person.id DESC');
    },
  },
  {
    area: 'query',
    name: 'a token the store never gave is refused with an error (not a trap)',
    skip: needs('QUERY_API'),
    async run({ store }) {
      const prefix = prefixFor('token');
      try {
        await store.query(request(prefix, { limit: 2, token: 'not-a-token-of-yours' }));
      } catch (err) {
        if (isTesseraError(err) && err.componentError !== undefined) return;
        fail(`a foreign token failed without a typed error: ${err instanceof Error ? err.message : String(err)}`);
      }
      fail('a foreign token was accepted');
    },
  },
];
