// The gRPC app channel (`--app-protocol grpc`) against a raw @grpc/grpc-js app serving Dapr's
// AppCallback services: subscriptions from ListTopicSubscriptions, CloudEvents as
// TopicEventRequest, the app's SUCCESS / RETRY / DROP and gRPC errors, bulk batches (with
// daprd's fallback to OnBulkTopicEventAlpha1), input bindings through ListInputBindings and
// OnBindingEvent, health probes, and an app that never answers (its deadline).
import assert from 'node:assert/strict';
import { after, afterEach, describe, it } from 'node:test';
import { status as grpcStatus } from '@grpc/grpc-js';
import { AppHealthMonitor } from '../../../host/app-channel/app-health.ts';
import { GrpcAppChannel } from '../../../host/app-channel/grpc-app-channel.ts';
import { InputBindings } from '../../../host/building-blocks/bindings/input-bindings.ts';
import { INPUT_TIMINGS } from '../../../host/building-blocks/bindings/input-delivery.ts';
import { createLogger } from '../../../host/observability/logger.ts';
import { SidecarMetrics } from '../../../host/observability/metrics.ts';
import { FakeComponents } from '../../support/fake-components.ts';
import { GrpcTestApp, type GrpcHandler } from '../../support/grpc-test-app.ts';
import { MemoryBinding } from '../../support/memory-binding.ts';
import { FAST_RETRIES, startPubSubSidecar, type PubSubSidecar } from '../../support/pubsub-sidecar.ts';
import { pollUntil } from '../../support/sidecar-process.ts';

const logs: string[] = [];
const logger = createLogger({ level: 'debug', json: false, write: (line) => logs.push(line) });
const until = <T>(what: string, probe: () => T | undefined): Promise<T> => pollUntil(what, probe, { timeoutMs: 10_000, intervalMs: 5 });

const subscriptions = (...list: object[]): GrpcHandler => () => ({ subscriptions: list });
const sub = (topic: string, extra: object = {}) => ({ pubsubName: 'pubsub', topic, routes: { default: `/${topic}` }, ...extra });

let app: GrpcTestApp | undefined;
let sidecar: PubSubSidecar | undefined;

afterEach(async () => {
  await sidecar?.close();
  app?.stop();
  sidecar = app = undefined;
});

async function start(handlers: Parameters<typeof GrpcTestApp.start>[0], timings: object = FAST_RETRIES): Promise<PubSubSidecar> {
  app = await GrpcTestApp.start(handlers);
  sidecar = await startPubSubSidecar({ appPort: app.port, appProtocol: 'grpc', appApiToken: 'app-secret', timings, logger });
  await sidecar.programmatic;
  return sidecar;
}

