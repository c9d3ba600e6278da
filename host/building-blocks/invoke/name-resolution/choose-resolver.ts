// Picks the name resolver a Dapr `Configuration` (daprd's `--config` file) names in
// `spec.nameResolution`: `sqlite` (Tessera's registry of this host's sidecars, which is what
// Dapr's SQLite resolver is for; the default), or `kubernetes`. A document that names another,
// or a setting it cannot use, is refused with the field and value named. The Configuration
// is read and validated once at start (configuration/dapr-configuration.ts).
import { configError } from '../../../configuration/dapr-configuration.ts';
import { parseGoDuration } from '../../../resiliency/go-duration.ts';
import { KubernetesDns } from './kubernetes-dns.ts';
import { LocalRegistry } from './local-registry.ts';
import type { NameResolver } from './name-resolver.ts';

export interface NameResolutionSpec {
  component?: string;
  configuration?: Record<string, unknown>;
}

function duration(source: string, field: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseGoDuration(String(value));
  if (ms instanceof Error) throw configError(source, `spec.nameResolution.configuration.${field}: ${ms.message}`);
  return ms;
}

/** The resolver `spec` names (the local registry when it names none). */
export function chooseResolver(spec: NameResolutionSpec | undefined, source = 'Configuration'): NameResolver {
  const component = spec?.component ?? 'sqlite';
  const settings = spec?.configuration ?? {};
  switch (component) {
    case 'sqlite': {
      const heartbeatMs = duration(source, 'updateInterval', settings.updateInterval);
      // Dapr's SQLite resolver treats an instance as gone after a few missed updates.
      return new LocalRegistry(heartbeatMs === undefined ? {} : { heartbeatMs, expiryMs: Math.max(3 * heartbeatMs, 1000) });
    }
    case 'kubernetes': {
      const { clusterDomain, port } = settings;
      if (clusterDomain !== undefined && (typeof clusterDomain !== 'string' || !/^[a-z0-9.-]{1,253}$/i.test(clusterDomain)))
        throw configError(source, `spec.nameResolution.configuration.clusterDomain: ${JSON.stringify(clusterDomain)} is not a DNS domain`);
      const p = port === undefined ? undefined : Number(port);
      if (p !== undefined && !(Number.isInteger(p) && p > 0 && p < 65536)) throw configError(source, `spec.nameResolution.configuration.port: ${JSON.stringify(port)} is not a port`);
      return new KubernetesDns({ ...(clusterDomain === undefined ? {} : { clusterDomain: clusterDomain as string }), ...(p === undefined ? {} : { port: p }) });
    }
    default:
      throw configError(source, `spec.nameResolution.component: "${String(component).slice(0, 50)}" is not a resolver Tessera has; use "sqlite" (this host's sidecars, the default) or "kubernetes"`);
  }
}
