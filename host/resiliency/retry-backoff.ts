// The waits of a retry policy between attempts, as Dapr's (cenkalti/backoff) computes them:
// `constant` waits `duration` each time; `exponential` starts at `initialInterval`, multiplies
// by `multiplier` up to `maxInterval`, each wait randomised by ± `randomizationFactor`.
import type { RetryPolicy } from './resiliency-document.ts';

/** The wait before retry number `retry` (0 for the first retry), in ms. */
export function backoffMs(policy: RetryPolicy, retry: number, random: () => number = Math.random): number {
  if (policy.policy === 'constant') return policy.durationMs;
  const base = Math.min(policy.initialIntervalMs * policy.multiplier ** retry, policy.maxIntervalMs);
  const delta = policy.randomizationFactor * base;
  return Math.max(0, Math.min(base - delta + random() * 2 * delta, policy.maxIntervalMs));
}

/** Whether a failure with these statuses may be retried by `policy`: any failure when it matches nothing, else one whose status it lists. */
export function retriable(policy: RetryPolicy, status: { http?: number; grpc?: number }): boolean {
  if (status.http !== undefined && policy.httpStatusCodes !== undefined) return policy.httpStatusCodes.has(status.http);
  if (status.grpc !== undefined && policy.grpcStatusCodes !== undefined) return policy.grpcStatusCodes.has(status.grpc);
  return true;
}
