// Message time to live (for a broker that advertises MESSAGE_TTL): a message published with
// `ttlInSeconds` that nobody pulled before it expired is never delivered. Waits on the real
// clock (the host's clock capability), with a 1-second TTL.
import { setTimeout as sleep } from 'node:timers/promises';
import { expectDelivered, needs, utf8, type Check } from './harness.ts';

/** How long past its expiry a message may still be delivered: a broker may expire on a timer. */
const GRACE_MS = 1000;

export const ttlChecks: Check[] = [
  {
    area: 'ttl',
    name: 'ttlInSeconds=1: a message not pulled before it expires never comes; one without a TTL does',
    skip: needs('MESSAGE_TTL'),
    async run({ pubsub, topic }) {
      const t = topic('ttl');
      const sub = await pubsub.subscribe(t, []);
      await pubsub.publish({ topic: t, data: utf8('expires'), metadata: [['ttlInSeconds', '1']] });
      await pubsub.publish({ topic: t, data: utf8('stays'), metadata: [] });
      await sleep(1000 + GRACE_MS);
      await expectDelivered(sub, ['stays'], 'two seconds after a publish with ttlInSeconds=1 and one without');
    },
  },
];
