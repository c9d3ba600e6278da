// The gRPC form of Dapr's rich errors: a `google.rpc.Status` (code, message, and the
// ErrorInfo of ../error-info.ts packed in an `Any`; ../../protos/rpc-status.ts) in the
// `grpc-status-details-bin` trailer, as daprd's kit/errors sends it.
import { decodeRpcStatus, encodeRpcStatus, ErrorInfoMessage } from '../../protos/rpc-status.ts';
import { ERROR_INFO_TYPE_URL } from '../../protos/type-urls.ts';
import type { ErrorInfo } from '../error-info.ts';

export interface RichStatus {
  code: number;
  message: string;
  errorInfo: ErrorInfo | undefined;
}

/** The bytes of the `grpc-status-details-bin` trailer. */
export function encodeStatusDetails(code: number, message: string, info: ErrorInfo): Buffer {
  const value = ErrorInfoMessage.encode(ErrorInfoMessage.fromObject(info)).finish();
  return encodeRpcStatus({ code, message, details: [{ type_url: ERROR_INFO_TYPE_URL, value }] });
}

/** Reads the trailer back (for clients and tests): the status and its ErrorInfo, if it has one. */
export function decodeStatusDetails(bytes: Uint8Array): RichStatus {
  const status = decodeRpcStatus(bytes);
  const any = status.details.find((d) => d.type_url === ERROR_INFO_TYPE_URL);
  const errorInfo = any === undefined ? undefined : (ErrorInfoMessage.toObject(ErrorInfoMessage.decode(any.value), { defaults: true }) as ErrorInfo);
  return { code: status.code, message: status.message, errorInfo };
}
