// The building blocks one sidecar serves, built once over its components and handed to
// every transport (the HTTP API today, the gRPC API next), which only parse, call and reply.
import type { ComponentDirectory } from '../components/types.ts';
import type { BlockObserver } from '../observability/component-observer.ts';
import { BindingsService } from './bindings/bindings-service.ts';
import { HealthService } from './health/health-service.ts';
import { MetadataService, type AppConnectionProperties, type MetadataServiceOptions, type SubscriptionDirectory } from './metadata/metadata-service.ts';
import { PubSubService } from './pubsub/pubsub-service.ts';
import { StateService } from './state/state-service.ts';
import type { Resiliency } from '../resiliency/resiliency.ts';

export interface BuildingBlocks {
  state: StateService;
  pubsub: PubSubService;
  bindings: BindingsService;
  metadata: MetadataService;
  health: HealthService;
}

export interface BuildingBlocksOptions {
  appId: string;
  runtimeVersion: string;
  /** The namespace for the state `namespace` key prefix strategy (daprd reads `NAMESPACE`). */
  namespace?: string;
  components: ComponentDirectory;
  /** Dapr's Resiliency policies for component calls; none: each call runs once. */
  resiliency?: Resiliency;
  /** How the sidecar reaches the app, for the metadata document. */
  appConnection?: AppConnectionProperties;
  /** The app's subscriptions, for the metadata document. */
  subscriptions?: SubscriptionDirectory;
  /** The middleware Components, for the metadata document. */
  middlewares?: MetadataServiceOptions['middlewares'];
  /** Whether the sidecar is ready (its first scan of the resources applied). */
  isReady(): boolean;
  /** Called after every successful publish, so local subscribers of the topic look at once. */
  onPublished?: (pubsubName: string, topic: string) => void;
  /** Told of every component call the blocks make (Dapr's dapr_component_* metrics), when metrics are on. */
  observer?: BlockObserver | undefined;
}

export function createBuildingBlocks(options: BuildingBlocksOptions): BuildingBlocks {
  const { appId, components, observer } = options;
  return {
    state: new StateService(components, { appId, namespace: options.namespace, observer, ...(options.resiliency === undefined ? {} : { resiliency: options.resiliency }) }),
    pubsub: new PubSubService(components, { appId, onPublished: options.onPublished, observer, resiliency: options.resiliency }),
    bindings: new BindingsService(components, options.resiliency, observer),
    metadata: new MetadataService({ appId, runtimeVersion: options.runtimeVersion, appConnection: options.appConnection, components, subscriptions: options.subscriptions, middlewares: options.middlewares }),
    health: new HealthService({ appId, components, isReady: options.isReady }),
  };
}
