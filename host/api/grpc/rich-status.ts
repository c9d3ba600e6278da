// The gRPC form of Dapr's rich errors: a `google.rpc.Status` (code, message, and the
// ErrorInfo of ../error-info.ts packed in an `Any`) in the `grpc-status-details-bin`
// trailer, as daprd's kit/errors sends it. The three messages are defined here with
// protobufjs (which @grpc/proto-loader is built on): no package we depend on ships them.
import protobuf from 'protobufjs';
import { ERROR_INFO_TYPE_URL, type ErrorInfo } from '../error-info.ts';

/** The trailer gRPC clients (grpc-go's status.FromError, the SDKs) read rich details from. */
export const STATUS_DETAILS_KEY = 'grpc-status-details-bin';

// A map field is an IMapField (with keyType), which INamespace's field type does not list.
const root = protobuf.Root.fromJSON({
  nested: {
    google: {
      nested: {
        protobuf: { nested: { Any: { fields: { type_url: { type: 'string', id: 1 }, value: { type: 'bytes', id: 2 } } } } },
        rpc: {
          nested: {
            Status: {
              fields: { code: { type: 'int32', id: 1 }, message: { type: 'string', id: 2 }, details: { rule: 'repeated', type: 'google.protobuf.Any', id: 3 } },
            },
            ErrorInfo: {
              fields: { reason: { type: 'string', id: 1 }, domain: { type: 'string', id: 2 }, metadata: { keyType: 'string', type: 'string', id: 3 } },
            },
          },
        },
      },
    },
  },
} as unknown as protobuf.INamespace);
const Status = root.lookupType('google.rpc.Status');
const ErrorInfoType = root.lookupType('google.rpc.ErrorInfo');

export interface RichStatus {
  code: number;
  message: string;
  errorInfo: ErrorInfo | undefined;
}

/** The bytes of the `grpc-status-details-bin` trailer. */
export function encodeStatusDetails(code: number, message: string, info: ErrorInfo): Buffer {
  const value = ErrorInfoType.encode(ErrorInfoType.fromObject(info)).finish();
  const status = Status.fromObject({ code, message, details: [{ type_url: ERROR_INFO_TYPE_URL, value }] });
  return Buffer.from(Status.encode(status).finish());
}

/** Reads the trailer back (for clients and tests): the status and its ErrorInfo, if it has one. */
export function decodeStatusDetails(bytes: Uint8Array): RichStatus {
  const status = Status.toObject(Status.decode(bytes), { defaults: true }) as { code: number; message: string; details: { type_url: string; value: Uint8Array }[] };
  const any = status.details.find((d) => d.type_url === ERROR_INFO_TYPE_URL);
  const errorInfo = any === undefined ? undefined : (ErrorInfoType.toObject(ErrorInfoType.decode(any.value), { defaults: true }) as ErrorInfo);
  return { code: status.code, message: status.message, errorInfo };
}
