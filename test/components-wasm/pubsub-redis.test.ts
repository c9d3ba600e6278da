// pubsub.redis (components-wasm/pubsub-redis, Rust on sdk/rust) through the real host
// against a real redis-server on a free loopback port: the tcp capability with its grant,
// JSPI, the host's canonical ABI lifting of the pubsub world. The conformance kit's pub/sub
// suite; then Redis's own: stream entries as Dapr writes them, consumer groups, retries under
// the same id, blocking pulls, takeover of a crashed subscriber's messages,
// refused addresses, Redis going down and coming back; then the crate's own unit tests
// (config, JSON, stream entries), jco's reading of its signatures, flat memory, and a
// byte-identical rebuild of the committed .wasm.
import { ABI_VERSION } from '../../abi/ts/manifest.ts';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { AckOutcome, BulkPublishEntry, BulkPublishFailure, Message, PublishRequest } from '../../abi/ts/pubsub.ts';
import type { Metadata, WitResult } from '../../abi/ts/types.ts';
import { createLogger, silentLogger, type Logger } from '../../host/observability/logger.ts';
import { CompiledComponent } from '../../host/sandbox/compiled-component.ts';
import { instantiate } from '../../host/sandbox/component-instance.ts';
import { LiveComponent } from '../../host/sandbox/live-component.ts';
import { unwrapResult } from '../../host/sandbox/kinds/wit-result.ts';
import { adaptPubSub } from '../../host/sandbox/kinds/pubsub-adapter.ts';
import { conformanceTests } from '../support/conformance.ts';
import { acceptedAsWorld, buildReadmeExample, cargoTestPasses, componentErrorOf as errorOf, rebuildIsCommitted } from '../support/rust-component.ts';
import { RedisServer } from '../support/redis-server.ts';
import { hasTool, needs } from '../support/tools.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const COMPONENT_DIR = join(ROOT, 'components-wasm', 'pubsub-redis');
const WASM = join(COMPONENT_DIR, 'pubsub-redis.wasm');
const PUBSUB = `tessera:components/pubsub@${ABI_VERSION}#`;

const wasmBytes = readFile(WASM).then((b) => new Uint8Array(b));
const compiled = wasmBytes.then((b) => CompiledComponent.compile(b, { source: 'pubsub-redis.wasm' }));
const encode = (s: string): Uint8Array => new TextEncoder().encode(s);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** One instance of the broker, as the host starts one per subscription, with typed calls. */
class Broker {
  readonly live: LiveComponent;

  constructor(live: LiveComponent) {
    this.live = live;
  }

  async #call<T>(fn: string, ...args: unknown[]): Promise<T> {
    return unwrapResult('redis', fn, (await this.live.call(fn, args)) as WitResult<T>);
  }

  publish(topic: string, data: Uint8Array, more: Partial<PublishRequest> = {}): Promise<void> {
    return this.#call('publish', { topic, data, metadata: [], ...more });
  }

  bulkPublish(topic: string, entries: BulkPublishEntry[], metadata: Metadata = []): Promise<BulkPublishFailure[]> {
    return this.#call('bulk-publish', topic, entries, metadata);
  }

  subscribe(topic: string, metadata: Metadata = []): Promise<bigint> {
    return this.#call('subscribe', topic, metadata);
  }

  pull(sub: bigint, max = 10, timeoutMs = 0): Promise<Message[]> {
    return this.#call('pull', sub, max, timeoutMs);
  }

  ack(sub: bigint, id: string, outcome: AckOutcome = 'success'): Promise<void> {
    return this.#call('ack', sub, id, outcome);
  }

  unsubscribe(sub: bigint): Promise<void> {
    return this.#call('unsubscribe', sub);
  }

  ping(): Promise<void> {
    return this.#call('ping');
  }
}

let redis: RedisServer;
const brokers: LiveComponent[] = [];
let topics = 0;
/** A topic no other test uses. */
const newTopic = (): string => `topic-${process.pid}-${++topics}`;

interface StartOptions {
  server?: RedisServer;
  config?: Record<string, string>;
  grants?: string[];
  logger?: Logger;
}

async function start(options: StartOptions = {}): Promise<Broker> {
  const server = options.server ?? redis;
  const config = new Map(Object.entries({ redisHost: server.address, consumerID: 'app', ...options.config }));
  const live = await LiveComponent.start(await compiled, {
    name: 'redis-pubsub',
    config,
    logger: options.logger ?? silentLogger,
    grants: { tcp: options.grants ?? [server.address] },
  });
  brokers.push(live);
  return new Broker(live);
}

/** Pulls until `count` messages came or `ms` passed. */
async function pullAll(broker: Broker, sub: bigint, count: number, ms = 3000): Promise<Message[]> {
  const got: Message[] = [];
  const deadline = Date.now() + ms;
  while (got.length < count && Date.now() < deadline) got.push(...(await broker.pull(sub, count - got.length, 200)));
  return got;
}

