// Publish and subscribe end to end, as a new user meets it: the real `tessera run` process
// with two brokers in its resources folder — the bundled pubsub.memory, and pubsub.redis
// pointed (redisHost + the tessera.dev/allow-tcp grant) at a redis-server this test starts —
// and a real node:http app on loopback that subscribes through GET /dapr/subscribe (routes
// with CEL rules, a dead-letter topic). Messages are published with plain HTTP, as curl
// would, and checked where the app receives them: the CloudEvents envelope, RETRY and
// failures redelivered, the dead letter after the retries, two topics with two handlers, and
// a run of N messages with failures all arriving (in order, for pubsub.memory). Last, an app
// started by the sidecar itself (`tessera run ... -- node app.js`).
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RedisServer, redisPubSubYaml } from '../support/redis-server.ts';
import { needs } from '../support/tools.ts';
import { pollUntil, startSidecar, type SidecarProcess } from '../support/sidecar-process.ts';
import { tempDir } from '../support/temp-dir.ts';
import { freePort, TestApp, type Delivery } from '../support/test-app.ts';

const APP_ID = 'shop';
const MEMORY = 'memorybus';
const REDIS = 'redisbus';
/** pubsub.memory always; pubsub.redis where redis-server is installed (test/support/tools.ts). */
const withRedis = needs('redis').skip === undefined;
const BROKERS: readonly string[] = withRedis ? [MEMORY, REDIS] : [MEMORY];
const TOPICS = ['orders', 'orders-dead', 'payments', 'sequence'];

const memoryYaml = `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: ${MEMORY}
spec:
  type: pubsub.memory
  version: v1
`;

/** What the app answers to GET /dapr/subscribe: the same four subscriptions on each broker, routes prefixed by its name. */
const appSubscriptions = BROKERS.flatMap((pubsubname) => [
  {
    pubsubname,
    topic: 'orders',
    routes: {
      rules: [
        { match: 'event.data.kind == "priority"', path: `/${pubsubname}/orders/priority` },
        { match: 'event.data.kind == "poison"', path: `/${pubsubname}/orders/poison` },
      ],
      default: `/${pubsubname}/orders`,
    },
    deadLetterTopic: 'orders-dead',
  },
  { pubsubname, topic: 'orders-dead', route: `/${pubsubname}/dead` },
  { pubsubname, topic: 'payments', route: `/${pubsubname}/payments` },
  // In order on pubsub.memory (asked for: deliveries are concurrent by default), concurrent on pubsub.redis.
  { pubsubname, topic: 'sequence', route: `/${pubsubname}/sequence`, ...(pubsubname === MEMORY ? { metadata: { concurrencyMode: 'single' } } : {}) },
]);

