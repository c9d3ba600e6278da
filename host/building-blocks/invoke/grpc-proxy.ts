// gRPC proxying, as daprd's (messaging/grpc_proxy.go): a call to any service the sidecar does
// not serve itself, carrying `dapr-callee-app-id` or `dapr-app-id` metadata, goes to that
// app's own gRPC server, whatever its .proto. The sidecar never decodes the messages: they
// pass as raw bytes, unary and streaming alike (every call is relayed as a bidirectional
// stream), with the caller's deadline, cancellation, metadata and the callee's headers,
// trailers and status. Another app id goes to its sidecar's internal gRPC API, found by the
// name resolver, on the same path with `dapr-caller-app-id`, `dapr-caller-namespace` and
// `dapr-callee-app-id` set; that sidecar (or this one, for its own app id) calls its app over
// a gRPC connection to the app port (`--app-protocol grpc`), with the caller's API token taken
// off and APP_API_TOKEN put on. Each hop takes messages up to `--max-body-size`. A
// `targets.apps` policy for the callee applies to the call as a whole, unless the caller says
// it streams (`dapr-stream: true`), as in daprd (grpc-unary-relay.ts).
import { Client, credentials, Metadata, status as Status, type ClientDuplexStream, type ServerDuplexStream, type StatusObject } from '@grpc/grpc-js';
import type { Logger } from '../../observability/logger.ts';
import type { MtlsMaterial } from '../../security/mtls-credentials.ts';
import { callerAppId, checkCallee, PeerIdentityError } from '../../security/peer-identity.ts';
import { hasPolicies, runWithPolicy, PolicyTimeoutError, type TargetPolicy } from '../../resiliency/policy-runner.ts';
import type { Resiliency } from '../../resiliency/resiliency.ts';
import type { NameResolver } from './name-resolution/name-resolver.ts';
import { endToEndMetadata, relay } from './grpc-relay.ts';
import { answer, callOnce, failureOf, ProxyStatusError, readSingleRequest } from './grpc-unary-relay.ts';

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
  /** `targets.apps` policies for calls to other apps; undefined: none. */
  resiliency?: Resiliency | undefined;
  /** mTLS to other sidecars (and the callers' identity from their certificates); undefined: insecure. */
  mtls?: MtlsMaterial | undefined;
  logger: Logger;
}

/** A call the sidecar took for a service it does not serve: raw message bytes both ways. */
export type RawStream = ServerDuplexStream<Buffer, Buffer>;

/** Where a proxied call came from: this sidecar's app (the Dapr API) or another sidecar (the internal API). */
export type ProxySource = 'app' | 'sidecar';

interface Route {
  id: string;
  namespace: string;
  /** This sidecar's own app. */
  local: boolean;
  from: ProxySource;
}

/** The first value of a metadata key, as a string. */
function metadataValue(metadata: Metadata, key: string): string | undefined {
  const value = metadata.get(key)[0];
  return typeof value === 'string' ? value : undefined;
}

