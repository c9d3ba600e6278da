// daprd's resiliency families as Prometheus reads them: documents loaded, each policy counted
// once per run with daprd's labels (a breaker's with its state), activations for a retry, a
// timeout that fired and a breaker that changed state, and the breaker state gauge; counted
// from the first call, before the registry exists.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { parse } from 'yaml';
import { ResiliencyMetrics } from '../../../host/observability/resiliency-metrics.ts';
import { BreakerOpenError } from '../../../host/resiliency/circuit-breaker.ts';
import { PolicyTimeoutError, runWithPolicy } from '../../../host/resiliency/policy-runner.ts';
import { parseResiliency } from '../../../host/resiliency/resiliency-document.ts';
import { Resiliency } from '../../../host/resiliency/resiliency.ts';

const DOC = parseResiliency(
  parse(`
apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata:
  name: mypolicies
spec:
  policies:
    timeouts:
      short: 20ms
    retries:
      quick:
        policy: constant
        duration: 1ms
        maxRetries: 3
    circuitBreakers:
      cb:
        maxRequests: 1
        timeout: 30s
        trip: consecutiveFailures >= 2
  targets:
    apps:
      flaky:
        retry: quick
      slow:
        timeout: short
        retry: quick
      dead:
        circuitBreaker: cb
    components:
      statestore:
        outbound:
          retry: quick
`),
  'resiliency.yaml',
);

/** The value of the series of `name` with exactly these labels (in any order), or undefined. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)\{(.*)\} (\S+)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    const seen = Object.fromEntries([...m[2]!.matchAll(/([a-z_]+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (JSON.stringify(Object.entries(seen).sort()) === JSON.stringify(Object.entries(labels).sort())) return Number(m[3]);
  }
  return undefined;
}

test('policy runs, retries, timeouts and breaker changes show with daprd’s names and labels', async () => {
  let now = 0;
  const metrics = new ResiliencyMetrics('caller', '');
  const resiliency = new Resiliency({ appId: 'caller', now: () => now, observer: metrics }, [DOC]);

  // Counted before prom-client's registry exists, shown once it does.
  let calls = 0;
  assert.equal(await runWithPolicy(resiliency.app('flaky'), async () => (++calls <= 2 ? Promise.reject(new Error('not yet')) : 'ok')), 'ok');
  const registry = new Registry();
  metrics.registerOn(registry);

  const never = (signal: AbortSignal) => new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
  await assert.rejects(runWithPolicy(resiliency.app('slow'), never), PolicyTimeoutError);

  const dead = resiliency.app('dead');
  for (let i = 0; i < 2; i++) await assert.rejects(runWithPolicy(dead, () => Promise.reject(new Error('down'))), /down/);
  await assert.rejects(runWithPolicy(dead, () => Promise.resolve('unreached')), BreakerOpenError);
  await runWithPolicy(resiliency.componentOutbound('statestore', 'Statestore'), async () => 'stored');

  const text = await registry.metrics();
  const labels = (policy: string, target: string, status = '') => ({ app_id: 'caller', name: 'mypolicies', policy, namespace: '', flow_direction: 'outbound', target, status });
  assert.equal(sample(text, 'dapr_resiliency_loaded', { app_id: 'caller', name: 'mypolicies', namespace: '' }), 1);
  assert.equal(sample(text, 'dapr_resiliency_count', labels('retry', 'app_flaky')), 1, 'one run, however many attempts');
  assert.equal(sample(text, 'dapr_resiliency_activations_total', labels('retry', 'app_flaky')), 2, 'two retries');
  assert.equal(sample(text, 'dapr_resiliency_count', labels('timeout', 'app_slow')), 1);
  assert.equal(sample(text, 'dapr_resiliency_activations_total', labels('timeout', 'app_slow')), 1, 'once per run, though every attempt timed out');
  assert.equal(sample(text, 'dapr_resiliency_activations_total', labels('retry', 'app_slow')), 3);
  assert.equal(sample(text, 'dapr_resiliency_count', labels('circuitbreaker', 'app_dead', 'closed')), 2);
  assert.equal(sample(text, 'dapr_resiliency_count', labels('circuitbreaker', 'app_dead', 'open')), 1, 'the refused call ran under an open breaker');
  assert.equal(sample(text, 'dapr_resiliency_activations_total', labels('circuitbreaker', 'app_dead', 'open')), 1);
  assert.equal(sample(text, 'dapr_resiliency_cb_state', labels('circuitbreaker', 'app_dead', 'open')), 1);
  assert.equal(sample(text, 'dapr_resiliency_cb_state', labels('circuitbreaker', 'app_dead', 'closed')), 0);
  assert.equal(sample(text, 'dapr_resiliency_count', labels('retry', 'Statestore_statestore')), 1);
  assert.equal(sample(text, 'dapr_resiliency_activations_total', labels('retry', 'Statestore_statestore')), 0, 'no retry: its series is there, at 0');
  assert.match(text, /^# TYPE dapr_resiliency_cb_state gauge$/m);

  // Past its timeout the breaker half-opens; a good trial closes it, each change an activation.
  now += 30_000;
  assert.equal(await runWithPolicy(dead, async () => 'back'), 'back');
  const after = await registry.metrics();
  assert.equal(sample(after, 'dapr_resiliency_activations_total', labels('circuitbreaker', 'app_dead', 'half-open')), 1);
  assert.equal(sample(after, 'dapr_resiliency_activations_total', labels('circuitbreaker', 'app_dead', 'closed')), 1);
  assert.equal(sample(after, 'dapr_resiliency_cb_state', labels('circuitbreaker', 'app_dead', 'closed')), 1);
  assert.equal(sample(after, 'dapr_resiliency_cb_state', labels('circuitbreaker', 'app_dead', 'open')), 0);

  // A reload counts the document again and drops the old breakers' gauges until they are used.
  resiliency.update([DOC]);
  const reloaded = await registry.metrics();
  assert.equal(sample(reloaded, 'dapr_resiliency_loaded', { app_id: 'caller', name: 'mypolicies', namespace: '' }), 2);
  assert.equal(sample(reloaded, 'dapr_resiliency_cb_state', labels('circuitbreaker', 'app_dead', 'closed')), undefined);
});

test('with metrics off no meter is made and policies run as before', async () => {
  const resiliency = new Resiliency({ appId: 'caller' }, [DOC]);
  assert.equal(resiliency.app('flaky').meter, undefined);
  assert.equal(resiliency.app('unnamed').meter, undefined);
});