/** POST /v1.0/publish/{pubsub}/{topic} with a JSON body, as `curl -H 'Content-Type: application/json' -d ...` sends it. */
async function publish(sidecar: SidecarProcess, pubsub: string, topic: string, data: unknown): Promise<void> {
  const res = await sidecar.fetch(`/v1.0/publish/${pubsub}/${topic}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(data) });
  assert.equal(res.status, 204, `publish to ${pubsub}/${topic}: ${res.status} ${await res.text()}`);
}

const dataOf = (d: Delivery): any => d.json?.data;
const nowAt = (app: TestApp, path: string): number => app.at(path).length;

describe('publish and subscribe through the tessera process, pubsub.memory and pubsub.redis', () => {
  let redis: RedisServer;
  let app: TestApp;
  let sidecar: SidecarProcess;
  /** Deliveries of each CloudEvent id seen so far, for handlers that fail only the first. */
  const seen = new Map<string, number>();
  const attempt = (d: Delivery): number => {
    const n = (seen.get(d.json.id) ?? 0) + 1;
    seen.set(d.json.id, n);
    return n;
  };

  before(async () => {
    if (withRedis) redis = await RedisServer.start();
    app = await new TestApp().listen();
    app.subscribe = { status: 200, body: appSubscriptions };
    for (const broker of BROKERS) {
      // A message of kind "retry-once" is answered RETRY the first time it comes.
      app.on(`/${broker}/orders`, (d) => (d.json?.data?.kind === 'retry-once' && attempt(d) === 1 ? { body: { status: 'RETRY' } } : {}));
      app.on(`/${broker}/orders/poison`, () => ({ status: 500, body: { error: 'cannot process this one' } }));
      // The 1st, 2nd and every 5th message fail the first time they come.
      app.on(`/${broker}/sequence`, (d) => {
        const n = d.json.data.n as number;
        return (n === 1 || n === 2 || n % 5 === 0) && attempt(d) === 1 ? { status: 503 } : {};
      });
    }
    sidecar = await startSidecar({
      appId: APP_ID,
      args: ['--app-port', String(app.port)],
      resources: withRedis ? { 'memorybus.yaml': memoryYaml, 'redisbus.yaml': redisPubSubYaml(REDIS, redis.address) } : { 'memorybus.yaml': memoryYaml },
    });
    // Both brokers loaded, every subscription running ...
    await pollUntil(
      () => `8 subscriptions in /v1.0/metadata; log:\n${sidecar.logText()}`,
      async () => {
        const meta = (await (await sidecar.fetch('/v1.0/metadata')).json()) as { subscriptions: unknown[] };
        return meta.subscriptions.length === appSubscriptions.length ? true : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 50 },
    );
    // ... and, for Redis, every consumer group made: a group reads only what is published
    // after it exists (XGROUP CREATE ... $), so publishing before would lose the message.
    if (withRedis) await pollUntil(
      'the consumer groups on Redis',
      async () => ((await Promise.all(TOPICS.map((t) => redis.groups(t)))).every((g) => g.includes(APP_ID)) ? true : undefined),
      { timeoutMs: 10_000, intervalMs: 50 },
    );
  });

  after(async () => {
    await sidecar?.stop();
    await app?.close();
    await redis?.stop();
  });

  if (!withRedis) describe(`on ${REDIS} (pubsub.redis)`, needs('redis'), () => it('is skipped', () => undefined));
  for (const broker of BROKERS) {
    describe(`on ${broker} (${broker === MEMORY ? 'pubsub.memory' : 'pubsub.redis'})`, () => {
      it('delivers a published JSON body as a CloudEvent with Dapr’s envelope fields', async () => {
        const before = nowAt(app, `/${broker}/orders`);
        const order = { kind: 'normal', orderId: 'o-1', amount: 12.5, items: ['a', 'b'] };
        await publish(sidecar, broker, 'orders', order);
        const delivery = (await app.waitFor(`/${broker}/orders`, before + 1, 10_000))[before]!;
        assert.equal(delivery.method, 'POST');
        assert.match(String(delivery.headers['content-type']), /^application\/cloudevents\+json/);
        const event = delivery.json;
        assert.equal(typeof event.id, 'string');
        assert.ok(event.id.length > 0);
        assert.equal(event.source, APP_ID);
        assert.equal(event.type, 'com.dapr.event.sent');
        assert.equal(event.specversion, '1.0');
        assert.equal(event.datacontenttype, 'application/json');
        assert.equal(event.topic, 'orders');
        assert.equal(event.pubsubname, broker);
        assert.deepEqual(event.data, order);
        assert.match(event.traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
        assert.ok(Number.isFinite(Date.parse(event.time)), event.time);
      });

      it('routes by the CEL rule: a matching event goes to its own path, the others to the default', async () => {
        const [priority, normal] = [nowAt(app, `/${broker}/orders/priority`), nowAt(app, `/${broker}/orders`)];
        await publish(sidecar, broker, 'orders', { kind: 'priority', orderId: 'p-1' });
        await publish(sidecar, broker, 'orders', { kind: 'normal', orderId: 'n-2' });
        const got = await app.waitFor(`/${broker}/orders/priority`, priority + 1, 10_000);
        assert.deepEqual(dataOf(got[priority]!), { kind: 'priority', orderId: 'p-1' });
        const rest = await app.waitFor(`/${broker}/orders`, normal + 1, 10_000);
        assert.deepEqual(dataOf(rest[normal]!), { kind: 'normal', orderId: 'n-2' });
        assert.equal(app.at(`/${broker}/orders/priority`).length, priority + 1, 'the priority event went only to its rule’s path');
      });

      it('delivers again a message the handler answered RETRY, and not after it succeeded', async () => {
        const before = nowAt(app, `/${broker}/orders`);
        await publish(sidecar, broker, 'orders', { kind: 'retry-once', orderId: 'r-1' });
        const got = (await app.waitFor(`/${broker}/orders`, before + 2, 10_000)).slice(before);
        assert.equal(got[0]!.json.id, got[1]!.json.id, 'the same event came twice');
        assert.deepEqual(dataOf(got[1]!), { kind: 'retry-once', orderId: 'r-1' });
        await new Promise((resolve) => setTimeout(resolve, 300));
        assert.equal(nowAt(app, `/${broker}/orders`), before + 2, 'no third delivery after the success');
      });

      it('sends a message whose handler always fails to the dead-letter topic after the retries', async () => {
        const [poison, dead] = [nowAt(app, `/${broker}/orders/poison`), nowAt(app, `/${broker}/dead`)];
        const started = Date.now();
        await publish(sidecar, broker, 'orders', { kind: 'poison', orderId: 'x-1' });
        const letters = await app.waitFor(`/${broker}/dead`, dead + 1, 10_000);
        const elapsed = Date.now() - started;
        const tries = app.at(`/${broker}/orders/poison`).slice(poison);
        // The first attempt and three retries (100, 200, 400 ms apart), then the dead letter.
        assert.equal(tries.length, 4, `attempts before the dead letter: ${tries.length}`);
        assert.ok(new Set(tries.map((d) => d.json.id)).size === 1, 'every attempt was the same event');
        assert.ok(elapsed >= 600, `dead-lettered after ${elapsed} ms, before the retries' backoff`);
        const letter = letters[dead]!.json;
        assert.equal(letter.id, tries[0]!.json.id, 'the dead letter is the original event');
        assert.deepEqual(letter.data, { kind: 'poison', orderId: 'x-1' });
        assert.equal(letter.topic, 'orders', 'the envelope still names the topic it was published to');
        await new Promise((resolve) => setTimeout(resolve, 300));
        assert.equal(app.at(`/${broker}/orders/poison`).length, poison + 4, 'no attempt after the dead letter');
        assert.equal(nowAt(app, `/${broker}/dead`), dead + 1);
      });

      it('delivers two topics to their own handlers, including a bulk publish', async () => {
        const [orders, payments] = [nowAt(app, `/${broker}/orders`), nowAt(app, `/${broker}/payments`)];
        await publish(sidecar, broker, 'payments', { paymentId: 'pay-1', amount: 3 });
        await publish(sidecar, broker, 'orders', { kind: 'normal', orderId: 'o-2' });
        const bulk = await sidecar.fetch(`/v1.0-alpha1/publish/bulk/${broker}/payments`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify([
            { entryId: '1', event: { paymentId: 'pay-2' }, contentType: 'application/json' },
            { entryId: '2', event: 'pay-3 as text', contentType: 'text/plain' },
          ]),
        });
        assert.equal(bulk.status, 204, await bulk.text());
        const pays = (await app.waitFor(`/${broker}/payments`, payments + 3, 10_000)).slice(payments);
        assert.deepEqual(pays.map(dataOf), [{ paymentId: 'pay-1', amount: 3 }, { paymentId: 'pay-2' }, 'pay-3 as text']);
        assert.ok(pays.every((d) => d.json.topic === 'payments' && d.json.pubsubname === broker));
        assert.equal(pays[2]!.json.datacontenttype, 'text/plain');
        const ords = (await app.waitFor(`/${broker}/orders`, orders + 1, 10_000)).slice(orders);
        assert.deepEqual(ords.map(dataOf), [{ kind: 'normal', orderId: 'o-2' }]);
      });

      it(`redelivers the 1st, 2nd and every 5th of N messages that failed, and all N arrive${broker === MEMORY ? ' in order (concurrencyMode: single)' : ''}`, async () => {
        const N = 40;
        const path = `/${broker}/sequence`;
        const before = nowAt(app, path);
        const started = Date.now();
        for (let n = 1; n <= N; n++) await publish(sidecar, broker, 'sequence', { n });
        const failing = [1, 2, ...Array.from({ length: N / 5 }, (_, i) => (i + 1) * 5)];
        // Every message once, and the failing ones once more: within a deadline.
        const got = (await app.waitFor(path, before + N + failing.length, 15_000)).slice(before);
        const elapsed = Date.now() - started;
        const ns = got.map((d) => dataOf(d).n as number);
        for (const n of failing) assert.equal(ns.filter((x) => x === n).length, 2, `message ${n} came twice`);
        for (let n = 1; n <= N; n++) if (!failing.includes(n)) assert.equal(ns.filter((x) => x === n).length, 1, `message ${n} came once`);
        if (broker === MEMORY) {
          // A failed message is retried before the next is delivered: publish order, each failure right before its redelivery.
          const expected = Array.from({ length: N }, (_, i) => i + 1).flatMap((n) => (failing.includes(n) ? [n, n] : [n]));
          assert.deepEqual(ns, expected);
        }
        assert.ok(elapsed < 15_000, `${elapsed} ms`);
        await new Promise((resolve) => setTimeout(resolve, 200));
        assert.equal(nowAt(app, path) - before, N + failing.length, 'nothing delivered a third time');
      });
    });
  }
});