/** dapr/kit's IsTruthy: y, yes, true, t, on, 1 in any case. */
function isTruthy(value: string | undefined): boolean {
  return value !== undefined && ['y', 'yes', 'true', 't', 'on', '1'].includes(value.toLowerCase());
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
      const value = metadataValue(metadata, key);
      if (value) return value;
    }
    return undefined;
  }

  /** Relays `inbound` to the app it names; answers it with an error status when it cannot. */
  proxy(inbound: RawStream, from: ProxySource): void {
    // As in daprd, a failure without a gRPC status of its own (an open breaker) is UNKNOWN.
    void this.#proxy(inbound, from).catch((err: unknown) => {
      const code = err instanceof ProxyStatusError || err instanceof PeerIdentityError ? err.code : err instanceof PolicyTimeoutError ? Status.DEADLINE_EXCEEDED : Status.UNKNOWN;
      const details = `failed to proxy request: ${(err as Error).message}`;
      this.#options.logger.debug('gRPC proxy call refused', { method: inbound.getPath(), code, message: details });
      if (!inbound.cancelled) inbound.emit('error', { code, details });
    });
  }

  async #proxy(inbound: RawStream, from: ProxySource): Promise<void> {
    const route = this.#route(inbound, from);
    const policy = route.local ? undefined : this.#options.resiliency?.app(route.id);
    if (hasPolicies(policy) && !isTruthy(metadataValue(inbound.metadata, 'dapr-stream'))) return this.#underPolicy(inbound, route, policy);
    const { outbound, address } = await this.#send(inbound, route);
    // The caller may have gone while the app id was being resolved.
    if (inbound.cancelled) return outbound.cancel();
    relay(inbound, outbound, (status) => this.#ended(inbound.getPath(), route, address, status));
  }

  /** A unary call under the callee's policy: each attempt resolves the app id afresh and sends the kept request again. */
  async #underPolicy(inbound: RawStream, route: Route, policy: TargetPolicy): Promise<void> {
    const request = await readSingleRequest(inbound);
    const cancelled = new AbortController();
    inbound.once('cancelled', () => cancelled.abort(new ProxyStatusError(Status.CANCELLED, 'the caller cancelled the call')));
    const outcome = await runWithPolicy(
      policy,
      async (signal) => {
        const { outbound, address } = await this.#send(inbound, route);
        const result = await callOnce(outbound, request, signal);
        this.#ended(inbound.getPath(), route, address, result.status);
        return result;
      },
      { signal: cancelled.signal, failureOf, statusOf: (err) => (err instanceof ProxyStatusError ? { grpc: err.code } : {}), permanent: (err) => err instanceof ProxyStatusError && err.code !== Status.UNAVAILABLE },
    );
    answer(inbound, outcome);
  }

  /** Where a call goes, from its metadata: this sidecar's app, or another app id. */
  #route(inbound: RawStream, from: ProxySource): Route {
    const { appId, namespace } = this.#options;
    const target = GrpcProxy.targetOf(inbound.metadata);
    if (target === undefined) throw new ProxyStatusError(Status.UNIMPLEMENTED, `required metadata ${CALLEE_ID} or dapr-app-id not found`);
    const [id, ns = namespace, ...extra] = target.split('.');
    if (id === undefined || id === '' || ns === '' || extra.length > 0) throw new ProxyStatusError(Status.INVALID_ARGUMENT, `invalid app id "${target}": use "id" or "id.namespace"`);
    const local = id === appId && ns === namespace;
    // One hop only: a sidecar that is not the callee's (a stale registration) sends the caller back to resolve again.
    if (!local && from === 'sidecar') throw new ProxyStatusError(Status.UNAVAILABLE, `this sidecar serves app id "${appId}", not "${target}"`);
    return { id, namespace: ns, local, from };
  }

  /** Opens the call onward: to this sidecar's app, or to the callee's sidecar. */
  async #send(inbound: RawStream, route: Route): Promise<{ outbound: ClientDuplexStream<Buffer, Buffer>; address: string | undefined }> {
    const { appId, namespace, resolver } = this.#options;
    const metadata = endToEndMetadata(inbound.metadata);
    // The caller's token is for its own sidecar; it never goes on.
    metadata.remove('dapr-api-token');
    let client: Client;
    let address: string | undefined;
    if (route.local) {
      client = this.#app();
      if (route.from === 'app') {
        for (const [key, value] of [[CALLER_ID, appId], [CALLER_NAMESPACE, namespace], [CALLEE_ID, appId]] as const) metadata.set(key, value);
      } else {
        // With no peer certificate to check, the caller sidecar's own values (added after any its app sent) are the ones kept.
        for (const key of IDENTITY) {
          const values = metadata.get(key);
          if (values.length > 1) metadata.set(key, values.at(-1)!);
        }
        // Over mTLS the caller's certificate says which app calls, whatever its metadata says.
        if (this.#options.mtls !== undefined) metadata.set(CALLER_ID, callerAppId(inbound));
      }
      if (this.#options.appApiToken) metadata.set('dapr-api-token', this.#options.appApiToken);
    } else {
      address = await resolver.resolve(route.id, route.namespace);
      if (address === undefined) {
        throw new ProxyStatusError(Status.UNKNOWN, `no sidecar of app id "${route.id}" (namespace "${route.namespace}") is registered with the ${resolver.name} name resolver; is it running?`);
      }
      for (const [key, value] of [[CALLER_ID, appId], [CALLER_NAMESPACE, namespace], [CALLEE_ID, route.id]] as const) metadata.set(key, value);
      client = this.#sidecar(address, route);
    }
    const outbound = client.makeBidiStreamRequest(inbound.getPath(), (bytes: Buffer) => bytes, (bytes: Buffer) => bytes, metadata, { deadline: inbound.getDeadline() });
    return { outbound, address };
  }

  /** After a callee sidecar was not reached, it is resolved afresh next time, as for other invocations. */
  #ended(path: string, route: Route, address: string | undefined, status: StatusObject): void {
    if (status.code === Status.OK) return;
    this.#options.logger.debug('gRPC proxy call failed', { method: path, appId: route.id, code: status.code, message: status.details });
    if (address !== undefined && status.code === Status.UNAVAILABLE) this.#options.resolver.forget(route.id, route.namespace);
  }

  #clientOptions(): Record<string, number> {
    const { maxBodyBytes } = this.#options;
    return { 'grpc.max_receive_message_length': maxBodyBytes, 'grpc.max_send_message_length': maxBodyBytes };
  }

  #app(): Client {
    const app = this.#options.app;
    if (app === undefined) {
      throw new ProxyStatusError(Status.UNAVAILABLE, `app id "${this.#options.appId}" has no gRPC app channel to proxy to (it needs --app-port and --app-protocol grpc)`);
    }
    this.#appClient ??= new Client(`${app.address}:${app.port}`, credentials.createInsecure(), this.#clientOptions());
    return this.#appClient;
  }

  /** The connection to a callee's sidecar; over mTLS one per callee too, as its certificate is checked for that app. */
  #sidecar(address: string, callee: Route): Client {
    const mtls = this.#options.mtls;
    const key = mtls === undefined ? address : `${address} ${callee.id}.${callee.namespace}`;
    const open = this.#clients.get(key);
    if (open !== undefined) return open;
    const channelCredentials =
      mtls === undefined
        ? credentials.createInsecure()
        : credentials.createSsl(mtls.trustAnchors, mtls.key, mtls.certChain, { checkServerIdentity: checkCallee({ appId: callee.id, namespace: callee.namespace }) });
    const client = new Client(address, channelCredentials, this.#clientOptions());
    this.#clients.set(key, client);
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
