// The shape every host capability shares: one WIT interface, the host functions behind it
// (keyed by WIT function name, taking and returning lifted values), which of them suspend
// the component (JSPI), and, for a capability that must be granted, its grant: the
// annotation that grants it in a Component YAML, its parser, and its load-time check. A
// capability is described once, in its own file; the host derives everything else from
// the descriptor (capabilities/index.ts).
import type { Logger } from '../../observability/logger.ts';

/**
 * What a component's YAML grants it: each granted capability's parsed grant, by WIT
 * interface name. Plain data: it crosses threads (`tessera.dev/isolation: thread`) and is
 * compared as JSON to tell whether a component's configuration changed.
 */
export type Grants = Readonly<Record<string, unknown>>;

export const NO_GRANTS: Grants = {};

export interface CapabilityContext<G = unknown> {
  /** The component's name, for logs and error messages. */
  component: string;
  logger: Logger;
  /** The capability's own parsed grant; undefined for a capability that needs none. */
  grant: G;
  /** Registers cleanup to run when the instance is dropped (sockets, timers). */
  onDispose(cleanup: () => void): void;
  /**
   * State the instances of one component share (a pool's, or one instance's when it has no
   * pool), by a key the capability picks: a connection several instances use. Whatever a
   * capability keeps here it releases when its last instance's `onDispose` runs.
   */
  shared: Map<string, unknown>;
  /** The most memory the component's instance may have: no answer bigger than this fits in it. */
  memoryLimitBytes: number;
}

export type HostFunction = (...args: any[]) => unknown;

/** How a component of a given name uses a capability, for the load-time check. */
export interface CapabilityUse<G> {
  component: string;
  /** Whether the component imports the capability's interface. */
  imported: boolean;
  /** Its parsed grant, when its YAML grants it. */
  grant: G | undefined;
}

/** A capability a component may use only when its YAML grants it. */
export interface GrantSpec<G> {
  /** The Component YAML annotation that grants it, e.g. `tessera.dev/allow-tcp`. */
  readonly annotation: string;
  /**
   * Parses the annotation's value into the grant (plain data); throws an Error saying what
   * is wrong with the value (the caller names the annotation, the component and the file).
   */
  parse(value: string): G;
  /**
   * Problems the loaded component should be told of, beyond the ones every grant has (the
   * capability imported but not granted, or granted but not imported); none when omitted.
   */
  check?(use: CapabilityUse<G>): string[];
  /**
   * Set when the capability is granted by another's annotation and takes its grant as it is
   * (`redis` by tcp's `tessera.dev/allow-tcp`): the interface of that other capability.
   */
  readonly sharedWith?: string;
}

export interface Capability<G = unknown> {
  /** The WIT interface this capability implements, e.g. `log`. */
  readonly interface: string;
  /** Functions that return a promise; the component suspends on them. */
  readonly async: ReadonlySet<string>;
  /**
   * Set when every call does a fixed, tiny amount of work and returns no list (`clock`): it is
   * charged a flat cost instead of being timed, since reading the clock twice would cost more
   * than the call itself on a component's hottest path.
   */
  readonly flatCost?: boolean;
  /**
   * Set when a component may use the capability only if its YAML grants it: without the
   * grant every call of it is refused (calls returning the ABI's `error` get `invalid-argument`,
   * others trap), and `/v1.0/metadata` says so from the moment the component is loaded.
   */
  readonly grant?: GrantSpec<G>;
  /**
   * The WIT that defines the interface when it is not in abi/wit (a capability added
   * from outside the package, as tests do): a source of package `tessera:components`.
   */
  readonly wit?: string;
  /** The host functions for one component instance (only called when the grant, if any, is given). */
  build(ctx: CapabilityContext<G>): Record<string, HostFunction>;
}