/** `XPENDING <topic> <group>`'s count of unacknowledged deliveries. */
async function pendingCount(topic: string, group = 'app'): Promise<number> {
  return Number((await redis.cli('XPENDING', topic, group)).split('\n')[0]);
}

/** pubsub.redis as the pub/sub building block sees it: a dedicated instance per subscription; `generation.number` may change, as a hot swap does. */
async function adapted(generation = { number: 1 }): Promise<ReturnType<typeof adaptPubSub>> {
  const publisher = await start();
  return adaptPubSub({
    name: 'redis-pubsub',
    features: publisher.live.features,
    call: (fn, args) => publisher.live.call(fn, args),
    get generation() {
      return generation.number;
    },
    blocking: (await compiled).needsJspi,
    exports: (await compiled).optionalExports,
    async dedicatedInstance() {
      const { live } = await start();
      return { call: (fn, args) => live.call(fn, args), close: () => live.close() };
    },
  });
}

/** How many XACK commands the server ran so far. */
async function xackCalls(): Promise<number> {
  return Number(/cmdstat_xack:calls=(\d+)/.exec(await redis.cli('INFO', 'commandstats'))?.[1] ?? 0);
}

/** The names of the consumers in a topic's group (a consumer exists once it has read). */
async function consumers(topic: string, group = 'app'): Promise<string[]> {
  const lines = (await redis.cli('XINFO', 'CONSUMERS', topic, group)).split('\n');
  return lines.flatMap((line, i) => (line === 'name' ? [lines[i + 1]!] : []));
}

before(async () => {
  if (hasTool('redis')) redis = await RedisServer.start();
});

after(async () => {
  await Promise.all(brokers.map((b) => b.close()));
  await redis?.stop();
});

conformanceTests(
  'pubsub-redis.wasm, against a redis-server of its own',
  async () => {
    const server = await RedisServer.start();
    return { bytes: await wasmBytes, source: 'pubsub-redis.wasm', config: new Map([['redisHost', server.address]]), grants: { tcp: [server.address] }, close: () => server.stop() };
  },
  needs('redis'),
);

