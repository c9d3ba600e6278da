// Readiness as daprd means it: /v1.0/healthz says 204 only once the components of the first
// scan are in and the gRPC APIs (the Dapr API and the internal one other sidecars call)
// listen, so a client that waits for the health check finds the gRPC API at once.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { silentLogger } from '../../host/observability/logger.ts';
import { Sidecar } from '../../host/sidecar.ts';
import { tempDir } from '../support/temp-dir.ts';

test('healthz says ready only once the gRPC APIs listen', async () => {
  const dir = await tempDir();
  const registry = await tempDir();
  const previous = process.env.TESSERA_NAME_REGISTRY;
  process.env.TESSERA_NAME_REGISTRY = registry.path;
  const sidecar = await Sidecar.start({ appId: 'ready', httpPort: 0, grpcPort: 0, internalGrpcPort: 0, listenAddress: '127.0.0.1', resourcesPaths: [dir.path], maxBodyBytes: 1024 * 1024, logger: silentLogger });
  try {
    let grpcPort: number | undefined;
    let internalPort: number | undefined;
    void sidecar.grpcPort.then((p) => (grpcPort = p));
    void sidecar.internalGrpcPort.then((p) => (internalPort = p));
    // Polled as a prober does; each 204 must find both gRPC ports already known.
    for (;;) {
      const res = await fetch(`http://127.0.0.1:${sidecar.port}/v1.0/healthz`);
      if (res.status === 204) break;
      assert.equal(res.status, 500);
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.ok(grpcPort !== undefined && internalPort !== undefined, 'ready before the gRPC APIs listened');
    await new Promise<void>((resolve, reject) => {
      const socket = connect(grpcPort!, '127.0.0.1', () => {
        socket.end();
        resolve();
      });
      socket.once('error', reject);
    });
  } finally {
    await sidecar.stop();
    if (previous === undefined) delete process.env.TESSERA_NAME_REGISTRY;
    else process.env.TESSERA_NAME_REGISTRY = previous;
    await dir.remove();
    await registry.remove();
  }
});
