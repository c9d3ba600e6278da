// The CloudEvents envelope as Dapr builds it: fields, data by content type, an incoming
// CloudEvent kept, `cloudevent.*` overrides, TTL expiration, and the rawPayload wrapper.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Metadata } from '../../../../abi/ts/types.ts';
import { cloudEventFor, hasExpired, parsePreciseJson, rawPayloadEvent, rawPayloadFlag, type PublishedBody } from '../../../../host/building-blocks/pubsub/cloud-event.ts';
import { newSpanId, newTraceparent, traceContextOf } from '../../../../host/building-blocks/pubsub/trace-context.ts';

const TRACE = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const NOW = Date.parse('2025-06-01T12:00:00.250Z');
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

function body(data: string | Uint8Array, contentType: string | undefined, metadata: Metadata = [], features: string[] = []): PublishedBody {
  return {
    appId: 'checkout',
    pubsubName: 'pubsub',
    topic: 'orders',
    contentType,
    data: typeof data === 'string' ? bytes(data) : data,
    trace: { traceparent: TRACE, tracestate: 'vendor=1' },
    metadata,
    features: new Set(features),
  };
}

describe('CloudEvent envelope', () => {
  it('makes the same envelope from a JSON value the caller holds as from its bytes', () => {
    const values: unknown[] = [{ orderId: 1, big: 12345678901234567000, nested: { list: [1, 'a', null, -0, 1e21] } }, 'text', 42, null, [true, false]];
    const id: Metadata = [['cloudevent.id', 'fixed']];
    for (const value of values) {
      const fromBytes = cloudEventFor(body(JSON.stringify(value), 'application/json', id), NOW);
      const fromValue = cloudEventFor({ ...body(new Uint8Array(0), 'application/json', id), json: { value } }, NOW);
      assert.equal(JSON.stringify(fromValue), JSON.stringify(fromBytes), JSON.stringify(value));
    }
  });

  it('has every field Dapr sets, with JSON data parsed', () => {
    const event = cloudEventFor(body('{"orderId":1}', 'application/json'), NOW);
    assert.match(String(event.id), /^[0-9a-f-]{36}$/);
    assert.deepEqual({ ...event, id: 'x' }, {
      id: 'x',
      source: 'checkout',
      type: 'com.dapr.event.sent',
      specversion: '1.0',
      datacontenttype: 'application/json',
      topic: 'orders',
      pubsubname: 'pubsub',
      time: '2025-06-01T12:00:00Z',
      traceid: TRACE,
      traceparent: TRACE,
      tracestate: 'vendor=1',
      data: { orderId: 1 },
    });
  });

  it('gives each event its own id', () => {
    assert.notEqual(cloudEventFor(body('a', 'text/plain')).id, cloudEventFor(body('a', 'text/plain')).id);
  });

  it('keeps text as a string, defaults the content type to text/plain, and base64s binary as data_base64', () => {
    assert.deepEqual(
      [cloudEventFor(body('hello', undefined)).data, cloudEventFor(body('hello', undefined)).datacontenttype],
      ['hello', 'text/plain'],
    );
    assert.equal(cloudEventFor(body('<a/>', 'application/xml')).data, '<a/>');
    const binary = cloudEventFor(body(new Uint8Array([0, 1, 255]), 'application/octet-stream'));
    assert.equal(binary.data_base64, 'AAH/');
    assert.equal('data' in binary, false);
  });

  it('keeps JSON that is not valid as a string, and JSON content types with parameters as JSON', () => {
    assert.equal(cloudEventFor(body('{oops', 'application/json')).data, '{oops');
    assert.deepEqual(cloudEventFor(body('[1,2]', 'application/json; charset=utf-8')).data, [1, 2]);
  });

  it('carries integers beyond 2^53 exactly', () => {
    const json = JSON.stringify(cloudEventFor(body('{"big":12345678901234567890,"small":1.5}', 'application/json')));
    assert.match(json, /"data":\{"big":12345678901234567890,"small":1.5\}/);
  });

  it('reads every number as the reviver does, with or without the fast path', () => {
    const rawJSON = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;
    const slow = (text: string): unknown =>
      JSON.parse(text, (_k, v: unknown, c?: { source?: string }) => (typeof v !== 'number' || Number.isSafeInteger(v) || String(v) === c?.source ? v : rawJSON(c!.source!)));
    const numbers = ['0', '-0', '1.0', '1.50', '0.000001', '0.0000001', '1e2', '2E-3', '123456789012345', '1234567890123456', '9007199254740993', '0.1', '-2.5', '123.456789012345', '1234567.123456789', '1e21', '99999999999999999999999'];
    for (let i = 0; i < 2000; i++) numbers.push(String(Math.random() * 10 ** Math.floor(Math.random() * 30 - 10)), (Math.random() * 1e6).toFixed(Math.floor(Math.random() * 12)));
    for (const n of numbers) {
      const text = `{"n":${n},"a":[${n}],"s":"x"}`;
      assert.equal(JSON.stringify(parsePreciseJson(text)), JSON.stringify(slow(text)), text);
    }
  });

  it('takes cloudevent.* overrides from the metadata, case-insensitively', () => {
    const event = cloudEventFor(
      body('x', 'text/plain', [
        ['cloudevent.id', 'my-id'],
        ['CloudEvent.Source', 'my-source'],
        ['cloudevent.type', 'my.type'],
        ['cloudevent.traceparent', '00-11111111111111111111111111111111-2222222222222222-01'],
        ['cloudevent.tracestate', 'a=b'],
        ['cloudevent.subject', 'order-7'],
      ]),
    );
    assert.deepEqual([event.id, event.source, event.type, event.subject, event.traceid, event.traceparent, event.tracestate], [
      'my-id',
      'my-source',
      'my.type',
      'order-7',
      '00-11111111111111111111111111111111-2222222222222222-01',
      '00-11111111111111111111111111111111-2222222222222222-01',
      'a=b',
    ]);
  });

  it('keeps an incoming CloudEvent, filling what is missing (time too) and setting trace, topic and pubsub', () => {
    const incoming = { specversion: '1.0', id: 'abc', type: 'widget.created', source: 'factory', subject: 's1', data: { n: 1 }, topic: 'ignored' };
    const event = cloudEventFor(body(JSON.stringify(incoming), 'application/cloudevents+json'), NOW);
    assert.deepEqual(event, { ...incoming, time: '2025-06-01T12:00:00Z', topic: 'orders', pubsubname: 'pubsub', traceid: TRACE, traceparent: TRACE, tracestate: 'vendor=1' });
    const bare = cloudEventFor(body('{"data":1}', 'application/cloudevents+json; charset=utf-8'));
    assert.deepEqual([bare.source, bare.type, bare.specversion, bare.id], ['Dapr', 'com.dapr.event.sent', '1.0', undefined]);
    const timed = cloudEventFor(body('{"time":"2020-01-01T00:00:00Z"}', 'application/cloudevents+json'), NOW);
    assert.equal(timed.time, '2020-01-01T00:00:00Z', "the publisher's time is kept");
  });

  it('refuses an application/cloudevents+json body that is not a JSON object', () => {
    assert.throws(() => cloudEventFor(body('nope', 'application/cloudevents+json')), { code: 'ERR_PUBSUB_CLOUD_EVENTS_SER' });
    assert.throws(() => cloudEventFor(body('[1]', 'application/cloudevents+json')), { code: 'ERR_PUBSUB_CLOUD_EVENTS_SER' });
  });

  it('sets expiration from ttlInSeconds unless the broker handles TTL itself', () => {
    assert.equal(cloudEventFor(body('x', 'text/plain', [['ttlInSeconds', '90']]), NOW).expiration, '2025-06-01T12:01:30Z');
    assert.equal(cloudEventFor(body('x', 'text/plain', [['ttlInSeconds', '90']], ['MESSAGE_TTL']), NOW).expiration, undefined);
    for (const ttl of ['0', '-1', 'soon', '']) assert.equal(cloudEventFor(body('x', 'text/plain', [['ttlInSeconds', ttl]])).expiration, undefined, ttl);
  });

  it('knows when an event has expired', () => {
    assert.equal(hasExpired({ expiration: '2025-06-01T11:59:59Z' }, NOW), true);
    assert.equal(hasExpired({ expiration: '2025-06-01T12:00:01Z' }, NOW), false);
    assert.equal(hasExpired({}, NOW), false);
    assert.equal(hasExpired({ expiration: 'not a time' }, NOW), false);
  });

  it('wraps a raw payload for a rawPayload subscription as data_base64, with the trace the broker kept', () => {
    const event = rawPayloadEvent(bytes('raw!'), 'orders', 'pubsub', [['traceparent', TRACE]]);
    assert.deepEqual({ ...event, id: 'x' }, {
      id: 'x',
      specversion: '1.0',
      datacontenttype: 'application/octet-stream',
      source: 'Dapr',
      type: 'com.dapr.event.sent',
      topic: 'orders',
      pubsubname: 'pubsub',
      data_base64: Buffer.from('raw!').toString('base64'),
      traceid: TRACE,
      traceparent: TRACE,
    });
  });

  it('reads rawPayload as Go booleans', () => {
    assert.deepEqual(['true', 'True', '1', 't', 'false', '0', '', undefined, 'yes'].map(rawPayloadFlag), [true, true, true, true, false, false, false, false, null]);
  });
});

describe('trace context', () => {
  it('draws valid, distinct ids from its pool whatever the mix of span ids and traceparents', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const id = i % 3 === 0 ? newTraceparent() : newSpanId();
      assert.match(id, i % 3 === 0 ? /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/ : /^[0-9a-f]{16}$/);
      assert.ok(!seen.has(id));
      seen.add(id);
    }
  });

  it('passes a valid traceparent through and generates one otherwise', () => {
    assert.deepEqual(traceContextOf(TRACE, 'k=v'), { traceparent: TRACE, tracestate: 'k=v' });
    for (const bad of [undefined, '', 'garbage', '00-00000000000000000000000000000000-b7ad6b7169203331-01']) {
      const { traceparent, tracestate } = traceContextOf(bad, 'k=v');
      assert.match(traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      assert.notEqual(traceparent, bad);
      assert.equal(tracestate, '');
    }
  });
});
