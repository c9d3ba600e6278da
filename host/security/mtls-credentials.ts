// The mTLS material of sidecar-to-sidecar calls, as daprd takes it: a trust anchor bundle, a
// certificate chain and its key, each from a file (`--trust-anchors-file`, `--cert-chain`,
// `--cert-key`) or as PEM in the environment Dapr's injector sets (`DAPR_TRUST_ANCHORS`,
// `DAPR_CERT_CHAIN`, `DAPR_CERT_KEY`); a flag wins over its variable. All three turn mTLS on;
// some but not all is a mistake, named. Everything is read and checked once, at start (a file
// of at most 1 MiB, a regular file so a pipe cannot hold the start up): PEM that does not
// parse, a key that is not the certificate's, a chain the anchors did not sign, an expired
// certificate, or one without the SPIFFE id of this app fail there, naming the file, rather
// than at the first call.
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { open } from 'node:fs/promises';
import { formatSpiffeId, spiffeIdOf, type SpiffeId } from './spiffe.ts';

/** The largest PEM file read: a trust bundle of many CAs fits many times over. */
const MAX_PEM_BYTES = 1024 ** 2;

/** What the flags said: `--enable-mtls` (undefined: not given) and the three files. */
export interface MtlsFlags {
  enabled: boolean | undefined;
  trustAnchorsFile: string | undefined;
  certChainFile: string | undefined;
  certKeyFile: string | undefined;
}

export interface MtlsMaterial {
  /** PEM of the trust anchors: the CAs a peer's certificate must chain to. */
  trustAnchors: Buffer;
  /** PEM of this sidecar's certificate, then any intermediates. */
  certChain: Buffer;
  /** PEM of the certificate's private key. */
  key: Buffer;
  /** This sidecar's SPIFFE id, from its certificate. */
  identity: SpiffeId;
}

export class MtlsConfigError extends Error {
  override name = 'MtlsConfigError';
}

interface Part {
  flag: string;
  env: string;
  what: string;
  file: string | undefined;
}

/** Where one part comes from (its flag's file, else its variable), named for messages; undefined when neither is set. */
async function read(part: Part, env: NodeJS.ProcessEnv): Promise<{ pem: Buffer; source: string } | undefined> {
  if (part.file !== undefined) return { pem: await readBounded(part.file, part.flag), source: `${part.flag} ${part.file}` };
  const value = env[part.env];
  return value ? { pem: Buffer.from(value), source: part.env } : undefined;
}

async function readBounded(path: string, flag: string): Promise<Buffer> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new MtlsConfigError(`${flag} ${path}: ${code === 'ENOENT' ? 'no such file' : `cannot be read (${code ?? (err as Error).message})`}`);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new MtlsConfigError(`${flag} ${path}: not a regular file`);
    if (info.size > MAX_PEM_BYTES) throw new MtlsConfigError(`${flag} ${path}: ${info.size} bytes, more than the ${MAX_PEM_BYTES} a PEM file may have`);
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

function certificates(pem: Buffer, source: string): X509Certificate[] {
  const blocks = pem.toString('latin1').match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) throw new MtlsConfigError(`${source}: no PEM certificate in it (-----BEGIN CERTIFICATE-----)`);
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch (err) {
      throw new MtlsConfigError(`${source}: certificate ${i + 1} is not valid PEM: ${(err as Error).message}`);
    }
  });
}

function privateKey(pem: Buffer, source: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch (err) {
    throw new MtlsConfigError(`${source}: not a PEM private key: ${(err as Error).message}`);
  }
}

/** `issuer` signed `cert`. */
function signedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
}

/**
 * The mTLS material the flags and `env` give, checked; undefined when none is given (or
 * `--enable-mtls=false`). `appId` and `namespace` are this sidecar's: its certificate must name them.
 */
