// Name resolution: the host's registry (files in a shared folder, heartbeats, expiry, dead
// processes ignored, round robin, removal on close), Kubernetes DNS names, and the choice
// between them by a Dapr Configuration.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pollUntil } from '../../../support/sidecar-process.ts';
import { chooseResolver } from '../../../../host/building-blocks/invoke/name-resolution/choose-resolver.ts';
import { loadConfiguration } from '../../../../host/configuration/dapr-configuration.ts';

/** `spec.nameResolution` of the Configuration in `path`, as the one Configuration loader reads it. */
const readNameResolution = async (path: string) => (await loadConfiguration(path, []))?.spec.nameResolution;
import { KubernetesDns } from '../../../../host/building-blocks/invoke/name-resolution/kubernetes-dns.ts';
import { LocalRegistry } from '../../../../host/building-blocks/invoke/name-resolution/local-registry.ts';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-names-test-'));
  dirs.push(dir);
  return dir;
}
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const instance = (appId: string, port: number, namespace = 'default') => ({ appId, namespace, host: '127.0.0.1', port });

describe('the local registry', () => {
  it('finds a registered instance, balances several round robin, and forgets one removed on close', async () => {
    const dir = tempDir();
    const one = new LocalRegistry({ dir, cacheMs: 0 });
    const two = new LocalRegistry({ dir, cacheMs: 0 });
    const caller = new LocalRegistry({ dir, cacheMs: 0 });
    await one.register(instance('orders', 1001));
    await two.register(instance('orders', 1002));
    const seen = new Set<string | undefined>();
    for (let i = 0; i < 4; i++) seen.add(await caller.resolve('orders', 'default'));
    assert.deepEqual([...seen].sort(), ['127.0.0.1:1001', '127.0.0.1:1002']);
    assert.equal(await caller.resolve('orders', 'other'), undefined, 'namespaces are apart');
    assert.equal(await caller.resolve('payments', 'default'), undefined);
    await one.close();
    assert.equal(await caller.resolve('orders', 'default'), '127.0.0.1:1002');
    await two.close();
    assert.deepEqual(readdirSync(dir), []);
  });

  it('ignores an instance whose heartbeat expired, or whose process is gone, and removes its file', async () => {
    const dir = tempDir();
    const caller = new LocalRegistry({ dir, cacheMs: 0 });
    const registration = (port: number, extra: object) =>
      JSON.stringify({ appId: 'b', namespace: 'default', host: '127.0.0.1', port, hostname: hostname(), pid: process.pid, heartbeatAt: Date.now(), expiryMs: 5000, ...extra });
    writeFileSync(join(dir, 'default~b~old.json'), registration(2001, { heartbeatAt: Date.now() - 60_000 }));
    // A pid no process has (above Linux's pid_max).
    writeFileSync(join(dir, 'default~b~dead.json'), registration(2002, { pid: 2 ** 22 + 1 }));
    writeFileSync(join(dir, 'default~b~junk.json'), 'not json');
    // Temp files of heartbeats cut short: one of a process gone, one of this (live) process.
    writeFileSync(join(dir, `default~b~${2 ** 22 + 1}-ab.json.tmp`), '{');
    writeFileSync(join(dir, `default~b~${process.pid}-cd.json.tmp`), '{');
    writeFileSync(join(dir, 'default~b~live.json'), registration(2003, {}));
    assert.equal(await caller.resolve('b', 'default'), '127.0.0.1:2003');
    assert.equal(await caller.resolve('b', 'default'), '127.0.0.1:2003');
    assert.deepEqual(readdirSync(dir).sort(), [`default~b~${process.pid}-cd.json.tmp`, 'default~b~junk.json', 'default~b~live.json']);
  });

  it('a sidecar that registers sweeps away what killed sidecars of any app id left', async () => {
    const dir = tempDir();
    const dead = 2 ** 22 + 1;
    writeFileSync(join(dir, `default~other~${dead}-ab.json`), JSON.stringify({ host: '127.0.0.1', port: 1, hostname: hostname(), pid: dead, heartbeatAt: Date.now(), expiryMs: 5000 }));
    writeFileSync(join(dir, `default~other~${dead}-cd.json.tmp`), '{');
    const registry = new LocalRegistry({ dir });
    await registry.register(instance('fresh', 4001));
    await pollUntil('the leftovers to be removed', () => (readdirSync(dir).length === 1 ? true : undefined));
    assert.match(readdirSync(dir)[0]!, /^default~fresh~/);
    await registry.close();
  });

  it('keeps app ids that look like paths inside its folder', async () => {
    const dir = tempDir();
    const registry = new LocalRegistry({ dir });
    await registry.register(instance('../../evil', 3001, '../ns'));
    assert.equal(readdirSync(dir).length, 1);
    assert.equal(await new LocalRegistry({ dir }).resolve('../../evil', '../ns'), '127.0.0.1:3001');
    await registry.close();
  });
});

describe('Kubernetes DNS names', () => {
  it('names <app-id>-dapr.<namespace>.svc.<domain>:<port>', async () => {
    assert.equal(await new KubernetesDns().resolve('orders', 'shop'), 'orders-dapr.shop.svc.cluster.local:50002');
    assert.equal(await new KubernetesDns({ clusterDomain: 'corp.internal', port: 6000 }).resolve('orders', 'shop'), 'orders-dapr.shop.svc.corp.internal:6000');
  });
});

describe('choosing a resolver from a Configuration', () => {
  const config = (body: string): string => {
    const path = join(tempDir(), 'config.yaml');
    writeFileSync(path, `apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata:\n  name: c\nspec:\n${body}`);
    return path;
  };

  it('takes the local registry by default and for sqlite, and kubernetes when named', async () => {
    assert.equal(chooseResolver(undefined).name, 'sqlite');
    assert.equal(chooseResolver(await readNameResolution(config('  tracing: {}\n'))).name, 'sqlite');
    assert.equal(chooseResolver(await readNameResolution(config('  nameResolution:\n    component: sqlite\n    configuration:\n      updateInterval: 2s\n'))).name, 'sqlite');
    const k8s = chooseResolver(await readNameResolution(config('  nameResolution:\n    component: kubernetes\n    configuration:\n      clusterDomain: example.org\n')));
    assert.equal(await k8s.resolve('a', 'ns'), 'a-dapr.ns.svc.example.org:50002');
  });

  it('refuses what it cannot use, naming the file and the field', async () => {
    const unknown = config('  nameResolution:\n    component: consul\n');
    assert.throws(() => chooseResolver({ component: 'consul' }, unknown), /spec\.nameResolution\.component: "consul" is not a resolver/);
    assert.throws(() => chooseResolver({ component: 'sqlite', configuration: { updateInterval: 'often' } }, 'c.yaml'), /c\.yaml: spec\.nameResolution\.configuration\.updateInterval/);
    const notConfig = join(tempDir(), 'x.yaml');
    writeFileSync(notConfig, 'kind: Component\n');
    await assert.rejects(readNameResolution(notConfig), /x\.yaml: holds no `kind: Configuration` document/);
    await assert.rejects(readNameResolution(join(tempDir(), 'missing.yaml')), /missing\.yaml: cannot be read \(ENOENT\)/);
    await assert.rejects(readNameResolution(config('  nameResolution: sqlite\n')), /config\.yaml: invalid Configuration: spec\.nameResolution: must be object/);
  });
});
