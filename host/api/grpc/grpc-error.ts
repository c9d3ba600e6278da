// The one place an error becomes a gRPC status: the code of grpc-status.ts, the message,
// and Dapr's ErrorInfo in the `grpc-status-details-bin` trailer (rich-status.ts). Anything
// that is not a TesseraError is an internal error.
import { Metadata, type StatusObject } from '@grpc/grpc-js';
import { isTesseraError, TesseraError } from '../../errors.ts';
import { errorInfoOf } from '../error-info.ts';
import { grpcStatusOf } from './grpc-status.ts';
import { encodeStatusDetails, STATUS_DETAILS_KEY } from './rich-status.ts';

export function asTesseraError(err: unknown): TesseraError {
  return isTesseraError(err) ? err : new TesseraError('ERR_INTERNAL', err instanceof Error ? err.message : String(err), { cause: err });
}

/** The status a failed call answers with. */
export function grpcErrorStatus(err: unknown): StatusObject {
  const error = asTesseraError(err);
  const code = grpcStatusOf(error);
  const metadata = new Metadata();
  metadata.set(STATUS_DETAILS_KEY, encodeStatusDetails(code, error.message, errorInfoOf(error)));
  return { code, details: error.message, metadata };
}
