// mTLS between sidecars, through real `tessera run` processes on loopback: certificates made
// with the openssl command (a CA, a rogue CA, leaves with Dapr SPIFFE ids); two sidecars with
// certificates from one anchor call each other and each callee's app is told the caller's app
// id from its certificate; a header forged by the caller does not change it; a certificate
// without a SPIFFE id, and one a rogue CA signed, are refused (the callee refuses the caller,
// the caller refuses the callee); a callee whose certificate names another app is refused by
// the caller; partial or bad certificate flags are usage errors naming what is wrong.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InternalClients, type Callee } from '../../host/building-blocks/invoke/internal-client.ts';
import type { InternalInvokeRequest } from '../../host/building-blocks/invoke/internal-protos.ts';
import type { MtlsMaterial } from '../../host/security/mtls-credentials.ts';
import { EchoApp, type Seen } from '../support/echo-app.ts';
import { expectDaprError, pollUntil, runTessera, startSidecar, type SidecarProcess } from '../support/sidecar-process.ts';
import { TestCa, certDir, mtlsArgs, type CertFiles } from '../support/test-certs.ts';
import { needs } from '../support/tools.ts';

const REGISTRY = mkdtempSync(join(tmpdir(), 'tessera-mtls-registry-'));
process.once('exit', () => rmSync(REGISTRY, { recursive: true, force: true }));

const INTERNAL_LISTENING = /dapr internal gRPC API listening on [\d.]+:(\d+)/;

/** The caller's policy for app b: no retries, so a refused call fails at once rather than after the built-in retry's 3 s. */
const NO_RETRY = `apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata:
  name: noretry
spec:
  policies:
    timeouts:
      t: 5s
  targets:
    apps:
      b:
        timeout: t
`;

async function start(appId: string, app: EchoApp, certs: CertFiles, resources: Record<string, string> = {}): Promise<{ sidecar: SidecarProcess; internalPort: number }> {
  const sidecar = await startSidecar({ appId, resources, args: ['--app-port', String(app.port), ...mtlsArgs(certs)], env: { TESSERA_NAME_REGISTRY: REGISTRY } });
  const line = await sidecar.waitForLog(INTERNAL_LISTENING, 10_000);
  return { sidecar, internalPort: Number(INTERNAL_LISTENING.exec(line.message)![1]) };
}

/** The material of `files` as the sidecar holds it, for a test client (the identity is not checked here, so a cert without one can be tried). */
function material(files: CertFiles): MtlsMaterial {
  return {
    trustAnchors: readFileSync(files.anchors),
    certChain: readFileSync(files.chain),
    key: readFileSync(files.key),
    identity: { trustDomain: 'public', namespace: 'default', appId: 'test' },
  };
}

/** A CallLocal of GET `method`, with `metadata` as the caller wrote it. */
function request(method: string, metadata: Record<string, string> = {}): InternalInvokeRequest {
  return {
    ver: 'V1',
    metadata: Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k, { values: [v] }])),
    message: { method, data: { type_url: '', value: Buffer.alloc(0) }, content_type: '', http_extension: { verb: 'GET', querystring: '' } },
  };
}

/** Calls `callee`'s sidecar on `port` directly, as a sidecar holding `files` would. */
async function callDirect(files: CertFiles, port: number, callee: Callee, req: InternalInvokeRequest) {
  const clients = new InternalClients(1024 * 1024, material(files));
  try {
    return await clients.call(`127.0.0.1:${port}`, callee, req, AbortSignal.timeout(10_000));
  } finally {
    clients.close();
  }
}

