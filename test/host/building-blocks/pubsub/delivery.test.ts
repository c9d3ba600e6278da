// Delivery to a real HTTP app on loopback, through the sidecar's pub/sub parts in-process
// over a JS broker: routing, the app's answers (RETRY, DROP, 404, 5xx), sidecar retries,
// dead letters (404 included), order where asked for, declarative subscriptions coming and going, broker outages, and the
// start-up question to GET /dapr/subscribe.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger, type Logger } from '../../../../host/observability/logger.ts';
import { MemoryBroker } from '../../../support/memory-pubsub.ts';
import { FakeComponents } from '../../../support/fake-components.ts';
import { FAST_RETRIES, startAppAndSidecar, startPubSubSidecar, type PubSubSidecar, type PubSubSidecarOptions } from '../../../support/pubsub-sidecar.ts';
import { pollUntil } from '../../../support/sidecar-process.ts';
import { freePort, TestApp } from '../../../support/test-app.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

const setup = (subscriptions: unknown[], options: PubSubSidecarOptions = {}) => startAppAndSidecar(cleanups, subscriptions, options);

async function published(res: Promise<Response>): Promise<void> {
  const r = await res;
  assert.equal(r.status, 204, await r.text());
}

/** Collects log lines, for asserting what the sidecar said. */
function recordingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  return { logger: createLogger({ level: 'debug', json: false, write: (line) => lines.push(line) }), lines };
}

describe('pub/sub delivery: programmatic subscriptions and routing', () => {
  it('delivers a published event to its route as a CloudEvent with the traceparent, waking the idle loop', async () => {
    // Idle pauses of up to 3 s: only the wake-up on publish can make the delivery quick.
    const { app, sidecar } = await setup([{ pubsubname: 'pubsub', topic: 'orders', route: '/orders' }], { timings: { ...FAST_RETRIES, idleMaxMs: 3000 } });
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    await sleep(1000); // the idle backoff is now well past a second
    const started = performance.now();
    await published(sidecar.publish('pubsub', 'orders', { orderId: 7 }, { headers: { traceparent } }));
    const [delivery] = await app.waitFor('/orders');
    const ms = performance.now() - started;
    assert.equal(delivery!.method, 'POST');
    assert.equal(delivery!.headers['content-type'], 'application/cloudevents+json');
    assert.equal(delivery!.headers.traceparent, traceparent);
    assert.deepEqual(delivery!.json.data, { orderId: 7 });
    assert.equal(delivery!.json.source, 'myapp');
    assert.equal(delivery!.json.topic, 'orders');
    assert.ok(ms < 1000, `publish to delivery took ${ms.toFixed(1)} ms`);
  });

  it('routes by CEL match rules in order, then the default; an event no rule matches is skipped', async () => {
    const { app, sidecar } = await setup([
      { pubsubname: 'pubsub', topic: 'products', routes: { rules: [{ match: 'event.type == "widget"', path: '/widgets' }, { match: 'event.data.price > 100', path: '/expensive' }], default: '/products' } },
      { pubsubname: 'pubsub', topic: 'strict', routes: { rules: [{ match: 'has(event.data.vip)', path: '/vip' }] } },
    ]);
    const ce = (type: string, data: unknown): string => JSON.stringify({ specversion: '1.0', id: type, source: 'test', type, data });
    await published(sidecar.publish('pubsub', 'products', ce('widget', { price: 500 }), { contentType: 'application/cloudevents+json' }));
    await published(sidecar.publish('pubsub', 'products', ce('gadget', { price: 500 }), { contentType: 'application/cloudevents+json' }));
    await published(sidecar.publish('pubsub', 'products', ce('gadget', { price: 5 }), { contentType: 'application/cloudevents+json' }));
    await published(sidecar.publish('pubsub', 'strict', { plain: true }));
    await published(sidecar.publish('pubsub', 'strict', { vip: 1 }));
    await app.waitFor('/products');
    await app.waitFor('/vip');
    assert.deepEqual(app.at('/widgets').map((d) => d.json.id), ['widget']);
    assert.deepEqual(app.at('/expensive').map((d) => d.json.id), ['gadget']);
    assert.equal(app.at('/products').length, 1);
    assert.deepEqual(app.at('/vip').map((d) => d.json.data), [{ vip: 1 }]);
    assert.equal(sidecar.broker.stats.acks.retry, 0, 'the unmatched event is not sent back');
  });

  it('keeps two topics apart, each on its own handler', async () => {
    const { app, sidecar } = await setup([
      { pubsubname: 'pubsub', topic: 'a', route: '/on-a' },
      { pubsubname: 'pubsub', topic: 'b/with/slashes', route: '/on-b' },
    ]);
    await published(sidecar.publish('pubsub', 'a', { to: 'a' }));
    await published(sidecar.publish('pubsub', 'b/with/slashes', { to: 'b' }));
    await app.waitFor('/on-a');
    await app.waitFor('/on-b');
    await sleep(50);
    assert.deepEqual(app.at('/on-a').map((d) => d.json.data.to), ['a']);
    assert.deepEqual(app.at('/on-b').map((d) => [d.json.data.to, d.json.topic]), [['b', 'b/with/slashes']]);
  });

  it('publishes rawPayload bodies as they are and delivers them to a rawPayload subscription as data_base64', async () => {
    const { app, sidecar } = await setup([{ pubsubname: 'pubsub', topic: 'raw', route: '/raw', metadata: { rawPayload: 'true' } }]);
    await published(sidecar.publish('pubsub', 'raw', 'not json at all', { contentType: 'text/plain', query: '?metadata.rawPayload=true' }));
    assert.deepEqual(sidecar.broker.texts('raw'), ['not json at all']);
    const [delivery] = await app.waitFor('/raw');
    assert.equal(delivery!.headers['content-type'], 'application/cloudevents+json');
    assert.equal(delivery!.json.datacontenttype, 'application/octet-stream');
    assert.equal(Buffer.from(delivery!.json.data_base64, 'base64').toString(), 'not json at all');
  });

  it('sends dapr-api-token to the app when APP_API_TOKEN is set', async () => {
    const { app, sidecar } = await setup([{ pubsubname: 'pubsub', topic: 't', route: '/t' }], { appApiToken: 'app-secret' });
    await published(sidecar.publish('pubsub', 't', { x: 1 }));
    const [delivery] = await app.waitFor('/t');
    assert.equal(delivery!.headers['dapr-api-token'], 'app-secret');
  });
});

