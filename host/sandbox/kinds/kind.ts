// What the host knows of a component kind, in one descriptor per kind (state-store.ts,
// pubsub-broker.ts; the table is index.ts): the WIT worlds a component of the kind
// implements, its Dapr type prefix, how a live component becomes the building block's
// typed interface, what `/v1.0/metadata` reports of it, the configuration Dapr adds for
// it, and whether a generation may run several instances. The registry, the ABI contract,
// the manifest check and metadata derive from these; a new kind is its WIT, its descriptor
// and a line in the table.

/** Anything that calls a component's exports by name: one generation, or a handle over all of them. */
export interface ComponentCallable {
  readonly name: string;
  readonly features: ReadonlySet<string>;
  call(fn: string, args: unknown[]): Promise<unknown>;
}

/** A callable instance owned by one user (a pub/sub subscription). */
export interface DedicatedInstance {
  call(fn: string, args: unknown[]): Promise<unknown>;
  close(): Promise<void>;
}

/** What an adapter gets of a loaded component: calls to its running generation, across swaps. */
export interface AdapterHost extends ComponentCallable {
  /** The running generation's number; changes on a swap. */
  readonly generation: number;
  /** Whether a call may wait (the component imports a capability that suspends). */
  readonly blocking: boolean;
  /** The optional interfaces the running generation exports (`snapshot`, a binding's `input`). */
  readonly exports: ReadonlySet<string>;
  /** A fresh instance of the running generation, initialised with the component's config. */
  dedicatedInstance(): Promise<DedicatedInstance>;
}

/** What every kind's typed interface offers: a health check (`/v1.0/healthz/outbound`). */
export interface KindApi {
  ping(): Promise<void>;
}

/**
 * `pooled`: a generation may run several instances at once, when that is safe: the
 * component can suspend (so one call may wait while others run) and does not keep its data
 * in its own memory (it exports no `snapshot`, which a pool would split). `single`: always
 * one instance.
 */
export type InstancePolicy = 'pooled' | 'single';

/** What decides, with the kind's policy, whether a component's instances may be pooled. */
export interface InstanceTraits {
  /** It imports a capability that suspends. */
  suspends: boolean;
  /** It exports `snapshot` or `snapshot-stream`: its data lives in its memory. */
  keepsData: boolean;
}

export interface KindDescriptor<Api extends KindApi = KindApi> {
  /** The manifest's `kind`, e.g. `state-store`. */
  readonly kind: string;
  /** The Dapr type prefix of its components, e.g. `state.`: a manifest's `type` starts with it. */
  readonly typePrefix: string;
  /**
   * The WIT world a component of the kind implements. It exports one interface, which has
   * `init(config)` (called once per instance) and `ping()`, and may have `features()`.
   */
  readonly world: string;
  /** Worlds that extend it with optional exports (`snapshot`): a module exporting one function of one must export all of it. */
  readonly extensions: readonly string[];
  /**
   * WIT that defines the worlds (and their interfaces) when they are not in abi/wit (a kind
   * added from outside the package, as tests do): a source of package `tessera:components`.
   */
  readonly wit?: string;
  /**
   * Why a module's set of optional exports is not one the kind accepts (a binding must export
   * `input` or `output`, or both); undefined when it is. Every set is accepted when omitted.
   */
  checkExports?(exported: ReadonlySet<string>): string | undefined;
  /** The building block's typed interface over a live component. */
  adapt(host: AdapterHost): Api;
  /** The configuration Dapr adds for the kind (a broker's `consumerID`); the config as given when omitted. */
  withDefaults?(config: ReadonlyMap<string, string>, context: { appId: string }): ReadonlyMap<string, string>;
  /** Features a component has by exporting an optional interface (a store exporting `query` has `QUERY_API`), beside those its `features()` lists. */
  readonly exportFeatures?: Readonly<Record<string, string>>;
  /** The `capabilities` `/v1.0/metadata` lists (daprd's word) from the features the component advertised; the features when omitted. */
  reportedCapabilities?(features: ReadonlySet<string>): string[];
  /** Fields `/v1.0/metadata` adds to the component's status (a binding's direction and operations); none when omitted. */
  describe?(api: Api): Readonly<Record<string, unknown>>;
  /** Whether a generation may run a pool of instances (see InstancePolicy). */
  readonly instances: InstancePolicy;
}

/** Whether a component of a kind with `policy` may run a pool of instances. */
export function mayPool(policy: InstancePolicy, traits: InstanceTraits): boolean {
  return policy === 'pooled' && traits.suspends && !traits.keepsData;
}
