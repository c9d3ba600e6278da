// state.redis (components-wasm/state-redis, Rust on sdk/rust and the shared Redis client)
// through the real host against a real redis-server on a free loopback port: the conformance
// kit's state suite; then what Dapr's Redis store shares with it (the hash each key is, read
// back with a client of our own, and hashes Dapr wrote), ETags and first-write, TTLs as Redis
// holds them, transactions that apply nothing when one ETag is stale, Redis going down and
// coming back, the configuration checked at init; then the crate's unit tests, jco's reading of
// its signatures and a byte-identical rebuild.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { DeleteRequest, GetResponse, SetRequest, StateStore } from '../../abi/ts/state.ts';
import { ABI_VERSION } from '../../abi/ts/manifest.ts';
import { CompiledComponent } from '../../host/sandbox/compiled-component.ts';
import { stateSuite } from '../../host/toolchain/conformance/state/suite.ts';
import { InstancePool, mayPoolInstances } from '../../host/sandbox/instance-pool.ts';
import { adaptStateStore } from '../../host/sandbox/kinds/state-store-adapter.ts';
import type { LiveComponent } from '../../host/sandbox/live-component.ts';
import { silentLogger } from '../../host/observability/logger.ts';
import { conformanceTests } from '../support/conformance.ts';
import { RedisServer, redisComponentYaml } from '../support/redis-server.ts';
import { expectDaprError, startSidecar, type SidecarProcess } from '../support/sidecar-process.ts';
import { RespClient } from '../support/resp-client.ts';
import { acceptedAsWorld, cargoTestPasses, componentErrorOf as errorOf, rebuildIsCommitted, startOnRedis, type OnRedisOptions } from '../support/rust-component.ts';
import { hasTool, needs } from '../support/tools.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const COMPONENT = join('components-wasm', 'state-redis');
const SHARED = join('components-wasm', 'shared', 'redis-client');
const WASM = join(ROOT, COMPONENT, 'state-redis.wasm');

const wasmBytes = readFile(WASM).then((b) => new Uint8Array(b));
const compiled = wasmBytes.then((b) => CompiledComponent.compile(b, { source: 'state-redis.wasm' }));
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : new TextDecoder().decode(b));

let redis: RedisServer;
let client: RespClient;
const started: LiveComponent[] = [];
let keys = 0;
/** A key no other test uses, as a sidecar names it (`<app-id>||<key>`). */
const newKey = (): string => `app||key-${process.pid}-${++keys}`;

async function start(options: Partial<OnRedisOptions> = {}): Promise<StateStore> {
  const live = await startOnRedis(await compiled, 'redis-store', { server: redis, ...options });
  started.push(live);
  return adaptStateStore(live);
}

function setRequest(key: string, value: string, more: Partial<SetRequest> = {}): SetRequest {
  return { key, value: utf8(value), concurrency: 'last-write', consistency: 'eventual', metadata: [], ...more };
}

function deleteRequest(key: string, more: Partial<DeleteRequest> = {}): DeleteRequest {
  return { key, concurrency: 'last-write', consistency: 'eventual', metadata: [], ...more };
}

const get = (store: StateStore, key: string): Promise<GetResponse | undefined> => store.get({ key, consistency: 'eventual', metadata: [] });
const ttl = (seconds: string): Partial<SetRequest> => ({ metadata: [['ttlInSeconds', seconds]] });
const metadataValue = (found: GetResponse | undefined, name: string): string | undefined => found?.metadata.find(([k]) => k === name)?.[1];

/** The key's hash as HGETALL answers it, as an object. */
async function hash(key: string): Promise<Record<string, string>> {
  const flat = (await client.command('HGETALL', key)) as string[];
  const fields: Record<string, string> = {};
  for (let i = 0; i < flat.length; i += 2) fields[flat[i]!] = flat[i + 1]!;
  return fields;
}

/** `TTL <key>` in seconds: -1 without one, -2 for a missing key. */
const ttlOf = async (key: string): Promise<number> => (await client.command('TTL', key)) as number;