describe("pub/sub delivery: the app's answers", () => {
  it('redelivers after RETRY, a 500 and an unknown status; success ends it', async () => {
    const { app, sidecar } = await setup([{ pubsubname: 'pubsub', topic: 'flaky', route: '/flaky' }]);
    const answers = [{ body: { status: 'RETRY' } }, { status: 500 }, { body: { status: 'PERHAPS' } }, { status: 200, body: 'not json' }];
    app.on('/flaky', (_d, nth) => answers[nth - 1] ?? {});
    await published(sidecar.publish('pubsub', 'flaky', { n: 1 }));
    const deliveries = await app.waitFor('/flaky', 4);
    assert.equal(new Set(deliveries.map((d) => d.json.id)).size, 1, 'the same event each time');
    await sleep(100);
    assert.equal(app.at('/flaky').length, 4);
    assert.deepEqual(sidecar.broker.stats.acks, { success: 1, retry: 0, drop: 0 });
  });

  it('drops on DROP and on 404, without redelivering', async () => {
    const { app, sidecar } = await setup([
      { pubsubname: 'pubsub', topic: 'drop', route: '/drop' },
      { pubsubname: 'pubsub', topic: 'gone', route: '/gone' },
    ]);
    app.on('/drop', () => ({ body: { status: 'DROP' } })).on('/gone', () => ({ status: 404 }));
    await published(sidecar.publish('pubsub', 'drop', { n: 1 }));
    await published(sidecar.publish('pubsub', 'gone', { n: 2 }));
    await app.waitFor('/drop');
    await app.waitFor('/gone');
    await sleep(150);
    assert.equal(app.at('/drop').length, 1);
    assert.equal(app.at('/gone').length, 1);
    assert.deepEqual(sidecar.broker.stats.acks, { success: 0, retry: 0, drop: 2 });
  });

  it('sends an event to the dead-letter topic once retries are exhausted, and the app gets it there', async () => {
    const { app, sidecar } = await setup([
      { pubsubname: 'pubsub', topic: 'orders', route: '/orders', deadLetterTopic: 'orders-dead' },
      { pubsubname: 'pubsub', topic: 'orders-dead', route: '/dead' },
    ]);
    app.on('/orders', () => ({ status: 503 }));
    await published(sidecar.publish('pubsub', 'orders', { orderId: 9 }));
    const [dead] = await app.waitFor('/dead');
    const tries = app.at('/orders');
    assert.equal(tries.length, 1 + FAST_RETRIES.retryDelaysMs.length);
    assert.equal(dead!.json.id, tries[0]!.json.id, 'the original event');
    assert.deepEqual(dead!.json.data, { orderId: 9 });
    assert.equal(sidecar.broker.stats.acks.retry, 0);
  });

  it('sends a DROPped event to the dead-letter topic when there is one', async () => {
    const { app, sidecar } = await setup([
      { pubsubname: 'pubsub', topic: 'jobs', route: '/jobs', deadLetterTopic: 'jobs-dead' },
      { pubsubname: 'pubsub', topic: 'jobs-dead', route: '/jobs-dead' },
    ]);
    app.on('/jobs', () => ({ body: { status: 'DROP' } }));
    await published(sidecar.publish('pubsub', 'jobs', { job: 1 }));
    const [dead] = await app.waitFor('/jobs-dead');
    assert.deepEqual(dead!.json.data, { job: 1 });
    assert.equal(app.at('/jobs').length, 1);
  });

  it('sends an event the app answers 404 to the dead-letter topic when there is one, as daprd 1.17 does', async () => {
    const { app, sidecar } = await setup([
      { pubsubname: 'pubsub', topic: 'lost', route: '/lost', deadLetterTopic: 'lost-dead' },
      { pubsubname: 'pubsub', topic: 'lost-dead', route: '/lost-dead' },
    ]);
    app.on('/lost', () => ({ status: 404 }));
    await published(sidecar.publish('pubsub', 'lost', { parcel: 3 }));
    const [dead] = await app.waitFor('/lost-dead');
    assert.deepEqual(dead!.json.data, { parcel: 3 });
    assert.equal(dead!.json.id, app.at('/lost')[0]!.json.id, 'the original event');
    assert.equal(app.at('/lost').length, 1, 'a 404 is not retried');
    assert.equal(sidecar.broker.stats.acks.retry, 0);
  });

  it('without a dead-letter topic, hands a failing event back to the broker, which redelivers it later', async () => {
    const { app, sidecar } = await setup([{ pubsubname: 'pubsub', topic: 'stubborn', route: '/stubborn' }]);
    const attempts = 1 + FAST_RETRIES.retryDelaysMs.length;
    app.on('/stubborn', (_d, nth) => (nth <= attempts + 1 ? { status: 500 } : {}));
    await published(sidecar.publish('pubsub', 'stubborn', { n: 1 }));
    await app.waitFor('/stubborn', attempts + 2);
    await pollUntil('the success ack', () => (sidecar.broker.stats.acks.success === 1 ? true : undefined));
    assert.equal(sidecar.broker.stats.acks.retry, 1);
  });

  it('delivers every message when the handler fails the 1st, the 2nd and every 5th', async () => {
    const { app, sidecar } = await setup([{ pubsubname: 'pubsub', topic: 'load', route: '/load' }]);
    const seen = new Set<number>();
    app.on('/load', (d) => {
      const n = d.json.data.n as number;
      const first = !seen.has(n);
      seen.add(n);
      return first && (n === 1 || n === 2 || n % 5 === 0) ? { status: 500 } : {};
    });
    const started = performance.now();
    for (let n = 1; n <= 50; n++) await published(sidecar.publish('pubsub', 'load', { n }));
    await pollUntil('all 50 messages handled', () => (sidecar.broker.stats.acks.success === 50 ? true : undefined), { timeoutMs: 10_000 });
    const ms = performance.now() - started;
    const redelivered = app.at('/load').map((d) => d.json.data.n as number).filter((n, i, all) => all.indexOf(n) !== i);
    assert.deepEqual(redelivered.sort((a, b) => a - b), [1, 2, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50]);
    assert.ok(ms < 10_000, `${ms.toFixed(0)} ms`);
  });

  for (const [how, subscription, broker] of [
    ['the subscription asks for it (concurrencyMode: single)', { metadata: { concurrencyMode: 'single' } }, new MemoryBroker()],
    ['the broker promises order (ORDERED_DELIVERY)', {}, new MemoryBroker({ features: ['ORDERED_DELIVERY'] })],
  ] as const) {
    it(`delivers one at a time, in order, retries included, when ${how}`, async () => {
      const { app, sidecar } = await setup([{ pubsubname: 'pubsub', topic: 'seq', route: '/seq', ...subscription }], { broker });
      let inFlight = 0;
      let most = 0;
      const succeeded: number[] = [];
      app.on('/seq', async (d, nth) => {
        inFlight++;
        most = Math.max(most, inFlight);
        await sleep(1);
        inFlight--;
        if (nth % 7 === 3) return { status: 500 };
        succeeded.push(d.json.data.n as number);
        return {};
      });
      await Promise.all(Array.from({ length: 40 }, (_, n) => published(sidecar.publish('pubsub', 'seq', { n }))));
      await pollUntil('40 successes', () => (succeeded.length === 40 ? true : undefined), { timeoutMs: 5000 });
      const publishedOrder = sidecar.broker.texts('seq').map((t) => JSON.parse(t).data.n as number);
      assert.deepEqual(succeeded, publishedOrder);
      assert.equal(most, 1);
    });
  }

  it('drops an event whose TTL passed before it could be delivered', async () => {
    const { app, sidecar } = await setup([{ pubsubname: 'pubsub', topic: 'ttl', route: '/ttl' }]);
    app.on('/ttl', () => ({ body: { status: 'RETRY' } }));
    await published(sidecar.publish('pubsub', 'ttl', { n: 1 }, { query: '?metadata.ttlInSeconds=1' }));
    await pollUntil('the expired event dropped', () => (sidecar.broker.stats.acks.drop === 1 ? true : undefined), { timeoutMs: 4000 });
    const count = app.at('/ttl').length;
    await sleep(100);
    assert.equal(app.at('/ttl').length, count, 'no delivery after it expired');
  });
});

