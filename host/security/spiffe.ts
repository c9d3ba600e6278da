// The identity in a Dapr workload certificate: Sentry issues each sidecar a certificate whose
// URI subject alternative name is the SPIFFE id `spiffe://<trust-domain>/ns/<namespace>/<app-id>`.
// Over mTLS that id, not a header the peer wrote, says which app is calling (or answering).

export interface SpiffeId {
  trustDomain: string;
  namespace: string;
  appId: string;
}

/** A trust domain, namespace or app id: no separators, no spaces, nothing a SAN would quote. */
const SEGMENT = /^[A-Za-z0-9._~!$&'()*+;=:@-]+$/;

/** Parses `spiffe://<trust-domain>/ns/<namespace>/<app-id>`; undefined for anything else. */
export function parseSpiffeId(uri: string): SpiffeId | undefined {
  if (!uri.startsWith('spiffe://')) return undefined;
  const [trustDomain, ns, namespace, appId, ...rest] = uri.slice('spiffe://'.length).split('/');
  if (rest.length > 0 || ns !== 'ns' || trustDomain === undefined || namespace === undefined || appId === undefined) return undefined;
  if (![trustDomain, namespace, appId].every((s) => SEGMENT.test(s))) return undefined;
  return { trustDomain, namespace, appId };
}

/**
 * The Dapr SPIFFE id among a certificate's subject alternative names, as Node lists them
 * (`URI:spiffe://..., DNS:...`: X509Certificate.subjectAltName, a peer certificate's
 * `subjectaltname`); undefined when there is none. A value Node had to quote (it holds a
 * separator) is no valid SPIFFE id, and is not one here.
 */
export function spiffeIdOf(subjectAltName: string | undefined): SpiffeId | undefined {
  for (const entry of (subjectAltName ?? '').split(', ')) {
    if (!entry.startsWith('URI:')) continue;
    const id = parseSpiffeId(entry.slice('URI:'.length));
    if (id !== undefined) return id;
  }
  return undefined;
}

export function formatSpiffeId(id: SpiffeId): string {
  return `spiffe://${id.trustDomain}/ns/${id.namespace}/${id.appId}`;
}
