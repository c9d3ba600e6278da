// `google.rpc.Status`, the message behind gRPC's rich errors (code, message, details as
// `Any`s), and `google.rpc.ErrorInfo`, the detail Dapr puts in it. Its bytes travel in the
// `grpc-status-details-bin` trailer; across sidecars, daprd carries the same details in the
// internal response's `status.details` instead. Defined here with protobufjs (which
// @grpc/proto-loader is built on): no package we depend on ships these messages.
import protobuf from 'protobufjs';
import { ERROR_INFO_TYPE_URL } from './type-urls.ts';

export interface AnyMessage {
  type_url: string;
  value: Uint8Array;
}

export interface RpcStatus {
  code: number;
  message: string;
  details: AnyMessage[];
}

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
export const ErrorInfoMessage = root.lookupType('google.rpc.ErrorInfo');

export function encodeRpcStatus(status: RpcStatus): Buffer {
  return Buffer.from(Status.encode(Status.fromObject(status)).finish());
}

/** Throws on bytes that are not a Status. */
export function decodeRpcStatus(bytes: Uint8Array): RpcStatus {
  return Status.toObject(Status.decode(bytes), { defaults: true }) as RpcStatus;
}

/**
 * A status as daprd writes it in JSON (Go's protojson, unpopulated fields left out): `code`
 * and `message`, and `details` when there are any, each Any as `{"@type": ..., fields}`. Of
 * the detail types, ErrorInfo (Dapr's own) is rendered; others are left out, where daprd
 * renders the google.rpc error-detail types and fails on unknown ones.
 */
export function statusAsJson(status: RpcStatus): Record<string, unknown> {
  const json: Record<string, unknown> = {};
  if (status.code !== 0) json.code = status.code;
  if (status.message !== '') json.message = status.message;
  const details = status.details.flatMap((any) => {
    if (any.type_url !== ERROR_INFO_TYPE_URL) return [];
    const info = ErrorInfoMessage.toObject(ErrorInfoMessage.decode(any.value)) as { reason?: string; domain?: string; metadata?: Record<string, string> };
    return [{ '@type': any.type_url, ...info }];
  });
  if (details.length > 0) json.details = details;
  return json;
}
