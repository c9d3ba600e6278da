// Health, metadata, shutdown, API token and routing of the Dapr HTTP API, over real HTTP.
import assert from 'node:assert/strict';
import { createLogger } from '../../../../host/observability/logger.ts';
import { TesseraError } from '../../../../host/errors.ts';
import { FAILURE_LOG_BURST } from '../../../../host/api/http/server.ts';
import { afterEach, describe, it } from 'node:test';
import { FakeComponents } from '../../../support/fake-components.ts';
import { startTestApi, type TestApi } from '../../../support/http-api-server.ts';
import { MemoryStateStore } from '../../../support/memory-state-store.ts';

let api: TestApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

async function start(options: Parameters<typeof startTestApi>[0] = {}): Promise<TestApi> {
  api = await startTestApi(options);
  return api;
}

async function errorBody(res: Response): Promise<{ errorCode: string; message: string }> {
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  return (await res.json()) as { errorCode: string; message: string };
}

describe('health', () => {
  it('answers 204 when ready and 500 ERR_HEALTH_NOT_READY when not', async () => {
    const { url } = await start();
    assert.equal((await fetch(`${url}/v1.0/healthz`)).status, 204);
    api!.ready = false;
    const res = await fetch(`${url}/v1.0/healthz`);
    assert.equal(res.status, 500);
    assert.equal((await errorBody(res)).errorCode, 'ERR_HEALTH_NOT_READY');
  });

  it('checks the appid query parameter against the app id', async () => {
    const { url } = await start({ appId: 'orders' });
    assert.equal((await fetch(`${url}/v1.0/healthz?appid=orders`)).status, 204);
    const res = await fetch(`${url}/v1.0/healthz?appid=billing`);
    assert.equal(res.status, 500);
    assert.equal((await errorBody(res)).errorCode, 'ERR_HEALTH_APPID_NOT_MATCH');
  });

  it('answers outbound 204 when every component pings, else 500 naming the failing ones', async () => {
    const sick = new MemoryStateStore();
    const components = new FakeComponents().addStateStore('statestore', new MemoryStateStore()).addStateStore('cache', sick);
    const { url } = await start({ components });
    assert.equal((await fetch(`${url}/v1.0/healthz/outbound`)).status, 204);
    sick.unhealthy = true;
    const res = await fetch(`${url}/v1.0/healthz/outbound`);
    assert.equal(res.status, 500);
    const body = await errorBody(res);
    assert.equal(body.errorCode, 'ERR_OUTBOUND_HEALTH_NOT_READY');
    assert.match(body.message, /\bcache\b/);
    assert.doesNotMatch(body.message, /statestore/);
  });

  it('logs a not-ready answer at debug level only: a client polling health adds no error lines', async () => {
    const lines: string[] = [];
    const { url } = await start({ logger: createLogger({ level: 'debug', json: true, write: (line) => lines.push(line) }) });
    api!.ready = false;
    for (let i = 0; i < 3; i++) assert.equal((await fetch(`${url}/v1.0/healthz`)).status, 500);
    const levels = lines.map((line) => (JSON.parse(line) as { level: string }).level);
    assert.deepEqual(levels, ['debug', 'debug', 'debug']);
  });
});

describe('logging of failed calls', () => {
  it('logs a burst of failed calls, then counts what it dropped: a client cannot make the log grow without bound', async () => {
    const lines: string[] = [];
    const store = new MemoryStateStore();
    const components = new FakeComponents().addStateStore('statestore', store);
    const { url } = await start({ components, logger: createLogger({ level: 'info', json: true, write: (line) => lines.push(line) }) });
    const calls = FAILURE_LOG_BURST + 40;
    for (let i = 0; i < calls; i++) {
      store.failNext = new TesseraError('ERR_COMPONENT_TRAP', `trap number ${i}`);
      assert.equal((await fetch(`${url}/v1.0/state/statestore/k`)).status, 500);
    }
    const entries = lines.map((line) => JSON.parse(line) as { level: string; msg: string });
    const failed = entries.filter((e) => e.msg === 'HTTP API call failed');
    // The burst, and what the steady rate let through while the calls ran (a few at most).
    assert.ok(failed.length >= FAILURE_LOG_BURST && failed.length < calls, `${failed.length} of ${calls} failures logged`);
    assert.ok(failed.every((e) => e.level === 'error'));
    store.failNext = new TesseraError('ERR_COMPONENT_TRAP', 'the last one');
    await pollUntilLogged(url, store, entries.length, lines);
    const dropped = lines.map((line) => JSON.parse(line) as { level: string; msg: string }).find((e) => / log lines of failed HTTP API calls dropped: more than \d+ lines a second$/.test(e.msg));
    assert.equal(dropped?.level, 'warn');
  });
});