describe('pub/sub delivery: subscriptions and brokers coming and going', () => {
  const subscriptionDoc = (topic: string, route: string) => ({
    kind: 'Subscription',
    source: '/res/sub.yaml',
    document: { apiVersion: 'dapr.io/v2alpha1', kind: 'Subscription', metadata: { name: topic }, spec: { pubsubname: 'pubsub', topic, routes: { default: route } } },
  });

  it('starts a declarative subscription, and stops delivery and closes it when its YAML goes', async () => {
    const { app, sidecar } = await setup([]);
    sidecar.subscriptions.setResources([subscriptionDoc('decl', '/decl')]);
    await published(sidecar.publish('pubsub', 'decl', { n: 1 }));
    await app.waitFor('/decl');
    const meta = await sidecar.metadata();
    assert.deepEqual(meta.subscriptions, [{ pubsubname: 'pubsub', topic: 'decl', rules: [{ path: '/decl' }], deadLetterTopic: '', type: 'DECLARATIVE' }]);

    sidecar.subscriptions.setResources([]);
    await pollUntil('the broker subscription closed', () => (sidecar.broker.stats.closes === 1 ? true : undefined));
    await published(sidecar.publish('pubsub', 'decl', { n: 2 }));
    await sleep(150);
    assert.equal(app.at('/decl').length, 1);
    assert.deepEqual((await sidecar.metadata()).subscriptions, []);
  });

  it('waits for a pubsub that is not loaded, stops when the pubsub goes, and keeps its loop across a hot swap', async () => {
    const broker = new MemoryBroker();
    const components = new FakeComponents();
    const { app, sidecar } = await setup([{ pubsubname: 'pubsub', topic: 't', route: '/t' }], { components, broker });
    const meta = await sidecar.metadata();
    assert.deepEqual(meta.subscriptions, []);
    assert.match(meta.subscriptionStatus[0].error, /pubsub pubsub is not loaded; waiting for it/);

    const client = broker.client('myapp');
    components.addPubSub('pubsub', client);
    sidecar.subscriptions.reconcile();
    await published(sidecar.publish('pubsub', 't', { n: 1 }));
    await app.waitFor('/t');

    // A reload that keeps the same live component (a hot swap) keeps the loop and its subscription.
    sidecar.subscriptions.reconcile();
    assert.equal(broker.stats.subscribes, 1);

    components.removePubSub('pubsub');
    sidecar.subscriptions.reconcile();
    await pollUntil('the subscription closed', () => (broker.stats.closes === 1 ? true : undefined));
  });

  it('shares messages within one app id (consumer group) and gives every app id its own copy', async () => {
    const broker = new MemoryBroker();
    const subs = [{ pubsubname: 'pubsub', topic: 'fanout', route: '/fanout' }];
    const a1 = await setup(subs, { broker, appId: 'a' });
    const a2 = await setup(subs, { broker, appId: 'a' });
    const b = await setup(subs, { broker, appId: 'b' });
    for (let n = 0; n < 20; n++) await published(a1.sidecar.publish('pubsub', 'fanout', { n }));
    await b.app.waitFor('/fanout', 20);
    await pollUntil('group a got all 20', () => (a1.app.at('/fanout').length + a2.app.at('/fanout').length === 20 ? true : undefined));
    await sleep(50);
    assert.equal(a1.app.at('/fanout').length + a2.app.at('/fanout').length, 20);
    assert.equal(b.app.at('/fanout').length, 20);
  });

  it('backs off while the broker is down, without spinning, and resumes when it is back', async () => {
    const { logger, lines } = recordingLogger();
    const { app, sidecar } = await setup([{ pubsubname: 'pubsub', topic: 'outage', route: '/outage' }], { logger });
    sidecar.broker.down = true;
    const pullsBefore = sidecar.broker.stats.pulls;
    await sleep(700);
    const pullsDuring = sidecar.broker.stats.pulls - pullsBefore;
    assert.ok(pullsDuring <= 5, `${pullsDuring} pulls in 700 ms while down`);
    assert.equal(lines.filter((l) => l.includes('level=warn') && l.includes('memory broker is down')).length, 1, 'warned once');
    sidecar.broker.down = false;
    await pollUntil('the loop is pulling again', () => (sidecar.broker.stats.pulls > pullsBefore + pullsDuring ? true : undefined), { timeoutMs: 3000 });
    await published(sidecar.publish('pubsub', 'outage', { n: 1 }));
    await app.waitFor('/outage');
  });

  it('polls an idle broker that cannot wait with a backoff of at most 50 ms, and one that can wait rarely', async () => {
    const { sidecar } = await setup([{ pubsubname: 'pubsub', topic: 'idle', route: '/idle' }]);
    const before = sidecar.broker.stats.pulls;
    await sleep(500);
    const pulls = sidecar.broker.stats.pulls - before;
    assert.ok(pulls >= 3 && pulls <= 25, `${pulls} pulls in 500 ms`);

    const waiting = new MemoryBroker({ canWait: true });
    const { app, sidecar: other } = await setup([{ pubsubname: 'pubsub', topic: 'idle', route: '/idle' }], { broker: waiting });
    await sleep(300);
    assert.ok(waiting.stats.pulls <= 2, `${waiting.stats.pulls} pulls of a waiting broker`);
    await published(other.publish('pubsub', 'idle', { n: 1 }));
    await app.waitFor('/idle');
  });
});

