// Two sidecars started at once with daprd's default gRPC port: the start checks 50001 is free,
// but the gRPC API binds only once the components are loaded, so another sidecar may take the
// port in between. A default port then gives way to a free one (logged); a port the user
// named still fails, as daprd's does.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../host/observability/logger.ts';
import { Sidecar } from '../../host/sidecar.ts';
import { tempDir } from '../support/temp-dir.ts';

function occupy(): Promise<Server> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => resolve(server));
  });
}

describe('a default gRPC port taken between the check and the bind', () => {
  let holder: Server;
  let taken: number;
  let dir: Awaited<ReturnType<typeof tempDir>>;

  before(async () => {
    holder = await occupy();
    taken = (holder.address() as AddressInfo).port;
    dir = await tempDir();
  });
  after(async () => {
    holder?.close();
    await dir?.remove();
  });

  async function start(grpcPortIsDefault: boolean, lines: string[]): Promise<Sidecar> {
    const logger = createLogger({ level: 'info', json: true, write: (line) => lines.push(line) });
    return Sidecar.start({ appId: 'racer', httpPort: 0, grpcPort: taken, grpcPortIsDefault, listenAddress: '127.0.0.1', resourcesPaths: [dir.path], maxBodyBytes: 1024 * 1024, logger });
  }

  it('the HTTP API gives way too when its default port was taken, and fails when the port was named', async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', json: true, write: (line) => lines.push(line) });
    const options = { appId: 'racer', httpPort: taken, listenAddress: '127.0.0.1', resourcesPaths: [dir.path], maxBodyBytes: 1024 * 1024, logger };
    const sidecar = await Sidecar.start({ ...options, httpPortIsDefault: true });
    try {
      assert.ok(sidecar.port !== taken && sidecar.port > 0, `listens on a free port, not ${taken}: ${sidecar.port}`);
      { const res = await fetch(`http://127.0.0.1:${sidecar.port}/v1.0/metadata`); assert.equal(res.status, 200, await res.text()); }
      assert.ok(lines.some((l) => l.includes(`port ${taken} was taken meanwhile`) && l.includes('--dapr-http-port')), lines.join('\n'));
    } finally {
      await sidecar.stop();
    }
    await assert.rejects(Sidecar.start(options), { code: 'EADDRINUSE' });
  });

  it('gives way to a free port, saying so, when the port was the default', async () => {
    const lines: string[] = [];
    const sidecar = await start(true, lines);
    try {
      const port = await sidecar.grpcPort;
      assert.ok(port !== undefined && port !== taken && port > 0, `listens on a free port, not ${taken}: ${port}`);
      assert.ok(lines.some((l) => l.includes(`port ${taken} was taken meanwhile`) && l.includes('--dapr-grpc-port')), lines.join('\n'));
    } finally {
      await sidecar.stop();
    }
  });

  it('fails, as before, when the user named the port', async () => {
    const sidecar = await start(false, []);
    try {
      await assert.rejects(sidecar.grpcPort, /EADDRINUSE|in use/);
    } finally {
      await sidecar.stop();
    }
  });
});
