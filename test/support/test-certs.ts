// Certificates for mTLS tests, made with the openssl command in a temp folder: a CA (the trust
// anchor) and leaf certificates it signs, each with a Dapr SPIFFE id as its URI subject
// alternative name (spiffe://<trust-domain>/ns/<namespace>/<app-id>), as Sentry issues them,
// or with none. EC P-256 keys: quick to make.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface CertFiles {
  /** The CA that signed it: --trust-anchors-file. */
  anchors: string;
  /** --cert-chain */
  chain: string;
  /** --cert-key */
  key: string;
}

async function openssl(dir: string, args: string[]): Promise<void> {
  await run('openssl', args, { cwd: dir, timeout: 30_000 });
}

export class TestCa {
  readonly dir: string;
  readonly name: string;
  readonly cert: string;
  readonly #key: string;

  private constructor(dir: string, name: string) {
    this.dir = dir;
    this.name = name;
    this.cert = join(dir, `${name}-ca.crt`);
    this.#key = join(dir, `${name}-ca.key`);
  }

  /** A self-signed CA named `name`, its files in `dir`. */
  static async create(dir: string, name: string): Promise<TestCa> {
    const ca = new TestCa(dir, name);
    await openssl(dir, [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
      '-subj', `/CN=${name} test CA`, '-keyout', ca.#key, '-out', ca.cert,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    return ca;
  }

  /** A leaf certificate for `appId` (no SPIFFE id when `appId` is undefined), signed by this CA. */
  async issue(file: string, appId: string | undefined, { namespace = 'default', trustDomain = 'public' } = {}): Promise<CertFiles> {
    const chain = join(this.dir, `${file}.crt`);
    const key = join(this.dir, `${file}.key`);
    const csr = join(this.dir, `${file}.csr`);
    const ext = join(this.dir, `${file}.ext`);
    const san = appId === undefined ? 'subjectAltName=DNS:localhost' : `subjectAltName=URI:spiffe://${trustDomain}/ns/${namespace}/${appId}`;
    writeFileSync(ext, `${san}\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\n`);
    await openssl(this.dir, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${file}`, '-keyout', key, '-out', csr]);
    // A random serial of its own, not `-CAcreateserial`: that reads and rewrites one serial file
    // beside the CA, and two leaves issued at once (Promise.all) raced on it ("Unable to load
    // number from unit-ca.srl"). 120 random bits, high bit clear so the serial stays positive.
    const serial = randomBytes(15);
    serial[0]! &= 0x7f;
    await openssl(this.dir, ['x509', '-req', '-in', csr, '-CA', this.cert, '-CAkey', this.#key, '-set_serial', `0x${serial.toString('hex')}`, '-days', '1', '-extfile', ext, '-out', chain]);
    return { anchors: this.cert, chain, key };
  }
}

/** A temp folder for certificates, removed at exit. */
export function certDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-certs-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The `tessera run` flags of `files`. */
export function mtlsArgs(files: CertFiles): string[] {
  return ['--trust-anchors-file', files.anchors, '--cert-chain', files.chain, '--cert-key', files.key];
}
