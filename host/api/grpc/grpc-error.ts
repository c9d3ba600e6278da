// The one place an error becomes a gRPC status: the code of grpc-status.ts, the message,
// and Dapr's ErrorInfo in the `grpc-status-details-bin` trailer (rich-status.ts). Anything
// that is not a TesseraError is an internal error, but a PassedGrpcStatus, which is sent as it is.
import { Metadata, type StatusObject } from '@grpc/grpc-js';
import { isTesseraError, TesseraError } from '../../errors.ts';
import { errorInfoOf, type ErrorInfo } from '../error-info.ts';
import { grpcStatusOf } from './grpc-status.ts';
import { STATUS_DETAILS_TRAILER } from '../../app-channel/app-callbacks.ts';
import { encodeStatusDetails } from './rich-status.ts';

/**
 * A status passed on as it came (a gRPC app's answer to an invocation, with its trailers), or
 * made as daprd makes it from an HTTP app's answer (with that ErrorInfo), not mapped from an error code.
 */
export class PassedGrpcStatus extends Error {
  override name = 'PassedGrpcStatus';
  readonly code: number;
  readonly trailers: Metadata;
  readonly errorInfo: ErrorInfo | undefined;

  constructor(code: number, message: string, trailers = new Metadata(), errorInfo?: ErrorInfo) {
    super(message);
    this.code = code;
    this.trailers = trailers;
    this.errorInfo = errorInfo;
  }
}

export function asTesseraError(err: unknown): TesseraError {
  return isTesseraError(err) ? err : new TesseraError('ERR_INTERNAL', err instanceof Error ? err.message : String(err), { cause: err });
}

/** The status a failed call answers with. */
export function grpcErrorStatus(err: unknown): StatusObject {
  if (err instanceof PassedGrpcStatus) {
    const metadata = err.trailers.clone();
    if (err.errorInfo !== undefined) metadata.set(STATUS_DETAILS_TRAILER, encodeStatusDetails(err.code, err.message, err.errorInfo));
    return { code: err.code, details: err.message, metadata };
  }
  const error = asTesseraError(err);
  const code = grpcStatusOf(error);
  const metadata = new Metadata();
  metadata.set(STATUS_DETAILS_TRAILER, encodeStatusDetails(code, error.message, errorInfoOf(error)));
  return { code, details: error.message, metadata };
}
