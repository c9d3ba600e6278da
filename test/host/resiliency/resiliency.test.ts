// Dapr's Resiliency policies as the sidecar reads and applies them: the document checked and
// typed, per-target lookup with Dapr's default policy names, retries (constant, exponential,
// `matching`), timeouts that abort the attempt, and circuit breakers that trip on their CEL
// expression, refuse while open and close after their half-open trials.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { isTesseraError } from '../../../host/errors.ts';
import { BreakerOpenError, CircuitBreaker } from '../../../host/resiliency/circuit-breaker.ts';
import { parseGoDuration } from '../../../host/resiliency/go-duration.ts';
import { PolicyTimeoutError, runWithPolicy } from '../../../host/resiliency/policy-runner.ts';
import { parseResiliency, type CircuitBreakerPolicy, type ResiliencyDocument } from '../../../host/resiliency/resiliency-document.ts';
import { Resiliency } from '../../../host/resiliency/resiliency.ts';
import { MAX_RESILIENCY_DOCUMENTS, ResiliencyResources } from '../../../host/resiliency/resiliency-resources.ts';
import { createLogger } from '../../../host/observability/logger.ts';
import { backoffMs } from '../../../host/resiliency/retry-backoff.ts';
import { compileTrip } from '../../../host/resiliency/trip-expression.ts';

const DOC = `
apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata:
  name: myresiliency
scopes: [checkout]
spec:
  policies:
    timeouts:
      general: 5s
      quick: 1m30s
    retries:
      pubsubRetry:
        policy: constant
        duration: 5s
        maxRetries: 10
      retryForever:
        policy: exponential
        maxInterval: 15s
        maxRetries: -1
      important:
        policy: constant
        duration: 5ms
        maxRetries: 30
        matching:
          httpStatusCodes: 429,500-599
          gRPCStatusCodes: 1-4,8-11,13,14
      DefaultComponentOutboundRetryPolicy:
        policy: constant
        duration: 1s
        maxRetries: 2
    circuitBreakers:
      simpleCB:
        maxRequests: 1
        timeout: 30s
        trip: consecutiveFailures >= 5
  targets:
    apps:
      appB:
        timeout: general
        retry: important
        circuitBreaker: simpleCB
    components:
      statestore1:
        outbound:
          timeout: general
          retry: retryForever
          circuitBreaker: simpleCB
      pubsub:
        inbound:
          retry: pubsubRetry
`;

const doc = (): ResiliencyDocument => parseResiliency(parse(DOC), 'resiliency.yaml');

function refusal(yamlText: string): string {
  try {
    parseResiliency(parse(yamlText), 'bad.yaml');
  } catch (err) {
    assert.ok(isTesseraError(err, 'ERR_COMPONENT_CONFIG'), String(err));
    return err.message;
  }
  assert.fail('accepted');
}