/** Fails a call each 100 ms until a line past `seen` is logged (the bucket refilled one token). */
async function pollUntilLogged(url: string, store: MemoryStateStore, seen: number, lines: string[]): Promise<void> {
  for (let i = 0; i < 50 && lines.length <= seen; i++) {
    store.failNext = new TesseraError('ERR_COMPONENT_TRAP', 'after a pause');
    await fetch(`${url}/v1.0/state/statestore/k`);
    if (lines.length <= seen) await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('metadata', () => {
  it("answers daprd's shape with Tessera's componentStatus, failed files included", async () => {
    const components = new FakeComponents().addStateStore('statestore', new MemoryStateStore()).addFailed({
      name: 'broken',
      kind: 'state-store',
      capabilities: [],
      status: 'failed',
      source: '/resources/broken.wasm',
      error: '/resources/broken.wasm: not a WebAssembly module (bad magic)',
    });
    const { url } = await start({ components, appId: 'orders' });
    const res = await fetch(`${url}/v1.0/metadata`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(body.id, 'orders');
    assert.equal(body.runtimeVersion, '0.1.0-test');
    assert.deepEqual(body.components, [
      { name: 'statestore', type: 'state.memory', version: 'v1', capabilities: ['ETAG', 'TRANSACTIONAL', 'TTL'] },
    ]);
    for (const field of ['enabledFeatures', 'actors', 'subscriptions', 'httpEndpoints']) assert.deepEqual(body[field], [], field);
    assert.deepEqual(body.extended, { daprRuntimeVersion: '0.1.0-test' });
    const status = body.componentStatus as Array<Record<string, unknown>>;
    assert.equal(status.length, 2);
    assert.equal(status[0]?.status, 'ready');
    assert.equal(status[0]?.sha256, '0'.repeat(64));
    assert.deepEqual(
      { name: status[1]?.name, status: status[1]?.status, source: status[1]?.source },
      { name: 'broken', status: 'failed', source: '/resources/broken.wasm' },
    );
    assert.match(String(status[1]?.error), /bad magic/);
  });

  it('stores PUT attributes from the raw body, whatever the Content-Type', async () => {
    const { url } = await start();
    const put = (key: string, body: string, type?: string) =>
      fetch(`${url}/v1.0/metadata/${key}`, { method: 'PUT', body, headers: type === undefined ? {} : { 'content-type': type } });
    assert.equal((await put('team', 'payments')).status, 204);
    assert.equal((await put('config', '{"not":"parsed"', 'application/json')).status, 204);
    const body = (await (await fetch(`${url}/v1.0/metadata`)).json()) as { extended: Record<string, string> };
    assert.deepEqual(body.extended, { team: 'payments', config: '{"not":"parsed"', daprRuntimeVersion: '0.1.0-test' });
  });
});

describe('shutdown', () => {
  it('answers 204, then calls the shutdown hook once', async () => {
    const { url } = await start();
    const res = await fetch(`${url}/v1.0/shutdown`, { method: 'POST' });
    assert.equal(res.status, 204);
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(api!.shutdownCalls, 1);
  });
});

describe('API token', () => {
  it('requires dapr-api-token on every route but the health checks', async () => {
    const { url } = await start({ apiToken: 's3cret' });
    for (const path of ['/v1.0/metadata', '/v1.0/state/statestore/a', '/v1.0/nowhere']) {
      for (const headers of [{}, { 'dapr-api-token': 'wrong' }, { 'dapr-api-token': 's3cre' }]) {
        const res = await fetch(url + path, { headers });
        assert.equal(res.status, 401, `${path} ${JSON.stringify(headers)}`);
        assert.equal(await res.text(), 'invalid api token\n');
      }
    }
    const denied = await fetch(`${url}/v1.0/state/statestore`, { method: 'POST', body: '[{"key":"a","value":1}]' });
    assert.equal(denied.status, 401);
    assert.equal(api!.store.requests.length, 0);
    assert.equal((await fetch(`${url}/v1.0/healthz`)).status, 204);
    assert.equal((await fetch(`${url}/v1.0/healthz/outbound`)).status, 204);
    const ok = await fetch(`${url}/v1.0/metadata`, { headers: { 'dapr-api-token': 's3cret' } });
    assert.equal(ok.status, 200);
  });

  it('is off when no token is configured', async () => {
    const { url } = await start();
    assert.equal((await fetch(`${url}/v1.0/metadata`)).status, 200);
  });
});

describe('routing', () => {
  it('answers 404 ERR_NOT_FOUND naming the method and path of an unknown route', async () => {
    const { url } = await start();
    const res = await fetch(`${url}/v1.0/nothing/here?x=1`, { method: 'PATCH' });
    assert.equal(res.status, 404);
    const body = await errorBody(res);
    assert.equal(body.errorCode, 'ERR_NOT_FOUND');
    assert.match(body.message, /PATCH \/v1\.0\/nothing\/here"/);
  });

  it('ignores a trailing slash and doubled slashes, as daprd cleans paths', async () => {
    const { url } = await start();
    assert.equal((await fetch(`${url}/v1.0/healthz/`)).status, 204);
    assert.equal((await fetch(`${url}/v1.0//metadata`)).status, 200);
  });

  it('says when no state store is configured at all', async () => {
    const { url } = await start({ components: new FakeComponents() });
    const res = await fetch(`${url}/v1.0/state/statestore/a`);
    assert.equal(res.status, 500);
    const body = await errorBody(res);
    assert.equal(body.errorCode, 'ERR_STATE_STORE_NOT_CONFIGURED');
    assert.match(body.message, /state store statestore is not configured/);
  });
});
