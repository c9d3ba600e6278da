// ETags (for a store that advertises ETAG): every read carries one, every write renews it,
// a stale or foreign one is refused with etag-mismatch and changes nothing, and the current
// one is accepted. Wrong ETags are real ones of this store (a key's previous ETag, another
// key's), so no check depends on what its ETags look like.
import {
  bulkGet,
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
import type { StateStore } from '../../../../abi/ts/state.ts';

/** Sets `k` twice: resolves to its replaced ETag and its current one. */
async function twoVersions(store: StateStore, k: string): Promise<{ stale: string; current: string }> {
  await store.set(setRequest(k, 'v1'));
  const stale = etagOf(await expectFound(store, k, 'after set'), k);
  await store.set(setRequest(k, 'v2'));
  const current = etagOf(await expectFound(store, k, 'after a second set'), k);
  if (current === stale) fail(`a second set kept ETag ${JSON.stringify(stale)}: every write must renew the ETag`);
  return { stale, current };
}

export const etagChecks: Check[] = [
  {
    area: 'etag',
    name: 'every read carries an ETag (get and bulk get)',
    skip: needs('ETAG'),
    async run({ store }) {
      const k = key('etag-read');
      await store.set(setRequest(k, 'v'));
      etagOf(await expectFound(store, k, 'after set'), k);
      const [item] = await bulkGet(store, [k]);
      if (item?.response === undefined) fail('bulk get found nothing after set');
      if (!item.response.etag) fail('bulk get answered no ETag');
    },
  },
  {
    area: 'etag',
    name: 'a write renews the ETag',
    skip: needs('ETAG'),
    async run({ store }) {
      await twoVersions(store, key('etag-renew'));
    },
  },
  {
    area: 'etag',
    name: 'set with a stale ETag is refused (etag-mismatch) and changes nothing',
    skip: needs('ETAG'),
    async run({ store }) {
      const k = key('etag-stale-set');
      const { stale, current } = await twoVersions(store, k);
      await expectRefused(store.set(setRequest(k, 'v3', { etag: stale })), 'etag-mismatch', 'set with the replaced ETag');
      const found = await expectValue(store, k, 'v2', 'after a refused set');
      if (found.etag !== current) fail(`a refused set changed the ETag from ${JSON.stringify(current)} to ${JSON.stringify(found.etag)}`);
    },
  },
  {
    area: 'etag',
    name: 'delete with a stale ETag is refused (etag-mismatch) and keeps the key',
    skip: needs('ETAG'),
    async run({ store }) {
      const k = key('etag-stale-delete');
      const { stale } = await twoVersions(store, k);
      await expectRefused(store.delete(deleteRequest(k, { etag: stale })), 'etag-mismatch', 'delete with the replaced ETag');
      await expectValue(store, k, 'v2', 'after a refused delete');
    },
  },
  {
    area: 'etag',
    name: 'set with the current ETag is accepted and renews it; the old one is then refused',
    skip: needs('ETAG'),
    async run({ store }) {
      const k = key('etag-current-set');
      const { current } = await twoVersions(store, k);
      await expectAccepted(store.set(setRequest(k, 'v3', { etag: current })), 'set with the current ETag');
      const found = await expectValue(store, k, 'v3', 'after a set with the current ETag');
      if (etagOf(found, k) === current) fail(`a set with ETag ${JSON.stringify(current)} kept it: every write must renew the ETag`);
      await expectRefused(store.set(setRequest(k, 'v4', { etag: current })), 'etag-mismatch', 'a second set with the same (now replaced) ETag');
    },
  },
  {
    area: 'etag',
    name: 'delete with the current ETag deletes',
    skip: needs('ETAG'),
    async run({ store }) {
      const k = key('etag-current-delete');
      const { current } = await twoVersions(store, k);
      await expectAccepted(store.delete(deleteRequest(k, { etag: current })), 'delete with the current ETag');
      await expectMissing(store, k, 'after a delete with the current ETag');
    },
  },
  {
    area: 'etag',
    name: 'an ETag for a missing key is refused (etag-mismatch), for set and delete',
    skip: needs('ETAG'),
    async run({ store }) {
      await store.set(setRequest(key('etag-other'), 'v'));
      const foreign = etagOf(await expectFound(store, key('etag-other'), 'after set'), key('etag-other'));
      const k = key('etag-missing');
      await expectRefused(store.set(setRequest(k, 'v', { etag: foreign })), 'etag-mismatch', 'set of a missing key with an ETag');
      await expectMissing(store, k, 'after a refused set');
      await expectRefused(store.delete(deleteRequest(k, { etag: foreign })), 'etag-mismatch', 'delete of a missing key with an ETag');
    },
  },
];
