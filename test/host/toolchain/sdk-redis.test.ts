// The SDKs' redis API as a component author uses it (C++ `tessera::redis`, AssemblyScript
// `redis`): a store built with the CLI whose `set` and `get` are a Redis SET and GET through
// the host's shared connection to a real redis-server (granted in its YAML), and whose
// `delete` sends a command the shared connection refuses and reports the host's refusal.
import { ABI_VERSION } from '../../../abi/ts/manifest.ts';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { RedisServer } from '../../support/redis-server.ts';
import { componentYaml, startSidecar } from '../../support/sidecar-process.ts';
import { buildProject, writeAssemblyScriptProject, writeCppProject } from '../../support/sdk-project.ts';
import { tempDir, withAnnotations } from '../../support/temp-dir.ts';
import { needs } from '../../support/tools.ts';

// Both stores answer `get` with the reply's bytes as Redis sent them ("$5\r\nvalue\r\n"): the
// test reads the framing the host handed over, not a parser of the store's own.
const CPP_STORE = `#include <tessera/tessera.h>

#include <string>

TESSERA_MANIFEST("state.kv", "v1", "SET and GET through the host's Redis pipeline.", "redis");

namespace {

class KvStore : public tessera::StateStore {
 public:
  tessera::Status init(tessera::Metadata config) override {
    std::optional<std::string_view> port = config.get("port");
    if (!port) return tessera::StateError::invalid_argument("metadata \\"port\\" is required");
    std::uint16_t number = 0;
    for (char c : *port) number = static_cast<std::uint16_t>(number * 10 + (c - '0'));
    tessera::Result<tessera::redis::Connection> opened = tessera::redis::open("127.0.0.1", number, "", "", 0, 1000);
    if (!opened) return opened.error();
    redis_.emplace(std::move(*opened));
    return {};
  }

  tessera::GetResult get(tessera::GetRequest req) override {
    tessera::Bytes command;
    tessera::redis::encode_command(command, {"GET", req.key});
    tessera::Result<tessera::Bytes> reply = redis_->execute(command, 1, 1000);
    if (!reply) return reply.error();
    return tessera::GetResponse(std::move(*reply));
  }

  tessera::Status set(tessera::SetRequest req) override {
    tessera::Bytes commands;
    tessera::redis::encode_command(commands, {"SET", req.key, std::string_view(reinterpret_cast<const char*>(req.value.data()), req.value.size())});
    tessera::redis::encode_command(commands, {"INCR", "writes"});
    tessera::Result<tessera::Bytes> replies = redis_->execute(commands, 2, 1000);
    if (!replies) return replies.error();
    return {};
  }

  tessera::Status del(tessera::DeleteRequest req) override {
    tessera::Bytes command;
    tessera::redis::encode_command(command, {"MULTI"});
    tessera::Result<tessera::Bytes> reply = redis_->execute(command, 1, 1000);
    if (!reply) return reply.error();
    return tessera::StateError::internal("MULTI went through a shared connection");
  }

 private:
  std::optional<tessera::redis::Connection> redis_;
};

}  // namespace

TESSERA_EXPORT_STATE_STORE(KvStore);
`;

const AS_STORE = `import { Metadata, StateError, StateStore, GetRequest, GetResponse, GetResult, SetRequest, DeleteRequest, registerStateStore, redis } from "SDK/index";
export * from "SDK/state-exports";

class KvStore extends StateStore {
  connection: redis.Connection | null = null;

  init(config: Metadata): StateError | null {
    const port = config.get("port");
    if (port === null) return StateError.invalidArgument('metadata "port" is required');
    const opened = redis.open("127.0.0.1", <u16>I32.parseInt(port), "", "", 0, 1000);
    if (opened.error !== null) return opened.error;
    this.connection = opened.connection;
    return null;
  }

  get(req: GetRequest): GetResult {
    const reply = this.connection!.execute(redis.encodeCommand(["GET", req.key]), 1, 1000);
    if (reply.error !== null) return GetResult.failed(reply.error!);
    return GetResult.found(new GetResponse(reply.value));
  }

  set(req: SetRequest): StateError | null {
    const set = redis.encodeCommand(["SET", req.key, String.UTF8.decode(req.value.buffer)]);
    const incr = redis.encodeCommand(["INCR", "writes"]);
    const both = new Uint8Array(set.length + incr.length);
    both.set(set);
    both.set(incr, set.length);
    const replies = this.connection!.execute(both, 2, 1000);
    return replies.error;
  }

  delete(req: DeleteRequest): StateError | null {
    const reply = this.connection!.execute(redis.encodeCommand(["MULTI"]), 1, 1000);
    if (reply.error !== null) return reply.error;
    return StateError.internal("MULTI went through a shared connection");
  }
}

registerStateStore(new KvStore());
`;

const AS_MANIFEST = { kind: 'state-store', type: 'state.kv', version: 'v1', abi: ABI_VERSION, capabilities: ['log', 'redis'], description: "SET and GET through the host's Redis pipeline." };

describe('the SDKs over the redis capability', { concurrency: true, ...needs('redis') }, () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let redis: RedisServer;
  before(async () => {
    work = await tempDir('tessera-sdk-redis-');
    redis = await RedisServer.start();
  });
  after(async () => {
    await redis?.stop();
    await work?.remove();
  });

  /** Builds the folder with the CLI, runs it in a sidecar granted the server, and checks what it does there. */
  async function storesInRedis(dir: string, appId: string): Promise<void> {
    const wasm = await buildProject(dir);
    const yaml = withAnnotations(componentYaml('kv', 'state.kv', { port: String(redis.port) }), { 'tessera.dev/allow-tcp': redis.address });
    const sidecar = await startSidecar({ appId, resources: { 'kv.wasm': { copyOf: wasm }, 'kv.yaml': yaml } });
    try {
      const saved = await sidecar.fetch('/v1.0/state/kv', { method: 'POST', body: JSON.stringify([{ key: 'greeting', value: 'hello' }]) });
      assert.equal(saved.status, 204, await saved.text());
      assert.equal((await redis.cli('GET', `${appId}||greeting`)).trim(), '"hello"', 'the value in Redis, under the key the store got');
      const got = await sidecar.fetch('/v1.0/state/kv/greeting');
      assert.equal(got.status, 200);
      assert.equal(await got.text(), '$7\r\n"hello"\r\n', "the GET's reply, framed as Redis sent it");
      const refused = await sidecar.fetch('/v1.0/state/kv/greeting', { method: 'DELETE' });
      const body = (await refused.json()) as { errorCode: string; message: string };
      assert.equal(refused.status, 400, JSON.stringify(body));
      assert.match(body.message, /command 1 \(MULTI\) would change or hold the shared connection; use the tcp capability/);
    } finally {
      await sidecar.stop();
    }
  }

  test('C++: SET and GET go through the shared connection; a MULTI is refused, naming it', needs('clang'), async () => {
    const dir = join(work.path, 'kv-cpp');
    await writeCppProject(dir, CPP_STORE);
    await storesInRedis(dir, 'redis-cpp');
  });

  test('AssemblyScript: the same store, on the same server', async () => {
    const dir = join(work.path, 'kv-as');
    await writeAssemblyScriptProject(dir, AS_STORE, AS_MANIFEST);
    await storesInRedis(dir, 'redis-as');
  });
});
