// The SDKs' tcp API as a component author uses it (C++ `tessera::tcp`, AssemblyScript `tcp`):
// a store built with the CLI whose `get` asks a real TCP server on loopback (granted in its
// YAML) and answers with its reply, and whose `set` tries an address it was not granted and
// reports the host's refusal.
import { ABI_VERSION } from '../../../abi/ts/manifest.ts';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { componentYaml, startSidecar } from '../../support/sidecar-process.ts';
import { buildProject, writeAssemblyScriptProject, writeCppProject } from '../../support/sdk-project.ts';
import { tempDir, withAnnotations } from '../../support/temp-dir.ts';
import { needs } from '../../support/tools.ts';

const CPP_STORE = `#include <tessera/tessera.h>

#include <string>

TESSERA_MANIFEST("state.echo", "v1", "Asks a TCP server for each key.", "tcp");

namespace {

class EchoStore : public tessera::StateStore {
 public:
  tessera::Status init(tessera::Metadata config) override {
    std::optional<std::string_view> port = config.get("port");
    if (!port) return tessera::StateError::invalid_argument("metadata \\"port\\" is required");
    for (char c : *port) port_ = static_cast<std::uint16_t>(port_ * 10 + (c - '0'));
    return {};
  }

  tessera::GetResult get(tessera::GetRequest req) override {
    tessera::Result<tessera::tcp::Connection> connection = tessera::tcp::connect("127.0.0.1", port_, 1000);
    if (!connection) return connection.error();
    const std::string line = req.key + "\\n";
    tessera::Status written = connection->write_all(tessera::Bytes(line.begin(), line.end()));
    if (!written) return written.error();
    tessera::Bytes reply;
    while (reply.empty() || reply.back() != '\\n') {
      tessera::Result<tessera::Bytes> chunk = connection->read(4096, 1000);
      if (!chunk) return chunk.error();
      if (chunk->empty()) return tessera::StateError::unavailable("the echo server did not answer in time");
      reply.insert(reply.end(), chunk->begin(), chunk->end());
    }
    reply.pop_back();
    return tessera::GetResponse(std::move(reply));
  }

  tessera::Status set(tessera::SetRequest) override {
    // Not granted: the host refuses, and says how to grant it.
    tessera::Result<tessera::tcp::Connection> connection = tessera::tcp::connect("127.0.0.1", 1, 1000);
    if (!connection) return connection.error();
    return tessera::StateError::internal("connected to an address that was not granted");
  }

  tessera::Status del(tessera::DeleteRequest) override { return {}; }

 private:
  std::uint16_t port_ = 0;
};

}  // namespace

TESSERA_EXPORT_STATE_STORE(EchoStore);
`;

const AS_STORE = `import { Metadata, StateError, StateStore, GetRequest, GetResponse, GetResult, SetRequest, DeleteRequest, registerStateStore, tcp } from "SDK/index";
export * from "SDK/state-exports";

class EchoStore extends StateStore {
  port: u16 = 0;

  init(config: Metadata): StateError | null {
    const port = config.get("port");
    if (port === null) return StateError.invalidArgument('metadata "port" is required');
    this.port = <u16>I32.parseInt(port);
    return null;
  }

  get(req: GetRequest): GetResult {
    const opened = tcp.connect("127.0.0.1", this.port, 1000);
    if (opened.error !== null) return GetResult.failed(opened.error!);
    const connection = opened.connection!;
    const written = connection.writeAll(Uint8Array.wrap(String.UTF8.encode(req.key + "\\n")));
    if (written !== null) {
      connection.close();
      return GetResult.failed(written);
    }
    let reply = "";
    while (!reply.endsWith("\\n")) {
      const chunk = connection.read(4096, 1000);
      if (chunk.error !== null) {
        connection.close();
        return GetResult.failed(chunk.error!);
      }
      if (chunk.value.length == 0) {
        connection.close();
        return GetResult.failed(StateError.unavailable("the echo server did not answer in time"));
      }
      reply += String.UTF8.decode(chunk.value.buffer);
    }
    connection.close();
    return GetResult.found(new GetResponse(Uint8Array.wrap(String.UTF8.encode(reply.slice(0, reply.length - 1)))));
  }

  set(req: SetRequest): StateError | null {
    // Not granted: the host refuses, and says how to grant it.
    const opened = tcp.connect("127.0.0.1", 1, 1000);
    if (opened.error !== null) return opened.error;
    opened.connection!.close();
    return StateError.internal("connected to an address that was not granted");
  }

  delete(req: DeleteRequest): StateError | null {
    return null;
  }
}

registerStateStore(new EchoStore());
`;

const AS_MANIFEST = { kind: 'state-store', type: 'state.echo', version: 'v1', abi: ABI_VERSION, capabilities: ['log', 'tcp'], description: 'Asks a TCP server for each key.' };

let work: Awaited<ReturnType<typeof tempDir>>;
let server: Server;
let port: number;
before(async () => {
  work = await tempDir('tessera-cpp-tcp-');
  // Answers each line with "echo:" and the line, on the connection it came on.
  server = createServer((socket) => {
    let pending = '';
    socket.on('data', (data) => {
      pending += data.toString('utf8');
      for (let nl = pending.indexOf('\n'); nl !== -1; nl = pending.indexOf('\n')) {
        socket.write(`echo:${pending.slice(0, nl)}\n`);
        pending = pending.slice(nl + 1);
      }
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});
after(async () => {
  await new Promise((resolve) => server.close(resolve));
  await work.remove();
});

/** Builds the folder with the CLI, runs it in a sidecar granted the echo server, and checks both answers. */
async function echoes(dir: string): Promise<void> {
  const wasm = await buildProject(dir);
  const yaml = withAnnotations(componentYaml('echo', 'state.echo', { port: String(port) }), { 'tessera.dev/allow-tcp': `127.0.0.1:${port}` });
  const sidecar = await startSidecar({ appId: 'tcp-app', resources: { 'echo.wasm': { copyOf: wasm }, 'echo.yaml': yaml } });
  try {
    const got = await sidecar.fetch('/v1.0/state/echo/hello');
    assert.equal(got.status, 200);
    assert.equal(await got.text(), 'echo:tcp-app||hello', 'the key as the store got it (prefixed with the app id), through the server');
    const refused = await sidecar.fetch('/v1.0/state/echo', { method: 'POST', body: JSON.stringify([{ key: 'k', value: 1 }]) });
    const body = (await refused.json()) as { errorCode: string; message: string };
    // The store passes the host's `invalid-argument` on, which the state API answers with 400.
    assert.equal(refused.status, 400, JSON.stringify(body));
    assert.equal(body.errorCode, 'ERR_STATE_SAVE');
    assert.match(body.message, /tcp connect to 127\.0\.0\.1:1 is not allowed .*tessera\.dev\/allow-tcp/);
  } finally {
    await sidecar.stop();
  }
}

describe('the SDKs over the tcp capability', { concurrency: true }, () => {
  test('C++: a store asks a granted TCP server and answers with its reply; an address not granted is refused, naming the grant', needs('clang'), async () => {
    const dir = join(work.path, 'echo-cpp');
    await writeCppProject(dir, CPP_STORE);
    await echoes(dir);
  });

  test('AssemblyScript: the same store, on the same server', async () => {
    const dir = join(work.path, 'echo-as');
    await writeAssemblyScriptProject(dir, AS_STORE, AS_MANIFEST);
    await echoes(dir);
  });
});
