// What the component layer shows the layers above it: a status per component (for
// `/v1.0/metadata`) and a typed lookup of live components by kind (for the building blocks).
import type { ComponentKind } from '../../abi/ts/manifest.ts';
import type { PubSub } from '../../abi/ts/pubsub.ts';
import type { StateStore } from '../../abi/ts/state.ts';
import type { KindApi, KindDescriptor } from '../sandbox/kinds/kind.ts';

/**
 * `ready`: serving; `hibernating`: idle, its instance given up until the next call;
 * `unhealthy`: in a crash loop, failing calls fast; `failed`: never loaded.
 */
export type ComponentStatus = 'ready' | 'hibernating' | 'unhealthy' | 'failed';

/** One component as `/v1.0/metadata` reports it, loaded or not. */
export interface ComponentInfo {
  /** The component name: a YAML's `metadata.name`, or a bare `.wasm`'s file stem. */
  name: string;
  /** The component kind (host/sandbox/kinds/), when known (not known for a file that failed to parse). */
  kind?: ComponentKind;
  /** The Dapr type, e.g. `state.memory`, when known. */
  type?: string;
  /** The Dapr component version, e.g. `v1`. */
  version?: string;
  /** Features the component advertised (`ETAG`, `TRANSACTIONAL`, `TTL`, ...). */
  capabilities: string[];
  status: ComponentStatus;
  /** The file that defines the component (YAML or `.wasm`). */
  source: string;
  /** The `.wasm` module that implements it, when resolved. */
  module?: string;
  /** sha256 (hex) of the module bytes, when loaded. */
  sha256?: string;
  /** ISO time the running instance was loaded. */
  loadedAt?: string;
  /** The running generation: 1 at first load, +1 for each swap. */
  generation?: number;
  /** Traps within the component's crash-loop window. */
  recentTraps?: number;
  /** The last error: a failed load of a new version (the old one keeps serving) or the last trap. */
  error?: string;
  /**
   * What the component was told at load about its grants: a capability it imports that its
   * YAML does not grant (its calls are refused), a grant it does not use.
   */
  warnings?: string[];
  /** Starts that failed in a row; it is tried again at `nextRetryAt`. */
  failedStarts?: number;
  /** ISO time of the next try of a component whose start failed; absent while a try is under way. */
  nextRetryAt?: string;
  /** Other definitions of the same name, refused: this one holds the name. */
  duplicates?: { source: string; error: string }[];
  /** What its kind adds (a binding: `direction` and `operations`). */
  details?: Readonly<Record<string, unknown>>;
}

/** Why a configured component is not there to call: its load failed. */
export interface LoadFailure {
  /** The load error, naming the file. */
  error: string;
  /** ISO time of the next try, when it is retried. */
  nextRetryAt?: string;
}

/** One generation of a component, for the admin API. */
export interface GenerationInfo {
  generation: number;
  sha256: string;
  module: string;
  loadedAt: string;
}

/** A live component of some kind: its building block's typed interface, with the configuration from its Component YAML. */
export interface LiveComponentOf<Api> {
  readonly name: string;
  /** The Component YAML's `spec.metadata` (name -> value), with what its kind adds; empty for a bare `.wasm`. */
  readonly config: ReadonlyMap<string, string>;
  /** What the kind's adapter makes of the component (a `StateStore`, a `PubSub`, ...). */
  readonly api: Api;
}

/** How building blocks find live components, whatever their kind. */
export interface ComponentLookup {
  /** The ready component `name` of `kind`, or undefined when there is none. */
  lookup<Api extends KindApi>(kind: KindDescriptor<Api>, name: string): LiveComponentOf<Api> | undefined;
  /** How many components of `kind` are configured (ready or not): Dapr's "not configured" check. */
  countOf(kind: KindDescriptor<KindApi>): number;
  /** Names of the ready components of `kind`. */
  namesOf(kind: KindDescriptor<KindApi>): string[];
  /** Why the component `name` of `kind` is not running, when it is configured and failed to load. */
  failureOf(kind: KindDescriptor<KindApi>, name: string): LoadFailure | undefined;
}

/** A live state store with the configuration from its Component YAML. */
export interface LiveStateStore {
  readonly name: string;
  /** The Component YAML's `spec.metadata` (name -> value); empty for a bare `.wasm`. */
  readonly config: ReadonlyMap<string, string>;
  readonly store: StateStore;
}

/** How building blocks find state stores. */
export interface StateStoreLookup {
  /** The named store, or undefined when no ready store has that name. */
  getStateStore(name: string): LiveStateStore | undefined;
  /** How many state stores are configured (ready or not): Dapr's "not configured" check. */
  stateStoreCount(): number;
  /** Why the named store is not running, when it is configured and failed to load. */
  stateStoreFailure(name: string): LoadFailure | undefined;
}

/** A live pub/sub broker with the configuration from its Component YAML. */
export interface LivePubSub {
  readonly name: string;
  readonly config: ReadonlyMap<string, string>;
  readonly pubsub: PubSub;
}

/** How building blocks find pub/sub brokers. */
export interface PubSubLookup {
  getPubSub(name: string): LivePubSub | undefined;
  /** How many pub/sub components are configured (ready or not). */
  pubSubCount(): number;
  /** Why the named broker is not running, when it is configured and failed to load. */
  pubSubFailure(name: string): LoadFailure | undefined;
  /** Names of the ready pub/sub components, for subscriptions that must be (re)started. */
  pubSubNames(): string[];
}

/** The component layer as the API layer sees it. */
export interface ComponentDirectory extends ComponentLookup, StateStoreLookup, PubSubLookup {
  /** Every component and every file that failed to load, for `/v1.0/metadata`. */
  list(): ComponentInfo[];
  /** Pings every ready component; resolves to the names that failed, and those that failed to load (for outbound health). */
  pingAll(): Promise<string[]>;
  /** The running and earlier generations of a loaded component, newest first. */
  generations(name: string): { current: GenerationInfo; previous: GenerationInfo[] };
  /** Brings back a component's previous generation. */
  rollback(name: string): Promise<GenerationInfo>;
}
