// The resources folder as a drop-in: files copied into (or removed from) the folder of a
// running `tessera` process become (or stop being) components, and /v1.0/metadata shows them.
import assert from 'node:assert/strict';
import { copyFile, rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { componentYaml, pollUntil, startSidecar, STATE_MEMORY_WASM, type SidecarProcess } from '../support/sidecar-process.ts';

let sidecar: SidecarProcess;

// What state.memory's features() lists, then QUERY_API, which its `query` export gives it.
const MEMORY_CAPABILITIES = ['ETAG', 'TRANSACTIONAL', 'TTL', 'QUERY_API'];

before(async () => {
  sidecar = await startSidecar({ resources: { 'statestore.yaml': componentYaml('statestore') } });
});
after(() => sidecar?.stop());

interface Answer {
  status: number;
  errorCode?: string;
  message?: string;
}

/** What a store answers to a read: 200/204 when it serves, else Dapr's error. */
async function probe(store: string): Promise<Answer> {
  const res = await sidecar.fetch(`/v1.0/state/${store}/probe`);
  const text = await res.text();
  if (res.status < 300) return { status: res.status };
  const body = JSON.parse(text) as { errorCode: string; message: string };
  return { status: res.status, errorCode: body.errorCode, message: body.message };
}

const serves = async (store: string): Promise<true | undefined> => ((await probe(store)).status < 300 ? true : undefined);
const isNotFound = async (store: string): Promise<Answer | undefined> => {
  const answer = await probe(store);
  return answer.errorCode === 'ERR_STATE_STORE_NOT_FOUND' ? answer : undefined;
};

async function roundTrip(store: string, value: unknown): Promise<void> {
  const saved = await sidecar.fetch(`/v1.0/state/${store}`, { method: 'POST', body: JSON.stringify([{ key: 'k', value }]) });
  assert.equal(saved.status, 204, await saved.text());
  const got = await sidecar.fetch(`/v1.0/state/${store}/k`);
  assert.equal(got.status, 200);
  assert.deepEqual(await got.json(), value);
}

interface Metadata {
  components: { name: string; type: string; version: string; capabilities: string[] }[];
  componentStatus: { name: string; status: string; source: string; type?: string; error?: string }[];
}

async function metadata(): Promise<Metadata> {
  const res = await sidecar.fetch('/v1.0/metadata');
  assert.equal(res.status, 200);
  return (await res.json()) as Metadata;
}

describe('resources folder', () => {
  it('serves the store a YAML naming the bundled type configures at start', async () => {
    await roundTrip('statestore', { at: 'start' });
  });

  it('turns a .wasm copied into the folder into a store within a second', async () => {
    assert.deepEqual(await probe('cache'), {
      status: 400,
      errorCode: 'ERR_STATE_STORE_NOT_FOUND',
      message: 'state store cache is not found',
    });
    const copiedAt = Date.now();
    await copyFile(STATE_MEMORY_WASM, sidecar.resource('cache.wasm'));
    await pollUntil('store "cache" to answer', () => serves('cache'), { timeoutMs: 5000, intervalMs: 10 });
    const took = Date.now() - copiedAt;
    assert.ok(took < 1000, `store "cache" answered only ${took} ms after the copy`);
    await roundTrip('cache', ['dropped', 'in']);
    await sidecar.waitForLog(/component "cache" loaded: state\.memory v1 from \S*cache\.wasm/);
  });

  it('unloads the store when its .wasm is deleted', async () => {
    await rm(sidecar.resource('cache.wasm'));
    const answer = await pollUntil('store "cache" to be gone', () => isNotFound('cache'), { timeoutMs: 3000, intervalMs: 10 });
    assert.equal(answer.status, 400);
    assert.equal(answer.message, 'state store cache is not found');
    await sidecar.waitForLog(/component "cache" unloaded/);
    await roundTrip('statestore', 'still here');
  });

  it('configures a store from a YAML dropped in, and drops it when the YAML goes', async () => {
    await sidecar.writeResource('orders.yaml', componentYaml('orders'));
    await pollUntil('store "orders" to answer', () => serves('orders'), { timeoutMs: 3000, intervalMs: 10 });
    await roundTrip('orders', { id: 7 });
    await sidecar.removeResource('orders.yaml');
    await pollUntil('store "orders" to be gone', () => isNotFound('orders'), { timeoutMs: 3000, intervalMs: 10 });
  });

  it('lists every component in /v1.0/metadata with name, type, version and capabilities', async () => {
    await copyFile(STATE_MEMORY_WASM, sidecar.resource('sessions.wasm'));
    await pollUntil('store "sessions" to answer', () => serves('sessions'), { timeoutMs: 3000, intervalMs: 10 });
    const { components, componentStatus } = await metadata();
    assert.deepEqual(
      [...components].sort((a, b) => a.name.localeCompare(b.name)),
      [
        { name: 'sessions', type: 'state.memory', version: 'v1', capabilities: MEMORY_CAPABILITIES },
        { name: 'statestore', type: 'state.memory', version: 'v1', capabilities: MEMORY_CAPABILITIES },
      ],
    );
    assert.deepEqual(
      componentStatus.map(({ name, status, source }) => ({ name, status, source })).sort((a, b) => a.name.localeCompare(b.name)),
      [
        { name: 'sessions', status: 'ready', source: sidecar.resource('sessions.wasm') },
        { name: 'statestore', status: 'ready', source: sidecar.resource('statestore.yaml') },
      ],
    );
  });
});
