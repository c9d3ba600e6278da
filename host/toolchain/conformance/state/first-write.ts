// First-write concurrency (for a store that advertises ETAG, as Dapr ties the two): without
// an ETag a first-write only inserts a missing key; with one it is checked as usual.
import { etagOf, expectAccepted, expectFound, expectRefused, expectValue, key, needs, setRequest, type Check } from './harness.ts';

const firstWrite = { concurrency: 'first-write' } as const;

export const firstWriteChecks: Check[] = [
  {
    area: 'first-write',
    name: 'first-write without an ETag inserts a missing key',
    skip: needs('ETAG'),
    async run({ store }) {
      const k = key('fw-insert');
      await expectAccepted(store.set(setRequest(k, 'v', firstWrite)), 'first-write of a missing key');
      await expectValue(store, k, 'v', 'after a first-write');
    },
  },
  {
    area: 'first-write',
    name: 'first-write without an ETag on an existing key is refused (etag-mismatch)',
    skip: needs('ETAG'),
    async run({ store }) {
      const k = key('fw-exists');
      await store.set(setRequest(k, 'v1'));
      await expectRefused(store.set(setRequest(k, 'v2', firstWrite)), 'etag-mismatch', 'first-write without an ETag of an existing key');
      await expectValue(store, k, 'v1', 'after a refused first-write');
    },
  },
  {
    area: 'first-write',
    name: 'first-write with the current ETag updates; with a stale one it is refused',
    skip: needs('ETAG'),
    async run({ store }) {
      const k = key('fw-etag');
      await store.set(setRequest(k, 'v1'));
      const stale = etagOf(await expectFound(store, k, 'after set'), k);
      await expectAccepted(store.set(setRequest(k, 'v2', { ...firstWrite, etag: stale })), 'first-write with the current ETag');
      await expectValue(store, k, 'v2', 'after a first-write with the current ETag');
      await expectRefused(store.set(setRequest(k, 'v3', { ...firstWrite, etag: stale })), 'etag-mismatch', 'first-write with a replaced ETag');
      await expectValue(store, k, 'v2', 'after a refused first-write');
    },
  },
];
