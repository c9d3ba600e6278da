// Service invocation through real `tessera` processes: three sidecars (a, b, c) and their apps
// on loopback, found through the host's name registry (a temp folder per test run), calling
// each other over Dapr's internal gRPC protocol: passthrough of path, query, verb, headers,
// status and body both ways; the dapr-app-id header form; the official SDK's invoker;
// unknown app ids and traversal refused; the caller's Resiliency policies (a retry outlasting
// a flaky callee, a timeout cutting a slow one, a breaker opening and closing); a callee
// sidecar killed and restarted; two instances of one app id sharing the calls.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CommunicationProtocolEnum, DaprClient, HttpMethod, LogLevel } from '@dapr/dapr';
import { Metadata, status as grpcStatus } from '@grpc/grpc-js';
import { EchoApp, type Seen } from '../support/echo-app.ts';
import { daprGrpcClient, richStatusOf, unaryWithMetadata } from '../support/grpc-client.ts';
import { metricsUrlOf } from '../support/observed-sidecar.ts';
import { expectDaprError, pollUntil, runTessera, startSidecar, type SidecarProcess } from '../support/sidecar-process.ts';

const REGISTRY = mkdtempSync(join(tmpdir(), 'tessera-invoke-registry-'));
process.once('exit', () => rmSync(REGISTRY, { recursive: true, force: true }));

/** c's policies: retries and a timeout for calls to b, a breaker for calls to a. */
const RESILIENCY = `apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata:
  name: callerpolicies
spec:
  policies:
    timeouts:
      short: 300ms
    retries:
      quick:
        policy: constant
        duration: 50ms
        maxRetries: 3
    circuitBreakers:
      cb:
        maxRequests: 1
        timeout: 1s
        trip: consecutiveFailures >= 2
  targets:
    apps:
      b:
        retry: quick
        timeout: short
      a:
        circuitBreaker: cb
`;

function start(appId: string, app: EchoApp, resources: Record<string, string> = {}): Promise<SidecarProcess> {
  return startSidecar({ appId, resources, args: ['--app-port', String(app.port)], env: { TESSERA_NAME_REGISTRY: REGISTRY } });
}

/** Waits until `from` reaches app `to` (its registration may land a moment after it is healthy). */
async function reachable(from: SidecarProcess, to: string): Promise<void> {
  await pollUntil(`${to} to be reachable from ${from.url}`, async () => ((await from.fetch(`/v1.0/invoke/${to}/method/ping`)).status === 200 ? true : undefined), {
    timeoutMs: 10_000,
    intervalMs: 50,
  });
}

