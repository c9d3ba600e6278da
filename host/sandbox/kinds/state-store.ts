// Kind `state-store`: a Dapr state store (`state.*`). It implements interface `state` of
// world `state-store`, and may add `snapshot`/`snapshot-stream` (world
// `snapshotting-state-store`) to carry its in-memory data across swaps, and `query` (world
// `queryable-state-store`, ABI 0.1.2) to answer Dapr's query API; the state building block
// sees it as a `StateStore`.
import type { StateStore } from '../../../abi/ts/state.ts';
import type { KindDescriptor } from './kind.ts';
import { adaptStateStore } from './state-store-adapter.ts';

export const stateStoreKind: KindDescriptor<StateStore> = {
  kind: 'state-store',
  typePrefix: 'state.',
  world: 'state-store',
  extensions: ['snapshotting-state-store', 'queryable-state-store'],
  exportFeatures: { query: 'QUERY_API' },
  adapt: adaptStateStore,
  instances: 'pooled',
};
