// How the gRPC API's handlers are written and wrapped: a building-block file exports its
// RPCs as async functions from request to response; the server wraps each with the API
// token check and the one error path (grpc-error.ts), so no handler maps errors itself.
import type { handleBidiStreamingCall, handleUnaryCall, Metadata, ServerDuplexStream, ServerUnaryCall } from '@grpc/grpc-js';
import { TesseraError } from '../../errors.ts';
import { grpcErrorStatus } from './grpc-error.ts';

/** A unary RPC: the decoded request in, the response object out (or a thrown TesseraError). */
export type UnaryRpc = (request: never, call: ServerUnaryCall<unknown, unknown>) => Promise<object> | object;

/** A bidirectional stream RPC: owns the stream until it ends. */
export type StreamRpc = (stream: ServerDuplexStream<unknown, unknown>) => void;

export type RpcTable = Record<string, UnaryRpc>;

/** A unary RPC's response with trailers of its own (InvokeService passes on a gRPC app's). */
export class WithTrailers {
  readonly value: object;
  readonly trailers: Metadata;

  constructor(value: object, trailers: Metadata) {
    this.value = value;
    this.trailers = trailers;
  }
}

export interface CallGuard {
  /** Throws ERR_UNAUTHORIZED when the call lacks the API token. */
  check(metadata: Metadata): void;
  /** Reports a failed call (rate-limited where it is logged). */
  failed(method: string, err: unknown): void;
}

/** A metadata value as a string: the first one given, if any. */
export function metadataString(metadata: Metadata, key: string): string | undefined {
  const value = metadata.get(key)[0];
  return typeof value === 'string' ? value : undefined;
}

export function unaryHandler(method: string, rpc: UnaryRpc, guard: CallGuard): handleUnaryCall<unknown, unknown> {
  return (call, callback) => {
    void (async () => {
      try {
        guard.check(call.metadata);
        const answer = await rpc(call.request as never, call);
        if (answer instanceof WithTrailers) callback(null, answer.value, answer.trailers);
        else callback(null, answer);
      } catch (err) {
        guard.failed(method, err);
        callback(grpcErrorStatus(err));
      }
    })();
  };
}

export function streamHandler(method: string, rpc: StreamRpc, guard: CallGuard): handleBidiStreamingCall<unknown, unknown> {
  return (stream) => {
    try {
      guard.check(stream.metadata);
    } catch (err) {
      guard.failed(method, err);
      stream.emit('error', grpcErrorStatus(err));
      return;
    }
    rpc(stream);
  };
}

/** The error of every RPC Tessera does not serve, naming it. */
export function unimplementedError(method: string): TesseraError {
  return new TesseraError('ERR_API_UNIMPLEMENTED', `method ${method} is not implemented by Tessera`);
}
