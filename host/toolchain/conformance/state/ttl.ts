// Time to live (for a store that advertises TTL): `ttlInSeconds` makes an item expire, `-1`
// makes it never expire, and reads of an expiring item carry `ttlExpireTime`. These checks
// wait on the real clock (the host's clock capability), with 1-second TTLs.
import { setTimeout as sleep } from 'node:timers/promises';
import type { StateStore } from '../../../../abi/ts/state.ts';
import { expectFound, expectValue, fail, get, key, metadataValue, needs, setRequest, type Check } from './harness.ts';

/** How long past its expiry an item may still be read: a store may expire on a timer. */
const GRACE_MS = 1000;
const POLL_MS = 50;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

const ttl = (seconds: string) => ({ metadata: [['ttlInSeconds', seconds]] as [string, string][] });

/**
 * Reads `k`, which must still be there if the read ended before `expiry` (a read that a
 * busy machine delayed past it proves nothing either way).
 */
async function expectUnexpired(store: StateStore, k: string, expiry: number, when: string): Promise<void> {
  const found = await get(store, k);
  if (found === undefined && Date.now() < expiry) fail(`get ${JSON.stringify(k)} found nothing ${when}, before its TTL ran out`);
}

export const ttlChecks: Check[] = [
  {
    area: 'ttl',
    name: 'ttlInSeconds=1: readable at once and half a second later, gone once it expires',
    skip: needs('TTL'),
    async run({ store }) {
      const k = key('ttl-1s');
      const before = Date.now();
      await store.set(setRequest(k, 'v', ttl('1')));
      const setAt = Date.now();
      await expectUnexpired(store, k, before + 1000, 'right after a set with ttlInSeconds=1');
      await sleep(500);
      await expectUnexpired(store, k, before + 1000, 'half a second after a set with ttlInSeconds=1');
      await sleep(setAt + 1000 - Date.now());
      while ((await get(store, k)) !== undefined) {
        if (Date.now() > setAt + 1000 + GRACE_MS) fail(`still found ${((Date.now() - setAt) / 1000).toFixed(1)} s after a set with ttlInSeconds=1`);
        await sleep(POLL_MS);
      }
    },
  },
  {
    area: 'ttl',
    name: 'an expiring item carries ttlExpireTime, an RFC 3339 time when it expires',
    skip: needs('TTL'),
    async run({ store }) {
      const k = key('ttl-expire-time');
      const before = Date.now();
      await store.set(setRequest(k, 'v', ttl('60')));
      const after = Date.now();
      const found = await expectFound(store, k, 'after a set with ttlInSeconds=60');
      const at = metadataValue(found.metadata, 'ttlExpireTime');
      if (at === undefined) fail(`a read of an item with ttlInSeconds=60 has no ttlExpireTime in its metadata (${JSON.stringify(found.metadata)})`);
      if (!RFC3339.test(at)) fail(`ttlExpireTime ${JSON.stringify(at)} is not an RFC 3339 time such as 2026-01-02T03:04:05Z`);
      const ms = Date.parse(at);
      // Whole seconds are fine: the time may be cut to the second below.
      if (ms < before + 59_000 || ms > after + 61_000) {
        fail(`ttlExpireTime ${at} is not 60 s after the set (${new Date(before).toISOString()})`);
      }
    },
  },
  {
    area: 'ttl',
    name: 'ttlInSeconds=-1 never expires and carries no ttlExpireTime',
    skip: needs('TTL'),
    async run({ store }) {
      const k = key('ttl-forever');
      await store.set(setRequest(k, 'v', ttl('-1')));
      const found = await expectValue(store, k, 'v', 'after a set with ttlInSeconds=-1');
      const at = metadataValue(found.metadata, 'ttlExpireTime');
      if (at !== undefined) fail(`an item with ttlInSeconds=-1 carries ttlExpireTime ${at}`);
      await sleep(1000 + POLL_MS);
      await expectValue(store, k, 'v', 'more than a second after a set with ttlInSeconds=-1');
    },
  },
];
