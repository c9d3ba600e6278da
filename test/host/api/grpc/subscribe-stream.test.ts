// SubscribeTopicEventsAlpha1 with a raw @grpc/grpc-js client, as an SDK's streaming
// subscription uses it: initial request, then events each answered SUCCESS, RETRY or DROP;
// a stream closed mid-delivery gets its event redelivered to the next one; an event nobody
// answers is redelivered after its deadline; bad first messages and unknown brokers fail
// with Dapr's status and ErrorInfo.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { status as GrpcCode } from '@grpc/grpc-js';
import { FakeComponents } from '../../../support/fake-components.ts';
import { callMetadata, daprGrpcClient, openSubscribeStream, rejection, richStatusOf, unary, type DaprGrpcClient, type SubscribeStream } from '../../../support/grpc-client.ts';
import { startTestApis, type TestApis } from '../../../support/grpc-api-server.ts';
import { MemoryBroker } from '../../../support/memory-pubsub.ts';
import { pollUntil } from '../../../support/sidecar-process.ts';

const TOKEN = 'stream-token';
const broker = new MemoryBroker({ canWait: true });
let apis: TestApis;
let client: DaprGrpcClient;

before(async () => {
  apis = await startTestApis({
    components: new FakeComponents().addPubSub('pubsub', broker.client('myapp')),
    apiToken: TOKEN,
    // An unanswered event is given up on after 300 ms, without retries in the sidecar.
    streamTimings: { appTimeoutMs: 300, retryDelaysMs: [] },
  });
  client = daprGrpcClient(apis.grpcAddress);
});

after(async () => {
  client.close();
  await apis.close();
});

const open = (topic: string, extra: object = {}): SubscribeStream =>
  openSubscribeStream(client, { pubsub_name: 'pubsub', topic, ...extra }, callMetadata(TOKEN));

function publish(topic: string, data: object): Promise<unknown> {
  return unary(client, 'PublishEvent', { pubsub_name: 'pubsub', topic, data: Buffer.from(JSON.stringify(data)), data_content_type: 'application/json' }, callMetadata(TOKEN));
}

interface TopicEvent {
  id: string;
  topic: string;
  pubsub_name: string;
  data: Buffer;
  data_content_type: string;
}

async function nextEvent(stream: SubscribeStream): Promise<TopicEvent> {
  const message = await stream.next();
  assert.ok(message.event_message, `expected an event, got ${JSON.stringify(message)}`);
  return message.event_message as TopicEvent;
}

describe('SubscribeTopicEventsAlpha1', () => {
  it('answers initial_response, then sends each event and acks it by the answer', async () => {
    const stream = open('orders');
    assert.deepEqual((await stream.next()).initial_response, {});
    await publish('orders', { n: 1 });
    const event = await nextEvent(stream);
    assert.equal(event.topic, 'orders');
    assert.equal(event.pubsub_name, 'pubsub');
    assert.equal(event.data_content_type, 'application/json');
    assert.deepEqual(JSON.parse(event.data.toString()), { n: 1 });
    const acked = broker.stats.acks.success;
    stream.answer(event.id, 'SUCCESS');
    await pollUntil('the SUCCESS ack', () => (broker.stats.acks.success === acked + 1 ? true : undefined));
    stream.call.end();
  });

  it('redelivers an event answered RETRY', async () => {
    const stream = open('retried');
    await stream.next();
    await publish('retried', { n: 2 });
    const first = await nextEvent(stream);
    stream.answer(first.id, 'RETRY');
    const again = await nextEvent(stream);
    assert.equal(again.id, first.id);
    stream.answer(again.id, 'SUCCESS');
    stream.call.end();
  });

  it('sends an event answered DROP to the dead-letter topic', async () => {
    const stream = open('dropped', { dead_letter_topic: 'dead' });
    await stream.next();
    await publish('dropped', { n: 5 });
    const event = await nextEvent(stream);
    stream.answer(event.id, 'DROP');
    await pollUntil('the dead letter', () => (broker.texts('dead').length === 1 ? true : undefined));
    assert.deepEqual(JSON.parse(broker.texts('dead')[0]!).data, { n: 5 });
    stream.call.end();
  });

  it('redelivers to the next stream an event whose stream closed before answering it', async () => {
    const first = open('closing');
    await first.next();
    await publish('closing', { n: 3 });
    const event = await nextEvent(first);
    first.call.cancel();
    const second = open('closing');
    await second.next();
    const redelivered = await nextEvent(second);
    assert.equal(redelivered.id, event.id);
    second.answer(redelivered.id, 'SUCCESS');
    second.call.end();
  });

  it('gives up on an event nobody answers at its deadline, and sends it again', async () => {
    const stream = open('silent');
    await stream.next();
    await publish('silent', { n: 4 });
    const event = await nextEvent(stream);
    const retries = broker.stats.acks.retry;
    // No answer: after the deadline the event goes back to the broker and comes again.
    const again = await nextEvent(stream);
    assert.equal(again.id, event.id);
    assert.ok(broker.stats.acks.retry > retries);
    stream.answer(again.id, 'SUCCESS');
    stream.call.end();
  });

  it('lists the open stream in the metadata as a STREAMING subscription', async () => {
    const stream = open('listed');
    await stream.next();
    const metadata = await unary<{ subscriptions: { topic: string; type: string }[] }>(client, 'GetMetadata', {}, callMetadata(TOKEN));
    assert.ok(metadata.subscriptions.some((s) => s.topic === 'listed' && s.type === 'STREAMING'), JSON.stringify(metadata.subscriptions));
    stream.call.end();
  });

  it('refuses a first message that is not initial_request', async () => {
    const stream = openSubscribeStream(client, undefined, callMetadata(TOKEN));
    stream.call.write({ event_processed: { id: 'x', status: { status: 'SUCCESS' } } });
    const err = await rejection(stream.next());
    assert.equal((err as { code?: number }).code, GrpcCode.INVALID_ARGUMENT);
    assert.match(err.message, /initial request is required/);
  });

  it('refuses an unknown pubsub with INVALID_ARGUMENT and DAPR_PUBSUB_NOT_FOUND', async () => {
    const stream = openSubscribeStream(client, { pubsub_name: 'nope', topic: 't' }, callMetadata(TOKEN));
    const err = await rejection(stream.next());
    assert.equal(err.code, GrpcCode.INVALID_ARGUMENT);
    assert.match(err.details, /pubsub nope is not found/);
    assert.equal(richStatusOf(err)?.errorInfo?.reason, 'DAPR_PUBSUB_NOT_FOUND');
  });

  it('refuses a stream without the API token', async () => {
    const stream = openSubscribeStream(client, { pubsub_name: 'pubsub', topic: 't' });
    const err = await rejection(stream.next());
    assert.equal(err.code, GrpcCode.UNAUTHENTICATED);
  });
});
