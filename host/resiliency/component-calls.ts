// The sidecar's calls to its components under their outbound policies (state calls, publishes,
// output bindings): what counts as a failure worth a retry, and how a policy's own refusals
// (a timeout, an open breaker) reach the building block, which answers them with its Dapr code.
// A component's answer about the request itself (an ETag mismatch, a missing key, a refused
// argument) is no failure of the component: it is neither retried nor counted by a breaker.
import { isTesseraError } from '../errors.ts';
import { hasPolicies, runWithPolicy } from './policy-runner.ts';
import type { ComponentFamily, Resiliency } from './resiliency.ts';

const ANSWERS = new Set(['etag-mismatch', 'etag-invalid', 'invalid-argument', 'not-found']);

/** Whether `err` is the component's answer to the request rather than a failure of the component. */
export function isAnswer(err: unknown): boolean {
  return isTesseraError(err) && err.componentError !== undefined && ANSWERS.has(err.componentError.tag);
}

/**
 * Runs `op` (a call to component `name`) under its outbound policy, or once as it is when no
 * resiliency is configured. A timed-out attempt is abandoned, not stopped: the component's
 * own call deadline (`tessera.dev/call-timeout`) bounds it.
 */
export function outbound<T>(resiliency: Resiliency | undefined, name: string, family: ComponentFamily, op: () => Promise<T>): Promise<T> {
  if (resiliency === undefined) return op();
  const policy = resiliency.componentOutbound(name, family);
  if (!hasPolicies(policy)) return op();
  return runWithPolicy(policy, op, { isFailure: (err) => !isAnswer(err) });
}
