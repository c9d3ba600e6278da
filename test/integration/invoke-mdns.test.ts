// Service invocation found over mDNS: two real `tessera` processes whose Configuration names
// `nameResolution.component: mdns` (pinned to loopback and a UDP port of this run's own, so
// nothing leaves the machine) call each other's apps; a stopped callee becomes unknown.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EchoApp } from '../support/echo-app.ts';
import { expectDaprError, pollUntil, startSidecar, type SidecarProcess } from '../support/sidecar-process.ts';
import { freeUdpPort } from '../support/test-app.ts';

const DIR = mkdtempSync(join(tmpdir(), 'tessera-invoke-mdns-'));
process.once('exit', () => rmSync(DIR, { recursive: true, force: true }));

describe('service invocation with mDNS name resolution', () => {
  const apps = { a: new EchoApp('a'), b: new EchoApp('b') };
  let a: SidecarProcess;
  let b: SidecarProcess;
  let config: string;

  before(async () => {
    config = join(DIR, 'config.yaml');
    writeFileSync(
      config,
      `apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata:
  name: mdns
spec:
  nameResolution:
    component: mdns
    configuration:
      interface: 127.0.0.1
      port: ${await freeUdpPort()}
`,
    );
    await Promise.all(Object.values(apps).map((app) => app.listen()));
    const start = (appId: 'a' | 'b') => startSidecar({ appId, args: ['--app-port', String(apps[appId].port), '--config', config] });
    [a, b] = await Promise.all([start('a'), start('b')]);
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await Promise.all(Object.values(apps).map((app) => app.close()));
  });

  it('calls the other app both ways', async () => {
    apps.b.on('/hello', () => ({ status: 200, body: { from: 'b' } }));
    apps.a.on('/hello', () => ({ status: 200, body: { from: 'a' } }));
    // Registered a moment after the sidecar is healthy: asked until found.
    const fromA = await pollUntil('b to be found from a', async () => {
      const res = await a.fetch('/v1.0/invoke/b/method/hello');
      return res.status === 200 ? res : undefined;
    }, { timeoutMs: 10_000, intervalMs: 50 });
    assert.deepEqual(await fromA.json(), { from: 'b' });
    assert.equal(apps.b.at('/hello').at(-1)!.headers['dapr-caller-app-id'], 'a');
    const fromB = await b.fetch('/v1.0/invoke/a/method/hello', { method: 'POST', body: 'x' });
    assert.equal(fromB.status, 200);
    assert.deepEqual(await fromB.json(), { from: 'a' });
    await a.waitForLog(/registered app id "a" with the mdns name resolver/);
  });

  it('an app id no sidecar answers for is a 500 ERR_DIRECT_INVOKE naming it', async () => {
    await expectDaprError(a.fetch('/v1.0/invoke/nobody/method/hello'), 500, 'ERR_DIRECT_INVOKE', /"nobody".*mdns/);
  });

  it('a stopped callee becomes an unknown app id (its goodbye drops it from the caller\'s cache)', async () => {
    await b.stop();
    await expectDaprError(a.fetch('/v1.0/invoke/b/method/hello'), 500, 'ERR_DIRECT_INVOKE', /no sidecar of app id "b".*mdns/);
  });
});