before(async () => {
  if (!hasTool('redis')) return;
  redis = await RedisServer.start();
  client = await RespClient.connect(redis.port);
});

after(async () => {
  await Promise.all(started.map((live) => live.close()));
  client?.close();
  await redis?.stop();
});

// The kit gives each check a store of its own and names its keys alike across checks (`tx-a`
// in two of them), which for a store whose data lives in Redis means a database of its own:
// each check runs on its own `redisDB` of one server.
const kitServer = hasTool('redis') ? RedisServer.start({ args: ['--databases', String(stateSuite.checks.length)] }) : undefined;
after(async () => (await kitServer)?.stop());
stateSuite.checks.forEach((check, db) =>
  conformanceTests(
    `state-redis.wasm, against redisDB ${db} of a redis-server of its own`,
    async () => {
      const server = (await kitServer)!;
      return {
        bytes: await wasmBytes,
        source: 'state-redis.wasm',
        config: new Map([['redisHost', server.address], ['redisDB', String(db)]]),
        grants: { tcp: [server.address] },
        only: (c) => c === check,
      };
    },
    needs('redis'),
  ),
);

describe('state.redis through the host, against redis-server', needs('redis'), () => {
  test('carries the state.redis manifest, imports log, clock, tcp and redis, exports no snapshot (so the host pools it) and advertises ETAG, TRANSACTIONAL, TTL', async () => {
    const component = await compiled;
    assert.deepEqual(
      { ...component.manifest, description: undefined },
      { kind: 'state-store', type: 'state.redis', version: 'v1', abi: ABI_VERSION, capabilities: ['log', 'clock', 'tcp', 'redis'], description: undefined },
    );
    assert.deepEqual([...component.importedInterfaces].sort(), ['clock', 'log', 'redis', 'tcp']);
    assert.deepEqual([...component.optionalExports], []);
    assert.equal(mayPoolInstances(component), true);
    const store = await start();
    assert.deepEqual([...store.features].sort(), ['ETAG', 'TRANSACTIONAL', 'TTL']);
    await store.ping();
  });

  test("each key is Dapr's hash: data and version (the ETag, counted up), a first-write adds first-write 0; a hash Dapr wrote reads back with its version as the ETag", async () => {
    const store = await start();
    const key = newKey();
    await store.set(setRequest(key, '{"n":1}'));
    assert.deepEqual(await hash(key), { data: '{"n":1}', version: '1' });
    await store.set(setRequest(key, '{"n":2}'));
    assert.deepEqual(await hash(key), { data: '{"n":2}', version: '2' });
    const found = await get(store, key);
    assert.deepEqual([text(found?.value), found?.etag], ['{"n":2}', '2']);

    const first = newKey();
    await store.set(setRequest(first, '"x"', { concurrency: 'first-write' }));
    assert.deepEqual(await hash(first), { data: '"x"', 'first-write': '0', version: '1' });

    const dapr = newKey();
    await client.command('HSET', dapr, 'data', '"from dapr"', 'version', '41');
    const read = await get(store, dapr);
    assert.deepEqual([text(read?.value), read?.etag], ['"from dapr"', '41']);
    await store.set(setRequest(dapr, '"from tessera"', { etag: '41' }));
    assert.deepEqual(await hash(dapr), { data: '"from tessera"', version: '42' });

    await store.delete(deleteRequest(key));
    assert.equal(await client.command('EXISTS', key), 0);
    assert.equal(await get(store, key), undefined);
  });

  test('a stale or missing-key ETag is etag-mismatch and changes nothing; a non-decimal one is etag-invalid; an empty one counts as none', async () => {
    const store = await start();
    const key = newKey();
    await store.set(setRequest(key, 'v1'));
    await store.set(setRequest(key, 'v2'));
    let error = await errorOf(store.set(setRequest(key, 'v3', { etag: '1' })));
    assert.equal(error.tag, 'etag-mismatch');
    assert.match(error.val, /ETag "1" does not match key "app\|\|key-\d+-\d+" \(now at ETag "2"\)/);
    assert.equal((await errorOf(store.delete(deleteRequest(key, { etag: '1' })))).tag, 'etag-mismatch');
    assert.deepEqual(await hash(key), { data: 'v2', version: '2' });
    error = await errorOf(store.set(setRequest(key, 'v3', { etag: 'abc' })));
    assert.equal(error.tag, 'etag-invalid');
    assert.match(error.val, /ETag "abc" for key .* decimal numbers/);
    assert.equal((await errorOf(store.set(setRequest(newKey(), 'v', { etag: '7' })))).tag, 'etag-mismatch');
    await store.set(setRequest(key, 'v3', { etag: '' }));
    await store.delete(deleteRequest(key, { etag: '3' }));
    assert.equal(await client.command('EXISTS', key), 0);
  });

  test("first-write: without an ETag only a missing key is written; a key Dapr marked first-write refuses a write without its ETag, as Dapr's script does", async () => {
    const store = await start();
    const key = newKey();
    await store.set(setRequest(key, 'v1'));
    const error = await errorOf(store.set(setRequest(key, 'v2', { concurrency: 'first-write' })));
    assert.equal(error.tag, 'etag-mismatch');
    assert.match(error.val, /already exists: a first-write without an ETag only inserts a missing key/);
    await store.set(setRequest(key, 'v2', { concurrency: 'first-write', etag: '1' }));
    assert.deepEqual(await hash(key), { data: 'v2', 'first-write': '0', version: '2' });
    const marked = await errorOf(store.set(setRequest(key, 'v3')));
    assert.equal(marked.tag, 'etag-mismatch');
    assert.match(marked.val, /written with first-write concurrency/);
    await store.set(setRequest(key, 'v3', { etag: '2' }));
    assert.equal(text((await get(store, key))?.value), 'v3');
  });

  test('ttlInSeconds sets the key\'s TTL in Redis and ttlExpireTime on reads; -1 or 0 removes it; a write without one keeps it; the component\'s ttlInSeconds is the default', async () => {
    const store = await start();
    const key = newKey();
    const before = Date.now();
    await store.set(setRequest(key, 'v', ttl('100')));
    assert.ok((await ttlOf(key)) > 90);
    const at = metadataValue(await get(store, key), 'ttlExpireTime');
    assert.match(at ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.ok(Math.abs(Date.parse(at!) - (before + 100_000)) < 5_000, at);
    await store.set(setRequest(key, 'v2'));
    assert.ok((await ttlOf(key)) > 90, 'a write without ttlInSeconds keeps the TTL, as in Dapr');
    await store.set(setRequest(key, 'v3', ttl('-1')));
    assert.equal(await ttlOf(key), -1);
    assert.equal(metadataValue(await get(store, key), 'ttlExpireTime'), undefined);
    await store.set(setRequest(key, 'v4', ttl('50')));
    await store.set(setRequest(key, 'v5', ttl('0')));
    assert.equal(await ttlOf(key), -1);
    assert.equal((await errorOf(store.set(setRequest(key, 'v', ttl('soon'))))).tag, 'invalid-argument');

    const defaulted = await start({ config: { ttlInSeconds: '200' } });
    const other = newKey();
    await defaulted.set(setRequest(other, 'v'));
    assert.ok((await ttlOf(other)) > 190);
    await defaulted.set(setRequest(other, 'v', ttl('-1')));
    assert.equal(await ttlOf(other), -1);
  });

  test('a transaction with one stale ETag applies nothing; one that passes applies every operation in order', async () => {
    const store = await start();
    const [a, b, c] = [newKey(), newKey(), newKey()];
    await store.set(setRequest(a, 'a1'));
    await store.set(setRequest(b, 'b1'));
    await store.set(setRequest(b, 'b2'));
    const error = await errorOf(
      store.transact(
        [
          { tag: 'set', val: setRequest(a, 'a2') },
          { tag: 'delete', val: deleteRequest(c) },
          { tag: 'set', val: setRequest(c, 'c1', ttl('100')) },
          { tag: 'set', val: setRequest(b, 'b3', { etag: '1' }) },
        ],
        [],
      ),
    );
    assert.equal(error.tag, 'etag-mismatch');
    assert.match(error.val, /^transaction operation 4 \(set of key "app\|\|key-\d+-\d+"\) refused, nothing applied: ETag "1" does not match/);
    assert.deepEqual(await hash(a), { data: 'a1', version: '1' });
    assert.deepEqual(await hash(b), { data: 'b2', version: '2' });
    assert.equal(await client.command('EXISTS', c), 0);

    await store.transact(
      [
        { tag: 'set', val: setRequest(a, 'a2', { etag: '1' }) },
        { tag: 'set', val: setRequest(a, 'a3', { etag: '2' }) },
        { tag: 'delete', val: deleteRequest(b, { etag: '2' }) },
        { tag: 'set', val: setRequest(c, 'c1', ttl('100')) },
      ],
      [],
    );
    assert.deepEqual(await hash(a), { data: 'a3', version: '3' });
    assert.equal(await client.command('EXISTS', b), 0);
    assert.ok((await ttlOf(c)) > 90);
    await store.transact([], []);
  });

  test('bulk get reads every key in one go, a missing one with no value', async () => {
    const store = await start();
    const [a, b] = [newKey(), newKey()];
    await store.bulkSet([setRequest(a, 'A'), setRequest(b, 'B', ttl('100'))]);
    const items = await store.bulkGet([a, newKey(), b].map((key) => ({ key, consistency: 'eventual' as const, metadata: [] })));
    assert.deepEqual(items.map((i) => [text(i.response?.value), i.response?.etag, i.error]), [['A', '1', undefined], [undefined, undefined, undefined], ['B', '1', undefined]]);
    assert.ok(metadataValue(items[2]!.response, 'ttlExpireTime'));
  });

  test('pooled: concurrent calls run on several instances, each with its own connection; of 8 concurrent writes with the same ETag exactly one wins', async () => {
    const pool = await InstancePool.start(
      await compiled,
      { name: 'redis-pool', config: new Map([['redisHost', redis.address]]), logger: silentLogger, grants: { tcp: [redis.address] } },
      4,
    );
    try {
      const store = adaptStateStore(pool);
      const many = Array.from({ length: 16 }, () => newKey());
      await Promise.all(many.map((key, i) => store.set(setRequest(key, `v${i}`))));
      assert.ok(pool.instances > 1, `${pool.instances} instance(s)`);
      assert.deepEqual(await Promise.all(many.map(async (key) => text((await get(store, key))?.value))), many.map((_, i) => `v${i}`));
      const key = newKey();
      await store.set(setRequest(key, 'v0'));
      const outcomes = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => store.set(setRequest(key, `w${i}`, { etag: '1' }))));
      assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 1);
      for (const o of outcomes) if (o.status === 'rejected') assert.equal((await errorOf(Promise.reject(o.reason))).tag, 'etag-mismatch');
      assert.equal((await hash(key)).version, '2');
    } finally {
      await pool.close();
    }
  });

  test('Redis down: calls and ping fail with unavailable, not a hang; once Redis is back the same instance serves again (reloading its script)', async () => {
    const server = await RedisServer.start();
    try {
      const store = await start({ server });
      const key = newKey();
      await store.set(setRequest(key, 'v1'));
      await server.stop();
      for (const call of [get(store, key), store.set(setRequest(key, 'v2')), store.delete(deleteRequest(key)), store.ping()]) {
        const error = await errorOf(call);
        assert.equal(error.tag, 'unavailable', error.val);
        assert.match(error.val, new RegExp(`redis at ${server.address.replaceAll('.', '\\.')} (is unreachable|broke|did not answer)|connection to redis at`));
      }
      await server.restart();
      await store.ping();
      await store.set(setRequest(key, 'back'));
      assert.equal(text((await get(store, key))?.value), 'back');
      // The connection the first call after a restart finds broken is replaced without failing the call.
      await server.stop();
      await server.restart();
      await store.set(setRequest(key, 'again'));
      assert.equal(text((await get(store, key))?.value), 'again');
    } finally {
      await server.stop();
    }
  });

  test('init checks the configuration: redisHost, the grant, ttlInSeconds, AUTH with redisUsername/redisPassword, SELECT with redisDB', async () => {
    await assert.rejects(start({ config: { redisHost: '' } }), /invalid-argument: redisHost is required/);
    await assert.rejects(start({ config: { ttlInSeconds: 'forever' } }), /ttlInSeconds "forever" \(the component's default\)/);
    await assert.rejects(start({ config: { redisMaxRetries: 'many' } }), /redisMaxRetries "many" is not a whole number/);
    await assert.rejects(start({ grants: [] }), /cannot connect to redisHost 127\.0\.0\.1:\d+: redis at 127\.0\.0\.1:\d+ is not allowed/);

    const secured = await RedisServer.start({ args: ['--requirepass', 's3cret'] });
    try {
      await assert.rejects(start({ server: secured }), /redis refused PING: NOAUTH .*set redisPassword/);
      const store = await start({ server: secured, config: { redisUsername: 'default', redisPassword: 's3cret', redisDB: '3' } });
      await store.set(setRequest('in-db-3', 'x'));
      assert.equal(await secured.cli('-a', 's3cret', '--no-auth-warning', '-n', '3', 'HGET', 'in-db-3', 'data'), 'x\n');
    } finally {
      await secured.stop();
    }
  });
});

