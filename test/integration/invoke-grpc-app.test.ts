// Service invocation of an app that speaks gRPC (`--app-protocol grpc`): the sidecar calls its
// AppCallback.OnInvoke, as daprd does, whether the call came to the app's own sidecar over
// HTTP or gRPC, or from another sidecar. The app (a raw @grpc/grpc-js server of Dapr's
// AppCallback service) gets the method, body, content type, HTTP verb and query, and the
// caller's headers as metadata; its answer comes back with its content type and header
// metadata, and a gRPC error status reaches an HTTP caller as daprd gives it (the HTTP status
// of the code, the status as a JSON body) and a gRPC caller as it is, rich error details
// included, which cross between sidecars in the internal status.details, as daprd's do.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Metadata, Server, ServerCredentials, credentials, makeGenericClientConstructor, status as grpcStatus, type ServiceError } from '@grpc/grpc-js';
import { encodeStatusDetails } from '../../host/api/grpc/rich-status.ts';
import { serviceInvocationService, type InternalInvokeResponse } from '../../host/building-blocks/invoke/internal-protos.ts';
import { LocalRegistry } from '../../host/building-blocks/invoke/name-resolution/local-registry.ts';
import { decodeRpcStatus, ErrorInfoMessage } from '../../host/protos/rpc-status.ts';
import { daprGrpcClient, rejection, richStatusOf, unary, unaryWithMetadata, type DaprGrpcClient } from '../support/grpc-client.ts';
import { GrpcTestApp } from '../support/grpc-test-app.ts';
import { pollUntil, startSidecar, type SidecarProcess } from '../support/sidecar-process.ts';

const REGISTRY = mkdtempSync(join(tmpdir(), 'tessera-invoke-grpc-app-'));
process.once('exit', () => rmSync(REGISTRY, { recursive: true, force: true }));

let app: GrpcTestApp;
let callee: SidecarProcess;
let caller: SidecarProcess;
let client: DaprGrpcClient;

interface InvokeRequest {
  method: string;
  data: { type_url: string; value: Buffer } | null;
  contentType: string;
  httpExtension: { verb: string; querystring: string } | null;
}

before(async () => {
  app = await GrpcTestApp.start({
    OnInvoke: (request: InvokeRequest) => {
      if (request.method === 'missing') return { code: grpcStatus.NOT_FOUND, details: 'no order 7', trailers: { 'x-why': 'gone' } };
      if (request.method === 'rich') {
        const details = encodeStatusDetails(grpcStatus.FAILED_PRECONDITION, 'out of stock', { reason: 'OUT_OF_STOCK', domain: 'shop.example', metadata: { sku: '7' } });
        return { code: grpcStatus.FAILED_PRECONDITION, details: 'out of stock', trailers: { 'grpc-status-details-bin': details } };
      }
      if (request.method === 'trailed') return { data: { type_url: '', value: Buffer.from('ok') }, contentType: 'text/plain', headers: { 'x-head': 'h' }, trailers: { 'x-tail': 't' } };
      // An answer of the size the method names: `size/5242880`.
      if (request.method.startsWith('size/')) return { data: { type_url: '', value: Buffer.alloc(Number(request.method.slice(5)), 0x61) }, contentType: 'text/plain' };
      if (request.method === 'typed') return { data: { type_url: 'type.example.com/Order', value: Buffer.from([8, 7]) }, contentType: '' };
      const body = request.data?.value.toString('utf8') ?? '';
      return {
        data: { type_url: '', value: Buffer.from(JSON.stringify({ method: request.method, body, verb: request.httpExtension?.verb, query: request.httpExtension?.querystring })) },
        contentType: 'application/json',
        headers: { 'x-app-answer': 'yes' },
      };
    },
  });
  const env = { TESSERA_NAME_REGISTRY: REGISTRY };
  callee = await startSidecar({ appId: 'orders', args: ['--app-port', String(app.port), '--app-protocol', 'grpc', '--max-body-size', '8Mi'], env: { ...env, APP_API_TOKEN: 'app-secret' } });
  caller = await startSidecar({ appId: 'web', env });
  client = daprGrpcClient(`127.0.0.1:${callee.grpcPort}`);
});

