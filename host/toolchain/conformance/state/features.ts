// Features: a store advertises only features this ABI knows, and its behaviour does not claim
// a feature it does not advertise (ETags on reads, an expiry time). What an advertised feature
// promises is checked by its own area (etag, ttl, transactions).
import { advertisesOnly } from '../check.ts';
import { expectFound, fail, key, lacks, metadataValue, setRequest, type Check, type CheckContext } from './harness.ts';

/** The optional features a state store lists in `features()`, as Dapr names them (QUERY_API comes from exporting `query`, not from this list). */
export const KNOWN_FEATURES = ['ETAG', 'TRANSACTIONAL', 'TTL'];

export const featureChecks: Check[] = [
  advertisesOnly<CheckContext>(KNOWN_FEATURES),
  {
    area: 'features',
    name: 'without ETAG, reads carry no ETag',
    skip: lacks('ETAG'),
    async run({ store }) {
      const k = key('no-etag');
      await store.set(setRequest(k, 'v'));
      const found = await expectFound(store, k, 'after set');
      if (found.etag !== undefined && found.etag !== '') {
        // Clients would send it back and rely on a check that never happens.
        fail(`a read carries ETag ${JSON.stringify(found.etag)} but the store does not advertise ETAG: advertise it (and honour ETags) or return none`);
      }
    },
  },
  {
    area: 'features',
    name: 'without TTL, reads carry no ttlExpireTime, even after ttlInSeconds',
    skip: lacks('TTL'),
    async run({ store }) {
      const k = key('no-ttl');
      await store.set(setRequest(k, 'v', { metadata: [['ttlInSeconds', '60']] }));
      const found = await expectFound(store, k, 'after a set with ttlInSeconds=60');
      const at = metadataValue(found.metadata, 'ttlExpireTime');
      if (at !== undefined) fail(`a read carries ttlExpireTime ${at} but the store does not advertise TTL: advertise it (and expire items) or leave it out`);
    },
  },
];
