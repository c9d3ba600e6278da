// Listens for a gRPC server that is built when its first connection arrives. Loading grpc-js,
// the Dapr descriptors and the services holds the event loop for tens of milliseconds and
// keeps megabytes of code and descriptors alive; a sidecar whose app and peers never speak gRPC
// should pay neither, and a sidecar that starts should not wait for them. So the port is bound
// with node:net at once (a port taken fails the start as before), connections are accepted
// paused, so nothing is read before the gRPC server takes them, and they are handed to it, in
// the order they came, once it is built. This file imports no part of the gRPC stack.
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../observability/logger.ts';

/** What serves the connections once built: a gRPC server taking sockets accepted here. */
export interface ConnectionSink {
  /** Serves a connection accepted paused; it reads from then on. */
  inject(socket: Socket): void;
  /** Stops taking calls and waits briefly for those under way. */
  close(): Promise<void>;
}

export class DeferredListener {
  readonly #what: string;
  readonly #build: () => Promise<ConnectionSink>;
  readonly #logger: Logger;
  #server: NetServer | undefined;
  #sink: Promise<ConnectionSink> | undefined;
  /** Connections accepted while the sink is built. */
  readonly #waiting = new Set<Socket>();
  #closed = false;

  /** `what` names the server in logs ("the gRPC API"); `build` runs once, at the first connection. */
  constructor(what: string, build: () => Promise<ConnectionSink>, logger: Logger) {
    this.#what = what;
    this.#build = build;
    this.#logger = logger;
  }

  /** Binds `host:port` (0 picks a free port); resolves to the port, rejects as `net.Server.listen` does. */
  listen(host: string, port: number): Promise<number> {
    const server = createServer({ pauseOnConnect: true, noDelay: true }, (socket) => this.#accept(socket));
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port }, () => {
        server.off('error', reject);
        server.on('error', (err) => this.#logger.error(`${this.#what}: ${err.message}`));
        this.#server = server;
        resolve((server.address() as AddressInfo).port);
      });
    });
  }

  /** The built server, building it now if no connection has yet. */
  #built(): Promise<ConnectionSink> {
    this.#sink ??= this.#build();
    return this.#sink;
  }

  #accept(socket: Socket): void {
    if (this.#closed) {
      socket.destroy();
      return;
    }
    this.#waiting.add(socket);
    const started = this.#sink === undefined;
    this.#built().then(
      (sink) => {
        if (!this.#waiting.delete(socket)) return;
        sink.inject(socket);
      },
      (err: Error) => {
        this.#waiting.delete(socket);
        socket.destroy();
        // Said once: every later connection fails the same way.
        if (started) this.#logger.error(`${this.#what} could not start, so its connections are closed: ${err.message}`);
      },
    );
  }

  /** Stops listening, drops connections not yet served, and closes the gRPC server if it was built. */
  async close(): Promise<void> {
    this.#closed = true;
    const server = this.#server;
    const closed = server === undefined ? Promise.resolve() : new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.#waiting) socket.destroy();
    this.#waiting.clear();
    const sink = await this.#sink?.catch(() => undefined);
    await Promise.all([closed, sink?.close()]);
  }
}