describe('state.redis in two sidecars of one app on one Redis', needs('redis'), () => {
  const sidecars: SidecarProcess[] = [];
  after(() => Promise.all(sidecars.map((s) => s.stop())));

  test("the quickstart's save and get: one sidecar saves, Redis holds Dapr's hash under <app-id>||<key>, the other reads it with its ETag; a stale ETag is 409; a restarted sidecar reads the same", async () => {
    const resources = { 'statestore.yaml': redisComponentYaml('statestore', 'state.redis', redis.address) };
    const start = async (): Promise<SidecarProcess> => {
      const sidecar = await startSidecar({ appId: 'orders', resources });
      sidecars.push(sidecar);
      return sidecar;
    };
    const [one, two] = await Promise.all([start(), start()]);
    const save = (sidecar: SidecarProcess, body: unknown): Promise<Response> =>
      sidecar.fetch('/v1.0/state/statestore', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal((await save(one, [{ key: 'order-1', value: { qty: 2 } }])).status, 204);
    assert.deepEqual(await hash('orders||order-1'), { data: '{"qty":2}', version: '1' });
    const read = await two.fetch('/v1.0/state/statestore/order-1');
    assert.equal(read.status, 200);
    assert.equal(read.headers.get('etag'), '1');
    assert.deepEqual(await read.json(), { qty: 2 });
    assert.equal((await save(two, [{ key: 'order-1', value: { qty: 3 }, etag: '1' }])).status, 204);
    await expectDaprError(save(one, [{ key: 'order-1', value: { qty: 4 }, etag: '1' }]), 409, 'ERR_STATE_SAVE');
    await one.stop();
    const again = await start();
    assert.deepEqual(await (await again.fetch('/v1.0/state/statestore/order-1')).json(), { qty: 3 });
  });
});

describe('state.redis, the module', () => {
  test('the unit tests of the store and of the shared Redis client pass (cargo test, native)', needs('rust'), () =>
    cargoTestPasses([join(ROOT, COMPONENT), join(ROOT, SHARED)]));

  test('jco embed + jco new accept it as the state-store world', async () => acceptedAsWorld(await wasmBytes, 'state-store'));

  test('a rebuild from a copy of the sources in another folder is byte-identical to the committed .wasm', needs('rust'), () => rebuildIsCommitted([COMPONENT, SHARED]));
});
