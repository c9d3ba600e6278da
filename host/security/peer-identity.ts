// Who is on the other end of an mTLS connection between sidecars, from its verified
// certificate's SPIFFE id: the callee checked by the caller (in place of Node's host name
// check), and the caller's app id read by the callee (in place of any header it sent). One
// place for both, so the internal CallLocal client and server and the gRPC proxy agree.
import type { PeerCertificate } from 'node:tls';
import { formatSpiffeId, spiffeIdOf } from './spiffe.ts';

/** The app a caller meant to reach. */
export interface Callee {
  appId: string;
  namespace: string;
}

/** A `checkServerIdentity` for TLS: the callee's certificate must name `callee`, whatever its host name. */
export function checkCallee(callee: Callee): (host: string, cert: PeerCertificate) => Error | undefined {
  return (_host, cert) => {
    const id = spiffeIdOf(cert.subjectaltname);
    if (id === undefined) return new Error(`the callee's certificate has no SPIFFE id, so it cannot be app id "${callee.appId}"`);
    if (id.appId !== callee.appId || id.namespace !== callee.namespace) {
      return new Error(`the callee's certificate is for ${formatSpiffeId(id)}, not app id "${callee.appId}" in namespace "${callee.namespace}"`);
    }
    return undefined;
  };
}

/** gRPC's status codes for a refused caller (numbers, so this layer needs no gRPC library). */
const UNAUTHENTICATED = 16;
const PERMISSION_DENIED = 7;

/**
 * Why a caller is refused, as the gRPC status every server of the sidecar answers with: no
 * verified certificate (UNAUTHENTICATED), or one naming no app (PERMISSION_DENIED).
 */
export class PeerIdentityError extends Error {
  override name = 'PeerIdentityError';
  readonly code: typeof UNAUTHENTICATED | typeof PERMISSION_DENIED;
  readonly details: string;

  constructor(code: PeerIdentityError['code'], message: string) {
    super(message);
    this.code = code;
    this.details = message;
  }
}

/**
 * The caller's app id from the certificate of a gRPC call's connection (grpc-js's auth
 * context). The TLS handshake already refused a certificate the anchors did not sign; one
 * signed but naming no app is refused here.
 */
export function callerAppId(call: { getAuthContext(): { sslPeerCertificate?: PeerCertificate | undefined } }): string {
  const peer = call.getAuthContext().sslPeerCertificate;
  if (peer === undefined) throw new PeerIdentityError(UNAUTHENTICATED, 'mTLS is on and the caller presented no verified certificate');
  const id = spiffeIdOf(peer.subjectaltname);
  if (id === undefined) {
    throw new PeerIdentityError(PERMISSION_DENIED, `the caller's certificate ("${peer.subject?.CN ?? 'no common name'}") has no SPIFFE id spiffe://<trust-domain>/ns/<namespace>/<app-id>, so its app id is unknown`);
  }
  return id.appId;
}
