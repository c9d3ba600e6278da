// What a user sees of a component whose start fails (its Redis is not up yet): it is tried
// again with backoff, on a clock the test steps through, until its Redis answers; calls,
// outbound health and metadata say why it is not there. Also: failures are logged once per
// distinct error, and two files declaring one name leave the running one serving.
import assert from 'node:assert/strict';
import { rm, utimes, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ComponentRegistry } from '../../../host/components/registry.ts';
import { scanResources } from '../../../host/components/resources-loader.ts';
import { loadBundledTypes } from '../../../host/components/type-catalog.ts';
import { createLogger } from '../../../host/observability/logger.ts';
import { ManualClock } from '../../support/manual-clock.ts';
import { redisPubSubYaml } from '../../support/redis-server.ts';
import { pollUntil } from '../../support/sidecar-process.ts';
import { componentYaml, tempDir } from '../../support/temp-dir.ts';
import { freePort } from '../../support/test-app.ts';

const bundled = await loadBundledTypes();

let clock: ManualClock;
let registry: ComponentRegistry;
let dir: { path: string; remove: () => Promise<void> };
let lines: string[];
let address: string;
let fakeRedis: Server | undefined;

beforeEach(async () => {
  clock = new ManualClock();
  lines = [];
  registry = new ComponentRegistry({ logger: createLogger({ level: 'error', json: false, write: (line) => lines.push(line) }), clock });
  dir = await tempDir();
  address = `127.0.0.1:${await freePort()}`;
});
afterEach(async () => {
  await registry.close();
  await dir.remove();
  await new Promise((resolve) => (fakeRedis ? fakeRedis.close(resolve) : resolve(undefined)));
  fakeRedis = undefined;
});

const sync = async (): Promise<void> => registry.apply(await scanResources([dir.path], bundled, 'app'));
const write = (file: string, content: string | Uint8Array): Promise<void> => writeFile(join(dir.path, file), content);
const info = (name: string) => registry.list().find((c) => c.name === name);
const logged = (pattern: RegExp): number => lines.filter((line) => pattern.test(line)).length;

/** Just enough of Redis for pubsub.redis to start: every command answered `+PONG`. */
async function startFakeRedis(): Promise<void> {
  const [host, port] = address.split(':');
  fakeRedis = createServer((socket) => socket.on('data', () => socket.write('+PONG\r\n')).on('error', () => undefined));
  await new Promise<void>((resolve) => fakeRedis!.listen(Number(port), host, resolve));
}

/** Fires the pending retry and waits for its try to end (failed again: a new timer; or started). */
async function retry(): Promise<number> {
  const delay = clock.fireNext();
  await pollUntil('the retry to end', () => (clock.pending.length === 1 || registry.getPubSub('bus') !== undefined ? true : undefined));
  return delay;
}

describe('a component whose start fails', () => {
  it('is tried again after 1 s, each wait 1.5 times longer up to 30 s with one timer at a time, and serves once its Redis answers', async () => {
    await write('bus.yaml', redisPubSubYaml('bus', address));
    await sync();

    const failed = info('bus')!;
    assert.equal(failed.status, 'failed');
    assert.match(failed.error!, /bus\.yaml: .*unreachable/);
    assert.equal(failed.failedStarts, 1);
    assert.equal(failed.nextRetryAt, new Date(clock.now() + 1000).toISOString());
    assert.deepEqual(registry.pubSubFailure('bus'), { error: failed.error, nextRetryAt: failed.nextRetryAt });
    assert.equal(registry.stateStoreFailure('bus'), undefined, 'a failed pubsub is no failed state store');
    assert.deepEqual(await registry.pingAll(), ['bus'], 'outbound health names it');

    const delays = [];
    for (let i = 0; i < 10; i++) delays.push(await retry());
    assert.deepEqual(delays, [1000, 1500, 2250, 3375, 5063, 7594, 11391, 17086, 25629, 30000]);
    assert.deepEqual(clock.pending, [30000]);
    assert.equal(info('bus')!.failedStarts, 11);

    await sync();
    assert.deepEqual(clock.pending, [30000], 'a rescan that changes nothing leaves the timer alone');
    assert.equal(info('bus')!.failedStarts, 11);

    await startFakeRedis();
    await retry();
    assert.ok(registry.getPubSub('bus'));
    const ready = info('bus')!;
    assert.equal(ready.status, 'ready');
    assert.equal(ready.failedStarts, undefined);
    assert.equal(ready.nextRetryAt, undefined);
    assert.deepEqual(clock.pending, []);
    assert.deepEqual(await registry.pingAll(), []);
    assert.equal(registry.pubSubFailure('bus'), undefined);
  });

  it('is tried at once, from 1 s again, when its file is edited or touched; removing the file stops the retries', async () => {
    const file = join(dir.path, 'bus.yaml');
    await write('bus.yaml', redisPubSubYaml('bus', address));
    await sync();
    await retry();
    await retry();
    assert.deepEqual(clock.pending, [2250]);

    const later = new Date(Date.now() + 10_000);
    await utimes(file, later, later);
    await sync();
    assert.deepEqual(clock.pending, [1000], 'a touch tries at once and starts the backoff over');
    assert.equal(info('bus')!.failedStarts, 1);

    await retry();
    await write('bus.yaml', redisPubSubYaml('bus', address, { dialTimeout: '500' }));
    await sync();
    assert.deepEqual(clock.pending, [1000], 'an edit too');

    await rm(file);
    await sync();
    assert.deepEqual(clock.pending, []);
    assert.equal(info('bus'), undefined);
    assert.deepEqual(await registry.pingAll(), []);
  });

  it('stops being retried when the registry closes', async () => {
    await write('bus.yaml', redisPubSubYaml('bus', address));
    await sync();
    assert.deepEqual(clock.pending, [1000]);
    await registry.close();
    assert.deepEqual(clock.pending, []);
  });

  it('does not fail outbound health when its YAML says ignoreErrors', async () => {
    await write('bus.yaml', redisPubSubYaml('bus', address).replace('spec:\n', 'spec:\n  ignoreErrors: true\n'));
    await sync();
    assert.equal(info('bus')!.status, 'failed');
    assert.deepEqual(await registry.pingAll(), []);
  });
});

