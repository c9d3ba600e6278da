// POST|PUT /v1.0/bindings/{name} over a binding double: daprd's body, its JSON `data`, the
// answer's bytes and `metadata.*` headers, and each of daprd's errors.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { FakeComponents } from '../../../support/fake-components.ts';
import { startTestApi, type TestApi } from '../../../support/http-api-server.ts';
import { MemoryBinding } from '../../../support/memory-binding.ts';

describe('the output bindings route', () => {
  let api: TestApi;
  const web = new MemoryBinding('web');
  const timer = new MemoryBinding('timer', { input: true });

  before(async () => {
    const components = new FakeComponents().addBinding('web', web).addBinding('timer', timer);
    components.addFailed({ name: 'broken', kind: 'binding', type: 'bindings.http', capabilities: [], status: 'failed', source: '/r/broken.yaml', error: 'init: url "x" is not a URL', nextRetryAt: '2030-01-01T00:00:00.000Z' });
    api = await startTestApi({ components });
  });
  after(() => api.close());

  const invoke = (name: string, body: unknown, init: RequestInit = {}): Promise<Response> =>
    fetch(`${api.url}/v1.0/bindings/${name}`, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), ...init });

  test('passes data as its JSON text (a string keeps its quotes), with the metadata, and answers the bytes', async () => {
    const res = await invoke('web', { operation: 'echo', data: 'hello', metadata: { key: 'k1' } });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), '"hello"');
    assert.equal(res.headers.get('content-type'), 'text/plain');
    assert.equal(res.headers.get('metadata.key'), 'k1');
    assert.deepEqual(web.invocations.at(-1)?.metadata, [['key', 'k1']]);

    assert.equal(await (await invoke('web', { operation: 'echo', data: { a: [1, 2], b: '<&>' } })).text(), '{"a":[1,2],"b":"\\u003c\\u0026\\u003e"}', "escaped as Go's json.Marshal does");
    assert.equal(await (await invoke('web', { operation: 'echo' })).text(), 'null', 'no data is JSON null');
  });

  test('PUT works as POST; a body sent as a form (curl -d) is read as JSON', async () => {
    assert.equal((await invoke('web', { operation: 'echo', data: 1 }, { method: 'PUT' })).status, 200);
    const res = await invoke('web', '{"operation":"echo","data":2}', { headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(await res.text(), '2');
  });

  test('no data answered is 204, with the metadata as headers', async () => {
    const res = await invoke('web', { operation: 'empty' });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('metadata.done'), 'yes');
  });

  const error = async (res: Response): Promise<{ status: number; errorCode: string; message: string }> => ({ status: res.status, ...((await res.json()) as { errorCode: string; message: string }) });

  test('a body that is not JSON, or metadata that is not strings, is 400 ERR_MALFORMED_REQUEST', async () => {
    const notJson = await error(await invoke('web', '{"operation":'));
    assert.equal(notJson.status, 400);
    assert.equal(notJson.errorCode, 'ERR_MALFORMED_REQUEST');
    const badMetadata = await error(await invoke('web', { operation: 'echo', metadata: { n: 5 } }));
    assert.equal(badMetadata.status, 400);
    assert.match(badMetadata.message, /metadata/);
    assert.equal((await error(await invoke('web', { operation: 7 }))).status, 400);
  });

  test("every other failure is 500 ERR_INVOKE_OUTPUT_BINDING naming the binding and the cause", async () => {
    const cases: [string, unknown, RegExp][] = [
      ['nope', { operation: 'get' }, /^error invoking output binding nope: couldn't find output binding nope \(output bindings: web\)$/],
      ['web', { data: 1 }, /^error invoking output binding web: operation field is missing from request$/],
      ['web', { operation: 'explode' }, /^error invoking output binding web: binding "web" does not support operation "explode": it supports echo, empty, fail$/],
      ['web', { operation: 'fail' }, /^error invoking output binding web: internal: the engine said no$/],
      ['timer', { operation: 'get' }, /^error invoking output binding timer: binding timer is an input binding \(direction input\): it has no output operations$/],
      ['broken', { operation: 'get' }, /^error invoking output binding broken: output binding broken failed to load: init: url "x" is not a URL; tried again at 2030-01-01T00:00:00.000Z$/],
    ];
    for (const [name, body, message] of cases) {
      const e = await error(await invoke(name, body));
      assert.equal(e.status, 500, JSON.stringify(e));
      assert.equal(e.errorCode, 'ERR_INVOKE_OUTPUT_BINDING');
      assert.match(e.message, message);
    }
  });
});
