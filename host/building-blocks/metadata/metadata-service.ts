// Dapr's metadata API below the transports: the document GET /v1.0/metadata (and gRPC's
// GetMetadata) answers with, in daprd's shape plus Tessera's `componentStatus` (every
// component and every file that failed, with why) and `subscriptionStatus` (every
// subscription not delivered, with why); and the extended attributes an app sets.
import type { ComponentDirectory, ComponentInfo } from '../../components/types.ts';

/** The app's pub/sub subscriptions: those delivered, and those that are not, with why. */
export interface SubscriptionDirectory {
  list(): Record<string, unknown>[];
  problems(): object[];
}

/** How the sidecar reaches the app, as daprd's `appConnectionProperties` shows it. */
export interface AppConnectionProperties {
  /** Left out without `--app-port`. */
  port?: number;
  protocol: string;
  channelAddress: string;
  /** Left out when there is no limit. */
  maxConcurrency?: number;
  /** Only with `--enable-app-health-check`; durations as Go writes them (`5s`, `500ms`). */
  health?: {
    /** HTTP only. */
    healthCheckPath?: string;
    healthProbeInterval: string;
    healthProbeTimeout: string;
    healthThreshold: number;
  };
}

export interface MetadataServiceOptions {
  appId: string;
  runtimeVersion: string;
  appConnection?: AppConnectionProperties | undefined;
  components: Pick<ComponentDirectory, 'list'>;
  subscriptions?: SubscriptionDirectory | undefined;
  /** The middleware Components (host built-ins, as `middleware.http.ratelimit`), which daprd lists with the others. */
  middlewares?: (() => readonly RegisteredComponent[]) | undefined;
}

/** A loaded component as daprd lists it. */
export interface RegisteredComponent {
  name: string;
  type: string;
  version: string;
  capabilities: string[];
}

/** The metadata document; its fields in the order daprd writes them, Tessera's own last. */
export interface MetadataDocument {
  id: string;
  runtimeVersion: string;
  enabledFeatures: string[];
  actors: never[];
  components: RegisteredComponent[];
  /** The app's attributes, then `daprRuntimeVersion`, which daprd still reports for older clients. */
  extended: Record<string, string>;
  subscriptions: Record<string, unknown>[];
  httpEndpoints: never[];
  appConnectionProperties: AppConnectionProperties;
  actorRuntime: { runtimeStatus: 'DISABLED'; hostReady: false };
  /** Tessera's own: every component, loaded or failed, with its status and why. */
  componentStatus: ComponentInfo[];
  /** Tessera's own: subscriptions not delivered (invalid, or waiting for their pubsub). */
  subscriptionStatus: object[];
}

export class MetadataService {
  readonly #options: MetadataServiceOptions;
  readonly #extended = new Map<string, string>();

  constructor(options: MetadataServiceOptions) {
    this.#options = options;
  }

  document(): MetadataDocument {
    const { appId, runtimeVersion, components, subscriptions } = this.#options;
    const listed = components.list();
    return {
      id: appId,
      runtimeVersion,
      enabledFeatures: [],
      actors: [],
      components: listed
        .filter((c) => c.status !== 'failed')
        .map((c): RegisteredComponent => ({ name: c.name, type: c.type ?? '', version: c.version ?? '', capabilities: c.capabilities }))
        .concat(this.#options.middlewares?.() ?? []),
      extended: { ...Object.fromEntries(this.#extended), daprRuntimeVersion: runtimeVersion },
      subscriptions: subscriptions?.list() ?? [],
      httpEndpoints: [],
      appConnectionProperties: this.#options.appConnection ?? { protocol: 'http', channelAddress: '127.0.0.1' },
      actorRuntime: { runtimeStatus: 'DISABLED', hostReady: false },
      componentStatus: listed,
      subscriptionStatus: subscriptions?.problems() ?? [],
    };
  }

  /** Sets an extended attribute; an empty key is ignored, as daprd does. */
  setExtended(key: string, value: string): void {
    if (key !== '') this.#extended.set(key, value);
  }
}
