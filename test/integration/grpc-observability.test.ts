// Observability of the Dapr gRPC API as a user meets it: the real `tessera run` process,
// called by a real grpc-js client, with a Dapr `Configuration` exporting traces over
// OTLP/gRPC (protocol grpc) to a real OTLP gRPC receiver on loopback, and a real app with a
// plain and a bulk subscription. GET /metrics shows daprd's gRPC server families and its
// bulk pub/sub families with daprd's names and labels; the receiver gets the calls' spans
// named and attributed as daprd names them, continuing the caller's `grpc-trace-bin`.
import assert from 'node:assert/strict';
import { Metadata, type ServiceError } from '@grpc/grpc-js';
import { after, before, describe, it } from 'node:test';
import { daprGrpcClient, rejection, unary, type DaprGrpcClient } from '../support/grpc-client.ts';
import { OtlpGrpcReceiver } from '../support/otlp-grpc-receiver.ts';
import { assertFamilies, startObservedSidecar, tracingConfiguration } from '../support/observed-sidecar.ts';
import { pollUntil, type SidecarProcess } from '../support/sidecar-process.ts';
import { TestApp } from '../support/test-app.ts';

const APP_ID = 'shop';
const DAPR = '/dapr.proto.runtime.v1.Dapr';

/** daprd's families (grpc_monitoring.go, component_monitoring.go) and their labels, as its Prometheus exporter names them. */
const DAPR_FAMILIES: Record<string, string[]> = {
  dapr_grpc_io_server_completed_rpcs: ['app_id', 'grpc_server_method', 'grpc_server_status'],
  dapr_grpc_io_server_server_latency: ['app_id', 'grpc_server_method', 'grpc_server_status'],
  dapr_grpc_io_server_received_bytes_per_rpc: ['app_id', 'grpc_server_method'],
  dapr_grpc_io_server_sent_bytes_per_rpc: ['app_id', 'grpc_server_method'],
  dapr_component_pubsub_egress_bulk_count: ['app_id', 'component', 'namespace', 'success', 'topic'],
  dapr_component_pubsub_egress_bulk_latencies: ['app_id', 'component', 'namespace', 'success', 'topic'],
  dapr_component_pubsub_egress_bulk_event_count: ['app_id', 'component', 'namespace', 'success', 'topic'],
  dapr_component_pubsub_ingress_bulk_count: ['app_id', 'component', 'namespace', 'process_status', 'topic'],
  dapr_component_pubsub_ingress_bulk_latencies: ['app_id', 'component', 'namespace', 'process_status', 'topic'],
  dapr_component_pubsub_ingress_bulk_event_count: ['app_id', 'component', 'namespace', 'process_status', 'topic'],
};

const EXPORTER_HEADERS = `      headers:
        - name: x-collector-tenant
          value: shop-team
`;

/** OpenCensus' binary trace context (`grpc-trace-bin`), as Go SDKs and daprd send it. */
function traceBin(traceId: string, spanId: string): Buffer {
  return Buffer.concat([Buffer.from([0, 0]), Buffer.from(traceId, 'hex'), Buffer.from([1]), Buffer.from(spanId, 'hex'), Buffer.from([2, 1])]);
}

/** A unary call that also resolves to the response headers the sidecar sent. */
function unaryWithHeaders(client: DaprGrpcClient, method: string, request: object, metadata: Metadata): Promise<{ response: unknown; headers: Metadata }> {
  return new Promise((resolve, reject) => {
    let headers = new Metadata();
    const call = client[method]!(request, metadata, (err: ServiceError | null, response: unknown) => (err ? reject(err) : resolve({ response, headers }))) as NodeJS.EventEmitter;
    call.on('metadata', (m: Metadata) => (headers = m));
  });
}

