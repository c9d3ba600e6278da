// The shape every host capability shares: one WIT interface, the host functions behind it
// (keyed by WIT function name, taking and returning lifted values), and which of them
// suspend the component (JSPI). Grants are checked once, when a component is loaded.
import type { Logger } from '../../observability/logger.ts';

/** What a component's YAML grants it beyond the default capabilities. */
export interface Grants {
  /** `host:port` pairs the `tcp` capability may connect to (`tessera.dev/allow-tcp`). */
  tcp: readonly string[];
}

export const NO_GRANTS: Grants = { tcp: [] };

export interface CapabilityContext {
  /** The component's name, for logs and error messages. */
  component: string;
  logger: Logger;
  grants: Grants;
  /** Registers cleanup to run when the instance is dropped (sockets, timers). */
  onDispose(cleanup: () => void): void;
}

export type HostFunction = (...args: any[]) => unknown;

export interface Capability {
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
  /** The host functions for one component instance. */
  build(ctx: CapabilityContext): Record<string, HostFunction>;
}
