// The C++ SDK's `tessera::tcp` as a component author uses it: a store built with the CLI whose
// `get` asks a real TCP server on loopback (granted in its YAML) and answers with its reply, and
// whose `set` tries an address it was not granted and reports the host's refusal.
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { componentYaml, runTessera, startSidecar } from '../../support/sidecar-process.ts';
import { tempDir, withAnnotations } from '../../support/temp-dir.ts';
import { needs } from '../../support/tools.ts';

const BUILD_TIMEOUT_MS = 180_000;

const STORE = `#include <tessera/tessera.h>

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

describe('the C++ SDK over the tcp capability', () => {
  test('a store asks a granted TCP server and answers with its reply; an address not granted is refused, naming the grant', needs('clang'), async () => {
    const dir = join(work.path, 'echo');
    await mkdir(dir);
    await writeFile(join(dir, 'store.cpp'), STORE);
    const built = await runTessera(['component', 'build'], { cwd: dir, timeoutMs: BUILD_TIMEOUT_MS });
    assert.equal(built.code, 0, built.stderr);
    const yaml = withAnnotations(componentYaml('echo', 'state.echo', { port: String(port) }), { 'tessera.dev/allow-tcp': `127.0.0.1:${port}` });
    const sidecar = await startSidecar({ appId: 'tcp-app', resources: { 'echo.wasm': { copyOf: join(dir, 'echo.wasm') }, 'echo.yaml': yaml } });
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
  });
});