describe('gRPC app channel: pub/sub', () => {
  it('subscribes through ListTopicSubscriptions, with rules, dead-letter topic and bulk settings', async () => {
    const s = await start({
      ListTopicSubscriptions: subscriptions(
        sub('orders', { routes: { rules: [{ match: 'event.data.urgent == true', path: '/urgent' }], default: '/orders' }, deadLetterTopic: 'orders-dead', metadata: { rawPayload: 'false' } }),
        sub('batches', { bulkSubscribe: { enabled: true, maxMessagesCount: 5, maxAwaitDurationMs: 0 } }),
      ),
    });
    const { subscriptions: listed } = await s.metadata();
    assert.deepEqual(
      listed.map((x) => [x.topic, x.rules, x.deadLetterTopic ?? '']),
      [
        ['orders', [{ match: 'event.data.urgent == true', path: '/urgent' }, { path: '/orders' }], 'orders-dead'],
        ['batches', [{ path: '/batches' }], ''],
      ],
    );
    assert.equal(s.subscriptions.list().length, 2);
    assert.deepEqual(app!.calls.find((c) => c.method === 'ListTopicSubscriptions')!.metadata['dapr-api-token'], 'app-secret');
  });

  it('an app without ListTopicSubscriptions has no programmatic subscriptions', async () => {
    const s = await start({});
    assert.deepEqual((await s.metadata()).subscriptions, []);
    assert.ok(logs.some((l) => l.includes('the app does not implement ListTopicSubscriptions')));
  });

  it("delivers each CloudEvent as a TopicEventRequest, with daprd's field mapping", async () => {
    const s = await start({ ListTopicSubscriptions: subscriptions(sub('orders'), sub('notes')), OnTopicEvent: () => ({ status: 'SUCCESS' }) });
    await s.publish('pubsub', 'orders', { orderId: 42 }, { headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } });
    await s.publish('pubsub', 'notes', 'hello', { contentType: 'text/plain' });
    const [order, note] = await until('two events', () => (app!.at('OnTopicEvent').length >= 2 ? app!.at('OnTopicEvent') : undefined));
    assert.equal(order.topic, 'orders');
    assert.equal(order.pubsubName, 'pubsub');
    assert.equal(order.path, '/orders');
    assert.equal(order.source, 'myapp');
    assert.equal(order.type, 'com.dapr.event.sent');
    assert.equal(order.specVersion, '1.0');
    assert.equal(order.dataContentType, 'application/json');
    assert.match(order.id, /^[0-9a-f-]{36}$/);
    assert.deepEqual(JSON.parse(Buffer.from(order.data).toString()), { orderId: 42 });
    const ext = order.extensions.fields;
    assert.equal(ext.traceparent.stringValue, '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    assert.equal(ext.topic.stringValue, 'orders');
    assert.equal(ext.pubsubname.stringValue, 'pubsub');
    assert.ok(ext.time.stringValue, 'the time the event was made');
    assert.equal(ext.data, undefined, 'data has its own field');
    assert.equal(Buffer.from(note.data).toString(), 'hello');
    assert.equal(note.dataContentType, 'text/plain');
    assert.equal(app!.calls.find((c) => c.method === 'OnTopicEvent')!.metadata['dapr-api-token'], 'app-secret');
  });

  it('honours RETRY (delivered again), DROP (to the dead-letter topic) and reads a gRPC error as a retry', async () => {
    const byOrder = new Map<string, number>();
    const s = await start({
      ListTopicSubscriptions: subscriptions(sub('orders', { deadLetterTopic: 'dead' }), sub('dead')),
      OnTopicEvent: (req) => {
        const { kind } = JSON.parse(Buffer.from(req.data).toString()) as { kind: string };
        if (req.topic === 'dead') return { status: 'SUCCESS' };
        const nth = (byOrder.get(kind) ?? 0) + 1;
        byOrder.set(kind, nth);
        if (kind === 'retry') return { status: nth === 1 ? 'RETRY' : 'SUCCESS' };
        if (kind === 'error') return nth === 1 ? { code: grpcStatus.INTERNAL, details: 'the app broke' } : { status: 'SUCCESS' };
        return { status: 'DROP' };
      },
    });
    for (const kind of ['retry', 'error', 'drop']) await s.publish('pubsub', 'orders', { kind });
    const dead = await until('the dropped one dead-lettered', () => app!.at('OnTopicEvent').find((r) => r.topic === 'dead'));
    assert.deepEqual(JSON.parse(Buffer.from(dead.data).toString()), { kind: 'drop' });
    await until('retry and error each delivered twice', () => (byOrder.get('retry') === 2 && byOrder.get('error') === 2 ? true : undefined));
    assert.equal(byOrder.get('drop'), 1, 'a DROP is not delivered again');
    assert.ok(logs.some((l) => /OnTopicEvent: 13 INTERNAL: the app broke/.test(l)), 'the gRPC error is logged');
  });

  it('an app without OnTopicEvent has its events dropped, as daprd does', async () => {
    const s = await start({ ListTopicSubscriptions: subscriptions(sub('orders', { deadLetterTopic: 'unheard' })) });
    await s.publish('pubsub', 'orders', { n: 1 });
    await until('dropped to the dead-letter topic', () => logs.find((l) => l.includes('sent to dead-letter topic unheard')));
    assert.ok(logs.some((l) => l.includes('the app does not implement OnTopicEvent')));
    assert.equal(app!.at('OnTopicEvent').length, 1, 'not delivered again');
  });

  it('an app that never answers fails by its deadline, and the event is delivered again', async () => {
    const s = await start(
      { ListTopicSubscriptions: subscriptions(sub('slow')), OnTopicEvent: (_req, nth) => (nth === 1 ? 'never' : { status: 'SUCCESS' }) },
      { ...FAST_RETRIES, appTimeoutMs: 200 },
    );
    await s.publish('pubsub', 'slow', { n: 1 });
    await until('delivered again after the deadline', () => (app!.at('OnTopicEvent').length >= 2 ? true : undefined));
    assert.ok(logs.some((l) => /OnTopicEvent: 4 DEADLINE_EXCEEDED/.test(l)), logs.filter((l) => l.includes('slow')).join('\n'));
  });

  it('delivers a bulk subscription in batches, falling back to OnBulkTopicEventAlpha1, each entry by its status', async () => {
    const tries = new Map<string, number>();
    const s = await start({
      ListTopicSubscriptions: subscriptions(sub('batches', { bulkSubscribe: { enabled: true, maxMessagesCount: 10, maxAwaitDurationMs: 50 } })),
      OnBulkTopicEventAlpha1: (req) => ({
        statuses: req.entries.map((e: { entryId: string; cloudEvent: { data: Buffer } }) => {
          const { n } = JSON.parse(Buffer.from(e.cloudEvent.data).toString()) as { n: number };
          const nth = (tries.get(`${n}`) ?? 0) + 1;
          tries.set(`${n}`, nth);
          return { entryId: e.entryId, status: n === 2 && nth === 1 ? 'RETRY' : 'SUCCESS' };
        }),
      }),
    });
    for (const n of [1, 2, 3]) await s.publish('pubsub', 'batches', { n });
    await until('entry 2 retried alone', () => (tries.get('2') === 2 ? true : undefined));
    assert.deepEqual([tries.get('1'), tries.get('3')], [1, 1]);
    assert.ok(app!.at('OnBulkTopicEvent').length >= 1, 'OnBulkTopicEvent was tried first');
    const [first] = app!.at('OnBulkTopicEventAlpha1');
    assert.equal(first.type, 'com.dapr.event.sent.bulk');
    assert.equal(first.pubsubName, 'pubsub');
    assert.equal(first.path, '/batches');
    assert.equal(first.entries[0].event, 'cloudEvent');
    assert.equal(first.entries[0].cloudEvent.type, 'com.dapr.event.sent');
  });
});