describe('mTLS between sidecars', needs('openssl'), () => {
  const apps = { a: new EchoApp('a'), b: new EchoApp('b'), rogue: new EchoApp('rogue') };
  const certs = {} as Record<'a' | 'b' | 'anonymous' | 'rogue', CertFiles>;
  let a: { sidecar: SidecarProcess; internalPort: number };
  let b: { sidecar: SidecarProcess; internalPort: number };
  let rogue: { sidecar: SidecarProcess; internalPort: number };

  before(async () => {
    const dir = certDir();
    const [ca, rogueCa] = await Promise.all([TestCa.create(dir, 'trusted'), TestCa.create(dir, 'rogue')]);
    [certs.a, certs.b, certs.anonymous, certs.rogue] = await Promise.all([ca.issue('a', 'a'), ca.issue('b', 'b'), ca.issue('anonymous', undefined), rogueCa.issue('rogue', 'rogue')]);
    await Promise.all(Object.values(apps).map((app) => app.listen()));
    [a, b, rogue] = await Promise.all([start('a', apps.a, certs.a), start('b', apps.b, certs.b), start('rogue', apps.rogue, certs.rogue, { 'resiliency.yaml': NO_RETRY })]);
  });
  after(async () => {
    await Promise.all([a?.sidecar.stop(), b?.sidecar.stop(), rogue?.sidecar.stop()]);
    await Promise.all(Object.values(apps).map((app) => app.close()));
  });

  it('lets two sidecars with certificates from one anchor call each other, the callee told the caller from its certificate', async () => {
    assert.match(a.sidecar.logText(), /internal gRPC API listening on .* with mTLS as spiffe:\/\/public\/ns\/default\/a/);
    // The registration may land a moment after the sidecar is healthy.
    const ab = await pollUntil('b to be reachable from a', async () => {
      const res = await a.sidecar.fetch('/v1.0/invoke/b/method/hello', { headers: { 'dapr-caller-app-id': 'forged' } });
      return res.status === 200 ? res : undefined;
    }, { timeoutMs: 10_000, intervalMs: 50 });
    assert.equal(ab.headers.get('x-answered-by'), 'b');
    const seenByB = (await ab.json()) as Seen;
    assert.equal(seenByB.headers['dapr-caller-app-id'], 'a');
    assert.equal(seenByB.headers['dapr-callee-app-id'], 'b');
    const ba = await b.sidecar.fetch('/v1.0/invoke/a/method/hello');
    assert.equal(ba.status, 200);
    assert.equal(((await ba.json()) as Seen).headers['dapr-caller-app-id'], 'b');
  });

  it('takes the caller\'s app id from its certificate even when the request says otherwise', async () => {
    const answer = await callDirect(certs.a, b.internalPort, { appId: 'b', namespace: 'default' }, request('/whoami', { 'dapr-caller-app-id': 'admin', 'x-kept': 'yes' }));
    assert.equal(answer.status.code, 200);
    const seen = JSON.parse(answer.message.data!.value.toString()) as Seen;
    assert.equal(seen.headers['dapr-caller-app-id'], 'a');
    assert.equal(seen.headers['x-kept'], 'yes');
  });

  it('refuses a caller whose certificate, signed by the anchor, has no SPIFFE id', async () => {
    const before = apps.b.at('/anonymous').length;
    await assert.rejects(callDirect(certs.anonymous, b.internalPort, { appId: 'b', namespace: 'default' }, request('/anonymous')), (err: Error & { code?: number }) => {
      assert.equal(err.code, 7, err.message); // PERMISSION_DENIED
      assert.match(err.message, /has no SPIFFE id/);
      return true;
    });
    assert.equal(apps.b.at('/anonymous').length, before, 'the app was not called');
  });

  it('refuses a caller whose certificate a rogue CA signed', async () => {
    // The rogue trusts the real anchor (so it accepts b's certificate): b refuses the rogue's.
    const rogueTrustingB = { ...certs.rogue, anchors: certs.b.anchors };
    await assert.rejects(callDirect(rogueTrustingB, b.internalPort, { appId: 'b', namespace: 'default' }, request('/from-rogue')), /UNAVAILABLE/);
    // Through the rogue's own sidecar, as a user would.
    await expectDaprError(rogue.sidecar.fetch('/v1.0/invoke/b/method/from-rogue'), 500, 'ERR_DIRECT_INVOKE', /failed to invoke, id: b, err: .*certificate/);
    assert.equal(apps.b.at('/from-rogue').length, 0, 'the app was not called');
  });

  it('refuses a callee whose certificate a rogue CA signed, or that names another app', async () => {
    await assert.rejects(callDirect(certs.a, rogue.internalPort, { appId: 'rogue', namespace: 'default' }, request('/to-rogue')), /UNAVAILABLE: 127\.0\.0\.1:\d+ \(mTLS\): self-signed certificate in certificate chain/);
    assert.equal(apps.rogue.at('/to-rogue').length, 0, 'the rogue app was not called');
    // b's own certificate, but a caller that meant to reach app c.
    await assert.rejects(callDirect(certs.a, b.internalPort, { appId: 'c', namespace: 'default' }, request('/meant-for-c')), /is for spiffe:\/\/public\/ns\/default\/b, not app id "c"/);
    assert.equal(apps.b.at('/meant-for-c').length, 0, 'b\'s app was not called');
  });

  it('refuses a caller that does not speak TLS', async () => {
    const plain = new InternalClients(1024 * 1024);
    try {
      await assert.rejects(plain.call(`127.0.0.1:${b.internalPort}`, { appId: 'b', namespace: 'default' }, request('/plain'), AbortSignal.timeout(10_000)), /UNAVAILABLE/);
    } finally {
      plain.close();
    }
    assert.equal(apps.b.at('/plain').length, 0);
  });

  it('makes partial or bad certificate flags a usage error naming what is wrong', async () => {
    const run = (appId: string): string[] => ['run', '--app-id', appId, '--dapr-http-port', '0', '--dapr-grpc-port', '0', '--metrics-port', '0'];
    const base = run('a');
    const partial = await runTessera([...base, '--trust-anchors-file', certs.a.anchors, '--cert-chain', certs.a.chain]);
    assert.equal(partial.code, 2, partial.stderr);
    assert.match(partial.stderr, /missing: the certificate key \(--cert-key FILE or DAPR_CERT_KEY\)/);
    const fromEnv = await runTessera([...base], { env: { DAPR_CERT_CHAIN: readFileSync(certs.a.chain, 'utf8') } });
    assert.equal(fromEnv.code, 2, fromEnv.stderr);
    assert.match(fromEnv.stderr, /DAPR_CERT_CHAIN is given; missing: the trust anchors .*, the certificate key/);
    const enabled = await runTessera([...base, '--enable-mtls']);
    assert.equal(enabled.code, 2, enabled.stderr);
    assert.match(enabled.stderr, /--enable-mtls is given; missing: the trust anchors/);
    const badPem = await runTessera([...base, '--trust-anchors-file', certs.a.key, '--cert-chain', certs.a.chain, '--cert-key', certs.a.key]);
    assert.equal(badPem.code, 2, badPem.stderr);
    assert.ok(badPem.stderr.includes(`--trust-anchors-file ${certs.a.key}: no PEM certificate in it`), badPem.stderr);
    const otherApp = await runTessera([...run('b'), ...mtlsArgs(certs.a)]);
    assert.equal(otherApp.code, 2, otherApp.stderr);
    assert.match(otherApp.stderr, /is for spiffe:\/\/public\/ns\/default\/a, not app id "b"/);
    const rogueChain = await runTessera([...base, '--trust-anchors-file', certs.a.anchors, '--cert-chain', certs.rogue.chain, '--cert-key', certs.rogue.key]);
    assert.equal(rogueChain.code, 2, rogueChain.stderr);
    assert.match(rogueChain.stderr, /not signed by the trust anchors/);
  });
});
