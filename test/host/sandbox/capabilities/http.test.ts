// The http capability against a real loopback server: requests to granted origins only (the
// grant checked on every redirect too), the response as the component gets it, the size cap
// with and without a Content-Length, the deadline, a response cut off, a server that is down, and in-flight
// requests aborted when the instance is dropped; the grant annotation in a Component YAML.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Metadata, WitResult } from '../../../../abi/ts/types.ts';
import type { Response as HttpResponse } from '../../../../abi/ts/wit/http.ts';
import { parseResourceFile } from '../../../../host/components/component-yaml.ts';
import { silentLogger } from '../../../../host/observability/logger.ts';
import { httpCapability } from '../../../../host/sandbox/capabilities/http.ts';
import { deadOrigin, HttpTestServer } from '../../../support/http-test-server.ts';

type Send = (method: string, url: string, headers: Metadata, body: Uint8Array, timeoutMs: number, maxResponseBytes: number) => Promise<WitResult<HttpResponse>>;

let server: HttpTestServer;
let other: HttpTestServer;
before(async () => {
  [server, other] = await Promise.all([HttpTestServer.start(), HttpTestServer.start()]);
});
after(() => Promise.all([server.stop(), other.stop()]));

const encode = (s: string): Uint8Array => new TextEncoder().encode(s);
const decode = (b: Uint8Array): string => new TextDecoder().decode(b);

/** The capability's functions for one instance granted `origins`, and that instance's disposal. */
function http(origins: string[]): { send: Send; dispose: () => void } {
  const cleanups: (() => void)[] = [];
  const fns = httpCapability.build({ component: 'web', logger: silentLogger, grant: origins, onDispose: (c) => cleanups.push(c), shared: new Map(), memoryLimitBytes: 64 * 1024 * 1024 });
  return { send: fns.send as Send, dispose: () => cleanups.forEach((c) => c()) };
}

/** The response of a call that must succeed. */
async function ok(call: Promise<WitResult<HttpResponse>>): Promise<HttpResponse> {
  const result = await call;
  if (result.tag !== 'ok') assert.fail(`the request failed: ${result.val.tag}: ${result.val.val}`);
  return result.val;
}

/** The error of a call that must fail. */
async function failure(call: Promise<WitResult<HttpResponse>>): Promise<{ tag: string; val: string }> {
  const result = await call;
  if (result.tag !== 'err') assert.fail(`the request succeeded with status ${result.val.status}`);
  return result.val;
}