describe('the Resiliency document', () => {
  test('Go durations', () => {
    assert.equal(parseGoDuration('5s'), 5000);
    assert.equal(parseGoDuration('1m30s'), 90_000);
    assert.equal(parseGoDuration('1.5h'), 5_400_000);
    assert.equal(parseGoDuration('250ms'), 250);
    assert.equal(parseGoDuration('0'), 0);
    assert.match(String(parseGoDuration('5')), /is not a duration such as "5s"/);
    assert.match(String(parseGoDuration('5x')), /is not a duration/);
    assert.match(String(parseGoDuration('1000h')), /longer than the 24 days a timer can wait/);
  });

  test("Dapr's example reads into typed policies", () => {
    const d = doc();
    assert.equal(d.name, 'myresiliency');
    assert.deepEqual(d.scopes, ['checkout']);
    assert.equal(d.timeouts.get('quick'), 90_000);
    const important = d.retries.get('important')!;
    assert.equal(important.durationMs, 5);
    assert.ok(important.httpStatusCodes?.has(429) && important.httpStatusCodes.has(503) && !important.httpStatusCodes.has(404));
    assert.ok(important.grpcStatusCodes?.has(14) && !important.grpcStatusCodes.has(5));
    const forever = d.retries.get('retryForever')!;
    assert.equal(forever.maxRetries, -1);
    assert.equal(forever.maxIntervalMs, 15_000);
    assert.equal(d.circuitBreakers.get('simpleCB')!.timeoutMs, 30_000);
  });

  test('refuses what is wrong, naming each place', () => {
    const message = refusal(`
kind: Resiliency
metadata: {name: r}
spec:
  policies:
    timeouts: {t: 5x}
    retries: {r: {policy: constant, duration: 1s, matching: {httpStatusCodes: "200-700"}}}
    circuitBreakers: {cb: {trip: "consecutiveFailures >"}}
  targets:
    apps: {b: {retry: nosuch, timeout: t}}
`);
    assert.match(message, /^bad\.yaml: invalid Resiliency "r": /);
    assert.match(message, /spec\.policies\.timeouts\.t: "5x" is not a duration/);
    assert.match(message, /spec\.policies\.retries\.r\.matching\.httpStatusCodes: "200-700" is not a code or a range of codes from 100 to 599/);
    assert.match(message, /spec\.policies\.circuitBreakers\.cb\.trip: "consecutiveFailures >" is not a CEL expression/);
    assert.match(message, /spec\.targets\.apps\.b\.retry: names "nosuch", which spec\.policies\.retries does not define/);
    assert.match(refusal('kind: Resiliency\nmetadata: {name: r}\nspec: {policies: {retries: {r: {policy: sometimes}}}}'), /must be one of \["constant","exponential"\]/);
    assert.match(refusal('kind: Resiliency\nmetadata: {name: r}\nspec: {oops: 1}'), /unknown field "oops"/);
  });

  test('a document is bounded by count: 100 breakers of distinct CEL are read, 101 refused before any is compiled', () => {
    const breakers = (n: number): string => Array.from({ length: n }, (_, i) => `    b${i}: {trip: "consecutiveFailures > ${i}"}`).join('\n');
    const text = (n: number): string => `kind: Resiliency\nmetadata: {name: r}\nspec:\n  policies:\n   circuitBreakers:\n${breakers(n)}\n`;
    assert.equal(parseResiliency(parse(text(100)), 'ok.yaml').circuitBreakers.size, 100);
    assert.match(refusal(text(101)), /circuitBreakers.*must NOT have more than 100 properties/);
  });

  test(`past ${MAX_RESILIENCY_DOCUMENTS} documents the rest are not in force, said once; an unchanged folder is not read again`, () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', json: true, write: (line) => lines.push((JSON.parse(line) as { msg: string }).msg) });
    const resiliency = new Resiliency({ appId: 'checkout' });
    const resources = new ResiliencyResources(resiliency, logger);
    const others = Array.from({ length: MAX_RESILIENCY_DOCUMENTS + 2 }, (_, i) => ({ kind: 'Resiliency', document: parse(`kind: Resiliency\nmetadata: {name: r${i}}\nspec: {policies: {timeouts: {t: 1s}}}`), source: `/res/r${i}.yaml` }));
    resources.apply(others);
    assert.equal(resiliency.documents.length, MAX_RESILIENCY_DOCUMENTS);
    const errors = lines.filter((l) => l.includes('Resiliency documents'));
    assert.deepEqual(errors, [`/res/r${MAX_RESILIENCY_DOCUMENTS}.yaml: ${MAX_RESILIENCY_DOCUMENTS + 2} Resiliency documents, over the ${MAX_RESILIENCY_DOCUMENTS} in force at once; this one and the 1 after it are not`]);
    lines.length = 0;
    resources.apply(others);
    assert.deepEqual(lines, []);
  });
});

