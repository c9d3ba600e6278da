// The state building block's errors with Dapr's codes and messages; a component's typed
// error (etag-mismatch, etag-invalid, invalid-argument) becomes the error's reason, which
// the transports answer with Dapr's status for it.
import type { LoadFailure } from '../../components/types.ts';
import { isTesseraError, TesseraError, type ErrorReason } from '../../errors.ts';
import { componentNotLoaded } from '../component-not-loaded.ts';
import { keepsItsOwnCode } from '../component-refusals.ts';

/** daprd's ErrorInfo metadata for a store it cannot use: the app's id. */
const appMetadata = (appId: string): Record<string, string> => (appId === '' ? {} : { appID: appId });

export function storeNotConfigured(storeName: string, appId: string): TesseraError {
  return new TesseraError('ERR_STATE_STORE_NOT_CONFIGURED', `state store ${storeName} is not configured`, { metadata: appMetadata(appId) });
}

/** A configured store that failed to load: why, and when it is tried again. */
export function storeNotLoaded(storeName: string, failure: LoadFailure): TesseraError {
  return componentNotLoaded('ERR_STATE_STORE_NOT_CONFIGURED', `state store ${storeName}`, failure);
}

export function storeNotFound(storeName: string, appId: string): TesseraError {
  return new TesseraError('ERR_STATE_STORE_NOT_FOUND', `state store ${storeName} is not found`, { metadata: appMetadata(appId) });
}

export function transactionsNotSupported(storeName: string): TesseraError {
  return new TesseraError('ERR_STATE_STORE_NOT_SUPPORTED', `state store ${storeName} doesn't support transactions`);
}

export function unsupportedOperation(operation: string): TesseraError {
  return new TesseraError('ERR_NOT_SUPPORTED_STATE_OPERATION', `operation type ${operation} not supported`);
}

export function keyRequired(): TesseraError {
  return new TesseraError('ERR_MALFORMED_REQUEST', '"key" is a required field');
}

/** Whether a component said the key does not exist, which reads and deletes treat as absence. */
export function isNotFound(err: unknown): boolean {
  return isTesseraError(err) && err.componentError?.tag === 'not-found';
}

export type FailedOperation =
  | { op: 'get'; storeName: string; key: string }
  | { op: 'bulk-get'; storeName: string }
  | { op: 'save'; storeName: string }
  | { op: 'delete'; storeName: string; key: string }
  | { op: 'bulk-delete'; storeName: string }
  | { op: 'transaction'; storeName: string };

/**
 * Turns a failed store call into Dapr's error for that operation. A trap, a crash loop or a
 * refusal (busy, throttled) keeps its own code and message (component-refusals.ts).
 */
export function operationFailed(err: unknown, failed: FailedOperation): TesseraError {
  if (keepsItsOwnCode(err)) return err;
  const componentError = isTesseraError(err) ? err.componentError : undefined;
  let detail = componentError?.val ?? (err instanceof Error ? err.message : String(err));
  let reason: ErrorReason | undefined;
  switch (componentError?.tag) {
    case 'etag-mismatch':
      reason = 'etag-mismatch';
      detail = `possible etag mismatch. error from state store: ${detail}`;
      break;
    case 'etag-invalid':
      reason = 'etag-invalid';
      detail = `invalid etag value: ${detail}`;
      break;
    case 'invalid-argument':
      reason = 'invalid-argument';
      break;
  }
  const options = { reason, componentError, cause: err };
  switch (failed.op) {
    case 'get':
      return new TesseraError('ERR_STATE_GET', `fail to get ${failed.key} from state store ${failed.storeName}: ${detail}`, options);
    case 'bulk-get':
      return new TesseraError('ERR_STATE_BULK_GET', detail, options);
    case 'save':
      return new TesseraError('ERR_STATE_SAVE', `failed saving state in state store ${failed.storeName}: ${detail}`, options);
    case 'delete':
      return new TesseraError('ERR_STATE_DELETE', `failed deleting state with key ${failed.key}: ${detail}`, options);
    case 'bulk-delete':
      return new TesseraError('ERR_STATE_BULK_DELETE', `failed deleting state in state store ${failed.storeName}: ${detail}`, options);
    case 'transaction':
      return new TesseraError('ERR_STATE_TRANSACTION', `error while executing state transaction: ${detail}`, options);
  }
}
