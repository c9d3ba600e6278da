// Observability as a user meets it: the real `tessera run` process with a state store, a
// broker and a Dapr `Configuration` (tracing to an OTLP receiver on loopback) in its
// resources folder, and a real app subscribing to a topic. GET /metrics shows Dapr's families
// with daprd's names and labels and Tessera's per-component ones; a real Prometheus server
// scrapes the sidecar and reports the target up; a publish made as curl makes it shows up
// at the receiver as one trace, from the API call to the app's delivery.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { OtlpReceiver } from '../support/otlp-receiver.ts';
import { PrometheusServer } from '../support/prometheus-server.ts';
import { assertFamilies, startObservedSidecar, tracingConfiguration } from '../support/observed-sidecar.ts';
import { pollUntil, type SidecarProcess } from '../support/sidecar-process.ts';
import { TestApp } from '../support/test-app.ts';
import { needs } from '../support/tools.ts';

const APP_ID = 'shop';
const DASHBOARD = new URL('../../examples/observability/grafana-dashboard.json', import.meta.url);

/** daprd's families (pkg/diagnostics) and their labels, as its Prometheus exporter names them. */
const DAPR_FAMILIES: Record<string, string[]> = {
  dapr_http_server_request_count: ['app_id', 'method', 'path', 'status'],
  dapr_http_server_latency: ['app_id', 'method', 'path', 'status'],
  dapr_http_server_request_bytes: ['app_id'],
  dapr_http_server_response_bytes: ['app_id'],
  dapr_component_state_count: ['app_id', 'component', 'namespace', 'operation', 'success'],
  dapr_component_state_latencies: ['app_id', 'component', 'namespace', 'operation', 'success'],
  dapr_component_pubsub_egress_count: ['app_id', 'component', 'namespace', 'success', 'topic'],
  dapr_component_pubsub_egress_latencies: ['app_id', 'component', 'namespace', 'success', 'topic'],
  dapr_component_pubsub_ingress_count: ['app_id', 'component', 'namespace', 'process_status', 'status', 'topic'],
  dapr_component_pubsub_ingress_latencies: ['app_id', 'component', 'namespace', 'process_status', 'status', 'topic'],
  dapr_runtime_component_loaded: ['app_id'],
  dapr_runtime_component_init_total: ['app_id', 'component'],
};

const TESSERA_FAMILIES = [
  'tessera_component_memory_bytes',
  'tessera_component_fuel_consumed_total',
  'tessera_component_calls_total',
  'tessera_component_call_latency',
  'tessera_component_generation',
  'tessera_component_instances',
  'tessera_component_compile_seconds',
];

