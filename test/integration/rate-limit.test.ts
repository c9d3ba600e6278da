// Dapr's `middleware.http.ratelimit` in a Configuration's `httpPipeline`, through the real
// `tessera` process and real HTTP requests: calls over the limit get tollbooth's 429 and body,
// counted per client address and path (a forged X-Forwarded-For does not escape it; another
// source address has its own budget), and the budget refills; a bad middleware Component or
// Configuration is refused naming the file and the field.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { metricsUrlOf } from '../support/observed-sidecar.ts';
import { componentYaml, pollUntil, runTessera, startSidecar, type SidecarProcess } from '../support/sidecar-process.ts';

const RATE = 3;

const configurationYaml = (handlerType = 'middleware.http.ratelimit'): string => `apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata:
  name: appconfig
spec:
  httpPipeline:
    handlers:
    - name: ratelimit
      type: ${handlerType}
`;

interface Answer {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

/** GET `url` from the source address `localAddress`, with `headers`. */
function get(url: string, { localAddress = '127.0.0.1', headers = {} }: { localAddress?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { localAddress, headers, agent: false, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

describe('middleware.http.ratelimit in the httpPipeline', () => {
  let sidecar: SidecarProcess;
  before(async () => {
    sidecar = await startSidecar({
      resources: {
        'statestore.yaml': componentYaml('statestore'),
        'ratelimit.yaml': componentYaml('ratelimit', 'middleware.http.ratelimit', { maxRequestsPerSecond: String(RATE) }),
        'config.yaml': configurationYaml(),
      },
    });
  });
  after(() => sidecar?.stop());

  it('answers 429 with tollbooth\'s body past maxRequestsPerSecond, within what the elapsed time refilled', async () => {
    const url = `${sidecar.url}/v1.0/state/statestore/missing`;
    const started = performance.now();
    const answers = await Promise.all(Array.from({ length: 4 * RATE }, () => get(url)));
    const elapsedS = (performance.now() - started) / 1000;
    const ok = answers.filter((a) => a.status === 204);
    const refused = answers.filter((a) => a.status === 429);
    assert.equal(ok.length + refused.length, answers.length, JSON.stringify(answers.map((a) => a.status)));
    // The burst passes; beyond it, only what refilled meanwhile.
    assert.ok(ok.length >= RATE && ok.length <= RATE + Math.ceil(elapsedS * RATE), `${ok.length} passed in ${elapsedS} s`);
    assert.ok(refused.length > 0);
    const [first] = refused;
    assert.equal(first!.body, 'You have reached maximum request limit.');
    assert.equal(first!.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(first!.headers['x-rate-limit-limit'], '3.00');
    assert.equal(ok[0]!.headers['x-rate-limit-duration'], '1');
    // Refused before the route's handler ran, the calls are still counted under its template.
    const metrics = await (await fetch(await metricsUrlOf(sidecar))).text();
    const counted = /^dapr_http_server_request_count\{app_id="myapp",method="GET",path="\/v1\.0\/state\/:storeName\/:key",status="429"\} (\d+)$/m.exec(metrics);
    assert.ok(counted !== null && Number(counted[1]) >= refused.length, metrics.split('\n').filter((l) => l.startsWith('dapr_http_server_request_count')).join('\n'));
  });

  it('counts per client address and path: a forged X-Forwarded-For stays in its budget, another address has its own', async () => {
    const url = `${sidecar.url}/v1.0/metadata`;
    // Spend this address's budget for the path.
    await pollUntil('a 429 from 127.0.0.1', async () => ((await get(url)).status === 429 ? true : undefined));
    // tollbooth looks at RemoteAddr first: the header is not where the address comes from.
    assert.equal((await get(url, { headers: { 'X-Forwarded-For': '10.1.2.3', 'X-Real-IP': '10.1.2.4' } })).status, 429);
    const other = await get(url, { localAddress: '127.0.0.2' });
    assert.equal(other.status, 200, other.body);
    // Listed with the other components in the metadata, as daprd lists it.
    const metadata = JSON.parse(other.body) as { components: { name: string; type: string; version: string }[] };
    assert.ok(metadata.components.some((c) => c.name === 'ratelimit' && c.type === 'middleware.http.ratelimit' && c.version === 'v1'), other.body);
    // Another path has a budget of its own.
    assert.equal((await get(`${sidecar.url}/v1.0/healthz`)).status, 204);
    // And the spent budget refills.
    await pollUntil('the budget to refill', async () => ((await get(url)).status === 200 ? true : undefined), { timeoutMs: 5000, intervalMs: 100 });
  });
});

describe('middleware Components and Configurations that cannot be used', () => {
  it('refuses a non-number or a rate of 0, naming the file, the component and the field, and leaves the handler out', async () => {
    const sidecar = await startSidecar({
      resources: {
        'ratelimit.yaml': componentYaml('ratelimit', 'middleware.http.ratelimit', { maxRequestsPerSecond: 'lots' }),
        'zero.yaml': componentYaml('zero', 'middleware.http.ratelimit', { maxRequestsPerSecond: '0' }),
        'oauth.yaml': componentYaml('oauth', 'middleware.http.oauth2'),
        'config.yaml': configurationYaml(),
      },
    });
    try {
      await sidecar.waitForLog(/ratelimit\.yaml: component "ratelimit": metadata "maxRequestsPerSecond" must be a number above 0, got "lots"/);
      await sidecar.waitForLog(/zero\.yaml: component "zero": metadata "maxRequestsPerSecond" must be a number above 0, got "0"/);
      await sidecar.waitForLog(/oauth\.yaml: component "oauth": spec\.type "middleware\.http\.oauth2" is not a middleware Tessera has/);
      await sidecar.waitForLog(/config\.yaml: spec\.httpPipeline\.handlers\[0\] names middleware "ratelimit", which no Component in the resources folders defines/);
      // No .wasm was looked for: the failure is the metadata's, not an unknown type's.
      assert.doesNotMatch(sidecar.logText(), /unknown component type "middleware/);
      // Left out, not in force: every call passes.
      for (let i = 0; i < 5; i++) assert.equal((await sidecar.fetch('/v1.0/metadata')).status, 200);
    } finally {
      await sidecar.stop();
    }
  });

  it('refuses a Configuration whose handler has a type Tessera lacks, naming the file and the field (exit 2)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-config-'));
    try {
      const path = join(dir, 'config.yaml');
      writeFileSync(path, configurationYaml('middleware.http.sentinel'));
      const run = await runTessera(['run', '--app-id', 'x', '--dapr-http-port', '0', '--config', path]);
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, /config\.yaml: invalid Configuration: spec\.httpPipeline\.handlers\.0\.type: must be one of \["middleware\.http\.ratelimit"\]/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
