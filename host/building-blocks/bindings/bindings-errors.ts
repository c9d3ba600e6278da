// The bindings building block's errors, with daprd's codes and messages
// (pkg/api/http/http.go onOutputBindingMessage, pkg/runtime's sendToOutputBinding): a body
// that is not JSON is 400 ERR_MALFORMED_REQUEST; everything else about an output binding —
// unknown, not an output binding, no operation, an operation it lacks, a failure inside it —
// is ERR_INVOKE_OUTPUT_BINDING, naming the binding and the cause.
import type { LoadFailure } from '../../components/types.ts';
import { isTesseraError, TesseraError } from '../../errors.ts';
import { isRefusal } from '../component-refusals.ts';
import { componentNotLoaded } from '../component-not-loaded.ts';

export function malformedBindingRequest(detail: string): TesseraError {
  return new TesseraError('ERR_MALFORMED_REQUEST', `failed deserializing HTTP body: ${detail}`);
}

/** daprd's wrapper around every output binding failure. */
function invokeFailed(name: string, detail: string, cause?: unknown): TesseraError {
  return new TesseraError('ERR_INVOKE_OUTPUT_BINDING', `error invoking output binding ${name}: ${detail}`, { cause, metadata: { name, error: detail } });
}

export function bindingNotFound(name: string, outputs: readonly string[]): TesseraError {
  const known = outputs.length === 0 ? 'no output binding is loaded' : `output bindings: ${outputs.join(', ')}`;
  return invokeFailed(name, `couldn't find output binding ${name} (${known})`);
}

export function bindingNotLoaded(name: string, failure: LoadFailure): TesseraError {
  return componentNotLoaded('ERR_INVOKE_OUTPUT_BINDING', `error invoking output binding ${name}: output binding ${name}`, failure);
}

export function notAnOutputBinding(name: string): TesseraError {
  return invokeFailed(name, `binding ${name} is an input binding (direction input): it has no output operations`);
}

export function operationMissing(name: string): TesseraError {
  return invokeFailed(name, 'operation field is missing from request');
}

/** What the binding said, or the host's own error when the call itself failed (a trap, a timeout); a refusal (busy, throttled) keeps its own code. */
export function bindingFailed(name: string, err: unknown): TesseraError {
  if (isRefusal(err)) return err;
  if (isTesseraError(err, 'ERR_INVOKE_OUTPUT_BINDING') && err.message.startsWith('error invoking output binding')) return err;
  const detail = isTesseraError(err) ? (err.componentError === undefined ? err.message : `${err.componentError.tag}: ${err.componentError.val}`) : String(err);
  return invokeFailed(name, detail, err);
}