describe('the http capability', () => {
  test('sends the method, headers and body to a granted origin, and gets the status, headers and body', async () => {
    const { send } = http([server.origin]);
    const res = await ok(send('PUT', `${server.origin}/echo/x?q=1`, [['X-One', 'a'], ['x-one', 'b'], ['content-type', 'text/plain']], encode('hello'), 0, 0));
    assert.equal(res.status, 200);
    const got = server.last();
    assert.equal(got.method, 'PUT');
    assert.equal(got.url, '/echo/x?q=1');
    assert.equal(got.headers['x-one'], 'a, b', 'a repeated request header is sent twice');
    assert.equal(got.headers['content-type'], 'text/plain');
    assert.equal(got.body, 'hello');
    assert.equal(JSON.parse(decode(res.body)).body, 'hello');
    const names = res.headers.map(([name]) => name);
    assert.ok(names.every((n) => n === n.toLowerCase()), `header names in lower case: ${names.join(', ')}`);
    assert.deepEqual(names.slice(0, 4), ['content-type', 'x-reply', 'set-cookie', 'set-cookie'], 'in the order the server sent them');
    assert.deepEqual(res.headers.filter(([n]) => n === 'x-reply'), [['x-reply', 'yes']]);
    assert.deepEqual(res.headers.filter(([n]) => n === 'set-cookie'), [['set-cookie', 'a=1'], ['set-cookie', 'b=2']], 'a repeated header stays repeated');
    assert.deepEqual(res.headers.find(([n]) => n === 'content-type'), ['content-type', 'application/json']);

    await ok(send('POST', `${server.origin}/echo`, [['Host', 'elsewhere.example'], ['Content-Length', '99'], ['Connection', 'close']], encode('abc'), 0, 0));
    assert.deepEqual([server.last().headers.host, server.last().headers['content-length'], server.last().body], [server.origin.slice('http://'.length), '3', 'abc'], 'the host sets the framing and the Host itself');

    const missing = await ok(send('GET', `${server.origin}/status/503`, [], new Uint8Array(), 0, 0));
    assert.equal(missing.status, 503, 'any status is a response');
    assert.equal(decode(missing.body), 'status 503');
    const head = await ok(send('HEAD', `${server.origin}/echo`, [], new Uint8Array(), 0, 0));
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
  });

  test('refuses a URL outside the grant, naming the origin, the grant and the annotation', async () => {
    const { send } = http([server.origin]);
    const before = server.received.length + other.received.length;
    const refused = await failure(send('GET', `${other.origin}/echo`, [], new Uint8Array(), 0, 0));
    assert.deepEqual(refused, {
      tag: 'invalid-argument',
      val: `http request to ${other.origin} is not allowed for component "web": it may reach ${server.origin}; grant it with the annotation tessera.dev/allow-http`,
    });
    assert.equal((await failure(send('GET', 'not a url', [], new Uint8Array(), 0, 0))).tag, 'invalid-argument');
    assert.match((await failure(send('GET', 'ftp://127.0.0.1/x', [], new Uint8Array(), 0, 0))).val, /not an http: or https: URL/);
    assert.match((await failure(send('GET', `${server.origin.replace('127.0.0.1', 'localhost')}/echo`, [], new Uint8Array(), 0, 0))).val, /not allowed/, 'the origin as granted, not another name for it');
    assert.match((await failure(send('BAD METHOD', `${server.origin}/echo`, [], new Uint8Array(), 0, 0))).val, /"BAD METHOD" is not an HTTP method/);
    assert.match((await failure(send('GET', `${server.origin}/echo`, [['x', 'a\nb']], new Uint8Array(), 0, 0))).val, /bad request header/);
    assert.equal(server.received.length + other.received.length, before, 'nothing was sent');
  });

  test('follows a redirect inside the grant and refuses one that leaves it', async () => {
    const { send } = http([server.origin, other.origin]);
    const followed = await ok(send('GET', `${server.origin}/redirect/302?to=${encodeURIComponent(`${other.origin}/echo/there`)}`, [], new Uint8Array(), 0, 0));
    assert.equal(followed.status, 200);
    assert.equal(other.last().url, '/echo/there');
    const relative = await ok(send('POST', `${server.origin}/redirect/303?to=/echo/after`, [], encode('data'), 0, 0));
    assert.equal(relative.status, 200);
    assert.deepEqual([server.last().method, server.last().url, server.last().body], ['GET', '/echo/after', ''], '303 continues as a GET without the body');
    await ok(send('PUT', `${server.origin}/redirect/307?to=/echo/kept`, [], encode('kept'), 0, 0));
    assert.deepEqual([server.last().method, server.last().body], ['PUT', 'kept'], '307 repeats the method and body');

    const only = http([server.origin]);
    const received = other.received.length;
    const refused = await failure(only.send('GET', `${server.origin}/redirect/301?to=${encodeURIComponent(`${other.origin}/echo/away`)}`, [], new Uint8Array(), 0, 0));
    assert.equal(refused.tag, 'invalid-argument');
    assert.equal(refused.val, `${server.origin}/redirect/301?to=${encodeURIComponent(`${other.origin}/echo/away`)} redirected to ${other.origin}/echo/away: http request to ${other.origin} is not allowed for component "web": it may reach ${server.origin}; grant it with the annotation tessera.dev/allow-http`);
    assert.equal(other.received.length, received, 'the redirect outside the grant was not followed');
  });

  test('drops credentials on a redirect to another origin', async () => {
    const { send } = http([server.origin, other.origin]);
    await ok(send('GET', `${server.origin}/redirect/302?to=${encodeURIComponent(`${other.origin}/echo`)}`, [['authorization', 'Bearer s3cret'], ['x-kept', '1']], new Uint8Array(), 0, 0));
    assert.equal(server.last().headers.authorization, 'Bearer s3cret');
    assert.equal(other.last().headers.authorization, undefined);
    assert.equal(other.last().headers['x-kept'], '1');
  });

  test('refuses a response over the cap, with a Content-Length and without one (chunked)', async () => {
    const { send } = http([server.origin]);
    assert.equal((await ok(send('GET', `${server.origin}/bytes/1000`, [], new Uint8Array(), 0, 1000))).body.length, 1000, 'exactly the cap is taken');
    assert.deepEqual(await failure(send('GET', `${server.origin}/bytes/1001`, [], new Uint8Array(), 0, 1000)), {
      tag: 'invalid-argument',
      val: `the response of ${server.origin}/bytes/1001 is 1001 bytes, over the 1000-byte cap`,
    });
    assert.equal((await ok(send('GET', `${server.origin}/chunked/100000`, [], new Uint8Array(), 0, 100000))).body.length, 100000);
    assert.deepEqual(await failure(send('GET', `${server.origin}/chunked/100001`, [], new Uint8Array(), 0, 100000)), {
      tag: 'invalid-argument',
      val: `the response of ${server.origin}/chunked/100001 is over the 100000-byte cap`,
    });
    const defaultCap = await failure(send('GET', `${server.origin}/chunked/${4 * 1024 * 1024 + 1}`, [], new Uint8Array(), 0, 0));
    assert.match(defaultCap.val, /over the 4194304-byte cap/, '0 takes the default cap');
    const hostCap = await failure(send('GET', `${server.origin}/bytes/${64 * 1024 * 1024 + 1}`, [], new Uint8Array(), 0, 0xffffffff));
    assert.match(hostCap.val, /over the 67108864-byte cap/, 'no request takes more than the host allows');
  });

  test('a request past its timeout fails as unavailable, whether the server never answers or stops mid-body', async () => {
    const { send } = http([server.origin]);
    assert.deepEqual(await failure(send('GET', `${server.origin}/hang`, [], new Uint8Array(), 100, 0)), { tag: 'unavailable', val: `http GET ${server.origin}/hang failed: timed out after 100 ms` });
    assert.deepEqual(await failure(send('GET', `${server.origin}/stall`, [], new Uint8Array(), 100, 0)), { tag: 'unavailable', val: `http GET ${server.origin}/stall failed: timed out after 100 ms` });
  });

  test('a response cut off mid-body fails as unavailable (not a short body), naming the URL', async () => {
    const { send } = http([server.origin]);
    const error = await failure(send('GET', `${server.origin}/cut`, [], new Uint8Array(), 5000, 0));
    assert.equal(error.tag, 'unavailable');
    assert.ok(error.val.startsWith(`http GET ${server.origin}/cut failed: `), error.val);
  });

  test('a timeout too long for a timer still waits (it is not cut to 1 ms)', async () => {
    const { send, dispose } = http([server.origin]);
    let settled = false;
    const longest = send('GET', `${server.origin}/hang`, [], new Uint8Array(), 0xffffffff, 0).finally(() => (settled = true));
    await failure(send('GET', `${server.origin}/hang`, [], new Uint8Array(), 100, 0));
    assert.equal(settled, false, 'the request with the longest timeout still waits after one of 100 ms timed out');
    dispose();
    assert.match((await failure(longest)).val, /the instance was dropped/);
  });

  test('a server that is down fails as unavailable, naming the URL and the cause', async () => {
    const dead = await deadOrigin();
    const { send } = http([dead]);
    const down = await failure(send('GET', `${dead}/x`, [], new Uint8Array(), 1000, 0));
    assert.equal(down.tag, 'unavailable');
    assert.match(down.val, new RegExp(`^http GET ${dead}/x failed: .*ECONNREFUSED`));
  });

  test('dropping the instance aborts its requests in flight', async () => {
    const { send, dispose } = http([server.origin]);
    const abandoned = server.abandoned();
    const pending = send('GET', `${server.origin}/hang`, [], new Uint8Array(), 0, 0);
    await waitForRequest('/hang');
    dispose();
    assert.deepEqual(await failure(pending), { tag: 'unavailable', val: `http GET ${server.origin}/hang failed: the instance was dropped` });
    await abandoned;
  });
});

