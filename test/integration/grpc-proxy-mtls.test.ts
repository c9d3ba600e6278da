// gRPC proxying between sidecars over mTLS, through real `tessera run` processes: a grpc-js
// client calls sidecar a's gRPC API with `dapr-app-id: b`, and app b's own gRPC server is told
// the caller's app id from sidecar a's certificate, not from the metadata the client forged; a
// sidecar whose certificate a rogue CA signed cannot reach b (b refuses it, and it refuses b).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { GreeterApp, greeterClient } from '../support/greeter-app.ts';
import { pollUntil, startSidecar, type SidecarProcess } from '../support/sidecar-process.ts';
import { TestCa, certDir, mtlsArgs } from '../support/test-certs.ts';
import { needs } from '../support/tools.ts';

const REGISTRY = mkdtempSync(join(tmpdir(), 'tessera-grpc-proxy-mtls-registry-'));
process.once('exit', () => rmSync(REGISTRY, { recursive: true, force: true }));

type Greeter = grpc.Client & Record<string, (...args: any[]) => any>;

function sayHello(client: Greeter, metadata: Record<string, string>): Promise<{ value?: { message: string }; error?: grpc.ServiceError }> {
  const md = new grpc.Metadata();
  for (const [key, value] of Object.entries(metadata)) md.set(key, value);
  return new Promise((resolve) => {
    client.SayHello!({ name: 'ann' }, md, { deadline: Date.now() + 10_000 }, (error: grpc.ServiceError | null, value: { message: string }) =>
      resolve(error ? { error } : { value }),
    );
  });
}

describe('gRPC proxying between sidecars over mTLS', needs('openssl'), () => {
  const Greeter = greeterClient();
  let appB: GreeterApp;
  let a: SidecarProcess;
  let b: SidecarProcess;
  let rogue: SidecarProcess;
  let viaA: Greeter;
  let viaRogue: Greeter;

  before(async () => {
    const dir = certDir();
    const [ca, rogueCa] = await Promise.all([TestCa.create(dir, 'trusted'), TestCa.create(dir, 'rogue')]);
    const [certA, certB, certRogue] = await Promise.all([ca.issue('a', 'a'), ca.issue('b', 'b'), rogueCa.issue('rogue', 'rogue')]);
    appB = await GreeterApp.start('b');
    const env = { TESSERA_NAME_REGISTRY: REGISTRY };
    [a, b, rogue] = await Promise.all([
      startSidecar({ appId: 'a', env, args: mtlsArgs(certA) }),
      startSidecar({ appId: 'b', env, args: ['--app-port', String(appB.port), '--app-protocol', 'grpc', ...mtlsArgs(certB)] }),
      startSidecar({ appId: 'rogue', env, args: mtlsArgs(certRogue) }),
    ]);
    viaA = new Greeter(`127.0.0.1:${a.grpcPort}`, grpc.credentials.createInsecure()) as Greeter;
    viaRogue = new Greeter(`127.0.0.1:${rogue.grpcPort}`, grpc.credentials.createInsecure()) as Greeter;
    // b registers a moment after its API listens.
    await pollUntil('b to be reachable from a', async () => ((await sayHello(viaA, { 'dapr-app-id': 'b' })).value ? true : undefined), { timeoutMs: 15_000, intervalMs: 50 });
  });

  after(async () => {
    viaA?.close();
    viaRogue?.close();
    await Promise.all([a?.stop(), b?.stop(), rogue?.stop()]);
    appB?.close();
  });

  it("tells app b the caller's app id from sidecar a's certificate, whatever the client's metadata says", async () => {
    const answer = await sayHello(viaA, { 'dapr-app-id': 'b', 'dapr-caller-app-id': 'admin' });
    assert.equal(answer.error, undefined);
    assert.deepEqual(answer.value, { message: 'hello ann from b' });
    const seen = appB.seen.at(-1)!;
    assert.equal(seen.metadata['dapr-caller-app-id'], 'a');
    assert.equal(seen.metadata['dapr-callee-app-id'], 'b');
  });

  it('does not let a sidecar whose certificate a rogue CA signed reach app b', async () => {
    const before = appB.seen.length;
    const answer = await sayHello(viaRogue, { 'dapr-app-id': 'b' });
    assert.ok(answer.error, 'the call through the rogue sidecar failed');
    assert.notEqual(answer.error.code, grpc.status.OK);
    assert.equal(appB.seen.length, before, 'app b was not called');
  });
});
