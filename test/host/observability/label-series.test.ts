// The per-request families as Prometheus reads them: a counter's series by label values, a
// histogram's cumulative buckets with +Inf, _sum and _count, through prom-client's registry.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Registry } from 'prom-client';
import { SeriesCounter, SeriesHistogram } from '../../../host/observability/label-series.ts';

it('exposes counters and histograms in the Prometheus text format', async () => {
  const registry = new Registry();
  const count = new SeriesCounter(registry, 'dapr_http_server_request_count', 'requests', ['app_id', 'status']);
  const latency = new SeriesHistogram(registry, 'dapr_http_server_latency', 'latency', ['app_id'], [1, 5]);
  count.inc(1, 'a', '200');
  count.inc(2, 'a', '200');
  count.inc(1, 'a', '500');
  for (const ms of [0.5, 3, 3, 9]) latency.observe(ms, 'a');
  const text = await registry.metrics();
  assert.match(text, /^# TYPE dapr_http_server_request_count counter$/m);
  assert.match(text, /^dapr_http_server_request_count\{app_id="a",status="200"\} 3$/m);
  assert.match(text, /^dapr_http_server_request_count\{app_id="a",status="500"\} 1$/m);
  assert.match(text, /^# TYPE dapr_http_server_latency histogram$/m);
  assert.match(text, /^dapr_http_server_latency_bucket\{app_id="a",le="1"\} 1$/m);
  assert.match(text, /^dapr_http_server_latency_bucket\{app_id="a",le="5"\} 3$/m);
  assert.match(text, /^dapr_http_server_latency_bucket\{app_id="a",le="\+Inf"\} 4$/m);
  assert.match(text, /^dapr_http_server_latency_sum\{app_id="a"\} 15.5$/m);
  assert.match(text, /^dapr_http_server_latency_count\{app_id="a"\} 4$/m);
});
