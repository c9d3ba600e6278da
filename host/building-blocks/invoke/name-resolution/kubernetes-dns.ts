// Dapr's Kubernetes resolver: every app id has a headless service named `<app-id>-dapr` in its
// namespace, so the address is a DNS name, `<app-id>-dapr.<namespace>.svc.<domain>:<port>`,
// and Kubernetes (kube-proxy, DNS) does the balancing. Nothing to register.
import type { Instance, NameResolver } from './name-resolver.ts';

export interface KubernetesDnsOptions {
  /** `spec.nameResolution.configuration.clusterDomain`; `cluster.local` by default. */
  clusterDomain?: string;
  /** The callee sidecars' internal gRPC port: daprd's 50002 in Kubernetes. */
  port?: number;
}

export const DEFAULT_CLUSTER_DOMAIN = 'cluster.local';
export const DEFAULT_INTERNAL_GRPC_PORT = 50002;

export class KubernetesDns implements NameResolver {
  readonly name = 'kubernetes';
  readonly #domain: string;
  readonly #port: number;

  constructor(options: KubernetesDnsOptions = {}) {
    this.#domain = options.clusterDomain ?? DEFAULT_CLUSTER_DOMAIN;
    this.#port = options.port ?? DEFAULT_INTERNAL_GRPC_PORT;
  }

  async register(_self: Instance): Promise<void> {}

  async resolve(appId: string, namespace: string): Promise<string | undefined> {
    return `${appId}-dapr.${namespace}.svc.${this.#domain}:${this.#port}`;
  }

  forget(): void {}

  async close(): Promise<void> {}
}
