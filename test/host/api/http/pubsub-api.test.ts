// The Dapr publish routes over real HTTP: what reaches the broker, daprd's error codes and
// statuses, topics with slashes, metadata, and bulk publish with per-entry failures.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MemoryBroker } from '../../../support/memory-pubsub.ts';
import { FakeComponents } from '../../../support/fake-components.ts';
import { startPubSubSidecar, type PubSubSidecar } from '../../../support/pubsub-sidecar.ts';
import { expectDaprError } from '../../../support/sidecar-process.ts';

let sidecar: PubSubSidecar;
const broker = new MemoryBroker();
const scoped = new MemoryBroker();

before(async () => {
  const components = new FakeComponents()
    .addPubSub('pubsub', broker.client('myapp'))
    .addPubSub('scoped', scoped.client('myapp'), { allowedTopics: 'open,shut', publishingScopes: 'myapp=open;other=shut' });
  sidecar = await startPubSubSidecar({ components });
});
after(() => sidecar.close());

const post = (path: string, body?: string, headers: Record<string, string> = {}): Promise<Response> =>
  fetch(`${sidecar.url}${path}`, { method: 'POST', body: body ?? null, headers });

const lastEvent = (b: MemoryBroker, topic: string): any => JSON.parse(b.texts(topic).at(-1)!);

