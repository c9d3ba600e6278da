// The Redis quickstart, as a new user tries it: redis-server running, the YAML files of
// examples/redis/resources (only the port changed, to the test's own Redis), `tessera run`.
// The README's curl session (driven with fetch), then the official @dapr/dapr client over
// HTTP; `redis-cli HGETALL <app-id>||<key>` shows Dapr's hash; the data survives a restart of
// the sidecar and a second sidecar sees it.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CommunicationProtocolEnum, DaprClient, LogLevel } from '@dapr/dapr';
import { RedisServer } from '../support/redis-server.ts';
import { startSidecar, type SidecarProcess } from '../support/sidecar-process.ts';
import { needs } from '../support/tools.ts';

const EXAMPLE = fileURLToPath(new URL('../../examples/redis/resources/', import.meta.url));
const ignore = (): void => {};
const quiet = { error: ignore, warn: ignore, info: ignore, verbose: ignore, debug: ignore };

/** The example's files, pointed at `redis` instead of localhost:6379. */
async function exampleResources(redis: RedisServer): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const name of await readdir(EXAMPLE)) {
    const text = await readFile(EXAMPLE + name, 'utf8');
    assert.match(text, /localhost:6379/, `${name} names the default Redis`);
    files[name] = text.replaceAll('localhost:6379', `localhost:${redis.port}`);
  }
  return files;
}

describe('the Redis quickstart (examples/redis/resources)', needs('redis'), () => {
  let redis: RedisServer;
  let resources: Record<string, string>;
  const sidecars: SidecarProcess[] = [];

  const start = async (): Promise<SidecarProcess> => {
    const sidecar = await startSidecar({ appId: 'myapp', resources, startTimeoutMs: 20_000 });
    sidecars.push(sidecar);
    return sidecar;
  };
  const client = (sidecar: SidecarProcess): DaprClient =>
    new DaprClient({ daprHost: '127.0.0.1', daprPort: String(sidecar.port), communicationProtocol: CommunicationProtocolEnum.HTTP, logger: { level: LogLevel.Error, service: quiet } });
  /** `redis-cli HGETALL key`, the real command, as field/value pairs. */
  const hgetall = async (key: string): Promise<string[]> => (await redis.cli('HGETALL', key)).trim().split('\n');

  before(async () => {
    redis = await RedisServer.start();
    resources = await exampleResources(redis);
  });
  after(async () => {
    await Promise.all(sidecars.map((s) => s.stop().catch(() => undefined)));
    await redis?.stop();
  });

  it("serves the README's curl session, and Redis holds Dapr's hash for each key", async () => {
    const sidecar = await start();
    const saved = await sidecar.fetch('/v1.0/state/statestore', { method: 'POST', body: '[{"key":"a","value":1},{"key":"b","value":{"hello":"world"}}]' });
    assert.equal(saved.status, 204, await saved.text());
    assert.equal(await (await sidecar.fetch('/v1.0/state/statestore/a')).text(), '1');
    const b = await sidecar.fetch('/v1.0/state/statestore/b');
    assert.equal(b.status, 200);
    assert.equal(b.headers.get('etag'), '1');
    assert.equal(b.headers.get('content-type'), 'application/json');
    assert.deepEqual(await b.json(), { hello: 'world' });

    assert.deepEqual(await hgetall('myapp||a'), ['data', '1', 'version', '1']);
    assert.deepEqual(await hgetall('myapp||b'), ['data', '{"hello":"world"}', 'version', '1']);

    assert.equal((await sidecar.fetch('/v1.0/state/statestore/b', { method: 'DELETE', headers: { 'If-Match': '1' } })).status, 204);
    assert.equal((await sidecar.fetch('/v1.0/state/statestore/b')).status, 204);
    assert.equal(await redis.cli('EXISTS', 'myapp||b'), '0\n');

    const metadata = (await (await sidecar.fetch('/v1.0/metadata')).json()) as { components: { name: string; type: string }[] };
    assert.deepEqual(metadata.components.map(({ name, type }) => `${name}: ${type}`).sort(), ['pubsub: pubsub.redis', 'statestore: state.redis']);
  });

  it('serves the @dapr/dapr client: save, get, ETags, delete, transaction', async () => {
    const dapr = client(sidecars[0]!);
    assert.equal((await dapr.state.save('statestore', [{ key: 'order-1', value: { id: 1, items: ['apple'] } }, { key: 'greeting', value: 'hello, 世界' }])).error, undefined);
    assert.deepEqual(await dapr.state.get('statestore', 'order-1'), { id: 1, items: ['apple'] });
    assert.equal(await dapr.state.get('statestore', 'greeting'), 'hello, 世界');

    const etagOf = async (key: string): Promise<string> => ((await dapr.state.getBulk('statestore', [key])) as { etag?: string }[])[0]!.etag!;
    assert.equal(await etagOf('order-1'), '1');
    assert.equal((await dapr.state.save('statestore', [{ key: 'order-1', value: { id: 1, items: ['apple', 'pear'] }, etag: '1' }])).error, undefined);
    assert.equal(await etagOf('order-1'), '2');
    assert.match(String((await dapr.state.save('statestore', [{ key: 'order-1', value: 'stale', etag: '1' }])).error), /409/);
    assert.match(String((await dapr.state.delete('statestore', 'greeting', { etag: '7' })).error), /409/);
    assert.equal((await dapr.state.delete('statestore', 'greeting', { etag: '1' })).error, undefined);
    assert.equal(await dapr.state.get('statestore', 'greeting'), '');

    await dapr.state.transaction('statestore', [
      { operation: 'upsert', request: { key: 'tx-a', value: 'a' } },
      { operation: 'upsert', request: { key: 'tx-b', value: { n: 2 } } },
      { operation: 'delete', request: { key: 'a' } },
    ]);
    assert.equal(await dapr.state.get('statestore', 'tx-a'), 'a');
    assert.deepEqual(await dapr.state.get('statestore', 'tx-b'), { n: 2 });
    assert.equal(await dapr.state.get('statestore', 'a'), '');
    assert.deepEqual(await hgetall('myapp||order-1'), ['data', '{"id":1,"items":["apple","pear"]}', 'version', '2']);
  });

  it('keeps the data across a restart of the sidecar, and a second sidecar sees it', async () => {
    const exit = await sidecars.shift()!.stop();
    assert.equal(exit.code, 0);
    const [again, second] = await Promise.all([start(), start()]);
    for (const sidecar of [again, second]) {
      const res = await sidecar.fetch('/v1.0/state/statestore/order-1');
      assert.equal(res.headers.get('etag'), '2');
      assert.deepEqual(await res.json(), { id: 1, items: ['apple', 'pear'] });
      assert.deepEqual(await client(sidecar).state.get('statestore', 'tx-b'), { n: 2 });
    }
  });
});
