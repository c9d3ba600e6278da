// Bulk subscriptions delivered to a real HTTP app on loopback, as daprd delivers them: one
// POST per batch with the `com.dapr.event.sent.bulk` envelope, and the app's per-entry
// statuses honoured (SUCCESS, DROP to the dead-letter topic, RETRY and a missing or unknown
// status retried alone), declared programmatically or in a Subscription YAML.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { startAppAndSidecar, type PubSubSidecar, type PubSubSidecarOptions } from '../../../support/pubsub-sidecar.ts';
import { pollUntil } from '../../../support/sidecar-process.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

const setup = (subscriptions: unknown[], options: PubSubSidecarOptions = {}) => startAppAndSidecar(cleanups, subscriptions, options);

async function publishMany(sidecar: PubSubSidecar, topic: string, count: number, init?: Parameters<PubSubSidecar['publish']>[3]): Promise<void> {
  for (let n = 0; n < count; n++) {
    const res = await sidecar.publish('pubsub', topic, init?.contentType === 'text/plain' ? `text ${n}` : { n }, init);
    assert.equal(res.status, 204, await res.text());
  }
}

const entriesOf = (body: any): any[] => body.entries as any[];
const nOf = (entry: any): number => entry.event.data.n as number;

describe('pub/sub delivery: bulkSubscribe', () => {
  it('POSTs a batch as one com.dapr.event.sent.bulk event with an entry per message', async () => {
    const bulkSubscribe = { enabled: true, maxMessagesCount: 5, maxAwaitDurationMs: 5000 };
    const { app, sidecar } = await setup([{ pubsubname: 'pubsub', topic: 'orders', route: '/orders', bulkSubscribe }]);
    app.on('/orders', (d) => ({ body: { statuses: entriesOf(d.json).map((e) => ({ entryId: e.entryId, status: 'SUCCESS' })) } }));
    await publishMany(sidecar, 'orders', 5);
    const [post] = await app.waitFor('/orders');
    assert.equal(post!.headers['content-type'], 'application/json');
    const { id, type, topic, pubsubname, metadata, entries } = post!.json;
    assert.equal(typeof id, 'string');
    assert.deepEqual({ type, topic, pubsubname, metadata }, { type: 'com.dapr.event.sent.bulk', topic: 'orders', pubsubname: 'pubsub', metadata: { pubsubName: 'pubsub' } });
    assert.equal(entries.length, 5, 'the whole batch in one POST');
    assert.deepEqual(entries.map(nOf), [0, 1, 2, 3, 4]);
    assert.equal(new Set(entries.map((e: any) => e.entryId)).size, 5);
    for (const entry of entries) {
      assert.deepEqual(Object.keys(entry).sort(), ['contentType', 'entryId', 'event', 'metadata']);
      assert.equal(entry.contentType, 'application/cloudevents+json');
      assert.equal(entry.event.topic, 'orders');
      assert.equal(entry.event.pubsubname, 'pubsub');
      assert.equal(typeof entry.metadata, 'object');
    }
    await pollUntil('5 success acks', () => (sidecar.broker.stats.acks.success === 5 ? true : undefined));
  });

  it('carries each CloudEvent as the broker holds it: a number no double holds arrives digit for digit, as in a single delivery', async () => {
    const bulkSubscribe = { enabled: true, maxMessagesCount: 2, maxAwaitDurationMs: 5000 };
    const { app, sidecar } = await setup([{ pubsubname: 'pubsub', topic: 'big', route: '/big', bulkSubscribe }]);
    app.on('/big', (d) => ({ body: { statuses: entriesOf(d.json).map((e) => ({ entryId: e.entryId, status: 'SUCCESS' })) } }));
    for (const n of ['12345678901234567890', '1']) assert.equal((await sidecar.publish('pubsub', 'big', `{"n":${n}}`, { contentType: 'application/json' })).status, 204);
    const [post] = await app.waitFor('/big');
    assert.ok(post!.body.includes('"data":{"n":12345678901234567890}'), post!.body);
    assert.deepEqual(entriesOf(post!.json).map(nOf), [12345678901234567890, 1]);
  });

  it('honours each entry: SUCCESS acks, DROP dead-letters, RETRY and a missing or unknown status are sent again alone', async () => {
    const bulkSubscribe = { enabled: true, maxMessagesCount: 5, maxAwaitDurationMs: 5000 };
    const { app, sidecar } = await setup([
      { pubsubname: 'pubsub', topic: 'jobs', route: '/jobs', deadLetterTopic: 'jobs-dead', bulkSubscribe },
      { pubsubname: 'pubsub', topic: 'jobs-dead', route: '/jobs-dead' },
    ]);
    const firstAnswer: Record<number, string | undefined> = { 0: 'SUCCESS', 1: 'DROP', 2: 'RETRY', 3: undefined, 4: 'MAYBE' };
    app.on('/jobs', (d, nth) => ({
      body: {
        statuses: entriesOf(d.json)
          .filter((e) => nth > 1 || nOf(e) !== 3)
          .map((e) => ({ entryId: e.entryId, status: nth === 1 ? firstAnswer[nOf(e)] : 'SUCCESS' })),
      },
    }));
    await publishMany(sidecar, 'jobs', 5);
    const [dead] = await app.waitFor('/jobs-dead');
    const posts = await app.waitFor('/jobs', 2);
    assert.deepEqual(entriesOf(posts[0]!.json).map(nOf), [0, 1, 2, 3, 4]);
    assert.deepEqual(entriesOf(posts[1]!.json).map(nOf), [2, 3, 4], 'only the entries to retry');
    assert.deepEqual(dead!.json.data, { n: 1 });
    // Four delivered, one dead-lettered (acked once published), and the dead letter delivered.
    await pollUntil('6 success acks', () => (sidecar.broker.stats.acks.success === 6 ? true : undefined));
    assert.equal(app.at('/jobs').length, 2);
    assert.deepEqual(sidecar.broker.stats.acks, { success: 6, retry: 0, drop: 0 });
  });

  it('keeps each batch within maxMessagesCount and delivers every message once', async () => {
    const bulkSubscribe = { enabled: true, maxMessagesCount: 3, maxAwaitDurationMs: 0 };
    const { app, sidecar } = await setup([{ pubsubname: 'pubsub', topic: 'many', route: '/many', bulkSubscribe }]);
    app.on('/many', (d) => ({ body: { statuses: entriesOf(d.json).map((e) => ({ entryId: e.entryId, status: 'SUCCESS' })) } }));
    await publishMany(sidecar, 'many', 10);
    await pollUntil('10 success acks', () => (sidecar.broker.stats.acks.success === 10 ? true : undefined));
    const batches = app.at('/many').map((d) => entriesOf(d.json).map(nOf));
    assert.ok(batches.every((b) => b.length >= 1 && b.length <= 3), JSON.stringify(batches));
    assert.deepEqual(batches.flat().sort((a, b) => a - b), Array.from({ length: 10 }, (_, n) => n));
  });

  it('sends every entry of a batch the app answers 404 to the dead-letter topic', async () => {
    const bulkSubscribe = { enabled: true, maxMessagesCount: 3, maxAwaitDurationMs: 5000 };
    const { app, sidecar } = await setup([
      { pubsubname: 'pubsub', topic: 'gone', route: '/gone', deadLetterTopic: 'gone-dead', bulkSubscribe },
      { pubsubname: 'pubsub', topic: 'gone-dead', route: '/gone-dead' },
    ]);
    app.on('/gone', () => ({ status: 404 }));
    await publishMany(sidecar, 'gone', 3);
    const dead = await app.waitFor('/gone-dead', 3);
    assert.deepEqual(dead.map((d) => d.json.data.n).sort(), [0, 1, 2]);
    assert.equal(app.at('/gone').length, 1, 'a 404 is not retried');
  });

  it('delivers a rawPayload batch with each event in base64, and takes bulkSubscribe from a Subscription YAML', async () => {
    const { app, sidecar } = await setup([]);
    sidecar.subscriptions.setResources([
      {
        kind: 'Subscription',
        source: '/res/raw.yaml',
        document: {
          apiVersion: 'dapr.io/v2alpha1',
          kind: 'Subscription',
          metadata: { name: 'raw' },
          spec: { pubsubname: 'pubsub', topic: 'raw', routes: { default: '/raw' }, metadata: { rawPayload: 'true' }, bulkSubscribe: { enabled: true, maxMessagesCount: 2, maxAwaitDurationMs: 5000 } },
        },
      },
    ]);
    app.on('/raw', (d) => ({ body: { statuses: entriesOf(d.json).map((e) => ({ entryId: e.entryId, status: 'SUCCESS' })) } }));
    await publishMany(sidecar, 'raw', 2, { contentType: 'text/plain', query: '?metadata.rawPayload=true' });
    const [post] = await app.waitFor('/raw');
    const entries = entriesOf(post!.json);
    assert.deepEqual(
      entries.map((e) => Buffer.from(e.event as string, 'base64').toString()),
      ['text 0', 'text 1'],
    );
    assert.deepEqual(entries.map((e) => e.contentType), ['text/plain', 'text/plain']);
  });

  it('refuses a bulkSubscribe it cannot use, naming the field', async () => {
    const { sidecar } = await setup([
      { pubsubname: 'pubsub', topic: 'a', route: '/a', bulkSubscribe: { enabled: true, maxMessagesCount: 0 } },
      { pubsubname: 'pubsub', topic: 'b', route: '/b', bulkSubscribe: { enabled: 'yes' } },
    ]);
    const errors = (await sidecar.metadata()).subscriptionStatus.map((s) => s.error as string);
    assert.match(errors[0]!, /topic a\).*"bulkSubscribe.maxMessagesCount" must be an integer of at least 1, got 0/);
    assert.match(errors[1]!, /topic b\).*"bulkSubscribe.enabled" must be true or false/);
  });
});
