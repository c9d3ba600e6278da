// The one interface every name resolver implements (Dapr's `nameresolution.Resolver`): an app
// id and namespace in, the address of one of its sidecars' internal gRPC API out. The sidecar
// registers itself at start and leaves at a clean stop; resolvers with nothing to register
// (Kubernetes DNS) do nothing then.

export interface Instance {
  appId: string;
  namespace: string;
  /** Host or IP of the sidecar's internal gRPC API. */
  host: string;
  /** Port of the sidecar's internal gRPC API. */
  port: number;
}

export interface NameResolver {
  /** Which resolver this is, for logs (`sqlite`, `kubernetes`, `mdns`). */
  readonly name: string;
  /** Makes this sidecar findable; resolves once it is. */
  register(self: Instance): Promise<void>;
  /** `host:port` of one live instance of `appId` in `namespace`, balanced over calls; undefined when none is known. */
  resolve(appId: string, namespace: string): Promise<string | undefined>;
  /** Forgets what is cached about `appId`, after a call to an address it gave failed. */
  forget(appId: string, namespace: string): void;
  /** Stops heartbeats and removes this sidecar's registration. */
  close(): Promise<void>;
}