describe('an app started by the sidecar (tessera run ... -- node app.js)', () => {
  let dir: { path: string; remove: () => Promise<void> };
  let sidecar: SidecarProcess | undefined;

  before(async () => {
    dir = await tempDir('tessera-app-');
  });
  after(async () => {
    await sidecar?.stop();
    await dir?.remove();
  });

  it('subscribes through GET /dapr/subscribe and receives what is published to the sidecar', async () => {
    // The app a user writes: no SDK, node:http on APP_PORT, printing what it receives.
    const appJs = `const http = require('node:http');
http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    if (req.method === 'GET' && req.url === '/dapr/subscribe') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify([{ pubsubname: 'pubsub', topic: 'greetings', route: '/greetings' }]));
    }
    const event = JSON.parse(body);
    console.log('app received ' + JSON.stringify({ path: req.url, source: event.source, topic: event.topic, data: event.data }));
    res.writeHead(200).end();
  });
}).listen(Number(process.env.APP_PORT), '127.0.0.1', () => console.log('app listening'));
`;
    await writeFile(join(dir.path, 'app.js'), appJs);
    const appPort = await freePort();
    sidecar = await startSidecar({
      appId: 'greeter',
      args: ['--app-port', String(appPort)],
      resources: { 'pubsub.yaml': memoryYaml.replace(`name: ${MEMORY}`, 'name: pubsub') },
      command: [process.execPath, join(dir.path, 'app.js')],
    });
    await sidecar.waitForLog(/^app listening$/, 10_000);
    await sidecar.waitForLog(/the app subscribed to 1 topic\(s\)/, 10_000);
    await publish(sidecar, 'pubsub', 'greetings', { hello: 'world' });
    const line = await sidecar.waitForLog(/^app received /, 10_000);
    assert.deepEqual(JSON.parse(line.message.slice('app received '.length)), { path: '/greetings', source: 'greeter', topic: 'greetings', data: { hello: 'world' } });
  });
});
