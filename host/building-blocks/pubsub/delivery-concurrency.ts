// How many messages of one subscription may be at the app at once, with Dapr's knobs
// (components-contrib pubsub/concurrency.go and the brokers' metadata):
//   concurrencyMode        `single` (one at a time, in order) or `parallel` (the default)
//   maxConcurrentHandlers  the most in flight when parallel (default 16)
// read from the subscription's metadata first, then the Component's. Without either mode,
// a broker that promises order (it advertises the feature ORDERED_DELIVERY, as a stream or
// a FIFO queue may) is delivered in order; every other broker in parallel, since a broker
// that does not promise order gives the app no order to keep.
import { invalidSubscription } from './pubsub-errors.ts';

export const CONCURRENCY_MODE = 'concurrencyMode';
export const MAX_CONCURRENT_HANDLERS = 'maxConcurrentHandlers';
/** The feature a broker advertises when it hands out a topic's messages in publish order. */
export const ORDERED_DELIVERY_FEATURE = 'ORDERED_DELIVERY';
export const DEFAULT_MAX_CONCURRENT_HANDLERS = 16;

export interface DeliveryConcurrency {
  /** One message at a time, each acknowledged before the next is sent. */
  ordered: boolean;
  /** Most messages (or bulk batches) at the app at once: 1 when ordered. */
  limit: number;
}

type Lookup = (name: string) => string | undefined;

function modeOf(get: Lookup, where: string): 'single' | 'parallel' | undefined {
  const mode = get(CONCURRENCY_MODE);
  if (mode === undefined || mode === '') return undefined;
  if (mode === 'single' || mode === 'parallel') return mode;
  throw invalidSubscription(where, `metadata ${CONCURRENCY_MODE} must be "single" or "parallel", got ${JSON.stringify(mode)}`);
}

function handlersOf(get: Lookup, where: string): number | undefined {
  const value = get(MAX_CONCURRENT_HANDLERS);
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw invalidSubscription(where, `metadata ${MAX_CONCURRENT_HANDLERS} must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return n;
}

/** Checks a subscription's own concurrency metadata; throws ERR_COMPONENT_CONFIG naming `where`. */
export function checkConcurrencyMetadata(metadata: Record<string, string>, where: string): void {
  const get: Lookup = (name) => metadata[name];
  modeOf(get, where);
  handlersOf(get, where);
}

/**
 * The concurrency of a subscription's deliveries: its metadata, else its Component's, else
 * the broker's order promise. Throws ERR_COMPONENT_CONFIG naming `where` for a bad value.
 */
export function deliveryConcurrency(
  subscription: Record<string, string>,
  component: ReadonlyMap<string, string>,
  features: ReadonlySet<string>,
  where: string,
): DeliveryConcurrency {
  const fromSubscription: Lookup = (name) => subscription[name];
  const fromComponent: Lookup = (name) => component.get(name);
  const mode = modeOf(fromSubscription, where) ?? modeOf(fromComponent, `${where}, its pubsub component`);
  const ordered = mode === undefined ? features.has(ORDERED_DELIVERY_FEATURE) : mode === 'single';
  if (ordered) return { ordered, limit: 1 };
  const limit = handlersOf(fromSubscription, where) ?? handlersOf(fromComponent, `${where}, its pubsub component`) ?? DEFAULT_MAX_CONCURRENT_HANDLERS;
  return { ordered, limit };
}
