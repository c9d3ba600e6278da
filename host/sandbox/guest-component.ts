// What the component handle (host/components/component-handle.ts) needs of one generation
// of a component, whichever way it runs: inline on the event loop (LiveComponent) or on a
// worker thread (`tessera.dev/isolation: thread`). Policy lives above; this is one
// generation's instance(s), their calls and their life cycle.
import type { CompiledComponent } from './compiled-component.ts';

/**
 * A component's data as its `snapshot` export(s) produced it: the chunks in order (one
 * chunk from the whole-snapshot export). Their concatenation is the component's snapshot
 * format, so a generation may restore what another produced either way.
 */
export type SnapshotData = readonly Uint8Array[];

/** What a generation holds now, read when metrics are scraped. */
export interface ComponentUsage {
  /** Linear memory of its live instances. */
  memoryBytes: number;
  /** CPU fuel its live instances burnt (an instance dropped takes its count with it). */
  fuelConsumed: number;
  /** Live instances (0 while hibernating). */
  instances: number;
}

export interface GuestComponent {
  readonly name: string;
  readonly compiled: CompiledComponent;
  readonly config: ReadonlyMap<string, string>;
  readonly loadedAt: Date;
  /** Features the component advertised at start. */
  readonly features: ReadonlySet<string>;
  /** Whether the module can hand its data to another generation (`snapshot`). */
  readonly supportsSnapshot: boolean;
  /** True while no instance is alive (hibernating, or dropped after a trap). */
  readonly idle: boolean;
  /**
   * Calls an export with lifted arguments and resolves to its lifted result. A component
   * error (`result::err`) is a value; only a failure of the guest (or of its limits) rejects.
   */
  call(fn: string, args: unknown[]): Promise<unknown>;
  /** The component's data, after the calls already queued; rejects when it cannot be taken. */
  snapshot(): Promise<SnapshotData | undefined>;
  /** Hands data of an earlier generation to this one, before it serves. */
  restore(data: SnapshotData): Promise<void>;
  /** Gives up the instance, keeping its data; rejects (and keeps the instance) when the data cannot be kept. */
  hibernate(): Promise<void>;
  /** Its memory, fuel and instances now; absent where they cannot be read from this thread (`isolation: thread`). */
  usage?(): ComponentUsage;
  /** Stops new work; resolves once what was queued has finished and the instance is dropped. */
  close(): Promise<void>;
}