describe('failures in the log', () => {
  it('are logged once per distinct error, and again after they recovered', async () => {
    await write('notwasm.wasm', 'hi\n');
    for (let i = 0; i < 3; i++) await sync();
    assert.equal(logged(/notwasm\.wasm not loaded: .*magic/), 1, lines.join('\n'));

    await write('notwasm.wasm', new Uint8Array([0, 0x61, 0x73, 0x6d, 2, 0, 0, 0]));
    await sync();
    await sync();
    assert.equal(logged(/notwasm\.wasm not loaded: .*version/), 1, 'a new error is logged');

    await rm(join(dir.path, 'notwasm.wasm'));
    await sync();
    await write('notwasm.wasm', 'hi\n');
    await sync();
    assert.equal(logged(/notwasm\.wasm not loaded: .*magic/), 2, 'failing again after it recovered is logged');
  });

  it('log a start that keeps failing once', async () => {
    await write('bus.yaml', redisPubSubYaml('bus', address));
    await sync();
    for (let i = 0; i < 3; i++) await retry();
    assert.equal(logged(/component \\"bus\\" failed to load: .*unreachable.*tried again after 1 s, then each wait 1\.5 times longer up to 30 s/), 1, lines.join('\n'));
  });
});

describe('two files declaring one component name', () => {
  const get = async (name: string, key: string) =>
    new TextDecoder().decode((await registry.getStateStore(name)!.store.get({ key, consistency: 'eventual', metadata: [] }))?.value);

  it('leave the one running serving; the newcomer is refused naming both files, and the name is listed once', async () => {
    await write('b.yaml', componentYaml('store', 'state.memory'));
    await sync();
    const store = registry.getStateStore('store')!;
    await store.store.set({ key: 'k', value: new TextEncoder().encode('"v"'), concurrency: 'last-write', consistency: 'eventual', metadata: [] });

    // Sorts first: at a first start it would win, but b.yaml holds the name.
    await write('a.yaml', componentYaml('store', 'state.memory', { keyPrefix: 'none' }));
    await sync();
    assert.equal(await get('store', 'k'), '"v"', 'the running component keeps its instance and data');
    assert.equal(registry.getStateStore('store')!.config.get('keyPrefix'), undefined);
    const listed = registry.list().filter((c) => c.name === 'store');
    assert.equal(listed.length, 1);
    assert.equal(listed[0]!.status, 'ready');
    assert.equal(listed[0]!.source, join(dir.path, 'b.yaml'));
    assert.equal(listed[0]!.duplicates?.length, 1);
    assert.equal(listed[0]!.duplicates![0]!.source, join(dir.path, 'a.yaml'));
    assert.match(listed[0]!.duplicates![0]!.error, /a\.yaml: component "store" is already defined by .*b\.yaml; this definition is ignored/);
    assert.equal(logged(/a\.yaml not loaded: .*component \\"store\\" is already defined by .*b\.yaml/), 1);

    await sync();
    assert.equal(logged(/already defined/), 1, 'logged once');

    // With b.yaml gone, a.yaml takes the name.
    await rm(join(dir.path, 'b.yaml'));
    await sync();
    assert.equal(registry.getStateStore('store')!.config.get('keyPrefix'), 'none');
    assert.equal(info('store')!.duplicates, undefined);
  });

  it('at a first start: the first by file name wins', async () => {
    await write('b.yaml', componentYaml('store', 'state.memory'));
    await write('a.yaml', componentYaml('store', 'state.memory', { keyPrefix: 'none' }));
    await sync();
    assert.equal(registry.getStateStore('store')!.config.get('keyPrefix'), 'none');
    assert.match(info('store')!.duplicates![0]!.error, /b\.yaml: component "store" is already defined by .*a\.yaml/);
  });
});
