// A WIT `result` as the adapters (and tests) read it: the `ok` value, or a TesseraError
// carrying the component's typed error.
import type { WitError, WitResult } from '../../../abi/ts/types.ts';
import { TesseraError } from '../../errors.ts';

/** Unwraps a WIT `result`, turning `err` into a TesseraError carrying the component's typed error. */
export function unwrapResult<T>(component: string, fn: string, result: WitResult<T>): T {
  if (result.tag === 'ok') return result.val;
  const e: WitError = result.val;
  throw new TesseraError('ERR_INTERNAL', `component "${component}" ${fn}: ${e.tag}: ${e.val}`, { componentError: e });
}
