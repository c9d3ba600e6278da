// `tessera run` and its gRPC API as a new user meets them: an app started after `--` finds
// the API in DAPR_GRPC_PORT and uses it through the official SDK over gRPC; a gRPC port
// already taken stops the sidecar with one line naming the flag, as daprd does not run
// without its gRPC API.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { runTessera, startSidecar, STATE_MEMORY_WASM, type SidecarProcess } from '../support/sidecar-process.ts';

const started: SidecarProcess[] = [];
after(() => Promise.all(started.map((s) => s.stop())));

describe('tessera run and the gRPC API', { concurrency: true }, () => {
  it('gives the app DAPR_GRPC_PORT, where the SDK over gRPC saves, reads and deletes state', async () => {
    const app = `(async () => {
      const { DaprClient, CommunicationProtocolEnum } = require('@dapr/dapr');
      const client = new DaprClient({ daprHost: '127.0.0.1', daprPort: process.env.DAPR_GRPC_PORT, communicationProtocol: CommunicationProtocolEnum.GRPC });
      await client.state.save('statestore', [{ key: 'k', value: { from: 'grpc' } }]);
      const read = await client.state.get('statestore', 'k');
      await client.state.delete('statestore', 'k');
      const gone = await client.state.get('statestore', 'k');
      console.log('app: grpc=' + process.env.DAPR_GRPC_PORT + ' read=' + JSON.stringify(read) + ' gone=' + JSON.stringify(gone));
      process.exit(7);
    })().catch((err) => { console.log('app: failed ' + err.message); process.exit(1); });`;
    const sidecar = await startSidecar({ resources: { 'statestore.wasm': { copyOf: STATE_MEMORY_WASM } }, command: [process.execPath, '-e', app] });
    started.push(sidecar);
    const exit = await sidecar.waitForExit(20_000);
    assert.deepEqual(exit, { code: 7, signal: null }, sidecar.logText());
    const line = sidecar.logs.find((entry) => entry.message.startsWith('app: '));
    assert.equal(line?.message, `app: grpc=${sidecar.grpcPort} read={"from":"grpc"} gone=""`, sidecar.logText());
  });

  it('exits 1 naming --dapr-grpc-port when the gRPC port is taken', async (t) => {
    const taken = createServer();
    taken.listen(0, '127.0.0.1');
    await once(taken, 'listening');
    t.after(() => taken.close());
    const port = (taken.address() as AddressInfo).port;
    const { code, stdout, stderr } = await runTessera(['run', '--app-id', 'x', '--dapr-http-port', '0', '--dapr-grpc-port', String(port)]);
    assert.equal(code, 1, stdout + stderr);
    assert.ok(stdout.includes(`the gRPC API could not start: port ${port} is already in use on 127.0.0.1 (another sidecar?); choose another with --dapr-grpc-port`), stdout);
  });
});