/** GET `path` exactly as written: fetch() would resolve its `..` segments before sending. */
function rawGet(sidecar: SidecarProcess, path: string): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: sidecar.port, path, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 0 })));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer to GET ${path}`)));
    req.on('error', reject);
    req.end();
  });
}

describe('service invocation between sidecars', () => {
  const apps = { a: new EchoApp('a'), b: new EchoApp('b'), c: new EchoApp('c') };
  let a: SidecarProcess;
  let b: SidecarProcess;
  let c: SidecarProcess;

  before(async () => {
    await Promise.all(Object.values(apps).map((app) => app.listen()));
    [a, b, c] = await Promise.all([start('a', apps.a), start('b', apps.b), start('c', apps.c, { 'resiliency.yaml': RESILIENCY })]);
    await Promise.all([reachable(a, 'b'), reachable(b, 'a'), reachable(c, 'a'), reachable(c, 'b')]);
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop(), c?.stop()]);
    await Promise.all(Object.values(apps).map((app) => app.close()));
  });

  it('passes path, query, verb, headers and body to the callee, and its status, headers and body back', async () => {
    apps.b.on('/orders/42/items', () => ({ status: 201, headers: { 'x-order': '42', 'set-cookie': ['s=1', 't=2'] }, body: { created: true } }));
    const res = await a.fetch('/v1.0/invoke/b/method/orders/42/items?expand=all&x=%20y', {
      method: 'PUT',
      headers: { 'content-type': 'application/json', 'x-custom': 'hello' },
      body: JSON.stringify({ qty: 3 }),
    });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('x-order'), '42');
    assert.equal(res.headers.get('x-answered-by'), 'b');
    assert.deepEqual(res.headers.getSetCookie(), ['s=1', 't=2']);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(await res.json(), { created: true });
    const seen = apps.b.at('/orders/42/items').at(-1)!;
    assert.equal(seen.method, 'PUT');
    assert.equal(seen.url, '/orders/42/items?expand=all&x=%20y');
    assert.equal(seen.body, '{"qty":3}');
    assert.equal(seen.headers['content-type'], 'application/json');
    assert.equal(seen.headers['x-custom'], 'hello');
    assert.equal(seen.headers['dapr-caller-app-id'], 'a');
    assert.equal(seen.headers['dapr-callee-app-id'], 'b');
    assert.ok(seen.headers['x-forwarded-for'], 'X-Forwarded-For is set');
    assert.ok(seen.headers['x-forwarded-host'], 'X-Forwarded-Host is set');
    assert.equal(seen.headers['x-forwarded-proto'], 'http');
    assert.match(String(seen.headers.forwarded), /for=.*;by=.*;host=/);
  });

  it("counts the calls to other sidecars in daprd's gRPC client families", async () => {
    assert.equal((await a.fetch('/v1.0/invoke/b/method/counted', { method: 'POST', body: 'x' })).status, 200);
    const text = await (await fetch(await metricsUrlOf(a))).text();
    const method = 'app_id="a",grpc_client_method="/dapr.proto.internals.v1.ServiceInvocation/CallLocal"';
    const completed = new RegExp(`^dapr_grpc_io_client_completed_rpcs\\{${method},grpc_client_status="OK"\\} (\\d+)$`, 'm').exec(text);
    assert.ok(completed && Number(completed[1]) >= 1, text.split('\n').filter((l) => l.includes('grpc_io_client')).join('\n'));
    assert.match(text, new RegExp(`^dapr_grpc_io_client_roundtrip_latency_count\\{${method},grpc_client_status="OK"\\} \\d+$`, 'm'));
    const sent = new RegExp(`^dapr_grpc_io_client_sent_bytes_per_rpc_sum\\{${method}\\} (\\d+)$`, 'm').exec(text);
    const received = new RegExp(`^dapr_grpc_io_client_received_bytes_per_rpc_sum\\{${method}\\} (\\d+)$`, 'm').exec(text);
    assert.ok(sent && Number(sent[1]) > 0 && received && Number(received[1]) > 0, 'message bytes both ways');
  });

  it('works both ways, with every verb, and passes the callee\'s error status and body through', async () => {
    for (const method of ['GET', 'POST', 'DELETE', 'PATCH', 'OPTIONS']) {
      const res = await b.fetch('/v1.0/invoke/a/method/verbs', { method, ...(method === 'GET' || method === 'OPTIONS' ? {} : { body: 'x' }) });
      assert.equal(res.status, 200, method);
      assert.equal(((await res.json()) as Seen).method, method);
    }
    apps.a.on('/teapot', () => ({ status: 418, body: { why: 'short and stout' } }));
    const res = await b.fetch('/v1.0/invoke/a/method/teapot');
    assert.equal(res.status, 418);
    assert.deepEqual(await res.json(), { why: 'short and stout' });
  });

  it('takes the dapr-app-id header on any path, and the app-id.namespace form', async () => {
    const res = await c.fetch('/any/path/here?z=1', { headers: { 'dapr-app-id': 'b' } });
    assert.equal(res.status, 200);
    const seen = (await res.json()) as Seen;
    assert.equal(seen.url, '/any/path/here?z=1');
    assert.equal(seen.headers['dapr-app-id'], undefined, 'the routing header is not passed on');
    assert.equal((await a.fetch('/v1.0/invoke/b.default/method/ns')).status, 200);
  });

  it('a call to its own app id goes to its own app', async () => {
    const res = await a.fetch('/v1.0/invoke/a/method/self');
    assert.equal(res.headers.get('x-answered-by'), 'a');
  });

  it('works through the official SDK (client.invoker.invoke)', async () => {
    const client = new DaprClient({ daprHost: '127.0.0.1', daprPort: String(a.port), communicationProtocol: CommunicationProtocolEnum.HTTP, logger: { level: LogLevel.Error } });
    const answer = (await client.invoker.invoke('b', 'sdk/call', HttpMethod.POST, { hello: 'world' })) as Seen;
    assert.equal(answer.url, '/sdk/call');
    assert.deepEqual(JSON.parse(answer.body), { hello: 'world' });
  });

  it('works over the gRPC API too (the SDK\'s gRPC invoker: InvokeService)', async () => {
    const client = new DaprClient({ daprHost: '127.0.0.1', daprPort: String(a.grpcPort), communicationProtocol: CommunicationProtocolEnum.GRPC, logger: { level: LogLevel.Error } });
    try {
      const answer = (await client.invoker.invoke('b', 'grpc/call', HttpMethod.POST, { over: 'grpc' })) as Seen;
      assert.equal(answer.url, '/grpc/call');
      assert.deepEqual(JSON.parse(answer.body), { over: 'grpc' });
      assert.equal(answer.headers['dapr-caller-app-id'], 'a');
    } finally {
      await client.stop();
    }
  });

  it("answers InvokeService as daprd: the HTTP app's headers and dapr-http-status as metadata, a failed status as its gRPC code with ErrorInfo; no HTTP extension is a POST", async () => {
    apps.b.on('/grpc/missing', () => ({ status: 404, body: 'no such order', headers: { 'x-why': 'gone' } }));
    apps.b.on('/grpc/broken', () => ({ status: 500, body: 'boom' }));
    const client = daprGrpcClient(`127.0.0.1:${a.grpcPort}`);
    try {
      const sent = new Metadata();
      sent.set('x-from-grpc', 'yes');
      const ok = await unaryWithMetadata<{ data: { value: Buffer } }>(client, 'InvokeService', { id: 'b', message: { method: 'grpc/plain', data: { type_url: '', value: Buffer.from('hi') } } }, sent);
      assert.equal(ok.error, undefined);
      const seen = JSON.parse(ok.response!.data.value.toString('utf8')) as Seen;
      assert.equal(seen.method, 'POST', 'no HTTP extension: POST');
      assert.equal(seen.headers['x-from-grpc'], 'yes', "the caller's metadata reaches the app as headers");
      assert.equal(seen.headers['content-type'], undefined, "gRPC's own content type is not the body's");
      assert.deepEqual(ok.headers.get('dapr-http-status'), ['200']);
      assert.deepEqual(ok.headers.get('x-answered-by'), ['b'], "the app's headers come back as metadata");

      const missing = await unaryWithMetadata(client, 'InvokeService', { id: 'b', message: { method: 'grpc/missing', http_extension: { verb: 'GET' } } });
      assert.equal(missing.error?.code, grpcStatus.NOT_FOUND);
      assert.equal(missing.error?.details, 'Not Found');
      assert.deepEqual(missing.headers.get('dapr-http-status'), ['404']);
      assert.deepEqual(missing.headers.get('x-why'), ['gone']);
      const info = richStatusOf(missing.error!)?.errorInfo;
      assert.equal(info?.reason, 'Not Found');
      assert.equal(info?.domain, 'dapr.io');
      assert.deepEqual(info?.metadata, { 'http.code': '404', 'http.error_message': 'no such order' });

      const broken = await unaryWithMetadata(client, 'InvokeService', { id: 'b', message: { method: 'grpc/broken', http_extension: { verb: 'POST' } } });
      assert.equal(broken.error?.code, grpcStatus.UNKNOWN, 'a 500 is UNKNOWN, as daprd maps it');
      assert.equal(richStatusOf(broken.error!)?.errorInfo?.metadata['http.error_message'], 'boom');
    } finally {
      client.close();
    }
  });

  it('an unknown app id fails 500 ERR_DIRECT_INVOKE naming it', async () => {
    await expectDaprError(a.fetch('/v1.0/invoke/nosuchapp/method/x'), 500, 'ERR_DIRECT_INVOKE', /nosuchapp/);
    await expectDaprError(a.fetch('/v1.0/invoke/x.y.z/method/x'), 500, 'ERR_DIRECT_INVOKE', /invalid app id/);
  });

  it('refuses a traversal in the method (400) before calling anyone, and normalises the rest', async () => {
    const before = apps.b.seen.length;
    for (const path of ['/v1.0/invoke/b/method/a/../../admin', '/v1.0/invoke/b/method/a/%2e%2e/admin', '/v1.0/invoke/b/method/..%2fadmin']) {
      await expectDaprError(rawGet(a, path), 400, 'ERR_MALFORMED_REQUEST', /traversal/);
    }
    assert.equal(apps.b.seen.length, before, 'the callee saw none of them');
    const res = await rawGet(a, '/v1.0/invoke/b/method/./clean//path');
    assert.equal(((await res.json()) as Seen).url, '/clean/path');
  });

  it('a retry policy makes a callee that fails twice succeed', async () => {
    apps.b.on('/flaky', (_seen, nth) => (nth <= 2 ? { status: 503, body: 'not yet' } : { body: 'ok' }));
    const res = await c.fetch('/v1.0/invoke/b/method/flaky', { method: 'POST' });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'ok');
    assert.equal(apps.b.at('/flaky').length, 3);
  });

  it('a timeout cuts a slow call', async () => {
    const release = Promise.withResolvers<void>();
    apps.b.on('/slow', () => ({ after: release.promise }));
    try {
      await expectDaprError(c.fetch('/v1.0/invoke/b/method/slow'), 500, 'ERR_DIRECT_INVOKE', /timed out after 300 ms/);
    } finally {
      release.resolve();
    }
  });

  it('a breaker opens after its trip expression, fails calls without reaching the callee, and closes after its timeout', async () => {
    let healthy = false;
    apps.a.on('/fragile', () => (healthy ? { body: 'fine' } : { status: 500, body: 'broken' }));
    assert.equal((await c.fetch('/v1.0/invoke/a/method/fragile')).status, 500);
    assert.equal((await c.fetch('/v1.0/invoke/a/method/fragile')).status, 500);
    await expectDaprError(c.fetch('/v1.0/invoke/a/method/fragile'), 500, 'ERR_DIRECT_INVOKE', /circuit breaker "cb" is open/);
    assert.equal(apps.a.at('/fragile').length, 2, 'the open breaker kept the third call from the callee');
    await c.waitForLog(/circuit breaker "cb" of app "a": closed -> open/);
    healthy = true;
    await pollUntil('the breaker to let calls through again', async () => ((await c.fetch('/v1.0/invoke/a/method/fragile')).status === 200 ? true : undefined), {
      timeoutMs: 10_000,
      intervalMs: 100,
    });
    await c.waitForLog(/circuit breaker "cb" of app "a": half-open -> closed/);
  });

  it('a callee sidecar killed and restarted is called again, without restarting the caller', async () => {
    b.child.kill('SIGKILL');
    await b.waitForExit();
    await expectDaprError(a.fetch('/v1.0/invoke/b/method/gone'), 500, 'ERR_DIRECT_INVOKE', /"b"/);
    b = await start('b', apps.b);
    await reachable(a, 'b');
    const res = await a.fetch('/v1.0/invoke/b/method/back');
    assert.equal(res.headers.get('x-answered-by'), 'b');
  });

  it('two instances of one app id both receive calls', async () => {
    const second = await new EchoApp('b2').listen();
    const b2 = await start('b', second);
    try {
      await pollUntil('the second instance of b to get a call', async () => {
        await a.fetch('/v1.0/invoke/b/method/spread');
        return second.at('/spread').length > 0 ? true : undefined;
      }, { timeoutMs: 10_000, intervalMs: 20 });
      const before = { one: apps.b.at('/spread').length, two: second.at('/spread').length };
      for (let i = 0; i < 10; i++) assert.equal((await a.fetch('/v1.0/invoke/b/method/spread')).status, 200);
      assert.ok(apps.b.at('/spread').length > before.one, 'the first instance got calls');
      assert.ok(second.at('/spread').length > before.two, 'the second instance got calls');
    } finally {
      await b2.stop();
      await second.close();
    }
  });
});

describe('--config picks the name resolver', () => {
  it('refuses a Configuration naming a resolver Tessera lacks, naming the file and field (exit 2)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-config-'));
    try {
      const path = join(dir, 'config.yaml');
      writeFileSync(path, 'apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata:\n  name: c\nspec:\n  nameResolution:\n    component: consul\n');
      const run = await runTessera(['run', '--app-id', 'x', '--dapr-http-port', '0', '--config', path]);
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, /config\.yaml: spec\.nameResolution\.component: "consul" is not a resolver/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