describe('looking policies up', () => {
  test('a named target gets what it names; others get the default policies, most specific first', () => {
    const r = new Resiliency({ appId: 'checkout' }, [doc()]);
    const app = r.app('appB');
    assert.equal(app.timeoutMs, 5000);
    assert.equal(app.retry?.name, 'important');
    assert.equal(app.breaker?.name, 'simpleCB');
    assert.equal(r.app('appB'), app, 'looked up once: the breaker keeps its state');
    assert.deepEqual(r.app('other'), { target: 'app "other"' });
    assert.equal(r.componentOutbound('statestore1', 'Statestore').retry?.name, 'retryForever');
    // No target for statestore2: DefaultComponentOutboundRetryPolicy applies.
    assert.equal(r.componentOutbound('statestore2', 'Statestore').retry?.name, 'DefaultComponentOutboundRetryPolicy');
    assert.equal(r.componentInbound('pubsub', 'Pubsub').retry?.name, 'pubsubRetry');
    assert.equal(r.componentInbound('other', 'Pubsub').retry, undefined);
  });

  test("the per-type defaults use daprd's type names: Statestore, Pubsub and Binding (not Bindings)", () => {
    const policy = (name: string) => `      ${name}:\n        policy: constant\n        duration: 1s\n        maxRetries: 3\n`;
    const text = `kind: Resiliency\nmetadata: {name: defaults}\nspec:\n  policies:\n    retries:\n${policy('DefaultBindingComponentOutboundRetryPolicy')}${policy('DefaultPubsubComponentInboundRetryPolicy')}${policy('DefaultStatestoreComponentOutboundRetryPolicy')}`;
    const r = new Resiliency({ appId: 'checkout' }, [parseResiliency(parse(text), 'defaults.yaml')]);
    assert.equal(r.componentOutbound('web', 'Bindings').retry?.name, 'DefaultBindingComponentOutboundRetryPolicy');
    assert.equal(r.componentInbound('orders', 'Pubsub').retry?.name, 'DefaultPubsubComponentInboundRetryPolicy');
    assert.equal(r.componentOutbound('statestore', 'Statestore').retry?.name, 'DefaultStatestoreComponentOutboundRetryPolicy');
  });

  test('a document scoped to other apps does not apply; an update replaces the documents', () => {
    const r = new Resiliency({ appId: 'cart' }, [doc()]);
    assert.deepEqual(r.documents, []);
    assert.equal(r.app('appB').retry, undefined);
    r.update([{ ...doc(), scopes: [] }]);
    assert.equal(r.app('appB').retry?.name, 'important');
  });
});

const breakerPolicy = (trip: string, more: Partial<CircuitBreakerPolicy> = {}): CircuitBreakerPolicy => {
  const compiled = compileTrip(trip);
  assert.ok(!(compiled instanceof Error));
  return { name: 'cb', maxRequests: 1, intervalMs: 0, timeoutMs: 30_000, trip: compiled, ...more };
};

describe('circuit breakers', () => {
  test('open when the trip expression holds, refuse until their timeout, then close after a good trial', () => {
    let now = 1_000;
    const changes: string[] = [];
    const cb = new CircuitBreaker('cb', breakerPolicy('consecutiveFailures >= 3'), { now: () => now, onStateChange: (from, to) => changes.push(`${from}->${to}`) });
    for (let i = 0; i < 3; i++) cb.done(cb.admit(), false);
    assert.equal(cb.state, 'open');
    assert.throws(() => cb.admit(), (err) => err instanceof BreakerOpenError && /circuit breaker "cb" is open/.test(err.message));
    now += 30_000;
    assert.equal(cb.state, 'half-open');
    const trial = cb.admit();
    assert.throws(() => cb.admit(), /half-open and has let its trial calls through/);
    cb.done(trial, true);
    assert.equal(cb.state, 'closed');
    assert.deepEqual(changes, ['closed->open', 'open->half-open', 'half-open->closed']);
  });

  test('a failed half-open trial opens it again; an interval clears the counts while closed', () => {
    let now = 0;
    const cb = new CircuitBreaker('cb', breakerPolicy('totalFailures >= 2', { intervalMs: 10_000, timeoutMs: 5_000 }), { now: () => now });
    cb.done(cb.admit(), false);
    now += 10_000; // the interval clears the one failure
    cb.done(cb.admit(), false);
    assert.equal(cb.state, 'closed');
    cb.done(cb.admit(), false);
    assert.equal(cb.state, 'open');
    now += 5_000;
    cb.done(cb.admit(), false);
    assert.equal(cb.state, 'open');
  });
});