describe('gRPC app channel: input bindings and health', () => {
  const timings = { ...INPUT_TIMINGS, errorMinMs: 5, errorMaxMs: 20, idleMaxMs: 5 };
  let channel: GrpcAppChannel | undefined;
  let inputs: InputBindings | undefined;
  after(async () => {
    await inputs?.stop();
    channel?.close();
    app?.stop();
  });

  it('delivers the events of the bindings ListInputBindings names through OnBindingEvent; an error is a failure', async () => {
    app = await GrpcTestApp.start({
      ListInputBindings: () => ({ bindings: ['ticks'] }),
      OnBindingEvent: (_req, nth) => (nth === 1 ? { code: grpcStatus.UNAVAILABLE, details: 'busy' } : {}),
    });
    channel = await GrpcAppChannel.open({ port: app.port });
    const ticks = new MemoryBinding('ticks', { input: true });
    const other = new MemoryBinding('other', { input: true });
    ticks.emit('{"n":1}', [['readTimeUTC', 'now']]);
    other.emit('x');
    inputs = new InputBindings({ components: new FakeComponents().addBinding('ticks', ticks).addBinding('other', other), channel, logger, timings });
    inputs.reconcile();
    await until('the event taken on the second try', () => (ticks.acks.some((a) => a.outcome === 'success') ? true : undefined));
    assert.deepEqual(ticks.acks.map((a) => a.outcome), ['failure', 'success']);
    const [event] = app.at('OnBindingEvent');
    assert.equal(event.name, 'ticks');
    assert.equal(Buffer.from(event.data).toString(), '{"n":1}');
    assert.deepEqual(event.metadata, { readTimeUTC: 'now' });
    await until('the unlisted binding is not delivered', () => logs.find((l) => l.includes("input binding other is not delivered: the app's ListInputBindings does not list it")));
    assert.equal(other.pending, 1);
    assert.ok(logs.some((l) => /input binding ticks: event e1: error invoking app channel: OnBindingEvent: 14 UNAVAILABLE: busy/.test(l)));
    await inputs.stop();
    inputs = undefined;
    channel.close();
    app.stop();
  });

  it('probes AppCallbackHealthCheck: healthy once it answers, unhealthy after the threshold of failures in a row', async () => {
    let up = true;
    app = await GrpcTestApp.start({ HealthCheck: () => (up ? {} : { code: grpcStatus.UNAVAILABLE }) });
    channel = await GrpcAppChannel.open({ port: app.port });
    const changes: boolean[] = [];
    const monitor = new AppHealthMonitor(channel, { path: '/healthz', intervalMs: 20, timeoutMs: 20, threshold: 2 }, (healthy) => changes.push(healthy), logger);
    monitor.start();
    try {
      await until('healthy', () => (changes.length === 1 ? true : undefined));
      up = false;
      await until('unhealthy', () => (changes.length === 2 ? true : undefined));
      assert.ok(app.at('HealthCheck').length >= 3, 'two failures in a row after the first pass');
      up = true;
      await until('healthy again', () => (changes.length === 3 ? true : undefined));
      assert.deepEqual(changes, [true, false, true]);
    } finally {
      monitor.stop();
    }
  });
});

