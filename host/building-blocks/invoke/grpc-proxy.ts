// gRPC proxying, as daprd's (messaging/grpc_proxy.go): a call to any service the sidecar does
// not serve itself, carrying `dapr-callee-app-id` or `dapr-app-id` metadata, goes to that
// app's own gRPC server, whatever its .proto. The sidecar never decodes the messages: they
// pass as raw bytes, unary and streaming alike (every call is relayed as a bidirectional
// stream), with the caller's deadline, cancellation, metadata and the callee's headers,
// trailers and status. Another app id goes to its sidecar's internal gRPC API, found by the
// name resolver, on the same path with `dapr-caller-app-id`, `dapr-caller-namespace` and
// `dapr-callee-app-id` set; that sidecar (or this one, for its own app id) calls its app over
// a gRPC connection to the app port (`--app-protocol grpc`), with the caller's API token taken
// off and APP_API_TOKEN put on. Each hop takes messages up to `--max-body-size`.
import { Client, credentials, Metadata, status as Status, type ClientDuplexStream, type ServerDuplexStream, type StatusObject } from '@grpc/grpc-js';
import type { Logger } from '../../observability/logger.ts';
import type { NameResolver } from './name-resolution/name-resolver.ts';
import { endToEndMetadata, relay } from './grpc-relay.ts';

/** Most callee sidecars kept connected; the oldest is closed past this. */
const MAX_CLIENTS = 256;

const CALLER_ID = 'dapr-caller-app-id';
const CALLER_NAMESPACE = 'dapr-caller-namespace';
const CALLEE_ID = 'dapr-callee-app-id';
const IDENTITY = [CALLER_ID, CALLER_NAMESPACE, CALLEE_ID];

export interface GrpcProxyOptions {
  appId: string;
  namespace: string;
  resolver: NameResolver;
  /** Where this sidecar's app serves gRPC; undefined when it does not (no app port, or `--app-protocol http`). */
  app: { address: string; port: number } | undefined;
  /** APP_API_TOKEN, sent to the app as `dapr-api-token`. */
  appApiToken: string | undefined;
  maxBodyBytes: number;
  logger: Logger;
}

/** A call the sidecar took for a service it does not serve: raw message bytes both ways. */
export type RawStream = ServerDuplexStream<Buffer, Buffer>;

/** Where a proxied call came from: this sidecar's app (the Dapr API) or another sidecar (the internal API). */
export type ProxySource = 'app' | 'sidecar';

/** A failure before the call was sent on, as a status the caller gets. */
class ProxyRefusal extends Error {
  readonly code: Status;
  constructor(code: Status, message: string) {
    super(message);
    this.code = code;
  }
}

export class GrpcProxy {
  readonly #options: GrpcProxyOptions;
  readonly #clients = new Map<string, Client>();
  #appClient: Client | undefined;

  constructor(options: GrpcProxyOptions) {
    this.#options = options;
  }

  /** The app id a call is for, from its metadata (`dapr-callee-app-id` first, as daprd reads it); undefined when it names none. */
  static targetOf(metadata: Metadata): string | undefined {
    for (const key of [CALLEE_ID, 'dapr-app-id']) {
      const value = metadata.get(key)[0];
      if (typeof value === 'string' && value !== '') return value;
    }
    return undefined;
  }

  /** Relays `inbound` to the app it names; answers it with an error status when it cannot. */
  proxy(inbound: RawStream, from: ProxySource): void {
    const path = inbound.getPath();
    void this.#open(inbound, from).then(
      ({ outbound, target, address }) => {
        // The caller may have gone while the app id was being resolved.
        if (inbound.cancelled) return outbound.cancel();
        relay(inbound, outbound, (status) => this.#ended(path, target, address, status));
      },
      (err: unknown) => {
        const code = err instanceof ProxyRefusal ? err.code : Status.INTERNAL;
        const details = `failed to proxy request: ${(err as Error).message}`;
        this.#options.logger.debug('gRPC proxy call refused', { method: path, code, message: details });
        inbound.emit('error', { code, details });
      },
    );
  }

