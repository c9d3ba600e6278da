// Dapr's query language as the host parses it for a store: the filter tree flattened with
// children after their parent, sort keys and page, and ERR_STATE_QUERY naming each mistake.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_FILTER_DEPTH, MAX_FILTER_NODES, parseQuery } from '../../../../host/building-blocks/state/query-language.ts';
import { isTesseraError } from '../../../../host/errors.ts';

const parse = (q: unknown) => parseQuery('store', typeof q === 'string' ? q : JSON.stringify(q));

function refused(q: unknown, message: RegExp): void {
  assert.throws(() => parse(q), (err) => {
    assert.ok(isTesseraError(err, 'ERR_STATE_QUERY'), String(err));
    assert.match(err.message, /^state store store query failed: failed to parse JSON query body: /);
    assert.match(err.message, message);
    return true;
  });
}

test('flattens the filter tree, each group naming its children after itself', () => {
  const parsed = parse({
    filter: { OR: [{ EQ: { 'person.org': 'A' } }, { AND: [{ IN: { state: ['CA', 'WA'] } }, { EQ: { n: 1.5 } }] }] },
    sort: [{ key: 'person.id', order: 'DESC' }, { key: 'city' }],
    page: { limit: 10, token: '20' },
  });
  assert.deepEqual(parsed, {
    filter: [
      { tag: 'group', val: { matchAny: true, children: [1, 2] } },
      { tag: 'eq', val: { key: 'person.org', value: '"A"' } },
      { tag: 'group', val: { matchAny: false, children: [3, 4] } },
      { tag: 'in', val: { key: 'state', values: ['"CA"', '"WA"'] } },
      { tag: 'eq', val: { key: 'n', value: '1.5' } },
    ],
    sort: [
      { key: 'person.id', descending: true },
      { key: 'city', descending: false },
    ],
    limit: 10,
    token: '20',
  });
});

test('an empty query, an empty filter and an empty token mean everything from the start', () => {
  for (const q of [{}, { filter: {} }, { filter: null, page: { token: '' } }]) assert.deepEqual(parse(q), { filter: [], sort: [], limit: 0, token: undefined });
});

test('refuses what is not the query language, saying where', () => {
  refused('{"filter":', /Unexpected end of JSON input|JSON/);
  refused([], /the query must be a JSON object/);
  refused({ filter: { NEQ: { a: 1 } } }, /filter uses operator "NEQ", which is not supported: use EQ, IN, AND or OR/);
  refused({ filter: { EQ: { a: 1 }, IN: { b: [1] } } }, /filter must have exactly one operator .* it has EQ, IN/);
  refused({ filter: { EQ: { a: 1, b: 2 } } }, /filter\.EQ must name exactly one key \(it names 2\)/);
  refused({ filter: { IN: { a: [] } } }, /filter\.IN\.a must be a non-empty array/);
  refused({ filter: { AND: [] } }, /filter\.AND must be a non-empty array of filters/);
  refused({ filter: { OR: [{ EQ: { a: 1 } }, 'x'] } }, /filter\.OR\[1\] must be an object with one operator/);
  refused({ sort: [{ order: 'ASC' }] }, /sort\[0\] must have a non-empty string "key"/);
  refused({ sort: [{ key: 'a', order: 'down' }] }, /sort\[0\]\.order is "down": use "ASC" or "DESC"/);
  refused({ page: { limit: -1 } }, /page\.limit must be a whole number/);
  refused({ page: { limit: 1.5 } }, /page\.limit must be a whole number/);
  refused({ page: { token: 3 } }, /page\.token must be a string/);
});

test('a hostile filter is bounded in depth and in size', () => {
  let deep: unknown = { EQ: { a: 1 } };
  for (let i = 0; i < MAX_FILTER_DEPTH + 5; i++) deep = { AND: [deep] };
  refused({ filter: deep }, new RegExp(`nests deeper than ${MAX_FILTER_DEPTH} levels`));
  const wide = { OR: Array.from({ length: MAX_FILTER_NODES + 1 }, (_, i) => ({ EQ: { a: i } })) };
  refused({ filter: wide }, new RegExp(`more than ${MAX_FILTER_NODES} operations`));
});
