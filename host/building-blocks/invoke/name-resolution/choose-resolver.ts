// Picks the name resolver a Dapr `Configuration` (daprd's `--config` file) names in
// `spec.nameResolution`: `sqlite` (Tessera's registry of this host's sidecars, which is what
// Dapr's SQLite resolver is for; the default), `mdns` (several hosts of one network), or
// `kubernetes`. A document that names another, or a setting it cannot use, is refused with the
// field and value named. The Configuration is read and validated once at start
// (configuration/dapr-configuration.ts).
import { isIP } from 'node:net';
import { configError } from '../../../configuration/dapr-configuration.ts';
import { parseGoDuration } from '../../../resiliency/go-duration.ts';
import { KubernetesDns } from './kubernetes-dns.ts';
import { LocalRegistry } from './local-registry.ts';
import { MdnsResolver } from './mdns.ts';
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
    case 'mdns': {
      // Dapr's mdns takes no configuration; these are Tessera's, to pin the network (tests pin loopback) and the timings.
      const { interface: iface, address, port } = settings;
      for (const [field, value, family] of [['interface', iface, 4], ['address', address, 0]] as const)
        if (value !== undefined && (typeof value !== 'string' || (family === 4 ? isIP(value) !== 4 : isIP(value) === 0)))
          throw configError(source, `spec.nameResolution.configuration.${field}: ${JSON.stringify(value)} is not an ${family === 4 ? 'IPv4 ' : 'IP '}address`);
      const p = port === undefined ? undefined : Number(port);
      if (p !== undefined && !(Number.isInteger(p) && p > 0 && p < 65536)) throw configError(source, `spec.nameResolution.configuration.port: ${JSON.stringify(port)} is not a port`);
      const times = { ttlMs: duration(source, 'ttl', settings.ttl), refreshMs: duration(source, 'refreshInterval', settings.refreshInterval), resolveTimeoutMs: duration(source, 'resolveTimeout', settings.resolveTimeout) };
      // DNS TTLs are whole seconds; a refresh or a wait of nothing would spin.
      for (const [field, ms, least] of [['ttl', times.ttlMs, 1000], ['refreshInterval', times.refreshMs, 100], ['resolveTimeout', times.resolveTimeoutMs, 10]] as const)
        if (ms !== undefined && ms < least) throw configError(source, `spec.nameResolution.configuration.${field}: must be at least ${least} ms`);
      return new MdnsResolver({ interface: iface as string | undefined, address: address as string | undefined, port: p, ...times });
    }
    default:
      throw configError(source, `spec.nameResolution.component: "${String(component).slice(0, 50)}" is not a resolver Tessera has; use "sqlite" (this host's sidecars, the default), "mdns" or "kubernetes"`);
  }
}
