// Takes the HTTP/2 streams of one method off a grpc-js Server before grpc-js builds a call for
// them, so a hot unary method can be served on the raw stream (raw-unary.ts) while every other
// method, the gRPC proxy and mTLS stay grpc-js's. grpc-js has no public hook for this: its
// Server binds `_streamHandler` (`_channelzHandler` with channelz on) to each HTTP/2 server's
// 'stream' event when it binds a port. So this file, like unknown-methods.ts, wraps those
// private methods on one server instance
// (before `bindAsync`); the streams it takes still count for grpc-js's idle and shutdown
// bookkeeping (`onStreamOpened`), and graceful shutdown closes their sessions as it does the
// others'. test/host/api/grpc/raw-unary.test.ts fails if a grpc-js upgrade changes this.
import type { Server } from '@grpc/grpc-js';
import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';

type StreamHandler = (this: Server, extraInterceptors: unknown, stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => void;

interface PrivateServer {
  _streamHandler?: StreamHandler;
  _channelzHandler?: StreamHandler;
  onStreamOpened?: (stream: ServerHttp2Stream) => void;
}

const HANDLERS = ['_streamHandler', '_channelzHandler'] as const;

/** Sends the streams whose `:path` is `path` to `handle` instead of grpc-js; throws if grpc-js no longer has the hook. Call before `bindAsync`. */
export function takeStreams(server: Server, path: string, handle: (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => void): void {
  const target = server as unknown as PrivateServer;
  if (HANDLERS.some((name) => typeof target[name] !== 'function') || typeof target.onStreamOpened !== 'function') {
    throw new Error('@grpc/grpc-js changed: Server._streamHandler, _channelzHandler or onStreamOpened is gone, so a method cannot be served on its raw HTTP/2 stream');
  }
  for (const name of HANDLERS) {
    const original = target[name]!;
    target[name] = function (this: Server, extraInterceptors, stream, headers) {
      if (headers[':path'] !== path) {
        original.call(this, extraInterceptors, stream, headers);
        return;
      }
      // As grpc-js does: an error comes with a 'close', which the handler sees.
      stream.once('error', () => {});
      (this as unknown as PrivateServer).onStreamOpened!(stream);
      handle(stream, headers);
    };
  }
}