describe('observability: metrics, Prometheus and traces', () => {
  const app = new TestApp();
  const receiver = new OtlpReceiver();
  let sidecar: SidecarProcess;
  let metricsUrl: string;

  before(async () => {
    await Promise.all([app.listen(), receiver.listen()]);
    app.subscribe = { status: 200, body: [{ pubsubname: 'pubsub', topic: 'orders', route: '/orders' }] };
    ({ sidecar, metricsUrl } = await startObservedSidecar(APP_ID, app, tracingConfiguration(receiver.address, 'http')));
  });

  after(async () => {
    await sidecar?.stop();
    await Promise.all([app.close(), receiver.close()]);
  });

  it("serves Dapr's families with daprd's labels, and Tessera's per component", async () => {
    assert.equal((await sidecar.fetch('/v1.0/state/statestore', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[{"key":"k","value":1}]' })).status, 204);
    assert.equal((await sidecar.fetch('/v1.0/state/statestore/k')).status, 200);
    assert.equal((await sidecar.fetch('/v1.0/publish/pubsub/orders', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"id":0}' })).status, 204);
    await app.waitFor('/orders');
    const text = await pollUntil('the delivery to be counted', async () => {
      const body = await (await fetch(metricsUrl)).text();
      return body.includes('dapr_component_pubsub_ingress_count{') ? body : undefined;
    });
    assertFamilies(text, DAPR_FAMILIES);
    const lines = text.split('\n');
    for (const family of TESSERA_FAMILIES) assert.ok(lines.some((l) => l.startsWith(`${family}{`) || l.startsWith(`${family}_count{`)), `${family} is exported`);
    // Node's process metrics, as daprd exports Go's.
    assert.match(text, /^process_cpu_seconds_total /m);
    assert.match(text, /^nodejs_eventloop_lag_p99_seconds /m);
    // The route's template, never the key: one series however many keys.
    assert.match(text, /^dapr_http_server_request_count\{app_id="shop",method="GET",path="\/v1\.0\/state\/:storeName\/:key",status="200"\} 1$/m);
    assert.match(text, /^dapr_component_state_count\{app_id="shop",component="statestore",namespace="",operation="get",success="true"\} 1$/m);
    assert.match(text, /^dapr_component_pubsub_egress_count\{app_id="shop",component="pubsub",namespace="",success="true",topic="orders"\} 1$/m);
    assert.match(text, /^dapr_component_pubsub_ingress_count\{app_id="shop",component="pubsub",namespace="",process_status="success",topic="orders",status="success"\} 1$/m);
    const memory = /^tessera_component_memory_bytes\{app_id="shop",component="statestore"\} (\d+)$/m.exec(text);
    assert.ok(memory && Number(memory[1]) > 0, 'the state store reports its memory');
    assert.match(text, /^tessera_component_calls_total\{app_id="shop",component="statestore",export="get",success="true"\} 1$/m);
    assert.match(text, /^dapr_runtime_component_init_total\{app_id="shop",component="state.memory"\} 1$/m);
  });

  it("sizes each call's bodies as sent (a UTF-8 answer in bytes, not characters) and times it", async () => {
    const sum = (text: string, family: string): number => Number(new RegExp(`^${family}_sum\\{app_id="${APP_ID}"\\} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    const count = (text: string): number =>
      Number(/^dapr_http_server_latency_count\{app_id="shop",method="POST",path="\/v1\.0\/state\/:storeName",status="204"\} (\d+)$/m.exec(text)?.[1] ?? 0);
    const body = '[{"key":"bytes","value":"gr\u00fc\u00dfe \u2603"}]';
    assert.equal((await sidecar.fetch('/v1.0/state/statestore', { method: 'POST', headers: { 'content-type': 'application/json' }, body })).status, 204);
    const before = await (await fetch(metricsUrl)).text();
    assert.equal((await sidecar.fetch('/v1.0/state/statestore', { method: 'POST', headers: { 'content-type': 'application/json' }, body })).status, 204);
    const res = await sidecar.fetch('/v1.0/state/statestore/bytes');
    const answer = Buffer.from(await res.arrayBuffer());
    assert.equal(answer.toString(), '"gr\u00fc\u00dfe \u2603"');
    const after = await (await fetch(metricsUrl)).text();
    assert.equal(sum(after, 'dapr_http_server_request_bytes') - sum(before, 'dapr_http_server_request_bytes'), Buffer.byteLength(body));
    assert.equal(sum(after, 'dapr_http_server_response_bytes') - sum(before, 'dapr_http_server_response_bytes'), answer.length);
    assert.ok(answer.length > answer.toString().length, 'the answer has characters of more than one byte');
    assert.equal(count(after) - count(before), 1, 'the POST is timed once under its route');
  });

  it('counts a path no route has under one empty path label', async () => {
    for (const path of ['/nope/1', '/nope/2', '/v1.0/nothing']) assert.equal((await sidecar.fetch(path)).status, 404);
    const text = await (await fetch(metricsUrl)).text();
    assert.match(text, /^dapr_http_server_request_count\{app_id="shop",method="GET",path="",status="404"\} 3$/m);
    assert.doesNotMatch(text, /nope/);
  });

  it("counts a call refused before its route's handler ran, and an invocation, under their routes' templates", async () => {
    const refused = await sidecar.fetch('/v1.0/state/nosuchstore', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[{"key":"k","value":1}]' });
    assert.equal(refused.status, 400);
    assert.match(await refused.text(), /ERR_STATE_STORE_NOT_FOUND/);
    const invoked = await sidecar.fetch(`/v1.0/invoke/${APP_ID}/method/hello`, { method: 'POST', body: 'hi' });
    assert.equal(invoked.status, 200);
    const text = await (await fetch(metricsUrl)).text();
    assert.match(text, /^dapr_http_server_request_count\{app_id="shop",method="POST",path="\/v1\.0\/state\/:storeName",status="400"\} 1$/m);
    assert.match(text, /^dapr_http_server_request_count\{app_id="shop",method="POST",path="\/v1\.0\/invoke\/\*",status="200"\} 1$/m);
    assert.doesNotMatch(text, /nosuchstore|method\/hello/);
  });

  it('is scraped by a real Prometheus server: the target is up and the series are there', needs('prometheus'), async () => {
    const target = new URL(metricsUrl).host;
    const prometheus = await PrometheusServer.start('tessera', [target]);
    try {
      let seen: unknown;
      const up = await pollUntil(
        () => `the target ${target} to be up: ${JSON.stringify(seen)}\n${prometheus.log}`,
        async () => {
          const targets = await prometheus.targets();
          seen = targets;
          return targets.find((t) => t.labels.instance === target && t.health === 'up');
        },
        { timeoutMs: 20_000, intervalMs: 200 },
      );
      assert.equal(up.scrapeUrl, metricsUrl);
      const requests = await pollUntil('dapr_http_server_request_count in Prometheus', async () => {
        const series = await prometheus.query(`dapr_http_server_request_count{app_id="${APP_ID}"}`);
        return series.length > 0 ? series : undefined;
      });
      assert.ok(requests.every((s) => s.metric.job === 'tessera'));
      const memory = await prometheus.query('tessera_component_memory_bytes{component="statestore"}');
      assert.equal(memory.length, 1);
      assert.ok(Number(memory[0]!.value[1]) > 0);
      // Every query of the example Grafana dashboard is one Prometheus accepts.
      const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: { targets?: { expr: string }[] }[] };
      const queries = dashboard.panels.flatMap((p) => p.targets ?? []).map((t) => t.expr.replaceAll('$__rate_interval', '1m').replaceAll('$app_id', '.*').replaceAll('$job', '.*'));
      assert.ok(queries.length > 10);
      for (const query of queries) await prometheus.query(query);
    } finally {
      await prometheus.stop();
    }
  });

  it("traces a publish to the app's delivery as one trace, continuing the caller's", async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await sidecar.fetch('/v1.0/publish/pubsub/orders', {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
      body: '{"id":1}',
    });
    assert.equal(res.status, 204);
    assert.match(res.headers.get('traceparent') ?? '', new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    const [delivery] = (await app.waitFor('/orders', 2)).slice(1);
    // The app gets the trace, in the header and in the CloudEvent.
    assert.match(String(delivery!.headers.traceparent), new RegExp(`^00-${traceId}-`));
    assert.match(String(delivery!.json.traceparent), new RegExp(`^00-${traceId}-`));

    const server = await receiver.waitForSpan('for the publish call', (s) => s.traceId === traceId && s.kind === 2);
    assert.equal(server.name, 'POST /v1.0/publish/:pubsubName/*');
    assert.equal(server.parentSpanId, '00f067aa0ba902b7');
    assert.equal(server.serviceName, APP_ID);
    const publish = await receiver.waitForSpan('for the broker call', (s) => s.traceId === traceId && s.attributes['tessera.export'] === 'publish');
    assert.equal(publish.parentSpanId, server.spanId);
    assert.equal(publish.attributes['tessera.component'], 'pubsub');
    assert.equal(publish.attributes['tessera.generation'], 1);
    const toApp = await receiver.waitForSpan('for the delivery to the app', (s) => s.traceId === traceId && s.kind === 3);
    assert.equal(toApp.name, 'POST /orders');
    // The delivery continues the CloudEvent's trace: the API call's span is its parent, and the app's traceparent names it.
    assert.equal(toApp.parentSpanId, server.spanId);
    assert.equal(String(delivery!.headers.traceparent).split('-')[2], toApp.spanId);
  });
});
