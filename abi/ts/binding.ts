// The `Binding` interface the bindings building block is written against, over the types of
// `abi/wit/bindings.wit` (generated into `wit/output.ts` and `wit/input.ts`). A building
// block never sees a wasm instance.
import type { Event as BindingEvent, EventOutcome } from './wit/input.ts';
import type { InvokeRequest, InvokeResponse } from './wit/output.ts';

export type { InvokeRequest, InvokeResponse } from './wit/output.ts';
export type { Event as BindingEvent, EventOutcome } from './wit/input.ts';

/** The events of an input binding, read one batch at a time and acknowledged one by one. */
export interface BindingReader {
  /** Whether `read` waits up to its timeout for an event; otherwise it answers at once and the caller paces its polling. */
  readonly canWait: boolean;
  read(maxEvents: number, timeoutMs: number): Promise<BindingEvent[]>;
  ack(eventId: string, outcome: EventOutcome): Promise<void>;
  /** Releases what the reader holds (its instance). */
  close(): Promise<void>;
}

/**
 * A live binding. Every method rejects with a `TesseraError` whose `componentError` carries
 * the component's typed error when the component returned one.
 */
export interface Binding {
  /** Whether the running generation is an input binding (exports `input`). */
  readonly input: boolean;
  /** Whether the running generation is an output binding (exports `output`). */
  readonly output: boolean;
  /** The output operations it supports; none for an input-only binding. */
  operations(): Promise<string[]>;
  /** Invokes an output operation; an operation not in `operations()` is refused without a call. */
  invoke(req: InvokeRequest): Promise<InvokeResponse>;
  /**
   * What `/v1.0/metadata` says of it, at once: its direction (Dapr's `input`, `output` or
   * `input, output`) and its operations as last read (read again after a swap).
   */
  describe(): { direction: string; operations: string[] };
  /** A reader of its input events, following hot swaps. */
  openReader(): Promise<BindingReader>;
  ping(): Promise<void>;
}