describe('gRPC app channel: metrics', () => {
  it("counts its calls in daprd's gRPC client families, health probes apart", async () => {
    app = await GrpcTestApp.start({ ListTopicSubscriptions: subscriptions(sub('orders')), HealthCheck: () => ({}) });
    const channel = await GrpcAppChannel.open({ port: app.port });
    const metrics = new SidecarMetrics({ appId: 'shop' });
    channel.measureCalls((method) => metrics.grpcClientMethod(method));
    const call = { timeoutMs: 5000, signal: new AbortController().signal };
    const answer = await channel.listTopicSubscriptions('shop', call);
    assert.equal(answer.found, true);
    await channel.healthCheck('', call);
    const { body } = await metrics.scrape();
    const method = 'app_id="shop",grpc_client_method="/dapr.proto.runtime.v1.AppCallback/ListTopicSubscriptions"';
    assert.match(body, new RegExp(`^dapr_grpc_io_client_completed_rpcs\\{${method},grpc_client_status="OK"\\} 1$`, 'm'));
    assert.match(body, new RegExp(`^dapr_grpc_io_client_roundtrip_latency_count\\{${method},grpc_client_status="OK"\\} 1$`, 'm'));
    const received = new RegExp(`^dapr_grpc_io_client_received_bytes_per_rpc_sum\\{${method}\\} (\\d+)$`, 'm').exec(body);
    assert.ok(received && Number(received[1]) > 0, 'the answer holds the subscription');
    assert.match(body, new RegExp(`^dapr_grpc_io_client_sent_bytes_per_rpc_count\\{${method}\\} 1$`, 'm'));
    assert.doesNotMatch(body, /HealthCheck/);
  });
});
