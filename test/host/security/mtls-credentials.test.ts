// Loading the mTLS material: from the files the flags name or the PEM in the environment (a
// flag winning over its variable), `--enable-mtls=false`, and checks that name what is wrong.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { MtlsConfigError, loadMtls, type MtlsFlags } from '../../../host/security/mtls-credentials.ts';
import { TestCa, certDir, type CertFiles } from '../../support/test-certs.ts';
import { needs } from '../../support/tools.ts';

const NONE: MtlsFlags = { enabled: undefined, trustAnchorsFile: undefined, certChainFile: undefined, certKeyFile: undefined };

function flags(files: CertFiles): MtlsFlags {
  return { enabled: undefined, trustAnchorsFile: files.anchors, certChainFile: files.chain, certKeyFile: files.key };
}

function env(files: CertFiles): NodeJS.ProcessEnv {
  return { DAPR_TRUST_ANCHORS: readFileSync(files.anchors, 'utf8'), DAPR_CERT_CHAIN: readFileSync(files.chain, 'utf8'), DAPR_CERT_KEY: readFileSync(files.key, 'utf8') };
}

describe('mTLS material', needs('openssl'), () => {
  let dir: string;
  let orders: CertFiles;
  let prod: CertFiles;

  before(async () => {
    dir = certDir();
    const ca = await TestCa.create(dir, 'unit');
    [orders, prod] = await Promise.all([ca.issue('orders', 'orders'), ca.issue('orders-prod', 'orders', { namespace: 'prod', trustDomain: 'cluster.local' })]);
  });

  it('is off when nothing is given', async () => {
    assert.equal(await loadMtls(NONE, {}, 'orders', 'default'), undefined);
  });

  it('reads the three files, or the PEM in the environment, and takes the identity from the certificate', async () => {
    const fromFiles = await loadMtls(flags(orders), {}, 'orders', 'default');
    assert.deepEqual(fromFiles?.identity, { trustDomain: 'public', namespace: 'default', appId: 'orders' });
    assert.deepEqual(fromFiles?.certChain, readFileSync(orders.chain));
    const fromEnv = await loadMtls(NONE, env(prod), 'orders', 'prod');
    assert.deepEqual(fromEnv?.identity, { trustDomain: 'cluster.local', namespace: 'prod', appId: 'orders' });
    // A flag wins over its variable.
    const mixed = await loadMtls({ ...NONE, certChainFile: orders.chain, certKeyFile: orders.key }, env(prod), 'orders', 'default');
    assert.equal(mixed?.identity.namespace, 'default');
  });

  it('is off with --enable-mtls=false whatever the environment holds, and refuses it beside a file flag', async () => {
    assert.equal(await loadMtls({ ...NONE, enabled: false }, env(orders), 'orders', 'default'), undefined);
    await assert.rejects(loadMtls({ ...flags(orders), enabled: false }, {}, 'orders', 'default'), /--enable-mtls=false turns mTLS off, but --trust-anchors-file, --cert-chain, --cert-key are given/);
  });

  it('names the file and what is wrong with it', async () => {
    const garbled = join(dir, 'garbled.crt');
    writeFileSync(garbled, readFileSync(orders.chain, 'utf8').replace(/(BEGIN CERTIFICATE-----\n)..../, '$1AAAA'));
    await assert.rejects(loadMtls({ ...flags(orders), certChainFile: garbled }, {}, 'orders', 'default'), (err: Error) => {
      assert.ok(err instanceof MtlsConfigError);
      assert.ok(err.message.startsWith(`--cert-chain ${garbled}: certificate 1 is not valid PEM`), err.message);
      return true;
    });
    await assert.rejects(loadMtls({ ...flags(orders), certKeyFile: join(dir, 'absent.key') }, {}, 'orders', 'default'), /--cert-key .*absent\.key: no such file/);
    await assert.rejects(loadMtls({ ...flags(orders), certKeyFile: dir }, {}, 'orders', 'default'), /--cert-key .*: not a regular file/);
    await assert.rejects(loadMtls(NONE, { ...env(orders), DAPR_CERT_KEY: 'not a key' }, 'orders', 'default'), /^MtlsConfigError: DAPR_CERT_KEY: not a PEM private key/);
    await assert.rejects(loadMtls(flags(prod), {}, 'orders', 'default'), /is for spiffe:\/\/cluster\.local\/ns\/prod\/orders, not app id "orders" in namespace "default"/);
  });
});