describe('pubsub.redis through the host, against redis-server', needs('redis'), () => {
  test('carries the pubsub.redis manifest, imports log, clock, random, tcp and redis, and exports the pubsub world', async () => {
    const component = await compiled;
    assert.deepEqual(component.manifest, {
      kind: 'pubsub',
      type: 'pubsub.redis',
      version: 'v1',
      abi: ABI_VERSION,
      capabilities: ['log', 'clock', 'random', 'tcp', 'redis'],
      description: "Redis Streams pub/sub with consumer groups, built in Rust: at-least-once delivery, retries, and takeover of a crashed subscriber's messages.",
    });
    assert.deepEqual([...component.importedInterfaces].sort(), ['clock', 'log', 'random', 'redis', 'tcp']);
    assert.deepEqual([...component.optionalExports], []);
    assert.equal(component.needsJspi, true, 'tcp suspends');
    const names = WebAssembly.Module.exports(component.module).map((e) => e.name);
    for (const fn of ['init', 'features', 'publish', 'bulk-publish', 'subscribe', 'pull', 'ack', 'unsubscribe', 'ping']) {
      assert.ok(names.includes(PUBSUB + fn), fn);
      assert.ok(names.includes(`cabi_post_${PUBSUB}${fn}`), `cabi_post_ ${fn}`);
    }
    const broker = await start();
    assert.deepEqual([...broker.live.features], ['BULK_PUBLISH']);
    await broker.ping();
  });

  test('stream ids, metadata with quotes, backslashes, repeated keys, and 1 MiB across many tcp reads; XPENDING follows the acks', async () => {
    const broker = await start();
    const topic = newTopic();
    const sub = await broker.subscribe(topic);
    const binary = Uint8Array.from({ length: 512 }, (_, i) => (i * 7) % 256);
    const metadata: Metadata = [['k', 'v'], ['quote"s', 'back\\slash'], ['ключ', '✓ 😀'], ['k', 'twice']];
    await broker.publish(topic, binary, { contentType: 'application/octet-stream', metadata });
    await broker.publish(topic, new Uint8Array());
    const big = new Uint8Array(randomBytes(1024 * 1024 + 3));
    await broker.publish(topic, big, { contentType: 'application/x-big' });

    const got = await pullAll(broker, sub, 3);
    assert.equal(got.length, 3);
    const [first, empty, large] = got as [Message, Message, Message];
    assert.match(first.id, /^\d+-\d+$/);
    assert.deepEqual({ ...first, id: undefined }, { id: undefined, topic, data: binary, contentType: 'application/octet-stream', metadata });
    assert.deepEqual({ ...empty, id: undefined }, { id: undefined, topic, data: new Uint8Array(), contentType: undefined, metadata: [] });
    assert.equal(large.contentType, 'application/x-big');
    assert.ok(Buffer.from(large.data).equals(Buffer.from(big)), 'a 1 MiB message arrives whole, across many tcp reads');
    assert.equal(await pendingCount(topic), 3, 'delivered, not yet acknowledged');

    await broker.ack(sub, first.id, 'success');
    await broker.ack(sub, empty.id, 'drop');
    await broker.ack(sub, large.id);
    assert.equal(await pendingCount(topic), 3, 'acks wait for the next pull');
    assert.deepEqual(await broker.pull(sub, 10, 100), []);
    assert.equal(await pendingCount(topic), 0, 'the pull sent them');
  });

  test('writes and reads entries with Dapr\'s field names: data, contentType, metadata as JSON', async () => {
    const broker = await start();
    const topic = newTopic();
    const sub = await broker.subscribe(topic);
    await broker.publish(topic, encode('text'), { contentType: 'text/plain', metadata: [['k', 'v'], ['quote"s', 'back\\slash'], ['ключ', '✓']] });
    const [written] = await pullAll(broker, sub, 1);
    await broker.ack(sub, written!.id);
    assert.deepEqual((await redis.cli('XRANGE', topic, '-', '+')).split('\n'), [
      written!.id, 'data', 'text', 'contentType', 'text/plain', 'metadata', '{"k":"v","quote\\"s":"back\\\\slash","ключ":"✓"}', '',
    ]);

    await redis.cli('XADD', topic, '*', 'data', '{"order":1}', 'contentType', 'application/json', 'metadata', '{"traceid":"abc","n":5}', 'extra', 'x');
    await redis.cli('XADD', topic, '*', 'data', 'plain', 'metadata', 'not json');
    const [json, plain] = await pullAll(broker, sub, 2);
    assert.deepEqual({ ...json, id: undefined }, { id: undefined, topic, data: encode('{"order":1}'), contentType: 'application/json', metadata: [['traceid', 'abc'], ['n', '5']] });
    assert.deepEqual({ ...plain, id: undefined }, { id: undefined, topic, data: encode('plain'), contentType: undefined, metadata: [] }, 'unreadable metadata is dropped, the message delivered');
  });

  test('bulk publish pipelines one XADD per entry; entries Redis refuses come back as failures', async () => {
    const broker = await start();
    const topic = newTopic();
    const sub = await broker.subscribe(topic);
    const entries: BulkPublishEntry[] = Array.from({ length: 50 }, (_, i) => ({
      entryId: `e${i}`,
      data: encode(`m${i}`),
      contentType: i === 0 ? 'text/plain' : undefined,
      metadata: i === 1 ? [['r', 'mine']] : [],
    }));
    assert.deepEqual(await broker.bulkPublish(topic, entries, [['r', 's']]), []);
    const got = await pullAll(broker, sub, 50);
    assert.deepEqual(got.map((m) => new TextDecoder().decode(m.data)), entries.map((_, i) => `m${i}`), 'in order');
    assert.equal(got[0]!.contentType, 'text/plain');
    assert.deepEqual(got[1]!.metadata, [['r', 'mine']], 'an entry\'s own metadata wins');
    assert.deepEqual(got[2]!.metadata, [['r', 's']], 'request metadata applies to every entry');
    assert.deepEqual(await broker.bulkPublish(topic, []), []);

    const notAStream = newTopic();
    await redis.cli('SET', notAStream, 'x');
    const failures = await broker.bulkPublish(notAStream, entries.slice(0, 2));
    assert.deepEqual(failures.map((f) => f.entryId), ['e0', 'e1']);
    assert.match(failures[0]!.error, /^invalid-argument: redis refused XADD on topic "topic-\d+-\d+": WRONGTYPE/);
    assert.equal((await errorOf(broker.publish(notAStream, encode('x')))).tag, 'invalid-argument');
    assert.equal((await errorOf(broker.subscribe(notAStream))).tag, 'invalid-argument');
  });

  test('maxLenApprox trims each topic\'s stream', async () => {
    const broker = await start({ config: { maxLenApprox: '10' } });
    const topic = newTopic();
    const entries = Array.from({ length: 1000 }, (_, i) => ({ entryId: `${i}`, data: encode(`${i}`), metadata: [] as Metadata }));
    assert.deepEqual(await broker.bulkPublish(topic, entries), []);
    const length = Number(await redis.cli('XLEN', topic));
    assert.ok(length >= 10 && length < 1000, `XLEN ${length}`);
  });

  test('a consumer group spreads a topic over its subscribers, each getting some; another consumerID reads the stream in order', async () => {
    const [a, b, other] = await Promise.all([start(), start(), start({ config: { consumerID: 'other-app' } })]);
    const topic = newTopic();
    const [subA, subB, subOther] = await Promise.all([a.subscribe(topic), b.subscribe(topic), other.subscribe(topic)]);
    const sent = Array.from({ length: 20 }, (_, i) => `m${i}`);
    assert.deepEqual(await a.bulkPublish(topic, sent.map((s) => ({ entryId: s, data: encode(s), metadata: [] }))), []);

    const byA: string[] = [];
    const byB: string[] = [];
    for (let round = 0; round < 20 && byA.length + byB.length < 20; round++) {
      for (const [broker, sub, into] of [[a, subA, byA], [b, subB, byB]] as const) {
        for (const m of await broker.pull(sub, 3, 100)) {
          into.push(new TextDecoder().decode(m.data));
          await broker.ack(sub, m.id);
        }
      }
    }
    assert.ok(byA.length > 0 && byB.length > 0, `both got some: ${byA.length} and ${byB.length}`);
    assert.deepEqual([...byA, ...byB].sort(), [...sent].sort(), 'each message went to exactly one of them');
    const all = await pullAll(other, subOther, 20);
    assert.deepEqual(all.map((m) => new TextDecoder().decode(m.data)), sent);
    assert.deepEqual(await a.pull(subA, 10, 100), []);
  });

  test('ack retry brings the message back at once, under its id; success then ends it', async () => {
    const broker = await start();
    const topic = newTopic();
    const sub = await broker.subscribe(topic);
    await broker.publish(topic, encode('one'));
    await broker.publish(topic, encode('two'));
    const [one, two] = await pullAll(broker, sub, 2);
    await broker.ack(sub, one!.id, 'retry');
    await broker.ack(sub, two!.id, 'success');
    const t0 = Date.now();
    const again = await broker.pull(sub, 10, 2000);
    assert.ok(Date.now() - t0 < 1200, `came back in ${Date.now() - t0} ms`);
    assert.deepEqual(again, [one]);
    await broker.ack(sub, one!.id, 'retry');
    await broker.ack(sub, one!.id, 'retry');
    assert.deepEqual(await broker.pull(sub, 10, 2000), [one], 'twice acknowledged retry, delivered once');
    await broker.ack(sub, one!.id, 'success');
    assert.deepEqual(await broker.pull(sub, 10, 200), []);
    assert.equal(await pendingCount(topic), 0);
  });

  test('acks are batched: one XACK for many, sent with the next pull; at most 1000 wait', async () => {
    const broker = await start();
    const topic = newTopic();
    const sub = await broker.subscribe(topic);
    await broker.bulkPublish(topic, Array.from({ length: 50 }, (_, i) => ({ entryId: `${i}`, data: encode(`m${i}`), metadata: [] })));
    const got = await pullAll(broker, sub, 50);
    assert.equal(got.length, 50, 'one pull reads many (COUNT > 1)');
    const before = await xackCalls();
    for (const m of got) await broker.ack(sub, m.id);
    assert.equal(await xackCalls(), before, 'no XACK yet');
    assert.equal(await pendingCount(topic), 50);
    assert.deepEqual(await broker.pull(sub, 10, 100), []);
    assert.equal(await xackCalls(), before + 1, 'one XACK for the 50, pipelined ahead of the read');
    assert.equal(await pendingCount(topic), 0);

    await broker.bulkPublish(topic, Array.from({ length: 1000 }, (_, i) => ({ entryId: `${i}`, data: encode(`n${i}`), metadata: [] })));
    const many = await pullAll(broker, sub, 1000);
    for (const m of many.slice(0, 999)) await broker.ack(sub, m.id);
    assert.equal(await pendingCount(topic), 1000);
    await broker.ack(sub, many[999]!.id);
    assert.equal(await pendingCount(topic), 0, 'the 1000th ack sends them all');
  });

  test('a message acked, sent, then its subscriber crashed is not redelivered; one acked but not yet sent is, never lost', async () => {
    const config = { processingTimeout: '300', redeliverInterval: '100ms' };
    const [crashing, survivor] = await Promise.all([start({ config }), start({ config })]);
    const topic = newTopic();
    const subC = await crashing.subscribe(topic);
    const subS = await survivor.subscribe(topic);
    await crashing.publish(topic, encode('acked and sent'));
    await crashing.publish(topic, encode('acked, not sent'));
    await crashing.publish(topic, encode('never acked'));
    const [sent, unsent, unanswered] = await pullAll(crashing, subC, 3);
    await crashing.ack(subC, sent!.id);
    await crashing.pull(subC, 0, 0);
    await crashing.ack(subC, unsent!.id);
    // Killed before its next pull: the second ack never reached Redis.
    await crashing.live.close();

    const again = await pullAll(survivor, subS, 2, 2000);
    assert.deepEqual(again.map((m) => new TextDecoder().decode(m.data)).sort(), ['acked, not sent', 'never acked']);
    assert.deepEqual(again.map((m) => m.id).sort(), [unsent!.id, unanswered!.id].sort(), 'taken over under their ids');
    for (const m of again) await survivor.ack(subS, m.id);
    await survivor.pull(subS, 0, 0);
    assert.equal(await pendingCount(topic), 0, 'the one acked and sent was not pending any more');
  });

  test('unsubscribe sends the acks it holds before handing the rest back', async () => {
    const [leaving, staying] = await Promise.all([start(), start()]);
    const topic = newTopic();
    const subL = await leaving.subscribe(topic);
    const subS = await staying.subscribe(topic);
    await leaving.publish(topic, encode('done'));
    await leaving.publish(topic, encode('not done'));
    const [done] = await pullAll(leaving, subL, 2);
    await leaving.ack(subL, done!.id);
    await leaving.unsubscribe(subL);
    const copies = await pullAll(staying, subS, 2, 1000);
    assert.deepEqual(copies.map((m) => new TextDecoder().decode(m.data)), ['not done'], 'the acked one is not handed back');
  });

  test('unsubscribe hands what is pending for it back to the group at once, and removes its consumer', async () => {
    const [leaving, staying] = await Promise.all([start(), start()]);
    const topic = newTopic();
    const subL = await leaving.subscribe(topic);
    const subS = await staying.subscribe(topic);
    await leaving.publish(topic, encode('to retry'), { contentType: 'text/plain', metadata: [['a', 'b']] });
    await leaving.publish(topic, encode('unanswered'));
    const [toRetry, unanswered] = await pullAll(leaving, subL, 2);
    await leaving.ack(subL, toRetry!.id, 'retry');
    const [leavingConsumer] = await consumers(topic);
    await leaving.unsubscribe(subL);
    await leaving.unsubscribe(subL);
    assert.equal((await errorOf(leaving.pull(subL))).tag, 'not-found');

    const t0 = Date.now();
    const copies = await pullAll(staying, subS, 2, 2000);
    assert.ok(Date.now() - t0 < 1200, `redelivered in ${Date.now() - t0} ms`);
    assert.deepEqual(copies.map((m) => ({ ...m, id: undefined })), [toRetry, unanswered].map((m) => ({ ...m, id: undefined })));
    assert.ok(copies.every((m) => m.id !== toRetry!.id && m.id !== unanswered!.id), 'new entries');
    for (const m of copies) await staying.ack(subS, m.id);
    await staying.pull(subS, 0, 0);
    assert.equal(await pendingCount(topic), 0, 'the originals were acknowledged with the copies');
    const left = await consumers(topic);
    assert.ok(leavingConsumer?.startsWith('app-') && left.length === 1 && !left.includes(leavingConsumer), `the leaving consumer is gone: ${left}`);
  });

  test('a subscription\'s metadata may name its own consumerID', async () => {
    const broker = await start();
    const topic = newTopic();
    const app = await broker.subscribe(topic);
    const audit = await broker.subscribe(topic, [['consumerID', 'audit']]);
    await broker.publish(topic, encode('both see it'));
    assert.equal((await pullAll(broker, app, 1)).length, 1);
    const [seen] = await pullAll(broker, audit, 1);
    assert.equal(new TextDecoder().decode(seen!.data), 'both see it');
    await broker.ack(audit, seen!.id);
    await broker.pull(audit, 0, 0);
    assert.equal(await pendingCount(topic, 'audit'), 0);
    assert.equal(await pendingCount(topic, 'app'), 1);
    await broker.unsubscribe(app);
    await broker.unsubscribe(audit);
  });

  test('pull blocks up to its timeout, and returns as soon as a message arrives', async () => {
    const [waiting, publisher] = await Promise.all([start(), start()]);
    const topic = newTopic();
    const sub = await waiting.subscribe(topic);
    let t0 = Date.now();
    assert.deepEqual(await waiting.pull(sub, 10, 700), []);
    const waited = Date.now() - t0;
    assert.ok(waited >= 650 && waited < 2000, `an empty pull waited ${waited} ms for 700`);

    t0 = Date.now();
    const pulled = waiting.pull(sub, 10, 4000);
    await sleep(300);
    await publisher.publish(topic, encode('wake up'));
    const [message] = await pulled;
    const took = Date.now() - t0;
    assert.equal(new TextDecoder().decode(message!.data), 'wake up');
    assert.ok(took >= 290 && took < 2000, `the pull returned ${took} ms after it started, 300 ms before the publish`);

    t0 = Date.now();
    assert.deepEqual(await waiting.pull(sub, 10, 0), []);
    assert.ok(Date.now() - t0 < 200, 'timeout 0 does not wait');
  });

  test('a message a crashed subscriber pulled and never acknowledged is taken over after processingTimeout', async () => {
    const config = { processingTimeout: '300', redeliverInterval: '100ms' };
    const [crashing, survivor] = await Promise.all([start({ config }), start({ config })]);
    const topic = newTopic();
    const subC = await crashing.subscribe(topic);
    const subS = await survivor.subscribe(topic);
    await crashing.publish(topic, encode('orphan'), { metadata: [['x', 'y']] });
    const [taken] = await crashing.pull(subC, 10, 1000);
    assert.equal(new TextDecoder().decode(taken!.data), 'orphan');
    // The instance goes away without an ack or an unsubscribe: its socket is closed with it.
    await crashing.live.close();

    const t0 = Date.now();
    const [again] = await survivor.pull(subS, 10, 3000);
    const took = Date.now() - t0;
    assert.deepEqual(again, taken, 'the same message, under the same id');
    assert.ok(took >= 150 && took < 2000, `taken over after ${took} ms (processingTimeout 300, while the pull waited)`);
    const pending = (await redis.cli('XPENDING', topic, 'app', '-', '+', '10')).split('\n');
    assert.equal(pending[0], taken!.id);
    assert.equal(pending[3], '2', 'delivered twice');
    await survivor.ack(subS, again!.id);
    await survivor.pull(subS, 0, 0);
    assert.equal(await pendingCount(topic), 0);
  });

  test('processingTimeout 0 turns the takeover off', async () => {
    const config = { processingTimeout: '0', redeliverInterval: '50' };
    const [crashing, survivor] = await Promise.all([start({ config }), start({ config })]);
    const topic = newTopic();
    const subC = await crashing.subscribe(topic);
    const subS = await survivor.subscribe(topic);
    await crashing.publish(topic, encode('stays'));
    assert.equal((await crashing.pull(subC, 10, 1000)).length, 1);
    await crashing.live.close();
    assert.deepEqual(await survivor.pull(subS, 10, 600), []);
    assert.equal(await pendingCount(topic), 1);
  });

  test('on a Redis without XAUTOCLAIM (before 6.2) pulls still work, without the takeover, and it says so', async () => {
    const old = await RedisServer.start({ args: ['--rename-command', 'XAUTOCLAIM', ''] });
    try {
      const lines: { level: string; msg: string }[] = [];
      const logger = createLogger({ level: 'debug', json: true, write: (line) => lines.push(JSON.parse(line)) });
      const broker = await start({ server: old, logger });
      const topic = newTopic();
      const sub = await broker.subscribe(topic);
      await broker.publish(topic, encode('still'));
      assert.deepEqual((await pullAll(broker, sub, 1)).map((m) => new TextDecoder().decode(m.data)), ['still']);
      assert.deepEqual(await broker.pull(sub, 10, 200), []);
      const warnings = lines.filter((l) => l.level === 'warn' && /has no XAUTOCLAIM/.test(l.msg));
      assert.equal(warnings.length, 1, JSON.stringify(lines));
      assert.match(warnings[0]!.msg, /it needs Redis 6\.2 or later\): messages a crashed subscriber of topic "topic-\d+-\d+" left pending are not taken over/);
    } finally {
      await old.stop();
    }
  });

  test('a topic whose stream was deleted is made again on the next pull', async () => {
    const broker = await start();
    const topic = newTopic();
    const sub = await broker.subscribe(topic);
    await redis.cli('DEL', topic);
    assert.deepEqual(await broker.pull(sub, 10, 100), []);
    await broker.publish(topic, encode('after'));
    assert.deepEqual((await pullAll(broker, sub, 1)).map((m) => new TextDecoder().decode(m.data)), ['after']);
  });

  test('through adaptPubSub, an ack is not held behind a waiting pull: it reaches Redis while the pull still waits', async () => {
    const pubsub = await adapted();
    const topic = newTopic();
    const sub = await pubsub.subscribe(topic, []);
    await pubsub.publish({ topic, data: encode('first'), metadata: [] });
    const [first] = await sub.pull(10, 3000);
    let returned = false;
    const waiting = sub.pull(10, 30_000).finally(() => (returned = true));
    await sub.ack(first!.id, 'success');
    for (let i = 0; i < 2000 && (await pendingCount(topic)) > 0; i++) await sleep(5);
    assert.equal(await pendingCount(topic), 0, 'the ack reached Redis');
    assert.equal(returned, false, 'the XACK went out while the pull was still waiting for a message');
    await pubsub.publish({ topic, data: encode('second'), metadata: [] });
    const [second] = await waiting;
    assert.equal(new TextDecoder().decode(second!.data), 'second');
    await sub.ack(second!.id, 'success');
    await sub.close();
    assert.equal(await pendingCount(topic), 0, 'close sent the last ack');
  });

  test('through adaptPubSub, the acks held for the next pull go to the old instance before a swap moves the subscription: none comes again', async () => {
    const generation = { number: 1 };
    const pubsub = await adapted(generation);
    const topic = newTopic();
    const sub = await pubsub.subscribe(topic, []);
    for (const text of ['a', 'b']) await pubsub.publish({ topic, data: encode(text), metadata: [] });
    const got = [];
    while (got.length < 2) got.push(...(await sub.pull(10, 3000)));
    for (const message of got) await sub.ack(message.id, 'success');
    generation.number = 2;
    assert.deepEqual(await sub.pull(10, 200), [], 'the acked messages are not handed back to the group');
    assert.equal(await pendingCount(topic), 0);
    await sub.close();
  });

  test('through adaptPubSub, as the pub/sub building block sees it: a dedicated instance per subscription that waits', async () => {
    const pubsub = await adapted();
    const topic = newTopic();
    const [first, second] = [await pubsub.subscribe(topic, []), await pubsub.subscribe(topic, [])];
    assert.equal(first.canWait, true);
    const waiting = first.pull(10, 3000);
    await sleep(200);
    await pubsub.publish({ topic, data: encode('hello'), metadata: [] });
    const [message] = await waiting;
    assert.equal(new TextDecoder().decode(message!.data), 'hello');
    await first.ack(message!.id, 'retry');
    await first.close();
    const [handedBack] = await second.pull(10, 2000);
    assert.equal(new TextDecoder().decode(handedBack!.data), 'hello', 'closing the subscription handed its message to the group');
    await second.ack(handedBack!.id, 'success');
    await second.close();
    assert.equal(await pendingCount(topic), 0);
    assert.deepEqual(await consumers(topic), []);
  });

  test('an address the YAML does not grant is refused inside the component, naming it and the grant', async () => {
    await assert.rejects(start({ grants: [] }), (err: Error) => {
      assert.match(err.message, /failed to start: init refused the configuration: invalid-argument: cannot connect to redisHost 127\.0\.0\.1:\d+: redis at 127\.0\.0\.1:\d+ is not allowed for component "redis-pubsub": it has no tcp grant; grant it with the annotation tessera.dev\/allow-tcp/);
      return true;
    });
    await assert.rejects(start({ grants: ['127.0.0.1:1'] }), /is not allowed for component "redis-pubsub": it may connect to 127\.0\.0\.1:1;/);
  });

  test('the configuration is checked at init, naming the setting', async () => {
    await assert.rejects(start({ config: { redisHost: '' } }), /invalid-argument: redisHost is required/);
    await assert.rejects(start({ config: { redisHost: 'nope:port' } }), /redisHost "nope:port" is not host:port/);
    await assert.rejects(start({ config: { processingTimeout: 'soon' } }), /processingTimeout "soon" is not a duration/);
    await assert.rejects(start({ config: { maxLenApprox: '-1' } }), /maxLenApprox "-1" is not a whole number/);
  });

  test('bad arguments are invalid-argument; unknown subscriptions not-found; unsubscribe is idempotent', async () => {
    const broker = await start();
    const topic = newTopic();
    const sub = await broker.subscribe(topic);
    assert.equal((await errorOf(broker.publish('', encode('x')))).tag, 'invalid-argument');
    assert.equal((await errorOf(broker.subscribe(''))).tag, 'invalid-argument');
    assert.deepEqual(await errorOf(broker.ack(sub, 'nope')), {
      tag: 'invalid-argument',
      val: 'message id "nope" is not one pubsub.redis delivered (a stream entry id, <ms>-<seq>)',
    });
    assert.equal((await errorOf(broker.pull(sub + 1n))).tag, 'not-found');
    assert.equal((await errorOf(broker.ack(sub + 1n, '1-0'))).tag, 'not-found');
    await broker.unsubscribe(sub + 1n);
    assert.deepEqual(await broker.pull(sub, 0, 1000), [], 'max-messages 0 answers at once');
  });

  test('Redis down: calls fail with unavailable, and the broker reconnects once it is back; AUTH with redisPassword', async () => {
    const secured = await RedisServer.start({ args: ['--requirepass', 's3cret'] });
    try {
      await assert.rejects(start({ server: secured }), /init refused the configuration: internal: redis refused PING: NOAUTH .*set redisPassword/);
      await assert.rejects(start({ server: secured, config: { redisPassword: 'wrong' } }), /refused AUTH \(redisUsername, redisPassword\): WRONGPASS/);
      const broker = await start({ server: secured, config: { redisPassword: 's3cret' } });
      const topic = newTopic();
      const sub = await broker.subscribe(topic);
      await broker.ping();

      await secured.stop();
      await broker.ack(sub, '1-0');
      for (const call of [broker.ping(), broker.publish(topic, encode('x')), broker.pull(sub, 10, 100), broker.subscribe(topic), broker.pull(sub, 0, 0)]) {
        const error = await errorOf(call);
        assert.equal(error.tag, 'unavailable', error.val);
        assert.match(error.val, new RegExp(`redis at ${secured.address.replaceAll('.', '\\.')} (is unreachable|broke)|connection to redis at`));
      }
      // (an ack is held for the next pull: it is that pull which finds Redis gone)
      assert.deepEqual(await broker.bulkPublish(topic, [{ entryId: 'a', data: encode('x'), metadata: [] }]).catch((e) => e.componentError.tag), 'unavailable');
      await broker.unsubscribe(sub);

      await secured.restart();
      await broker.ping();
      const again = await broker.subscribe(topic);
      await broker.publish(topic, encode('back'));
      assert.deepEqual((await pullAll(broker, again, 1)).map((m) => new TextDecoder().decode(m.data)), ['back']);
    } finally {
      await secured.stop();
    }
  });
});

