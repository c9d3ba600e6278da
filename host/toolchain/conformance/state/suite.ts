// The state-store suite: every check, in the order the report lists them, each on a store of
// its own bound as the sidecar binds one (adaptStateStore).
import type { Suite } from '../check.ts';
import { adaptStateStore } from '../../../sandbox/kinds/state-store-adapter.ts';
import { bulkChecks } from './bulk.ts';
import { deleteChecks } from './delete.ts';
import { etagChecks } from './etag.ts';
import { featureChecks } from './features.ts';
import { firstWriteChecks } from './first-write.ts';
import { queryChecks } from './query.ts';
import type { CheckContext } from './harness.ts';
import { setGetChecks } from './set-get.ts';
import { snapshotChecks } from './snapshot.ts';
import { transactionChecks } from './transactions.ts';
import { ttlChecks } from './ttl.ts';

export const stateSuite: Suite<CheckContext> = {
  kind: 'state-store',
  noun: 'state stores',
  checks: [
    ...setGetChecks,
    ...deleteChecks,
    ...bulkChecks,
    ...etagChecks,
    ...firstWriteChecks,
    ...ttlChecks,
    ...transactionChecks,
    ...featureChecks,
    ...queryChecks,
    ...snapshotChecks,
  ],
  context: (subject, live, start) => ({
    subject,
    live,
    store: adaptStateStore(live),
    fresh: async () => {
      const next = await start();
      return { live: next, store: adaptStateStore(next) };
    },
  }),
};
