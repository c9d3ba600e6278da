// Features: a store advertises only features this ABI knows, and its behaviour does not claim
// a feature it does not advertise (ETags on reads, an expiry time). What an advertised feature
// promises is checked by its own area (etag, ttl, transactions).
import { expectFound, fail, key, lacks, metadataValue, setRequest, type Check } from './harness.ts';

/** The optional features of a state store in ABI 0.1.0, as Dapr names them. */
export const KNOWN_FEATURES = ['ETAG', 'TRANSACTIONAL', 'TTL'];

export const featureChecks: Check[] = [
  {
    area: 'features',
    name: `advertises only ${KNOWN_FEATURES.join(', ')}, each at most once`,
    async run({ live }) {
      const features = (await live.call('features', [])) as string[];
      const unknown = features.filter((f) => !KNOWN_FEATURES.includes(f));
      if (unknown.length > 0) fail(`features() lists ${unknown.map((f) => JSON.stringify(f)).join(', ')}, which ABI 0.1.0 does not know (it knows ${KNOWN_FEATURES.join(', ')})`);
      const twice = features.filter((f, i) => features.indexOf(f) !== i);
      if (twice.length > 0) fail(`features() lists ${[...new Set(twice)].join(', ')} more than once`);
    },
  },
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
