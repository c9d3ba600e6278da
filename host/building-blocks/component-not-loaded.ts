// A call to a component that is configured but failed to load. daprd has no such state (a
// component whose init fails stops it, or with `ignoreErrors` is left out and then "not
// found"); Tessera keeps retrying it, so the call says why it is not there and when it is
// tried again, with the building block's "not configured" code and the reason `not-loaded`,
// which the transports answer 503 / UNAVAILABLE: worth retrying, not the caller's fault.
import type { LoadFailure } from '../components/types.ts';
import { TesseraError, type ErrorCode } from '../errors.ts';

/** `what` names the component as the building block says it (`state store orders`). */
export function componentNotLoaded(code: ErrorCode, what: string, failure: LoadFailure): TesseraError {
  const retry = failure.nextRetryAt === undefined ? '' : `; tried again at ${failure.nextRetryAt}`;
  return new TesseraError(code, `${what} failed to load: ${failure.error}${retry}`, { reason: 'not-loaded' });
}
