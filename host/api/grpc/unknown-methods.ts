// A handler for every method a grpc-js Server has no service for, as grpc-go's
// `UnknownServiceHandler` (which daprd's gRPC proxying hangs on). grpc-js has no public hook
// for this: its Server looks a call's path up in `_retrieveHandler(path)` and answers
// UNIMPLEMENTED when that returns null, before any interceptor sees the call. So this file,
// and only this one, wraps that private method on one server instance: a path with no
// registered handler gets a bidirectional-streaming handler whose messages stay raw bytes
// (identity serialize and deserialize), so any service can pass through untouched.
// test/host/api/grpc/unknown-methods.test.ts fails if a grpc-js upgrade changes this.
import type { Server, ServerDuplexStream } from '@grpc/grpc-js';

type RawStream = ServerDuplexStream<Buffer, Buffer>;

/** The shape of grpc-js's private handler record (server.ts `Handler`). */
interface PrivateHandler {
  func: (stream: RawStream) => void;
  serialize: (value: Buffer) => Buffer;
  deserialize: (bytes: Buffer) => Buffer;
  type: 'bidi';
  path: string;
}

type RetrieveHandler = (path: string) => object | null;

const identity = (bytes: Buffer): Buffer => bytes;

/** Sends every call `server` has no handler for to `handle`; throws if grpc-js no longer has the hook. */
export function serveUnknownMethods(server: Server, handle: (stream: RawStream) => void): void {
  const target = server as unknown as { _retrieveHandler?: RetrieveHandler };
  const retrieve = target._retrieveHandler;
  if (typeof retrieve !== 'function') {
    throw new Error('@grpc/grpc-js changed: Server._retrieveHandler is gone, so unknown gRPC methods cannot be proxied');
  }
  target._retrieveHandler = (path: string) => {
    const known = retrieve.call(server, path);
    if (known !== null && known !== undefined) return known;
    const handler: PrivateHandler = { func: handle, serialize: identity, deserialize: identity, type: 'bidi', path };
    return handler;
  };
}