describe('pubsub.redis, the module', () => {
  test('the config, JSON and stream-entry unit tests pass (cargo test, native; the shared Redis client\'s run in bindings-redis.test.ts)', needs('rust'), () =>
    cargoTestPasses([COMPONENT_DIR]));

  test('jco embed + jco new accept it as the pubsub-broker world', async () => acceptedAsWorld(await wasmBytes, 'pubsub-broker'));

  test('memory stays flat across many calls: every argument and result is freed', needs('redis'), async () => {
    const unmetered = await CompiledComponent.compile(await wasmBytes, { cpuBudget: 0 });
    const instance = await instantiate(unmetered, { name: 'redis-pubsub', logger: silentLogger, grants: { tcp: [redis.address] } });
    try {
      const call = async <T>(fn: string, ...args: unknown[]): Promise<T> => unwrapResult('redis', fn, (await instance.calls.get(fn)!(...args)) as WitResult<T>);
      await call('init', [['redisHost', redis.address], ['consumerID', 'app']]);
      const topic = newTopic();
      const sub = await call<bigint>('subscribe', topic, []);
      const round = async (i: number): Promise<void> => {
        const meta: Metadata = [['a', `${i}`], ['b', 'c']];
        await call('publish', { topic, data: encode(`${i}:`.padEnd(4000, 'x')), contentType: 'a/b', metadata: meta });
        assert.deepEqual(await call('bulk-publish', topic, [{ entryId: 'x', data: encode('y'), metadata: meta }], [['r', 's']]), []);
        const messages = await call<Message[]>('pull', sub, 5, 100);
        assert.equal(messages.length, 2);
        await call('ack', sub, messages[0]!.id, 'retry');
        const again = await call<Message[]>('pull', sub, 5, 100);
        assert.equal(again[0]!.data.length, 4000);
        for (const m of [...again, messages[1]!]) await call('ack', sub, m.id, 'success');
        assert.equal((await instance.calls.get('ack')!(sub, 'bad', 'drop') as WitResult<unknown>).tag, 'err');
      };
      for (let i = 0; i < 50; i++) await round(i);
      const before = instance.memory.buffer.byteLength;
      for (let i = 50; i < 300; i++) await round(i);
      assert.equal(instance.memory.buffer.byteLength, before, 'no growth after warm-up');
    } finally {
      instance.dispose();
    }
  });

  test("the SDK README's pub/sub example builds, loads and delivers; retry puts a message back", needs('rust', 'redis'), async () => {
    const inbox = await CompiledComponent.compile(await buildReadmeExample('export_pubsub!', 'pubsub-inbox'));
    assert.deepEqual(inbox.manifest, { kind: 'pubsub', type: 'pubsub.inbox', version: 'v1', abi: ABI_VERSION, capabilities: [], description: 'An in-memory pub/sub broker.' });
    assert.equal(inbox.needsJspi, false);
    const broker = new Broker(await LiveComponent.start(inbox, { name: 'inbox', config: new Map([['consumerID', 'app']]), logger: silentLogger }));
    assert.deepEqual([...broker.live.features], []);
    const sub = await broker.subscribe('t');
    await broker.publish('t', Uint8Array.of(0, 255), { contentType: 'a/b', metadata: [['k', 'v']] });
    assert.deepEqual(await broker.bulkPublish('t', [{ entryId: 'e1', data: encode('x'), metadata: [] }], [['r', 's']]), []);
    const [first, second] = await broker.pull(sub);
    assert.deepEqual(first, { id: first!.id, topic: 't', data: Uint8Array.of(0, 255), contentType: 'a/b', metadata: [['k', 'v']] });
    assert.deepEqual(second!.metadata, [['r', 's']], 'the SDK\'s default bulk publish applies request metadata');
    await broker.ack(sub, first!.id, 'retry');
    await broker.ack(sub, second!.id);
    assert.deepEqual(await broker.pull(sub), [first]);
    assert.equal((await errorOf(broker.ack(sub, second!.id))).tag, 'not-found');
    assert.deepEqual(await errorOf(broker.publish('', encode('x'))), { tag: 'invalid-argument', val: 'the topic is empty' });
    await broker.ping();
  });

  test('a rebuild from a copy of the sources in another folder is byte-identical to the committed .wasm', needs('rust'), () =>
    rebuildIsCommitted([join('components-wasm', 'pubsub-redis'), join('components-wasm', 'shared', 'redis-client')]));
});
