// A `tessera run` sidecar as the observability tests start it: a state store, a broker and a
// tracing Configuration in its resources folder, the test's app subscribed, and the URL of
// its GET /metrics; plus the check that a metrics text exports families with given labels.
import assert from 'node:assert/strict';
import { componentYaml, pollUntil, startSidecar, type SidecarProcess } from './sidecar-process.ts';
import type { TestApp } from './test-app.ts';

const METRICS = /metrics served on http:\/\/[\d.]+:(\d+)\/metrics/;

/** A Configuration tracing every request to the OTLP receiver at `endpoint`; `otelExtra` adds lines under `otel:`. */
export const tracingConfiguration = (endpoint: string, protocol: 'http' | 'grpc', otelExtra = ''): string => `apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata:
  name: tracing
spec:
  tracing:
    samplingRate: "1"
    otel:
      endpointAddress: "${endpoint}"
      isSecure: false
      protocol: ${protocol}
${otelExtra}`;

/** The URL of the sidecar's GET /metrics, from the line it logs. */
export async function metricsUrlOf(sidecar: SidecarProcess): Promise<string> {
  const [, port] = METRICS.exec((await sidecar.waitForLog(METRICS)).message)!;
  return `http://127.0.0.1:${port}/metrics`;
}

/** Starts the sidecar of `app` (listening, its subscriptions set) and waits for the app to be asked for them. */
export async function startObservedSidecar(appId: string, app: TestApp, configuration: string): Promise<{ sidecar: SidecarProcess; metricsUrl: string }> {
  const sidecar = await startSidecar({
    appId,
    resources: {
      'statestore.yaml': componentYaml('statestore'),
      'pubsub.yaml': componentYaml('pubsub', 'pubsub.memory'),
      'tracing.yaml': configuration,
    },
    args: ['--app-port', String(app.port)],
  });
  const metricsUrl = await metricsUrlOf(sidecar);
  await pollUntil('the app to be subscribed', () => (app.subscribeRequests > 0 ? true : undefined));
  return { sidecar, metricsUrl };
}

/** The label names of a sample line `name{a="x",b="y"} 1` (a histogram's `le` left out). */
function labelNames(line: string): string[] {
  const inside = /\{(.*)\}/.exec(line)?.[1] ?? '';
  return [...inside.matchAll(/(\w+)="/g)].map((m) => m[1]!).filter((n) => n !== 'le').sort();
}

/** Asserts that `text` exports each family (a sample, or a histogram's `_count`) with exactly its labels. */
export function assertFamilies(text: string, families: Record<string, string[]>): void {
  const lines = text.split('\n');
  for (const [family, labels] of Object.entries(families)) {
    const sample = lines.find((l) => l.startsWith(`${family}{`) || l.startsWith(`${family}_count{`));
    assert.ok(sample, `${family} is exported`);
    assert.deepEqual(labelNames(sample), [...labels].sort(), `${family}'s labels`);
  }
}