  async #open(inbound: RawStream, from: ProxySource): Promise<{ outbound: ClientDuplexStream<Buffer, Buffer>; target: string; address: string | undefined }> {
    const { appId, namespace, resolver } = this.#options;
    const target = GrpcProxy.targetOf(inbound.metadata);
    if (target === undefined) throw new ProxyRefusal(Status.UNIMPLEMENTED, `required metadata ${CALLEE_ID} or dapr-app-id not found`);
    const [id, ns = namespace, ...extra] = target.split('.');
    if (id === undefined || id === '' || ns === '' || extra.length > 0) throw new ProxyRefusal(Status.INVALID_ARGUMENT, `invalid app id "${target}": use "id" or "id.namespace"`);
    const metadata = endToEndMetadata(inbound.metadata);
    // The caller's token is for its own sidecar; it never goes on.
    metadata.remove('dapr-api-token');
    const deadline = inbound.getDeadline();
    let client: Client;
    let address: string | undefined;
    if (id === appId && ns === namespace) {
      client = this.#app();
      if (from === 'app') {
        for (const [key, value] of [[CALLER_ID, appId], [CALLER_NAMESPACE, namespace], [CALLEE_ID, appId]] as const) metadata.set(key, value);
      } else {
        // With no peer certificate to check, the caller sidecar's own values (added after any its app sent) are the ones kept.
        for (const key of IDENTITY) {
          const values = metadata.get(key);
          if (values.length > 1) metadata.set(key, values.at(-1)!);
        }
      }
      if (this.#options.appApiToken) metadata.set('dapr-api-token', this.#options.appApiToken);
    } else {
      // One hop only: a sidecar that is not the callee's (a stale registration) sends the caller back to resolve again.
      if (from === 'sidecar') throw new ProxyRefusal(Status.UNAVAILABLE, `this sidecar serves app id "${appId}", not "${target}"`);
      address = await resolver.resolve(id, ns);
      if (address === undefined) {
        throw new ProxyRefusal(Status.UNKNOWN, `no sidecar of app id "${id}" (namespace "${ns}") is registered with the ${resolver.name} name resolver; is it running?`);
      }
      for (const [key, value] of [[CALLER_ID, appId], [CALLER_NAMESPACE, namespace], [CALLEE_ID, id]] as const) metadata.set(key, value);
      client = this.#sidecar(address);
    }
    const outbound = client.makeBidiStreamRequest(inbound.getPath(), (bytes: Buffer) => bytes, (bytes: Buffer) => bytes, metadata, { deadline });
    return { outbound, target, address };
  }

  /** After a callee sidecar was not reached, it is resolved afresh next time, as for other invocations. */
  #ended(path: string, target: string, address: string | undefined, status: StatusObject): void {
    if (status.code === Status.OK) return;
    this.#options.logger.debug('gRPC proxy call failed', { method: path, appId: target, code: status.code, message: status.details });
    if (address !== undefined && status.code === Status.UNAVAILABLE) {
      const [id, ns = this.#options.namespace] = target.split('.');
      this.#options.resolver.forget(id!, ns);
    }
  }

  #clientOptions(): Record<string, number> {
    const { maxBodyBytes } = this.#options;
    return { 'grpc.max_receive_message_length': maxBodyBytes, 'grpc.max_send_message_length': maxBodyBytes };
  }

  #app(): Client {
    const app = this.#options.app;
    if (app === undefined) {
      throw new ProxyRefusal(Status.UNAVAILABLE, `app id "${this.#options.appId}" has no gRPC app channel to proxy to (it needs --app-port and --app-protocol grpc)`);
    }
    this.#appClient ??= new Client(`${app.address}:${app.port}`, credentials.createInsecure(), this.#clientOptions());
    return this.#appClient;
  }

  #sidecar(address: string): Client {
    const open = this.#clients.get(address);
    if (open !== undefined) return open;
    const client = new Client(address, credentials.createInsecure(), this.#clientOptions());
    this.#clients.set(address, client);
    if (this.#clients.size > MAX_CLIENTS) {
      const [oldest, old] = this.#clients.entries().next().value!;
      this.#clients.delete(oldest);
      old.close();
    }
    return client;
  }

  close(): void {
    for (const client of this.#clients.values()) client.close();
    this.#clients.clear();
    this.#appClient?.close();
  }
}