describe('pub/sub delivery: asking the app for its subscriptions', () => {
  it('asks GET /dapr/subscribe again until the app is up', async () => {
    const port = await freePort();
    const sidecar = await startPubSubSidecar({ appPort: port, appSubscribeTimings: { firstDelayMs: 20, maxDelayMs: 100, deadlineMs: 5000, requestTimeoutMs: 1000 } });
    cleanups.push(() => sidecar.close());
    await sleep(250);
    const app = new TestApp();
    app.subscribe = { status: 200, body: [{ pubsubname: 'pubsub', topic: 'late', route: '/late' }] };
    await app.listen(port);
    cleanups.push(() => app.close());
    await sidecar.programmatic;
    assert.equal(app.subscribeRequests, 1);
    await published(sidecar.publish('pubsub', 'late', { n: 1 }));
    await app.waitFor('/late');
  });

  it('gives up on an app that never answers, saying so, with no programmatic subscriptions', async () => {
    const { logger, lines } = recordingLogger();
    const sidecar = await startPubSubSidecar({ appPort: await freePort(), logger, appSubscribeTimings: { firstDelayMs: 10, maxDelayMs: 50, deadlineMs: 200, requestTimeoutMs: 100 } });
    cleanups.push(() => sidecar.close());
    await sidecar.programmatic;
    assert.ok(lines.some((l) => l.includes('did not answer GET /dapr/subscribe within 200 ms')), lines.join('\n'));
    assert.deepEqual((await sidecar.metadata()).subscriptions, []);
  });

  it('treats a 404 as no subscriptions, and reports invalid entries in the log and /v1.0/metadata', async () => {
    const { app, sidecar } = await setup([
      { pubsubname: 'pubsub', topic: 'ok', route: '/ok' },
      { pubsubname: 'pubsub', topic: 'bad', routes: { rules: [{ match: 'event.type ==', path: '/bad' }] } },
    ]);
    const meta = await sidecar.metadata();
    assert.deepEqual(meta.subscriptions.map((s) => s.topic), ['ok']);
    assert.equal(meta.subscriptionStatus.length, 1);
    assert.equal(meta.subscriptionStatus[0].type, 'PROGRAMMATIC');
    assert.match(meta.subscriptionStatus[0].error, /invalid match expression/);
    assert.equal(app.subscribeRequests, 1);

    const none = await new TestApp().listen();
    none.subscribe = { status: 404 };
    cleanups.push(() => none.close());
    const other = await startPubSubSidecar({ appPort: none.port });
    cleanups.push(() => other.close());
    await other.programmatic;
    assert.deepEqual((await other.metadata()).subscriptions, []);
  });
});
