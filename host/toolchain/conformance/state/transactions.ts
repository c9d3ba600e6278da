// Transactions (for a store that advertises TRANSACTIONAL): operations apply in order, each
// seeing the ones before it, and all or none.
import type { TransactOperation } from '../../../../abi/ts/state.ts';
import {
  deleteRequest,
  etagOf,
  expectAccepted,
  expectFound,
  expectMissing,
  expectRefused,
  expectValue,
  fail,
  key,
  needs,
  setRequest,
  type Check,
} from './harness.ts';

const set = (k: string, value: string, etag?: string): TransactOperation => ({ tag: 'set', val: setRequest(k, value, etag === undefined ? {} : { etag }) });
const del = (k: string, etag?: string): TransactOperation => ({ tag: 'delete', val: deleteRequest(k, etag === undefined ? {} : { etag }) });

export const transactionChecks: Check[] = [
  {
    area: 'transactions',
    name: 'operations apply in order, each seeing the ones before it',
    skip: needs('TRANSACTIONAL'),
    async run({ store }) {
      const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((name) => key(`tx-${name}`)) as [string, string, string, string];
      await store.set(setRequest(b, 'old b'));
      await store.set(setRequest(c, 'old c'));
      await expectAccepted(
        store.transact([set(a, 'a1'), set(a, 'a2'), del(b), set(b, 'new b'), set(d, 'd'), del(d), del(c)], []),
        'a transaction of sets and deletes',
      );
      await expectValue(store, a, 'a2', 'after set a1 then set a2 in one transaction');
      await expectValue(store, b, 'new b', 'after delete then set in one transaction');
      await expectMissing(store, d, 'after set then delete in one transaction');
      await expectMissing(store, c, 'after a delete in a transaction');
    },
  },
  {
    area: 'transactions',
    name: 'an empty transaction is accepted',
    skip: needs('TRANSACTIONAL'),
    async run({ store }) {
      await expectAccepted(store.transact([], []), 'a transaction of no operations');
    },
  },
  {
    area: 'transactions',
    name: 'all or none: one refused operation applies nothing',
    skip: needs('TRANSACTIONAL', 'ETAG'),
    async run({ store }) {
      const [a, b, c] = ['a', 'b', 'c'].map((name) => key(`tx-${name}`)) as [string, string, string];
      await store.set(setRequest(b, 'b1'));
      const stale = etagOf(await expectFound(store, b, 'after set'), b);
      await store.set(setRequest(b, 'b2'));
      await expectRefused(store.transact([set(a, 'a'), del(c), set(b, 'b3', stale)], []), 'etag-mismatch', 'a transaction whose last set has a stale ETag');
      await expectMissing(store, a, 'after a refused transaction that set it first');
      await expectValue(store, b, 'b2', 'after a refused transaction');
      await store.set(setRequest(c, 'c'));
      await expectRefused(store.transact([del(c), set(b, 'b3', stale)], []), 'etag-mismatch', 'a transaction whose second operation has a stale ETag');
      await expectValue(store, c, 'c', 'after a refused transaction that deleted it first');
    },
  },
  {
    area: 'transactions',
    name: 'an operation with the current ETag is accepted and renews it',
    skip: needs('TRANSACTIONAL', 'ETAG'),
    async run({ store }) {
      const k = key('tx-etag');
      await store.set(setRequest(k, 'v1'));
      const current = etagOf(await expectFound(store, k, 'after set'), k);
      await expectAccepted(store.transact([set(k, 'v2', current)], []), 'a transaction setting a key with its current ETag');
      const found = await expectValue(store, k, 'v2', 'after the transaction');
      if (etagOf(found, k) === current) fail(`a transaction kept ETag ${JSON.stringify(current)}: every write must renew the ETag`);
      await expectAccepted(store.transact([del(k, found.etag)], []), 'a transaction deleting a key with its current ETag');
      await expectMissing(store, k, 'after the transaction deleted it');
    },
  },
];