describe('publish API', () => {
  it('publishes a CloudEvent to the broker and answers 204 to POST and PUT', async () => {
    assert.equal((await post('/v1.0/publish/pubsub/orders', '{"a":1}', { 'content-type': 'application/json' })).status, 204);
    const res = await fetch(`${sidecar.url}/v1.0/publish/pubsub/orders`, { method: 'PUT', body: 'plain', headers: { 'content-type': 'text/plain' } });
    assert.equal(res.status, 204);
    assert.equal(await res.text(), '');
    const [first, second] = broker.texts('orders').map((t) => JSON.parse(t));
    assert.deepEqual([first.data, first.datacontenttype, second.data, second.datacontenttype], [{ a: 1 }, 'application/json', 'plain', 'text/plain']);
    assert.equal(broker.published.get('orders')![0]!.contentType, 'application/cloudevents+json');
  });

  it('takes the whole rest of the path as the topic', async () => {
    assert.equal((await post('/v1.0/publish/pubsub/a/b/c', 'x')).status, 204);
    assert.equal(lastEvent(broker, 'a/b/c').topic, 'a/b/c');
  });

  it('passes metadata.* query parameters to the broker and into the envelope', async () => {
    assert.equal((await post('/v1.0/publish/pubsub/meta?metadata.ttlInSeconds=60&metadata.cloudevent.type=my.type&metadata.partitionKey=k', 'x')).status, 204);
    const entry = broker.published.get('meta')!.at(-1)!;
    assert.deepEqual(Object.fromEntries(entry.metadata), { ttlInSeconds: '60', 'cloudevent.type': 'my.type', partitionKey: 'k' });
    const event = lastEvent(broker, 'meta');
    assert.equal(event.type, 'my.type');
    assert.ok(Date.parse(event.expiration) > Date.now() + 50_000);
  });

  it('publishes the body as it is with metadata.rawPayload=true, with its content type', async () => {
    const bytes = new Uint8Array([0, 1, 2, 254, 255]);
    assert.equal((await fetch(`${sidecar.url}/v1.0/publish/pubsub/raw?metadata.rawPayload=true`, { method: 'POST', body: bytes, headers: { 'content-type': 'application/octet-stream' } })).status, 204);
    const entry = broker.published.get('raw')!.at(-1)!;
    assert.deepEqual([...entry.data], [...bytes]);
    assert.equal(entry.contentType, 'application/octet-stream');
  });

  it('keeps an incoming CloudEvent as the envelope', async () => {
    const ce = { specversion: '1.0', id: 'evt-1', source: 'me', type: 'thing.happened', data: { ok: true } };
    assert.equal((await post('/v1.0/publish/pubsub/ce', JSON.stringify(ce), { 'content-type': 'application/cloudevents+json' })).status, 204);
    const event = lastEvent(broker, 'ce');
    assert.deepEqual([event.id, event.source, event.type, event.data, event.pubsubname, event.topic], ['evt-1', 'me', 'thing.happened', { ok: true }, 'pubsub', 'ce']);
    assert.match(event.traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  it("answers with daprd's error codes", async () => {
    await expectDaprError(post('/v1.0/publish/nope/orders', 'x'), 404, 'ERR_PUBSUB_NOT_FOUND', /^pubsub nope is not found$/);
    await expectDaprError(post('/v1.0/publish/pubsub/', 'x'), 404, 'ERR_TOPIC_NAME_EMPTY', /^topic is empty in pubsub pubsub$/);
    await expectDaprError(post('/v1.0/publish/pubsub/t?metadata.rawPayload=yes', 'x'), 400, 'ERR_PUBSUB_REQUEST_METADATA', /rawPayload value must be a valid boolean: actual is 'yes'/);
    await expectDaprError(post('/v1.0/publish/pubsub/t', '{not json', { 'content-type': 'application/cloudevents+json' }), 500, 'ERR_PUBSUB_CLOUD_EVENTS_SER', /cannot create cloudevent/);
    await expectDaprError(post('/v1.0/publish/scoped/shut', 'x'), 403, 'ERR_PUBSUB_FORBIDDEN', /^topic shut is not allowed for app id myapp$/);
    await expectDaprError(post('/v1.0/publish/scoped/elsewhere', 'x'), 403, 'ERR_PUBSUB_FORBIDDEN');
    assert.equal((await post('/v1.0/publish/scoped/open', 'x')).status, 204);
  });

  it('answers 500 ERR_PUBSUB_PUBLISH_MESSAGE when the broker fails', async () => {
    broker.down = true;
    try {
      await expectDaprError(post('/v1.0/publish/pubsub/t', 'x'), 500, 'ERR_PUBSUB_PUBLISH_MESSAGE', /^error when publishing to topic t in pubsub pubsub: memory broker is down$/);
    } finally {
      broker.down = false;
    }
  });

  it('answers ERR_PUBSUB_NOT_CONFIGURED when no pubsub is configured', async () => {
    const bare = await startPubSubSidecar({ components: new FakeComponents() });
    try {
      await expectDaprError(fetch(`${bare.url}/v1.0/publish/pubsub/t`, { method: 'POST', body: 'x' }), 400, 'ERR_PUBSUB_NOT_CONFIGURED', /^pubsub pubsub is not configured$/);
    } finally {
      await bare.close();
    }
  });
});

describe('bulk publish API', () => {
  const entries = [
    { entryId: '1', event: { n: 1 }, contentType: 'application/json' },
    { entryId: '2', event: 'two', contentType: 'text/plain' },
    { entryId: '3', event: Buffer.from('three').toString('base64'), contentType: 'application/octet-stream', metadata: { 'cloudevent.id': 'custom' } },
  ];

  it('publishes every entry as its own CloudEvent and answers 204, on v1.0-alpha1 and v1.0', async () => {
    for (const version of ['v1.0-alpha1', 'v1.0']) {
      const topic = `bulk-${version}`;
      const res = await post(`/${version}/publish/bulk/pubsub/${topic}`, JSON.stringify(entries), { 'content-type': 'application/json' });
      assert.equal(res.status, 204, await res.text());
      const events = broker.texts(topic).map((t) => JSON.parse(t));
      assert.deepEqual(events.map((e) => e.data ?? e.data_base64), [{ n: 1 }, 'two', Buffer.from('three').toString('base64')]);
      assert.equal(events[2].id, 'custom');
      assert.equal(new Set(events.map((e) => e.traceparent.split('-')[1])).size, 1, 'one trace');
      assert.equal(new Set(events.map((e) => e.traceparent)).size, 3, 'a span per entry');
    }
  });

  it('reports the entries the broker refused with 500, failedEntries and the error code', async () => {
    broker.refuse = (_topic, data) => (new TextDecoder().decode(data).includes('"two"') ? 'too small' : undefined);
    try {
      const res = await post('/v1.0-alpha1/publish/bulk/pubsub/partial', JSON.stringify(entries));
      assert.equal(res.status, 500);
      assert.deepEqual(await res.json(), { failedEntries: [{ entryId: '2', error: 'too small' }], errorCode: 'ERR_PUBSUB_PUBLISH_MESSAGE' });
      assert.equal(broker.texts('partial').length, 2);
    } finally {
      broker.refuse = undefined;
    }
  });

  it("refuses malformed bodies with daprd's codes", async () => {
    await expectDaprError(post('/v1.0-alpha1/publish/bulk/pubsub/t', '{nope'), 400, 'ERR_PUBSUB_EVENTS_SER', /^error when unmarshaling the request for topic t pubsub pubsub/);
    await expectDaprError(post('/v1.0-alpha1/publish/bulk/pubsub/t', '{"entryId":"1"}'), 400, 'ERR_PUBSUB_EVENTS_SER', /unmarshaling/);
    await expectDaprError(post('/v1.0-alpha1/publish/bulk/pubsub/t', JSON.stringify([{ entryId: '1', event: 5, contentType: 'text/plain' }])), 400, 'ERR_PUBSUB_EVENTS_SER', /mismatch between contentType and event/);
    const twice = [entries[0], entries[0]];
    await expectDaprError(post('/v1.0-alpha1/publish/bulk/pubsub/t', JSON.stringify(twice)), 400, 'ERR_PUBSUB_EVENTS_SER', /entryId is duplicated or not present/);
    await expectDaprError(post('/v1.0-alpha1/publish/bulk/nope/t', '[]'), 404, 'ERR_PUBSUB_NOT_FOUND');
    assert.equal((await post('/v1.0-alpha1/publish/bulk/pubsub/t', '[]')).status, 204);
  });
});