/** Resolves once the server has received a request for `path` (the request is in flight). */
async function waitForRequest(path: string): Promise<void> {
  const seen = server.received.length;
  while (!server.received.slice(seen).some((r) => r.url === path)) await new Promise((resolve) => setImmediate(resolve));
}

describe('the tessera.dev/allow-http annotation', () => {
  const yaml = (value: string) => `apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: web\n  annotations:\n    tessera.dev/allow-http: "${value}"\nspec:\n  type: bindings.http\n  version: v1\n`;

  test('grants http to the origins it lists; a malformed grant fails the YAML naming the file, the component and the annotation', () => {
    assert.deepEqual(parseResourceFile(yaml('http://127.0.0.1:8080, https://API.example.com/ ,http://[::1]:81'), 'web.yaml').components[0]!.grants, {
      http: ['http://127.0.0.1:8080', 'https://api.example.com', 'http://[::1]:81'],
    });
    const refused: [string, string][] = [
      ['127.0.0.1:8080', 'must list origins such as http://127.0.0.1:8080, got "127.0.0.1:8080"'],
      ['ftp://files.example.com', 'must list http: or https: origins, got "ftp://files.example.com"'],
      ['http://api.example.com/v1', 'must list origins (scheme, host and port, no path), got "http://api.example.com/v1"'],
      ['http://user:pw@api.example.com', 'must list origins (scheme, host and port, no path), got "http://user:pw@api.example.com"'],
      ['not an origin', 'must list origins such as http://127.0.0.1:8080, got "not an origin"'],
      [' , ', 'must list at least one origin, got " , "'],
    ];
    for (const [value, why] of refused) {
      assert.throws(() => parseResourceFile(yaml(value), 'web.yaml'), (err: Error) => {
        assert.equal(err.message, `web.yaml: component "web": annotation "tessera.dev/allow-http" ${why}`);
        return true;
      });
    }
  });
});