describe('observability of the gRPC API: metrics and traces over OTLP/gRPC', () => {
  const app = new TestApp();
  const receiver = new OtlpGrpcReceiver();
  let sidecar: SidecarProcess;
  let client: DaprGrpcClient;
  let metricsUrl: string;

  before(async () => {
    await Promise.all([app.listen(), receiver.listen()]);
    app.subscribe = {
      status: 200,
      body: [
        { pubsubname: 'pubsub', topic: 'orders', route: '/orders' },
        { pubsubname: 'pubsub', topic: 'batches', route: '/batches', bulkSubscribe: { enabled: true, maxMessagesCount: 10, maxAwaitDurationMs: 20 } },
      ],
    };
    // The app takes every entry of a bulk delivery.
    app.on('/batches', (delivery) => {
      const entries = (delivery.json as { entries: { entryId: string }[] }).entries;
      return { status: 200, body: { statuses: entries.map((e) => ({ entryId: e.entryId, status: 'SUCCESS' })) } };
    });
    ({ sidecar, metricsUrl } = await startObservedSidecar(APP_ID, app, tracingConfiguration(receiver.address, 'grpc', EXPORTER_HEADERS)));
    client = daprGrpcClient(`127.0.0.1:${sidecar.grpcPort}`);
  });

  after(async () => {
    client?.close();
    await sidecar?.stop();
    await Promise.all([app.close(), receiver.close()]);
  });

  it("serves daprd's gRPC server and bulk pub/sub families with its labels", async () => {
    await unary(client, 'SaveState', { store_name: 'statestore', states: [{ key: 'k', value: Buffer.from('"v"') }] });
    const got = await unary<{ data: Buffer }>(client, 'GetState', { store_name: 'statestore', key: 'k' });
    assert.equal(got.data.toString(), '"v"');
    const refused = await rejection(unary(client, 'GetState', { store_name: 'nope', key: 'k' }));
    assert.equal(refused.code, 3);
    const entries = [0, 1, 2].map((i) => ({ entry_id: String(i), event: Buffer.from(`{"n":${i}}`), content_type: 'application/json' }));
    const bulk = await unary<{ failedEntries: unknown[] }>(client, 'BulkPublishEvent', { pubsub_name: 'pubsub', topic: 'batches', entries });
    assert.deepEqual(bulk.failedEntries, []);

    const text = await pollUntil('the bulk delivery to be counted', async () => {
      const body = await (await fetch(metricsUrl)).text();
      return /^dapr_component_pubsub_ingress_bulk_event_count\{.*\} 3$/m.test(body) ? body : undefined;
    });
    assertFamilies(text, DAPR_FAMILIES);
    const get = `app_id="shop",grpc_server_method="${DAPR}/GetState"`;
    assert.match(text, new RegExp(`^dapr_grpc_io_server_completed_rpcs\\{${get},grpc_server_status="OK"\\} 1$`, 'm'));
    assert.match(text, new RegExp(`^dapr_grpc_io_server_completed_rpcs\\{${get},grpc_server_status="InvalidArgument"\\} 1$`, 'm'));
    assert.match(text, new RegExp(`^dapr_grpc_io_server_server_latency_count\\{${get},grpc_server_status="OK"\\} 1$`, 'm'));
    assert.match(text, new RegExp(`^dapr_grpc_io_server_received_bytes_per_rpc_count\\{${get}\\} 2$`, 'm'));
    // The bytes are the messages' protobuf sizes: the answer holds the value, and a failed call sends none.
    const sent = new RegExp(`^dapr_grpc_io_server_sent_bytes_per_rpc_sum\\{${get}\\} (\\d+)$`, 'm').exec(text);
    assert.ok(sent && Number(sent[1]) >= 5, `GetState's answer bytes: ${sent?.[1]}`);
    const received = new RegExp(`^dapr_grpc_io_server_received_bytes_per_rpc_sum\\{${get}\\} (\\d+)$`, 'm').exec(text);
    assert.ok(received && Number(received[1]) >= '"statestore"k'.length, `GetState's request bytes: ${received?.[1]}`);
    const c = 'app_id="shop",component="pubsub",namespace=""';
    assert.match(text, new RegExp(`^dapr_component_pubsub_egress_bulk_count\\{${c},success="true",topic="batches"\\} 1$`, 'm'));
    assert.match(text, new RegExp(`^dapr_component_pubsub_egress_bulk_event_count\\{${c},success="true",topic="batches"\\} 3$`, 'm'));
    assert.match(text, new RegExp(`^dapr_component_pubsub_ingress_bulk_event_count\\{${c},process_status="success",topic="batches"\\} 3$`, 'm'));
    assert.match(text, new RegExp(`^dapr_component_pubsub_ingress_bulk_count\\{${c},process_status="",topic="batches"\\} [1-3]$`, 'm'));
    // A bulk publish is not counted as single publishes, nor a bulk delivery as single deliveries.
    assert.doesNotMatch(text, /^dapr_component_pubsub_(egress|ingress)_count\{.*topic="batches".*$/m);
  });

  it("traces a call from the caller's grpc-trace-bin, named and attributed as daprd does, and exports it over OTLP/gRPC", async () => {
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const metadata = new Metadata();
    metadata.set('grpc-trace-bin', traceBin(traceId, 'b7ad6b7169203331'));
    metadata.set('dapr-tenant', 'blue');
    const { headers } = await unaryWithHeaders(client, 'GetState', { store_name: 'statestore', key: 'k' }, metadata);
    const span = await receiver.waitForSpan('for GetState', (s) => s.traceId === traceId && s.kind === 2);
    assert.equal(span.name, `${DAPR}/GetState`);
    assert.equal(span.parentSpanId, 'b7ad6b7169203331');
    assert.equal(span.serviceName, APP_ID);
    assert.deepEqual(
      { ...span.attributes, 'rpc.grpc.status_code': undefined },
      {
        'rpc.service': 'Dapr',
        'db.system': 'state',
        'db.name': 'statestore',
        'db.statement': `${DAPR}/GetState`,
        'db.connection_string': 'state',
        'dapr.protocol': 'grpc',
        'dapr.api': `${DAPR}/GetState`,
        'dapr-tenant': 'blue',
        'rpc.grpc.status_code': undefined,
      },
    );
    // The answer names the span in grpc-trace-bin, as daprd's does.
    const [bin] = headers.get('grpc-trace-bin');
    assert.ok(Buffer.isBuffer(bin), 'grpc-trace-bin in the response headers');
    assert.equal(bin.subarray(2, 18).toString('hex'), traceId);
    assert.equal(bin.subarray(19, 27).toString('hex'), span.spanId);
    // The exporter's Configuration headers go as the Export call's metadata.
    assert.deepEqual(span.metadata.get('x-collector-tenant'), ['shop-team']);
  });

  it('traces a failed call as an error with its status message, and a publish through to the delivery', async () => {
    const failedTrace = '1af7651916cd43dd8448eb211c80319c';
    const failing = new Metadata();
    failing.set('traceparent', `00-${failedTrace}-b7ad6b7169203331-01`);
    await rejection(unary(client, 'GetState', { store_name: 'nope', key: 'k' }, failing));
    const failed = await receiver.waitForSpan('for the failed GetState', (s) => s.traceId === failedTrace && s.kind === 2);
    assert.equal(failed.status.code, 2);
    assert.match(failed.status.message, /nope/);
    assert.equal(failed.attributes['rpc.grpc.status_code'], 3);

    const traceId = '2af7651916cd43dd8448eb211c80319c';
    const publishing = new Metadata();
    publishing.set('traceparent', `00-${traceId}-b7ad6b7169203331-01`);
    await unary(client, 'PublishEvent', { pubsub_name: 'pubsub', topic: 'orders', data: Buffer.from('{"id":1}'), data_content_type: 'application/json' }, publishing);
    const [delivery] = await app.waitFor('/orders');
    const server = await receiver.waitForSpan('for PublishEvent', (s) => s.traceId === traceId && s.name === `${DAPR}/PublishEvent`);
    assert.equal(server.attributes['messaging.destination'], 'orders');
    assert.equal(server.attributes['messaging.system'], 'pubsub');
    // The CloudEvent continues the API call's span.
    assert.match(String(delivery!.json.traceparent), new RegExp(`^00-${traceId}-${server.spanId}-01$`));
  });
});
