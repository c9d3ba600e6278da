// A plain grpc-js app serving test/support/greeter.proto on loopback, for gRPC proxying: it
// answers with its own name, records the metadata each call came with, sends a header and a
// trailer back, fails Fail with NOT_FOUND and a trailer, and leaves Hang unanswered (noting
// when the caller cancels it); Flaky fails UNAVAILABLE twice per name, then answers.
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

export const GREETER_PROTO = fileURLToPath(new URL('./greeter.proto', import.meta.url));

interface HelloRequest {
  name: string;
}
interface HelloReply {
  message: string;
}

/** The Greeter client constructor, for tests that call through a sidecar. */
export function greeterClient(): grpc.ServiceClientConstructor {
  const loaded = grpc.loadPackageDefinition(protoLoader.loadSync(GREETER_PROTO));
  return ((loaded.tessera as grpc.GrpcObject).test as grpc.GrpcObject).Greeter as grpc.ServiceClientConstructor;
}

function replyMetadata(): grpc.Metadata {
  const metadata = new grpc.Metadata();
  metadata.set('x-app-header', 'from-app');
  return metadata;
}

function trailers(key: string, value: string): grpc.Metadata {
  const metadata = new grpc.Metadata();
  metadata.set(key, value);
  return metadata;
}

export class GreeterApp {
  readonly name: string;
  /** The metadata of every call, in order. */
  readonly seen: { method: string; metadata: Record<string, unknown> }[] = [];
  /** How many Hang calls their caller cancelled. */
  cancelledHangs = 0;
  readonly #server = new grpc.Server();
  readonly #tries = new Map<string, number>();
  port = 0;

  private constructor(name: string) {
    this.name = name;
  }

  static async start(name: string): Promise<GreeterApp> {
    const app = new GreeterApp(name);
    const record = (method: string, metadata: grpc.Metadata): void => {
      app.seen.push({ method, metadata: metadata.getMap() });
    };
    app.#server.addService(greeterClient().service, {
      SayHello: (call: grpc.ServerUnaryCall<HelloRequest, HelloReply>, callback: grpc.sendUnaryData<HelloReply>) => {
        record('SayHello', call.metadata);
        call.sendMetadata(replyMetadata());
        callback(null, { message: `hello ${call.request.name} from ${name}` }, trailers('x-app-trailer', 'unary'));
      },
      Chat: (call: grpc.ServerDuplexStream<HelloRequest, HelloReply>) => {
        record('Chat', call.metadata);
        call.sendMetadata(replyMetadata());
        let n = 0;
        call.on('data', (request: HelloRequest) => call.write({ message: `${++n}: hi ${request.name} from ${name}` }));
        call.on('end', () => call.end(trailers('x-app-trailer', `chat ${n}`)));
      },
      Fail: (call: grpc.ServerUnaryCall<HelloRequest, HelloReply>, callback: grpc.sendUnaryData<HelloReply>) => {
        record('Fail', call.metadata);
        callback({ code: grpc.status.NOT_FOUND, details: `no greeting for ${call.request.name}`, metadata: trailers('x-why', 'unknown-name') });
      },
      Flaky: (call: grpc.ServerUnaryCall<HelloRequest, HelloReply>, callback: grpc.sendUnaryData<HelloReply>) => {
        record('Flaky', call.metadata);
        const tries = (app.#tries.get(call.request.name) ?? 0) + 1;
        app.#tries.set(call.request.name, tries);
        if (tries <= 2) return callback({ code: grpc.status.UNAVAILABLE, details: `try ${tries} fails` });
        callback(null, { message: `${call.request.name} on try ${tries}` });
      },
      Hang: (call: grpc.ServerUnaryCall<HelloRequest, HelloReply>) => {
        record('Hang', call.metadata);
        call.on('cancelled', () => app.cancelledHangs++);
      },
    });
    app.port = await new Promise<number>((resolve, reject) =>
      app.#server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
    );
    return app;
  }

  close(): void {
    this.#server.forceShutdown();
  }
}