export async function loadMtls(flags: MtlsFlags, env: NodeJS.ProcessEnv, appId: string, namespace: string): Promise<MtlsMaterial | undefined> {
  const parts: Part[] = [
    { flag: '--trust-anchors-file', env: 'DAPR_TRUST_ANCHORS', what: 'the trust anchors', file: flags.trustAnchorsFile },
    { flag: '--cert-chain', env: 'DAPR_CERT_CHAIN', what: 'the certificate chain', file: flags.certChainFile },
    { flag: '--cert-key', env: 'DAPR_CERT_KEY', what: 'the certificate key', file: flags.certKeyFile },
  ];
  if (flags.enabled === false) {
    const named = parts.filter((p) => p.file !== undefined).map((p) => p.flag);
    if (named.length > 0) throw new MtlsConfigError(`--enable-mtls=false turns mTLS off, but ${named.join(', ')} ${named.length === 1 ? 'is' : 'are'} given; drop one or the other`);
    return undefined;
  }
  const given = parts.map((p) => p.file !== undefined || Boolean(env[p.env]));
  if (!given.some(Boolean) && flags.enabled === undefined) return undefined;
  const missing = parts.filter((_, i) => !given[i]);
  if (missing.length > 0) {
    const named = parts.filter((_, i) => given[i]).map((p) => (p.file !== undefined ? p.flag : p.env));
    const why = flags.enabled ? '--enable-mtls is given' : `${named.join(' and ')} ${named.length === 1 ? 'is' : 'are'} given`;
    throw new MtlsConfigError(
      `mTLS between sidecars needs a trust anchor, a certificate chain and a key, and ${why}; missing: ${missing.map((p) => `${p.what} (${p.flag} FILE or ${p.env})`).join(', ')}`,
    );
  }
  const [anchorsPart, chainPart, keyPart] = await Promise.all(parts.map((p) => read(p, env)));
  const anchors = certificates(anchorsPart!.pem, anchorsPart!.source);
  const chain = certificates(chainPart!.pem, chainPart!.source);
  const key = privateKey(keyPart!.pem, keyPart!.source);
  const leaf = chain[0]!;
  if (!leaf.checkPrivateKey(key)) throw new MtlsConfigError(`${keyPart!.source}: not the key of the certificate in ${chainPart!.source}`);
  const now = Date.now();
  for (const cert of [...chain, ...anchors]) {
    const source = chain.includes(cert) ? chainPart!.source : anchorsPart!.source;
    if (Date.parse(cert.validTo) < now) throw new MtlsConfigError(`${source}: the certificate for "${cert.subject}" expired on ${cert.validTo}`);
  }
  for (let i = 0; i + 1 < chain.length; i++) {
    if (!signedBy(chain[i]!, chain[i + 1]!)) throw new MtlsConfigError(`${chainPart!.source}: certificate ${i + 1} is not signed by certificate ${i + 2}; the chain goes leaf first`);
  }
  const top = chain.at(-1)!;
  if (!anchors.some((anchor) => anchor.raw.equals(top.raw) || signedBy(top, anchor))) {
    throw new MtlsConfigError(`${chainPart!.source}: the certificate chain is not signed by the trust anchors in ${anchorsPart!.source}, so no peer would accept it`);
  }
  const identity = spiffeIdOf(leaf.subjectAltName);
  if (identity === undefined) {
    throw new MtlsConfigError(`${chainPart!.source}: the certificate has no SPIFFE id (a URI subject alternative name spiffe://<trust-domain>/ns/<namespace>/<app-id>)`);
  }
  if (identity.appId !== appId || identity.namespace !== namespace) {
    throw new MtlsConfigError(`${chainPart!.source}: the certificate is for ${formatSpiffeId(identity)}, not app id "${appId}" in namespace "${namespace}" (--app-id, NAMESPACE)`);
  }
  return { trustAnchors: anchorsPart!.pem, certChain: chainPart!.pem, key: keyPart!.pem, identity };
}
