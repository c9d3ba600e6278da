// Kind `pubsub`: a Dapr pub/sub broker (`pubsub.*`). It implements interface `pubsub` of
// world `pubsub-broker`, and may add `snapshot`/`snapshot-stream` (world
// `snapshotting-pubsub-broker`) to carry its in-memory messages across swaps; the pub/sub
// building block sees it as a `PubSub`. As in Dapr, its `consumerID` defaults to the app id:
// subscribers with one consumer id share a topic's messages.
import type { PubSub } from '../../../abi/ts/pubsub.ts';
import type { KindDescriptor } from './kind.ts';
import { adaptPubSub } from './pubsub-adapter.ts';

export const pubSubKind: KindDescriptor<PubSub> = {
  kind: 'pubsub',
  typePrefix: 'pubsub.',
  world: 'pubsub-broker',
  extensions: ['snapshotting-pubsub-broker'],
  adapt: adaptPubSub,
  withDefaults: (config, { appId }) => (config.has('consumerID') ? config : new Map([...config, ['consumerID', appId]])),
  instances: 'pooled',
};