describe('running under a policy', () => {
  const d = doc();
  const failing = (failures: number, status?: number) => {
    let calls = 0;
    return {
      get calls() {
        return calls;
      },
      op: async (): Promise<{ status: number }> => {
        calls++;
        if (calls <= failures) {
          if (status === undefined) throw new Error(`failure ${calls}`);
          return { status };
        }
        return { status: 200 };
      },
    };
  };

  test('a flaky operation succeeds on a retry; an exhausted one gives its last error', async () => {
    const policy = { target: 't', retry: { ...d.retries.get('important')!, maxRetries: 3 } };
    const flaky = failing(2);
    assert.deepEqual(await runWithPolicy(policy, flaky.op), { status: 200 });
    assert.equal(flaky.calls, 3);
    const dead = failing(10);
    await assert.rejects(runWithPolicy(policy, dead.op), /failure 4/);
    assert.equal(dead.calls, 4);
  });

  test('matching: a 503 is retried, a 404 is returned at once', async () => {
    const policy = { target: 't', retry: d.retries.get('important')! };
    const failureOf = (v: { status: number }) => (v.status >= 400 ? { http: v.status } : undefined);
    const unavailable = failing(2, 503);
    assert.deepEqual(await runWithPolicy(policy, unavailable.op, { failureOf }), { status: 200 });
    const missing = failing(2, 404);
    assert.deepEqual(await runWithPolicy(policy, missing.op, { failureOf }), { status: 404 });
    assert.equal(missing.calls, 1);
  });

  test('a timeout aborts the attempt and fails it', async () => {
    let aborted = false;
    const slow = (signal: AbortSignal) =>
      new Promise<never>((_, reject) => signal.addEventListener('abort', () => ((aborted = true), reject(signal.reason))));
    await assert.rejects(runWithPolicy({ target: 'app "b"', timeoutMs: 20 }, slow), (err) => err instanceof PolicyTimeoutError && /app "b": timed out after 20 ms/.test(err.message));
    assert.ok(aborted);
  });

  test('an open breaker fails calls at once, without retrying them', async () => {
    const breaker = new CircuitBreaker('cb', breakerPolicy('consecutiveFailures >= 2'));
    const policy = { target: 't', retry: { ...d.retries.get('important')!, maxRetries: 5 }, breaker };
    const dead = failing(100);
    await assert.rejects(runWithPolicy(policy, dead.op), BreakerOpenError);
    assert.equal(dead.calls, 2, 'two failures tripped it; the third attempt was refused');
    await assert.rejects(runWithPolicy(policy, dead.op), BreakerOpenError);
    assert.equal(dead.calls, 2);
  });

  test('exponential backoff grows by its multiplier up to its maximum, randomised within its factor', () => {
    const p = { ...doc().retries.get('retryForever')!, initialIntervalMs: 100, multiplier: 2, randomizationFactor: 0.5, maxIntervalMs: 1000 };
    assert.deepEqual([0, 1, 2, 3, 4].map((n) => backoffMs(p, n, () => 0.5)), [100, 200, 400, 800, 1000]);
    assert.equal(backoffMs(p, 1, () => 0), 100);
    assert.equal(backoffMs(p, 1, () => 1), 300);
  });
});
