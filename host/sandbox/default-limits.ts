// The limits a component runs under unless its YAML sets others (components/limits.ts reads
// those annotations). Apart from the code that enforces them, so that reading a YAML file
// (on the load worker) does not load the sandbox.

/** Default cap on a component instance's linear memory. */
export const DEFAULT_MEMORY_LIMIT_BYTES = 128 * 1024 * 1024;

/**
 * Default fuel per call: the most CPU one call may burn in all, about one unit per wasm
 * instruction (weighted where one costs more: memory accesses, divisions, memory.grow, bulk
 * operations) and per nanosecond of host calls. How long a call may hold the event loop at a
 * stretch is bounded apart from it, by the clock (call-meter.ts, `tessera.dev/cpu-slice`).
 */
export const DEFAULT_CPU_BUDGET = 200_000_000;

/** Default `tessera.dev/cpu-slice`: the longest a call holds the event loop at a stretch. */
export const DEFAULT_CPU_SLICE_MS = 20;

/** Default share of the event loop one component may use over a rolling second. */
export const DEFAULT_CPU_SHARE = 0.5;

/** Calls a component may have waiting by default (`tessera.dev/queue-limit`). */
export const DEFAULT_QUEUE_LIMIT = 1000;

/** Instances a pooled component may run at once by default (`tessera.dev/max-instances`). */
export const DEFAULT_MAX_INSTANCES = 8;

/** Where a component's guest runs (`tessera.dev/isolation`): on the event loop, or on a worker thread of its own. */
export const ISOLATIONS = ['inline', 'thread'] as const;
export type Isolation = (typeof ISOLATIONS)[number];
