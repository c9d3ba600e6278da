// W3C trace context for published events: the caller's `traceparent` when it sent a valid
// one, else a fresh one, so every event carries a trace id as Dapr's do.
import { randomBytes } from 'node:crypto';

const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

export interface TraceContext {
  traceparent: string;
  tracestate: string;
}

function isValidTraceparent(value: string): boolean {
  if (!TRACEPARENT.test(value) || value.startsWith('ff-')) return false;
  const [, traceId, spanId] = value.split('-');
  return traceId !== ZERO_TRACE && spanId !== ZERO_SPAN;
}

export function newTraceparent(): string {
  return `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`;
}

/** The trace context of a request, from its `traceparent` and `tracestate` headers. */
export function traceContextOf(traceparent: string | undefined, tracestate: string | undefined): TraceContext {
  const given = traceparent?.trim().toLowerCase();
  if (given !== undefined && isValidTraceparent(given)) return { traceparent: given, tracestate: tracestate?.trim() ?? '' };
  return { traceparent: newTraceparent(), tracestate: '' };
}
