// Many sidecars, one Redis: three real `tessera run` processes against one real redis-server,
// as a scaled-out app runs them. Two are instances of app `worker` (each delivering to an app
// of its own), one is app `shop`. What they must share: a store's keys among the sidecars of
// one app id, a `keyPrefix: name` store's keys across app ids, ETags as Redis holds them (a
// stale one from another sidecar is 409), a topic's messages among the instances of one app
// (each message to one of them), and the messages a killed instance held (taken over once
// pending `processingTimeout`). A sidecar killed and started again loses nothing it
// acknowledged: not a saved key, not a published message.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RedisServer, redisComponentYaml, redisPubSubYaml } from '../support/redis-server.ts';
import { expectDaprError, pollUntil, startSidecar, type SidecarProcess } from '../support/sidecar-process.ts';
import { TestApp } from '../support/test-app.ts';
import { needs } from '../support/tools.ts';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Topic `orders` on `pubsub` (Dapr's default processingTimeout of 60 s, so nothing is redelivered while deliveries run); `jobs` on `pubsub-fast`, whose pending messages are taken over after 1 s. */
const SUBSCRIPTIONS = [
  { pubsubname: 'pubsub', topic: 'orders', route: '/orders' },
  { pubsubname: 'pubsub-fast', topic: 'jobs', route: '/jobs' },
];

const json = (body: unknown): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('three sidecars on one Redis', needs('redis'), () => {
  let redis: RedisServer;
  let resources: Record<string, string>;
  /** The apps behind the two `worker` sidecars. */
  const apps: TestApp[] = [];
  /** Every sidecar started, for the `after` hook. */
  const started: SidecarProcess[] = [];
  /** The live sidecars: two of `worker` (delivering to apps[0] and apps[1]) and `shop`. */
  const workers: SidecarProcess[] = [];
  let shop: SidecarProcess;

  /** Waits until `sidecar` subscribed to both topics (so its consumer group exists on Redis). */
  const subscribed = (sidecar: SidecarProcess): Promise<unknown> =>
    Promise.all(SUBSCRIPTIONS.map(({ pubsubname, topic }) => sidecar.waitForLog(new RegExp(`^subscribed to topic ${topic} on pubsub ${pubsubname} `), 20_000)));
  const startWorker = async (app: TestApp): Promise<SidecarProcess> => {
    const sidecar = await startSidecar({ appId: 'worker', resources, args: ['--app-port', String(app.port)], startTimeoutMs: 20_000 });
    started.push(sidecar);
    await subscribed(sidecar);
    return sidecar;
  };
  const startShop = async (): Promise<SidecarProcess> => {
    const sidecar = await startSidecar({ appId: 'shop', resources, startTimeoutMs: 20_000 });
    started.push(sidecar);
    return sidecar;
  };
  const pending = async (topic: string): Promise<number> => Number((await redis.cli('XPENDING', topic, 'worker')).split('\n')[0]);

  before(async () => {
    redis = await RedisServer.start();
    resources = {
      'statestore.yaml': redisComponentYaml('statestore', 'state.redis', redis.address),
      'shared.yaml': redisComponentYaml('shared', 'state.redis', redis.address, { keyPrefix: 'name' }),
      'pubsub.yaml': redisPubSubYaml('pubsub', redis.address),
      'pubsub-fast.yaml': redisPubSubYaml('pubsub-fast', redis.address, { processingTimeout: '1000ms', redeliverInterval: '250ms' }),
    };
    for (let i = 0; i < 2; i++) {
      const app = await new TestApp().listen();
      app.subscribe = { status: 200, body: SUBSCRIPTIONS };
      apps.push(app);
    }
    [workers[0], workers[1], shop] = await Promise.all([startWorker(apps[0]!), startWorker(apps[1]!), startShop()]);
  });

  after(async () => {
    await Promise.all(started.map((s) => s.stop('SIGKILL').catch(() => undefined)));
    await Promise.all(apps.map((a) => a.close()));
    await redis?.stop();
  });

  /** The value and ETag `sidecar` reads for `key` of `store` (undefined for 204: no such key). */
  async function read(sidecar: SidecarProcess, store: string, key: string): Promise<{ value: unknown; etag: string | null } | undefined> {
    const res = await sidecar.fetch(`/v1.0/state/${store}/${key}`);
    if (res.status === 204) return undefined;
    assert.equal(res.status, 200, await res.clone().text());
    return { value: await res.json(), etag: res.headers.get('etag') };
  }
  const save = (sidecar: SidecarProcess, store: string, items: unknown[]): Promise<Response> => sidecar.fetch(`/v1.0/state/${store}`, json(items));
  const saved = async (sidecar: SidecarProcess, store: string, items: unknown[]): Promise<void> => {
    const res = await save(sidecar, store, items);
    assert.equal(res.status, 204, await res.text());
  };
  const hash = async (key: string): Promise<string[]> => (await redis.cli('HGETALL', key)).trim().split('\n');

  it("the sidecars of one app id share its store, each reading the other's writes with Redis's ETag; a stale ETag from another sidecar is 409; another app id does not see the key", async () => {
    const [one, two] = workers as [SidecarProcess, SidecarProcess];
    await saved(one, 'statestore', [{ key: 'order-1', value: { qty: 1 } }]);
    assert.deepEqual(await read(two, 'statestore', 'order-1'), { value: { qty: 1 }, etag: '1' });
    assert.deepEqual(await hash('worker||order-1'), ['data', '{"qty":1}', 'version', '1']);

    await saved(two, 'statestore', [{ key: 'order-1', value: { qty: 2 }, etag: '1' }]);
    assert.deepEqual(await read(one, 'statestore', 'order-1'), { value: { qty: 2 }, etag: '2' });
    await expectDaprError(save(one, 'statestore', [{ key: 'order-1', value: { qty: 3 }, etag: '1' }]), 409, 'ERR_STATE_SAVE', /etag mismatch/);
    await expectDaprError(one.fetch('/v1.0/state/statestore/order-1', { method: 'DELETE', headers: { 'if-match': '1' } }), 409, 'ERR_STATE_DELETE', /etag mismatch/);
    assert.deepEqual(await read(two, 'statestore', 'order-1'), { value: { qty: 2 }, etag: '2' });

    // The default keyPrefix is the app id: `shop` has a store of that name too, with its own keys.
    assert.equal(await read(shop, 'statestore', 'order-1'), undefined);
    await saved(shop, 'statestore', [{ key: 'order-1', value: 'shop' }]);
    assert.deepEqual(await read(shop, 'statestore', 'order-1'), { value: 'shop', etag: '1' });
    assert.deepEqual(await read(one, 'statestore', 'order-1'), { value: { qty: 2 }, etag: '2' });
  });

  it('a `keyPrefix: name` store is shared across app ids: bulk reads, ETags, stale deletes and a stale transaction (all or nothing) agree in all three sidecars', async () => {
    const [one, two] = workers as [SidecarProcess, SidecarProcess];
    await saved(shop, 'shared', [
      { key: 'stock-apple', value: 10 },
      { key: 'stock-pear', value: 5 },
    ]);
    assert.deepEqual(await hash('shared||stock-apple'), ['data', '10', 'version', '1']);
    for (const sidecar of [one, two]) {
      const bulk = await sidecar.fetch('/v1.0/state/shared/bulk', json({ keys: ['stock-apple', 'stock-pear', 'stock-plum'] }));
      assert.deepEqual(await bulk.json(), [
        { key: 'stock-apple', data: 10, etag: '1' },
        { key: 'stock-pear', data: 5, etag: '1' },
        { key: 'stock-plum' },
      ]);
    }

    await saved(one, 'shared', [{ key: 'stock-apple', value: 9, etag: '1' }]);
    assert.deepEqual(await read(shop, 'shared', 'stock-apple'), { value: 9, etag: '2' });
    await expectDaprError(shop.fetch('/v1.0/state/shared/stock-apple', { method: 'DELETE', headers: { 'if-match': '1' } }), 409, 'ERR_STATE_DELETE');

    // A transaction from `two` with one stale ETag changes nothing anywhere.
    const stale = two.fetch(
      '/v1.0/state/shared/transaction',
      json({
        operations: [
          { operation: 'upsert', request: { key: 'stock-pear', value: 4, etag: '1' } },
          { operation: 'upsert', request: { key: 'stock-apple', value: 8, etag: '1' } },
        ],
      }),
    );
    await expectDaprError(stale, 500, 'ERR_STATE_TRANSACTION', /etag mismatch/);
    assert.deepEqual(await read(shop, 'shared', 'stock-pear'), { value: 5, etag: '1' });

    const fresh = await two.fetch(
      '/v1.0/state/shared/transaction',
      json({
        operations: [
          { operation: 'upsert', request: { key: 'stock-pear', value: 4, etag: '1' } },
          { operation: 'delete', request: { key: 'stock-apple', etag: '2' } },
        ],
      }),
    );
    assert.equal(fresh.status, 204, await fresh.text());
    assert.deepEqual(await read(shop, 'shared', 'stock-pear'), { value: 4, etag: '2' });
    assert.equal(await read(one, 'shared', 'stock-apple'), undefined);
    assert.equal(await redis.cli('EXISTS', 'shared||stock-apple'), '0\n');
  });

  it('two sidecars of one app id share a subscription: each message published (from a third) reaches exactly one of their apps', async () => {
    const N = 200;
    for (const app of apps) app.on('/orders', async () => (await sleep(1 + Math.random() * 4), {}));
    let next = 0;
    const publisher = async (): Promise<void> => {
      while (next < N) {
        const res = await shop.fetch('/v1.0/publish/pubsub/orders', json({ seq: next++ }));
        assert.equal(res.status, 204, await res.text());
      }
    };
    await Promise.all(Array.from({ length: 8 }, publisher));
    const seqs = (app: TestApp): number[] => app.at('/orders').map((d) => d.json.data.seq as number);
    await pollUntil(
      () => `${N} deliveries in all (got ${seqs(apps[0]!).length} + ${seqs(apps[1]!).length})`,
      () => (seqs(apps[0]!).length + seqs(apps[1]!).length >= N ? true : undefined),
      { timeoutMs: 30_000, intervalMs: 20 },
    );
    // Acknowledged, so nothing will come again.
    await pollUntil('nothing pending in group worker on orders', async () => ((await pending('orders')) === 0 ? true : undefined), { timeoutMs: 10_000, intervalMs: 50 });
    const [a, b] = [seqs(apps[0]!), seqs(apps[1]!)];
    assert.deepEqual([...a, ...b].sort((x, y) => x - y), Array.from({ length: N }, (_, i) => i), 'each message exactly once');
    assert.ok(a.length > 0 && b.length > 0, `both instances got messages (${a.length} and ${b.length})`);
  });

  it("a killed sidecar's pending messages are taken over by the other sidecar of its app id once pending processingTimeout", async (t) => {
    const N = 60;
    const [victim] = apps as [TestApp, TestApp];
    // The victim's app answers its first few, then holds each delivery until its sidecar is dead.
    const killed = Promise.withResolvers<void>();
    const answered = new Set<number>();
    const held = new Set<number>();
    victim.on('/jobs', async (d, nth) => {
      const seq = d.json.data.seq as number;
      if (nth > 3) {
        held.add(seq);
        await killed.promise;
        return { status: 500 };
      }
      answered.add(seq);
      return {};
    });
    apps[1]!.on('/jobs', async () => (await sleep(2), {}));

    for (let seq = 0; seq < N; seq++) {
      const res = await shop.fetch('/v1.0/publish/pubsub-fast/jobs', json({ seq }));
      assert.equal(res.status, 204, await res.text());
    }
    await pollUntil(() => `the victim to hold a delivery (it got ${victim.at('/jobs').length})`, () => (held.size > 0 ? true : undefined), { timeoutMs: 20_000 });
    const exit = await workers[0]!.stop('SIGKILL');
    assert.equal(exit.signal, 'SIGKILL');
    const heldAtKill = [...held];
    killed.resolve();

    const survivor = (): Set<number> => new Set(apps[1]!.at('/jobs').map((d) => d.json.data.seq as number));
    const missing = (): number[] => Array.from({ length: N }, (_, i) => i).filter((seq) => !answered.has(seq) && !survivor().has(seq));
    await pollUntil(() => `every job answered by one app or the other; missing ${missing().join(', ')}`, () => (missing().length === 0 ? true : undefined), { timeoutMs: 30_000, intervalMs: 50 });
    for (const seq of heldAtKill) assert.ok(survivor().has(seq), `job ${seq}, held by the killed sidecar, reached the other app`);
    await pollUntil('nothing pending in group worker on jobs', async () => ((await pending('jobs')) === 0 ? true : undefined), { timeoutMs: 10_000, intervalMs: 50 });
    t.diagnostic(`the killed sidecar held ${heldAtKill.length} job(s) at its app; the survivor took them over`);

    // A new instance in its place, for the tests after this one.
    victim.on('/jobs', () => ({}));
    workers[0] = await startWorker(victim);
  });

  it('a sidecar killed and started again loses nothing it acknowledged: saved keys, and messages published while the subscribers were down', async () => {
    const [one, two] = workers as [SidecarProcess, SidecarProcess];
    const K = 50;
    for (let i = 0; i < K; i++) await saved(one, 'statestore', [{ key: `durable-${i}`, value: { i } }]);
    await one.stop('SIGKILL');

    // Both instances of `worker` down: the messages wait in Redis for the group.
    await two.stop('SIGKILL');
    const before = apps.map((app) => app.at('/orders').length);
    const M = 50;
    for (let seq = 1000; seq < 1000 + M; seq++) {
      const res = await shop.fetch('/v1.0/publish/pubsub/orders', json({ seq }));
      assert.equal(res.status, 204, await res.text());
    }
    // The publisher goes down too, right after its 204s.
    await shop.stop('SIGKILL');

    const restarted = await startWorker(apps[0]!);
    workers.splice(0, 2, restarted);
    for (let i = 0; i < K; i++) assert.deepEqual(await read(restarted, 'statestore', `durable-${i}`), { value: { i }, etag: '1' });

    const fresh = (): number[] => apps.flatMap((app, n) => app.at('/orders').slice(before[n]).map((d) => d.json.data.seq as number));
    await pollUntil(() => `the ${M} messages published while no subscriber ran (got ${fresh().length})`, () => (fresh().length >= M ? true : undefined), { timeoutMs: 30_000, intervalMs: 20 });
    await pollUntil('nothing pending in group worker on orders', async () => ((await pending('orders')) === 0 ? true : undefined), { timeoutMs: 10_000, intervalMs: 50 });
    // Exactly those: nothing acknowledged before the restart came again.
    assert.deepEqual(fresh().sort((x, y) => x - y), Array.from({ length: M }, (_, i) => 1000 + i));
  });
});
