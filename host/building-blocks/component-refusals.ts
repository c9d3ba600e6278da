// The errors of a component call that keep their own code and message through a building
// block, instead of becoming its operation's error (ERR_STATE_GET, ...): a trap or a crash
// loop, so the user sees which component failed, and a refusal to take the call at all (its
// queue is full, its CPU share spent), so the caller gets 429 / RESOURCE_EXHAUSTED, and knows
// to come back later, rather than a 500.
import { isTesseraError, type TesseraError } from '../errors.ts';

/** The component did not take the call: too many waiting (queue-limit) or its CPU share spent. */
export function isRefusal(err: unknown): err is TesseraError {
  return isTesseraError(err, 'ERR_COMPONENT_BUSY') || isTesseraError(err, 'ERR_COMPONENT_THROTTLED');
}

export function keepsItsOwnCode(err: unknown): err is TesseraError {
  return isTesseraError(err, 'ERR_COMPONENT_TRAP') || isTesseraError(err, 'ERR_COMPONENT_UNHEALTHY') || isRefusal(err);
}
