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

it('counts each call in its own series when one scratch array carries every call’s labels, alike or not', async () => {
  const registry = new Registry();
  const count = new SeriesCounter(registry, 'calls', 'calls', ['component', 'op', 'success']);
  const scratch = ['', '', ''];
  const calls: [string, string, string][] = [
    ['s', 'get', 'true'],
    ['s', 'get', 'true'],
    ['s', 'get', 'false'],
    ['s', 'set', 'true'],
    ['s', 'get', 'true'],
    ['t', 'get', 'true'],
    ['s', 'get', 'true'],
  ];
  for (const labels of calls) {
    labels.forEach((v, i) => (scratch[i] = v));
    count.incAt(1, scratch);
  }
  // Another family keeps a memory of its own.
  const wide = new SeriesCounter(registry, 'wide', 'wide', ['a']);
  wide.inc(1, 'x');
  wide.inc(1, 'y');
  wide.inc(1, 'x');
  const text = await registry.metrics();
  assert.match(text, /^calls\{component="s",op="get",success="true"\} 4$/m);
  assert.match(text, /^calls\{component="s",op="get",success="false"\} 1$/m);
  assert.match(text, /^calls\{component="s",op="set",success="true"\} 1$/m);
  assert.match(text, /^calls\{component="t",op="get",success="true"\} 1$/m);
  assert.match(text, /^wide\{a="x"\} 2$/m);
  assert.match(text, /^wide\{a="y"\} 1$/m);
});