after(async () => {
  client?.close();
  await Promise.all([caller?.stop(), callee?.stop()]);
  app?.stop();
});

const lastInvoke = (): { request: InvokeRequest; metadata: Record<string, unknown> } => {
  const call = app.calls.filter((c) => c.method === 'OnInvoke').at(-1);
  assert.ok(call, 'the app got no OnInvoke');
  return call as { request: InvokeRequest; metadata: Record<string, unknown> };
};

describe('service invocation of a gRPC app (AppCallback.OnInvoke)', () => {
  it('calls OnInvoke with the method, body, content type, verb, query and headers; the answer comes back over HTTP', async () => {
    const res = await callee.fetch('/v1.0/invoke/orders/method/orders/new?rush=1', {
      method: 'PUT',
      headers: { 'content-type': 'text/plain', 'x-request-tag': 'abc' },
      body: 'two pizzas',
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.equal(res.headers.get('x-app-answer'), 'yes');
    assert.deepEqual(await res.json(), { method: 'orders/new', body: 'two pizzas', verb: 'PUT', query: 'rush=1' });
    const { request, metadata } = lastInvoke();
    assert.equal(request.contentType, 'text/plain');
    assert.equal(metadata['x-request-tag'], 'abc');
    assert.equal(metadata['dapr-caller-app-id'], 'orders');
    assert.equal(metadata['dapr-callee-app-id'], 'orders');
    assert.equal(metadata['dapr-api-token'], 'app-secret', 'APP_API_TOKEN goes to the app');
  });

  it("turns the app's gRPC error into daprd's HTTP answer: the code's HTTP status, the status as JSON with its rich details", async () => {
    const res = await callee.fetch('/v1.0/invoke/orders/method/missing', { method: 'POST', body: '{}' });
    assert.equal(res.status, 404);
    assert.deepEqual(await res.json(), { code: grpcStatus.NOT_FOUND, message: 'no order 7' });
    // As daprd's protojson writes the status: the ErrorInfo the app sent, with its type, from this sidecar and through another.
    for (const via of [callee, caller]) {
      const rich = await via.fetch('/v1.0/invoke/orders/method/rich', { method: 'POST', body: '{}' });
      assert.equal(rich.status, 400, 'FAILED_PRECONDITION reads as 400, as daprd maps it');
      assert.equal(rich.headers.get('content-type'), 'application/json');
      assert.deepEqual(await rich.json(), {
        code: grpcStatus.FAILED_PRECONDITION,
        message: 'out of stock',
        details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'OUT_OF_STOCK', domain: 'shop.example', metadata: { sku: '7' } }],
      });
    }
  });

  it('answers a gRPC caller (InvokeService) with the data and its type URL, and passes an error status on as it is', async () => {
    const typed = await unary<{ data: { type_url: string; value: Buffer } }>(client, 'InvokeService', { id: 'orders', message: { method: 'typed', data: { type_url: 'type.example.com/Query', value: Buffer.from('q') } } });
    assert.equal(typed.data.type_url, 'type.example.com/Order');
    assert.deepEqual([...typed.data.value], [8, 7]);
    assert.equal(lastInvoke().request.data?.type_url, 'type.example.com/Query', "the caller's type URL reaches the app");
    // A gRPC caller that sends no HTTP extension: the app gets none either (daprd passes the message on as sent), from this sidecar or another.
    const plain = await unary<{ data: { value: Buffer } }>(client, 'InvokeService', { id: 'orders', message: { method: 'plain', data: { type_url: '', value: Buffer.from('p') } } });
    assert.deepEqual(JSON.parse(plain.data.value.toString('utf8')), { method: 'plain', body: 'p' });
    assert.equal(lastInvoke().request.httpExtension, null, 'no HTTP extension reaches the app');
    const viaCaller = daprGrpcClient(`127.0.0.1:${caller.grpcPort}`);
    try {
      await unary(viaCaller, 'InvokeService', { id: 'orders', message: { method: 'plain', data: { type_url: '', value: Buffer.from('p') } } });
      assert.equal(lastInvoke().request.httpExtension, null, 'no HTTP extension reaches the app through two sidecars');
      await unary(viaCaller, 'InvokeService', { id: 'orders', message: { method: 'plain', http_extension: { verb: 'NONE', querystring: 'a=1' } } });
      assert.deepEqual(lastInvoke().request.httpExtension, { verb: 'NONE', querystring: 'a=1' }, 'an extension with verb NONE reaches the app as sent');
    } finally {
      viaCaller.close();
    }
    const err: ServiceError = await rejection(unary(client, 'InvokeService', { id: 'orders', message: { method: 'missing' } }));
    assert.equal(err.code, grpcStatus.NOT_FOUND);
    assert.equal(err.details, 'no order 7');
  });

  it("gives a gRPC caller the app's header metadata and trailers, from this sidecar and through another, and passes the caller's metadata to the app", async () => {
    const viaCaller = daprGrpcClient(`127.0.0.1:${caller.grpcPort}`);
    try {
      for (const [label, via] of [['callee', client], ['caller', viaCaller]] as const) {
        const sent = new Metadata();
        sent.set('x-from-caller', 'c1');
        const ok = await unaryWithMetadata<{ data: { value: Buffer } }>(via, 'InvokeService', { id: 'orders', message: { method: 'trailed', http_extension: { verb: 'POST' } } }, sent);
        assert.equal(ok.error, undefined, label);
        assert.equal(ok.response?.data.value.toString(), 'ok', label);
        assert.deepEqual(ok.headers.get('x-head'), ['h'], `${label}: the app's header metadata`);
        assert.deepEqual(ok.trailers.get('x-tail'), ['t'], `${label}: the app's trailers`);
        assert.equal(lastInvoke().metadata['x-from-caller'], 'c1', `${label}: the caller's metadata reaches the app`);
        const failed = await unaryWithMetadata(via, 'InvokeService', { id: 'orders', message: { method: 'missing' } });
        assert.equal(failed.error?.code, grpcStatus.NOT_FOUND, label);
        assert.equal(failed.error?.details, 'no order 7', label);
        assert.deepEqual(failed.trailers.get('x-why'), ['gone'], `${label}: a failed call's trailers`);
        const rich = await unaryWithMetadata(via, 'InvokeService', { id: 'orders', message: { method: 'rich' } });
        assert.equal(rich.error?.code, grpcStatus.FAILED_PRECONDITION, label);
        assert.deepEqual(richStatusOf(rich.error!)?.errorInfo, { reason: 'OUT_OF_STOCK', domain: 'shop.example', metadata: { sku: '7' } }, `${label}: the app's rich error details`);
      }
    } finally {
      viaCaller.close();
    }
  });

  it("carries the app's rich error details across sidecars in the internal status.details, as daprd does, both ways", async () => {
    const registry = new LocalRegistry({ dir: REGISTRY });
    const ServiceInvocation = makeGenericClientConstructor(serviceInvocationService(), 'ServiceInvocation');
    const errorInfo = { reason: 'OUT_OF_STOCK', domain: 'shop.example', metadata: { sku: '7' } };
    // As a daprd caller reads this sidecar's answer: the details in status.details, not a trailer.
    const address = await registry.resolve('orders', 'default');
    assert.ok(address, 'orders is registered');
    const internal = new ServiceInvocation(address, credentials.createInsecure());
    // As daprd's callee answers: the app's details in status.details, no details trailer.
    const daprdLike = new Server();
    daprdLike.addService(serviceInvocationService(), {
      CallLocal: (_call: unknown, callback: (err: null, response: InternalInvokeResponse) => void) =>
        callback(null, {
          status: { code: grpcStatus.FAILED_PRECONDITION, message: 'out of stock', details: decodeRpcStatus(encodeStatusDetails(grpcStatus.FAILED_PRECONDITION, 'out of stock', errorInfo)).details },
          headers: {},
          trailers: { 'x-why': { values: ['sold'] } },
          message: { content_type: '', data: null },
        }),
    });
    const port = await new Promise<number>((resolve, reject) => daprdLike.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))));
    const viaCaller = daprGrpcClient(`127.0.0.1:${caller.grpcPort}`);
    try {
      const answer = await new Promise<InternalInvokeResponse>((resolve, reject) =>
        (internal as unknown as Record<string, (req: object, cb: (err: ServiceError | null, res: InternalInvokeResponse) => void) => void>).CallLocal!(
          { ver: 'V1', metadata: { 'dapr-callee-app-id': { values: ['orders'] } }, message: { method: 'rich', content_type: '' } },
          (err, res) => (err ? reject(err) : resolve(res)),
        ),
      );
      assert.equal(answer.status.code, grpcStatus.FAILED_PRECONDITION);
      assert.equal(answer.status.message, 'out of stock');
      assert.deepEqual(
        answer.status.details?.map((any) => ({ type_url: any.type_url, info: ErrorInfoMessage.toObject(ErrorInfoMessage.decode(any.value)) })),
        [{ type_url: 'type.googleapis.com/google.rpc.ErrorInfo', info: errorInfo }],
      );
      assert.equal(answer.trailers?.['grpc-status-details-bin'], undefined, 'the details are not also a trailer');

      // A daprd callee's details reach a gRPC client of this caller sidecar as grpc-status-details-bin.
      await registry.register({ appId: 'daprd-app', namespace: 'default', host: '127.0.0.1', port });
      const rich = await unaryWithMetadata(viaCaller, 'InvokeService', { id: 'daprd-app', message: { method: 'anything' } });
      assert.equal(rich.error?.code, grpcStatus.FAILED_PRECONDITION);
      assert.equal(rich.error?.details, 'out of stock');
      assert.deepEqual(richStatusOf(rich.error!)?.errorInfo, errorInfo);
      assert.deepEqual(rich.trailers.get('x-why'), ['sold']);
    } finally {
      internal.close();
      viaCaller.close();
      await registry.close();
      daprdLike.forceShutdown();
    }
  });

  it('reaches the gRPC app from another sidecar, its status carried across', async () => {
    const res = await pollUntil(
      'orders reachable from web',
      async () => {
        const r = await caller.fetch('/v1.0/invoke/orders/method/hello', { method: 'POST', body: 'hi' });
        return r.status === 200 ? r : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 50 },
    );
    assert.deepEqual(await res.json(), { method: 'hello', body: 'hi', verb: 'POST', query: '' });
    assert.equal(lastInvoke().metadata['dapr-caller-app-id'], 'web');
    const missing = await caller.fetch('/v1.0/invoke/orders/method/missing', { method: 'POST', body: '' });
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), { code: grpcStatus.NOT_FOUND, message: 'no order 7' });
  });

  it("takes answers up to --max-body-size (8Mi here, above grpc-js's 4 MiB), and refuses a larger one naming the limit", async () => {
    const big = await callee.fetch(`/v1.0/invoke/orders/method/size/${5 * 1024 * 1024}`, { method: 'POST', body: '' });
    assert.equal(big.status, 200);
    assert.equal((await big.arrayBuffer()).byteLength, 5 * 1024 * 1024);
    const over = await callee.fetch(`/v1.0/invoke/orders/method/size/${9 * 1024 * 1024}`, { method: 'POST', body: '' });
    // RESOURCE_EXHAUSTED, as daprd answers it over HTTP.
    assert.equal(over.status, 429);
    const { code, message } = (await over.json()) as { code: number; message: string };
    assert.equal(code, grpcStatus.RESOURCE_EXHAUSTED);
    assert.match(message, /larger than max \(\d+ vs 8388608\)/);
  });

  it('an app that does not implement OnInvoke answers 501, naming it', async () => {
    const bare = await GrpcTestApp.start({});
    const side = await startSidecar({ appId: 'bare', args: ['--app-port', String(bare.port), '--app-protocol', 'grpc'], env: { TESSERA_NAME_REGISTRY: REGISTRY } });
    try {
      const res = await side.fetch('/v1.0/invoke/bare/method/x', { method: 'POST', body: '' });
      assert.equal(res.status, 501);
      assert.match(((await res.json()) as { message: string }).message, /OnInvoke is not implemented/);
    } finally {
      await side.stop();
      bare.stop();
    }
  });
});
