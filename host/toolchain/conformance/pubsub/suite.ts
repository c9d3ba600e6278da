// The pub/sub suite: every check, in the order the report lists them, each on a broker of its
// own bound as the sidecar binds one (adaptPubSub), under a consumerID of this run unless
// --metadata gives one, as the host gives the app id.
import { advertisesOnly, type Suite } from '../check.ts';
import { bulkChecks } from './bulk.ts';
import { deliveryChecks } from './delivery.ts';
import { brokerOver, type CheckContext } from './harness.ts';
import { redeliveryChecks } from './redelivery.ts';
import { snapshotChecks } from './snapshot.ts';
import { topicChecks } from './topics.ts';
import { ttlChecks } from './ttl.ts';

/**
 * The optional features of a pub/sub broker, as Dapr names them, and Tessera's
 * ORDERED_DELIVERY (a broker that hands out a topic's messages in publish order: the host
 * then delivers them one at a time, building-blocks/pubsub/delivery-concurrency.ts).
 */
export const KNOWN_FEATURES = ['BULK_PUBLISH', 'MESSAGE_TTL', 'SUBSCRIBE_WILDCARDS', 'ORDERED_DELIVERY'];

/** Numbers the checks of a run, so each gets topics of its own. */
let checksStarted = 0;

export const pubSubSuite: Suite<CheckContext> = {
  kind: 'pubsub',
  noun: 'pub/sub brokers',
  checks: [...deliveryChecks, ...topicChecks, ...redeliveryChecks, ...bulkChecks, ...ttlChecks, advertisesOnly<CheckContext>(KNOWN_FEATURES), ...snapshotChecks],
  withDefaults: (config, runId) => (config.has('consumerID') ? config : new Map([...config, ['consumerID', `conformance-${runId}`]])),
  context(subject, live, start) {
    const n = ++checksStarted;
    return {
      subject,
      ...brokerOver(live, start, subject.config),
      async fresh(config = {}) {
        const own = new Map([...subject.config, ...Object.entries(config)]);
        return brokerOver(await start(own), start, own);
      },
      topic: (name) => `conformance-${subject.runId}-${n}-${name}`,
    };
  },
};
