// bindings.http (components-wasm/bindings-http, C++ on sdk/cpp) through the real host, against a
// real HTTP server on loopback: the http capability with its grant, JSPI, the host's canonical
// ABI lifting of the output-binding world. Every operation, `path`, request headers from
// metadata, the security token, errorIfNot2XX, responseTimeout, maxResponseBodySize, bad
// settings failing init, an operation it does not support; and a byte-identical rebuild of
// the committed .wasm.
import assert from 'node:assert/strict';
import { cp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ABI_VERSION } from '../../abi/ts/manifest.ts';
import type { InvokeRequest, InvokeResponse } from '../../abi/ts/binding.ts';
import type { Metadata, WitResult } from '../../abi/ts/types.ts';
import { isTesseraError } from '../../host/errors.ts';
import { silentLogger } from '../../host/observability/logger.ts';
import { CompiledComponent } from '../../host/sandbox/compiled-component.ts';
import { LiveComponent } from '../../host/sandbox/live-component.ts';
import { buildCppComponent } from '../../host/toolchain/cpp.ts';
import { deadOrigin, HttpTestServer } from '../support/http-test-server.ts';
import { tempDir } from '../support/temp-dir.ts';
import { needs } from '../support/tools.ts';

const SOURCE_DIR = fileURLToPath(new URL('../../components-wasm/bindings-http/', import.meta.url));
const WASM = join(SOURCE_DIR, 'bindings-http.wasm');
const OUTPUT = `tessera:components/output@${ABI_VERSION}#`;
const OPERATIONS = ['create', 'get', 'head', 'post', 'put', 'patch', 'delete', 'options'];

const wasmBytes = readFile(WASM).then((b) => new Uint8Array(b));
const compiled = wasmBytes.then((b) => CompiledComponent.compile(b, { source: 'bindings-http.wasm' }));
const encode = (s: string): Uint8Array => new TextEncoder().encode(s);
const decode = (b: Uint8Array): string => new TextDecoder().decode(b);

let server: HttpTestServer;
const started: LiveComponent[] = [];
before(async () => {
  server = await HttpTestServer.start();
});
after(async () => {
  await Promise.all(started.map((live) => live.close()));
  await server.stop();
});

/** A started binding: its config (`url` defaults to the test server) and grant (the test server's origin). */
async function start(config: Record<string, string> = {}, grant: string[] = [server.origin]): Promise<LiveComponent> {
  const live = await LiveComponent.start(await compiled, {
    name: 'web',
    config: new Map(Object.entries({ url: server.origin, ...config })),
    logger: silentLogger,
    grants: { http: grant },
  });
  started.push(live);
  return live;
}

/** Why starting with `config` fails: the component's error from init. */
async function initError(config: Record<string, string>): Promise<{ tag: string; val: string }> {
  try {
    await start(config);
  } catch (err) {
    if (isTesseraError(err) && err.componentError) return err.componentError;
    throw err;
  }
  assert.fail('the binding started');
}

async function invoke(live: LiveComponent, operation: string, metadata: Metadata = [], data = ''): Promise<WitResult<InvokeResponse>> {
  const req: InvokeRequest = { operation, data: encode(data), metadata };
  return (await live.call('output#invoke', [req])) as WitResult<InvokeResponse>;
}

async function answer(live: LiveComponent, operation: string, metadata: Metadata = [], data = ''): Promise<InvokeResponse> {
  const result = await invoke(live, operation, metadata, data);
  if (result.tag !== 'ok') assert.fail(`${operation} failed: ${result.val.tag}: ${result.val.val}`);
  return result.val;
}

async function failure(live: LiveComponent, operation: string, metadata: Metadata = [], data = ''): Promise<{ tag: string; val: string }> {
  const result = await invoke(live, operation, metadata, data);
  if (result.tag !== 'err') assert.fail(`${operation} answered ${decode(result.val.data)}`);
  return result.val;
}

const meta = (res: InvokeResponse, key: string): string | undefined => res.metadata.find(([k]) => k === key)?.[1];

