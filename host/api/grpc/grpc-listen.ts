// Listening and stopping, for every gRPC server of the sidecar (the Dapr API, the internal
// service invocation API): on one address, with insecure credentials unless the caller gives
// others (the internal API's mTLS), and a stop that lets calls under way finish for a grace
// period before it cuts them.
import type { Socket } from 'node:net';
import { ServerCredentials, type ConnectionInjector, type Server, type ServerOptions } from '@grpc/grpc-js';

/**
 * Options every gRPC server of the sidecar starts with. Channelz off: grpc-js otherwise keeps
 * per-call and per-message counters and timestamps for its channelz service, which Tessera
 * does not serve, at about 30 µs of CPU a call (measured on the internal CallLocal path: 233
 * against 205 µs a call, client and server together).
 */
export const SERVER_OPTIONS: ServerOptions = { 'grpc.enable_channelz': 0 };

/** Binds `server` to `host:port` (0 picks a free port); resolves to the port. */
export function listenGrpc(server: Server, host: string, port: number, credentials: ServerCredentials = ServerCredentials.createInsecure()): Promise<number> {
  return new Promise((resolve, reject) => {
    // An IPv6 address goes in brackets, as in a URL.
    const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    server.bindAsync(address, credentials, (err, bound) => (err ? reject(err) : resolve(bound)));
  });
}

/**
 * Serves on `server` the connections another listener accepted paused (deferred-listener.ts),
 * as if it had accepted them itself; the first one sets the server up, so raw-stream hooks are
 * in place by then.
 */
export function injectConnections(server: Server, credentials: ServerCredentials = ServerCredentials.createInsecure()): (socket: Socket) => void {
  let injector: ConnectionInjector | undefined;
  return (socket) => {
    injector ??= server.createConnectionInjector(credentials);
    injector.injectConnection(socket);
    // Nothing was read before HTTP/2 (or TLS) took the socket over: it reads from now on.
    socket.resume();
  };
}

/** Stops taking calls and waits up to `graceMs` for the ones under way, then cuts them. */
export function closeGrpc(server: Server, graceMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
