// Issue 16's "done when", tried as a new user would with examples/invoke: two real `tessera
// run` sidecars and the example's two plain-Node apps on loopback. The apps call each other by
// app id with nothing configured; with the example's Resiliency file in a's resources, b's
// flaky method succeeds through the retry, b's app killed trips the breaker (calls then fail
// at once naming it), and once b's app is back the breaker closes after its timeout; a's
// metrics endpoint shows the retry and breaker activations, and a's log each state change.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { expectDaprError, pollUntil, startSidecar, type SidecarProcess } from '../support/sidecar-process.ts';
import { freePort } from '../support/test-app.ts';

const EXAMPLE = fileURLToPath(new URL('../../examples/invoke/', import.meta.url));
const REGISTRY = mkdtempSync(join(tmpdir(), 'tessera-invoke-done-when-'));
process.once('exit', () => rmSync(REGISTRY, { recursive: true, force: true }));
const METRICS = /metrics served on http:\/\/[\d.]+:(\d+)\/metrics/;

/** The example's app b, started by itself (so it can die while its sidecar runs); resolves once it listens. */
async function startB(port = 0): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [join(EXAMPLE, 'b.mjs')], { env: { ...process.env, APP_PORT: String(port) }, stdio: ['ignore', 'pipe', 'inherit'] });
  process.once('exit', () => child.kill('SIGKILL'));
  const listening = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
      if (m !== null) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`app b exited (${code}) before listening: ${out}`)));
  });
  return { child, port: listening };
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

/** The value of the series of `name` whose labels include `labels`, or undefined. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe('issue 16 done-when: examples/invoke', () => {
  let appB: { child: ChildProcess; port: number };
  let a: SidecarProcess;
  let b: SidecarProcess;
  let metricsUrl: string;
  const metrics = async (): Promise<string> => (await fetch(metricsUrl)).text();

  before(async () => {
    appB = await startB();
    const env = { TESSERA_NAME_REGISTRY: REGISTRY };
    [a, b] = await Promise.all([
      startSidecar({
        appId: 'a',
        env,
        resources: { 'resiliency.yaml': { copyOf: join(EXAMPLE, 'resources', 'resiliency.yaml') } },
        args: ['--app-port', String(await freePort())],
        command: [process.execPath, join(EXAMPLE, 'a.mjs')],
      }),
      startSidecar({ appId: 'b', env, args: ['--app-port', String(appB.port)] }),
    ]);
    metricsUrl = `http://127.0.0.1:${METRICS.exec((await a.waitForLog(METRICS)).message)![1]}/metrics`;
    await a.waitForLog(/resiliency policies in force: invoke-policies/);
    await a.waitForLog(/app a listening/);
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    if (appB !== undefined) await kill(appB.child);
  });

  it('the apps call each other by app id, with nothing configured but the ids', async () => {
    // b's registration may land a moment after its sidecar is healthy.
    const res = await pollUntil('b to answer through a', async () => {
      const r = await a.fetch('/v1.0/invoke/b/method/hello');
      return r.status === 200 ? r : undefined;
    }, { timeoutMs: 10_000, intervalMs: 50 });
    assert.equal(await res.text(), 'hello from b\n');
    assert.equal(await (await b.fetch('/v1.0/invoke/a/method/hello')).text(), 'hello from a\n');
    // a's app calls b through its own sidecar.
    assert.equal(await (await a.fetch('/v1.0/invoke/a/method/ask-b')).text(), 'b said: hello from b\n');
  });

  it('the retry policy makes a callee that fails twice succeed, and the metrics show the retries', async () => {
    const res = await a.fetch('/v1.0/invoke/b/method/flaky');
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'b answered on call 3\n');
    const text = await metrics();
    const labels = { app_id: 'a', name: 'invoke-policies', flow_direction: 'outbound', target: 'app_b' };
    assert.equal(sample(text, 'dapr_resiliency_loaded', { app_id: 'a', name: 'invoke-policies' }), 1);
    assert.equal(sample(text, 'dapr_resiliency_activations_total', { ...labels, policy: 'retry' }), 2, text);
    assert.ok(sample(text, 'dapr_resiliency_count', { ...labels, policy: 'retry' })! >= 1);
    assert.equal(sample(text, 'dapr_resiliency_cb_state', { ...labels, policy: 'circuitbreaker', status: 'closed' }), 1);
  });

  it('a dead callee trips the breaker: calls then fail at once naming it, in the metrics and the log', async () => {
    await kill(appB.child);
    const first = (await (await a.fetch('/v1.0/invoke/b/method/hello')).json()) as { message?: string };
    assert.match(first.message ?? '', /error invoking app channel: /);
    assert.doesNotMatch(first.message ?? '', /error invoking app channel: .*error invoking app channel/, 'the app channel is named once');
    // A failing call is tried 3 times (4 failures in a row trip the breaker): the second call trips it.
    const message = await pollUntil('the breaker to open', async () => {
      const res = await a.fetch('/v1.0/invoke/b/method/hello');
      assert.notEqual(res.status, 200);
      const body = (await res.json()) as { errorCode?: string; message?: string };
      return /circuit breaker "deadB" is open/.test(body.message ?? '') ? body.message : undefined;
    }, { timeoutMs: 10_000, intervalMs: 0 });
    assert.match(message!, /failed to invoke, id: b/);
    const t0 = performance.now();
    await expectDaprError(a.fetch('/v1.0/invoke/b/method/hello'), 500, 'ERR_DIRECT_INVOKE', /circuit breaker "deadB" is open/);
    assert.ok(performance.now() - t0 < 150, 'an open breaker fails the call at once, without retries (each 200 ms apart)');
    const logged = await a.waitForLog(/circuit breaker "deadB" of app "b": closed -> open/);
    assert.match(logged.scope ?? '', /resiliency/);
    const text = await metrics();
    const labels = { app_id: 'a', name: 'invoke-policies', policy: 'circuitbreaker', target: 'app_b' };
    assert.equal(sample(text, 'dapr_resiliency_activations_total', { ...labels, status: 'open' }), 1, text);
    assert.equal(sample(text, 'dapr_resiliency_cb_state', { ...labels, status: 'open' }), 1);
    assert.equal(sample(text, 'dapr_resiliency_cb_state', { ...labels, status: 'closed' }), 0);
    assert.ok(sample(text, 'dapr_resiliency_count', { ...labels, status: 'open' })! >= 1, 'calls ran under the open breaker');
  });

  it('the breaker closes after its timeout once the callee is back (the half-open trial succeeds)', async () => {
    appB = await startB(appB.port);
    const res = await pollUntil('the breaker to let a call through to b again', async () => {
      const r = await a.fetch('/v1.0/invoke/b/method/hello');
      return r.status === 200 ? r : undefined;
    }, { timeoutMs: 12_000, intervalMs: 250 });
    assert.equal(await res.text(), 'hello from b\n');
    await a.waitForLog(/circuit breaker "deadB" of app "b": open -> half-open/);
    await a.waitForLog(/circuit breaker "deadB" of app "b": half-open -> closed/);
    const text = await metrics();
    const labels = { app_id: 'a', name: 'invoke-policies', policy: 'circuitbreaker', target: 'app_b' };
    assert.equal(sample(text, 'dapr_resiliency_activations_total', { ...labels, status: 'closed' }), 1, text);
    assert.equal(sample(text, 'dapr_resiliency_cb_state', { ...labels, status: 'closed' }), 1);
  });
});