describe('bindings.http through the host, against a loopback server', () => {
  test('carries the bindings.http manifest, imports log and http, exports the output-binding world and lists Dapr\'s operations', async () => {
    const component = await compiled;
    assert.equal(component.manifest.kind, 'binding');
    assert.equal(component.manifest.type, 'bindings.http');
    assert.deepEqual(component.manifest.capabilities, ['log', 'http']);
    assert.deepEqual([...component.importedInterfaces].sort(), ['http', 'log']);
    assert.equal(component.needsJspi, true, 'http suspends');
    const names = WebAssembly.Module.exports(component.module).map((e) => e.name);
    for (const fn of ['operations', 'invoke']) assert.ok(names.includes(OUTPUT + fn), fn);
    assert.ok(!names.some((n) => n.includes('/input@')), 'no input interface');
    const live = await start();
    assert.deepEqual(await live.call('output#operations', []), OPERATIONS);
    assert.deepEqual(await live.call('ping', []), { tag: 'ok', val: undefined });
  });

  test('each operation sends its method; create and post, put and patch send the data as JSON', async () => {
    const live = await start();
    const methods: Record<string, string> = { create: 'POST', get: 'GET', head: 'HEAD', post: 'POST', put: 'PUT', patch: 'PATCH', delete: 'DELETE', options: 'OPTIONS' };
    for (const [operation, method] of Object.entries(methods)) {
      const res = await answer(live, operation, [['path', '/echo']], '{"n":1}');
      const got = server.last();
      assert.equal(got.method, method, operation);
      const withBody = ['POST', 'PUT', 'PATCH'].includes(method);
      assert.equal(got.body, withBody ? '{"n":1}' : '', `${operation}: the data is the body only for a method that has one`);
      assert.equal(got.headers['content-type'], withBody ? 'application/json; charset=utf-8' : undefined, operation);
      assert.equal(got.headers.accept, 'application/json; charset=utf-8', operation);
      assert.equal(meta(res, 'statusCode'), '200');
      assert.equal(meta(res, 'status'), '200 OK');
      if (method === 'HEAD') assert.equal(res.data.length, 0, 'head: no body');
      else assert.equal(JSON.parse(decode(res.data)).method, method, `${operation}: the response body is the data`);
    }
  });

  test('the answer carries the response body, its content type, and its headers as metadata, as Dapr returns them', async () => {
    const live = await start();
    const res = await answer(live, 'get', [['path', 'echo']]);
    assert.equal(res.contentType, 'application/json');
    assert.deepEqual(res.metadata.slice(0, 2), [['statusCode', '200'], ['status', '200 OK']]);
    assert.equal(meta(res, 'Content-Type'), 'application/json', 'header names in Go\'s canonical form');
    assert.equal(meta(res, 'X-Reply'), 'yes');
    assert.equal(meta(res, 'Set-Cookie'), 'a=1, b=2', 'a repeated header, joined with ", "');
    assert.equal(res.metadata.filter(([k]) => k === 'Set-Cookie').length, 1);
  });

  test('path is appended to url with one slash; upper-case metadata keys are headers, others are not', async () => {
    const live = await start({ url: `${server.origin}/echo/base/` });
    await answer(live, 'get', [['path', '//things/1?x=y']]);
    assert.equal(server.last().url, '/echo/base/things/1?x=y');
    await answer(live, 'get');
    assert.equal(server.last().url, '/echo/base/');
    await answer(live, 'post', [['X-Request-Id', 'r-1'], ['Content-Type', 'text/plain'], ['Accept', 'text/csv'], ['lowercase', 'no'], ['traceparent', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01']], 'plain');
    const got = server.last();
    assert.equal(got.headers['x-request-id'], 'r-1');
    assert.equal(got.headers['content-type'], 'text/plain', 'a Content-Type in metadata replaces the JSON default');
    assert.equal(got.headers.accept, 'text/csv');
    assert.equal(got.headers.lowercase, undefined, 'a key starting in lower case is not a header');
    assert.equal(got.headers.traceparent, '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', 'trace context goes along');
    assert.equal(got.body, 'plain');
  });

  test('securityToken is sent in securityTokenHeader; a header from metadata may override it', async () => {
    const live = await start({ url: `${server.origin}/echo`, securityToken: 's3cret', securityTokenHeader: 'X-Token' });
    await answer(live, 'get');
    assert.equal(server.last().headers['x-token'], 's3cret');
    await answer(live, 'get', [['X-Token', 'other']]);
    assert.equal(server.last().headers['x-token'], 'other');
    const tokenOnly = await start({ url: `${server.origin}/echo`, securityToken: 's3cret' });
    await answer(tokenOnly, 'get');
    assert.ok(!Object.values(server.last().headers).includes('s3cret'), 'no header named: the token is not sent');
  });

  test('errorIfNot2XX (default true) makes a non-2xx status an error naming it; false returns it as an answer', async () => {
    const live = await start();
    assert.deepEqual(await failure(live, 'get', [['path', '/status/404']]), { tag: 'not-found', val: `received status code 404 (404 Not Found) from GET ${server.origin}/status/404` });
    assert.deepEqual(await failure(live, 'post', [['path', '/status/503']]), { tag: 'unavailable', val: `received status code 503 (503 Service Unavailable) from POST ${server.origin}/status/503` });
    assert.equal((await failure(live, 'get', [['path', '/status/400']])).tag, 'invalid-argument');
    assert.equal((await failure(live, 'get', [['path', '/status/599']])).val, `received status code 599 (599 status code 599) from GET ${server.origin}/status/599`);

    const lenient = await start({ errorIfNot2XX: 'false' });
    const res = await answer(lenient, 'get', [['path', '/status/404']]);
    assert.deepEqual(res.metadata.slice(0, 2), [['statusCode', '404'], ['status', '404 Not Found']]);
    assert.equal(decode(res.data), 'status 404');
    assert.equal((await failure(lenient, 'get', [['path', '/status/500'], ['errorIfNot2XX', 'true']])).tag, 'unavailable', 'request metadata overrides the setting');
    assert.equal((await answer(live, 'get', [['path', '/status/500'], ['errorIfNot2XX', 'no']])).metadata[0]![1], '500');
  });

  test('responseTimeout bounds the whole exchange; a server that is down is unavailable', async () => {
    const live = await start({ responseTimeout: '150ms' });
    assert.deepEqual(await failure(live, 'get', [['path', '/hang']]), { tag: 'unavailable', val: `http GET ${server.origin}/hang failed: timed out after 150 ms` });
    const dead = await deadOrigin();
    const down = await start({ url: dead }, [dead]);
    const err = await failure(down, 'get');
    assert.equal(err.tag, 'unavailable');
    assert.match(err.val, /ECONNREFUSED/);
  });

  test('maxResponseBodySize caps the body taken, with or without a Content-Length', async () => {
    const live = await start({ maxResponseBodySize: '1Ki' });
    assert.equal((await answer(live, 'get', [['path', '/bytes/1024']])).data.length, 1024);
    assert.deepEqual(await failure(live, 'get', [['path', '/bytes/1025']]), { tag: 'invalid-argument', val: `the response of ${server.origin}/bytes/1025 is 1025 bytes, over the 1024-byte cap` });
    assert.match((await failure(live, 'get', [['path', '/chunked/1025']])).val, /over the 1024-byte cap/);
    const plain = await start({ maxResponseBodySize: '2000' });
    assert.match((await failure(plain, 'get', [['path', '/chunked/2001']])).val, /over the 2000-byte cap/);
    const roomy = await start({ maxResponseBodySize: '1Gi' });
    assert.equal((await answer(roomy, 'get', [['path', '/chunked/5000000']])).data.length, 5_000_000, 'more than the host default of 4 MiB when the setting allows it');
  });

  test('a URL outside the grant is refused, naming the annotation', async () => {
    const live = await start({ url: 'http://127.0.0.1:1/' });
    assert.deepEqual(await failure(live, 'get'), {
      tag: 'invalid-argument',
      val: `http request to http://127.0.0.1:1 is not allowed for component "web": it may reach ${server.origin}; grant it with the annotation tessera.dev/allow-http`,
    });
  });

  test('a missing or bad setting fails init, quoting it', async () => {
    assert.deepEqual(await initError({ url: '' }), { tag: 'invalid-argument', val: 'metadata url is required: set it to the endpoint to call, e.g. http://127.0.0.1:8080/things' });
    assert.deepEqual(await initError({ url: 'ftp://files/x' }), { tag: 'invalid-argument', val: 'metadata url "ftp://files/x" is not usable: it is not an absolute http:// or https:// URL (e.g. http://127.0.0.1:8080/things)' });
    assert.match((await initError({ url: 'http:///nohost' })).val, /"http:\/\/\/nohost" is not usable: it names no host/);
    assert.match((await initError({ url: 'http://a b/' })).val, /is not usable: it contains a space/);
    assert.deepEqual(await initError({ responseTimeout: '10 seconds' }), { tag: 'invalid-argument', val: 'metadata responseTimeout "10 seconds" is not a positive duration such as 10s, 500ms or 1m30s' });
    assert.match((await initError({ responseTimeout: '-5s' })).val, /responseTimeout "-5s"/);
    assert.deepEqual(await initError({ maxResponseBodySize: '100MB' }), { tag: 'invalid-argument', val: 'metadata maxResponseBodySize "100MB" is not a size in bytes such as 100Mi, 1Gi or 1048576' });
    assert.match((await initError({ maxResponseBodySize: '0.5' })).val, /maxResponseBodySize "0.5"/, 'half a byte');
    const good: Record<string, string>[] = [{ responseTimeout: '1m30s' }, { responseTimeout: '1.5h' }, { responseTimeout: '30' }, { maxResponseBodySize: '1.5Ki' }, { maxResponseBodySize: '-1' }, { URL: server.origin }];
    for (const config of good) await start(config);
  });

  test('an operation it does not support is refused, listing those it does', async () => {
    const live = await start();
    assert.deepEqual(await failure(live, 'trace'), { tag: 'invalid-argument', val: 'operation "trace" is not supported: use create, get, head, post, put, patch, delete or options' });
  });
});

test('the committed bindings-http.wasm is what its sources build, from any folder', needs('clang'), async () => {
  const work = await tempDir('tessera-bindings-http-');
  try {
    const dir = join(work.path, 'elsewhere', 'bindings-http');
    await cp(SOURCE_DIR, dir, { recursive: true });
    const rebuilt = await buildCppComponent(dir, join(work.path, 'out.wasm'));
    assert.ok(Buffer.from(rebuilt).equals(Buffer.from(await wasmBytes)), 'a rebuild from another folder is byte-identical: run `npm run build:components` and commit it');
  } finally {
    await work.remove();
  }
});
