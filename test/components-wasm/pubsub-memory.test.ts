// pubsub.memory (components-wasm/pubsub-memory, C++ on sdk/cpp) through the real host:
// CompiledComponent (checks, memory cap, CPU metering), LiveComponent and the host's own
// canonical ABI lifting of the pubsub world: the conformance kit's pub/sub suite, then what is
// its own (order, consumer groups by subscription, visibility timeouts, TTLs, limits, snapshot
// format); then through jco, whose glue reads the Canonical ABI on its own; and the committed
// .wasm must be what its sources build, byte for byte.
import { ABI_VERSION } from '../../abi/ts/manifest.ts';
import { componentEmbed, componentNew, transpile } from '@bytecodealliance/jco';
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BulkPublishEntry, BulkPublishFailure, Message, PublishRequest } from '../../abi/ts/pubsub.ts';
import type { Metadata, WitResult } from '../../abi/ts/types.ts';
import { silentLogger, type Logger } from '../../host/observability/logger.ts';
import { CompiledComponent } from '../../host/sandbox/compiled-component.ts';
import { instantiate } from '../../host/sandbox/component-instance.ts';
import { LiveComponent } from '../../host/sandbox/live-component.ts';
import { restoreSnapshot, takeSnapshot } from '../../host/sandbox/snapshot-stream.ts';
import { buildCppComponent } from '../../host/toolchain/cpp.ts';
import { dataTarget, joined, portOf, sizeOf } from '../support/snapshot-fill.ts';
import { conformanceTests } from '../support/conformance.ts';
import { needs } from '../support/tools.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SOURCE_DIR = fileURLToPath(new URL('../../components-wasm/pubsub-memory/', import.meta.url));
const WASM = join(SOURCE_DIR, 'pubsub-memory.wasm');
const PUBSUB = `tessera:components/pubsub@${ABI_VERSION}#`;
const SNAPSHOT = `tessera:components/snapshot@${ABI_VERSION}#`;
const SNAPSHOT_STREAM = `tessera:components/snapshot-stream@${ABI_VERSION}#`;
const T0 = Date.UTC(2026, 10, 26, 7, 29, 50);

const wasmBytes = readFile(WASM).then((b) => new Uint8Array(b));
const compiled = wasmBytes.then((b) => CompiledComponent.compile(b, { source: 'pubsub-memory.wasm' }));
const encode = (s: string): Uint8Array => new TextEncoder().encode(s);
const decode = (b: Uint8Array): string => new TextDecoder().decode(b);
const show = (v: unknown): string => JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? `${x}n` : x));

/** A logger that keeps what the component logs. */
function capturingLogger(lines: { level: string; message: string }[]): Logger {
  const logger: Logger = {
    debug: (message) => void lines.push({ level: 'debug', message }),
    info: (message) => void lines.push({ level: 'info', message }),
    warn: (message) => void lines.push({ level: 'warn', message }),
    error: (message) => void lines.push({ level: 'error', message }),
    child: () => logger,
    isEnabled: () => true,
  };
  return logger;
}

/** The host clock (`Date.now`, which the clock capability reads) as the test sets it. */
function frozenClock(t: TestContext): { now: number } {
  const clock = { now: T0 };
  t.mock.method(Date, 'now', () => clock.now);
  return clock;
}

/** A started broker with typed calls that return the WIT results as they are. */
class Broker {
  readonly live: LiveComponent;
  readonly logs: { level: string; message: string }[];

  constructor(live: LiveComponent, logs: { level: string; message: string }[]) {
    this.live = live;
    this.logs = logs;
  }

  publish(topic: string, data: string, more: Partial<PublishRequest> = {}): Promise<WitResult<undefined>> {
    const req: PublishRequest = { topic, data: encode(data), metadata: [], ...more };
    return this.live.call('publish', [req]) as Promise<WitResult<undefined>>;
  }

  bulkPublish(topic: string, entries: BulkPublishEntry[], metadata: Metadata = []): Promise<WitResult<BulkPublishFailure[]>> {
    return this.live.call('bulk-publish', [topic, entries, metadata]) as Promise<WitResult<BulkPublishFailure[]>>;
  }

  subscribeResult(topic: string, metadata: Metadata = []): Promise<WitResult<bigint>> {
    return this.live.call('subscribe', [topic, metadata]) as Promise<WitResult<bigint>>;
  }

  async subscribe(topic: string, metadata: Metadata = []): Promise<bigint> {
    const result = await this.subscribeResult(topic, metadata);
    assert.equal(result.tag, 'ok', `subscribe ${topic}: ${show(result.val)}`);
    assert.equal(typeof result.val, 'bigint');
    return result.val as bigint;
  }

  pullResult(subscription: bigint, max = 100): Promise<WitResult<Message[]>> {
    return this.live.call('pull', [subscription, max, 0]) as Promise<WitResult<Message[]>>;
  }

  async pull(subscription: bigint, max = 100): Promise<Message[]> {
    const result = await this.pullResult(subscription, max);
    assert.equal(result.tag, 'ok', `pull ${subscription}: ${show(result.val)}`);
    return result.val as Message[];
  }

  /** The data of the messages pulled, as text. */
  async pullData(subscription: bigint, max = 100): Promise<string[]> {
    return (await this.pull(subscription, max)).map((m) => decode(m.data));
  }

  ack(subscription: bigint, id: string, outcome: 'success' | 'retry' | 'drop' = 'success'): Promise<WitResult<undefined>> {
    return this.live.call('ack', [subscription, id, outcome]) as Promise<WitResult<undefined>>;
  }

  /** Pulls everything waiting and acknowledges it: the data, as text. */
  async drain(subscription: bigint): Promise<string[]> {
    const messages = await this.pull(subscription);
    for (const m of messages) assert.deepEqual(await this.ack(subscription, m.id), OK);
    return messages.map((m) => decode(m.data));
  }

  unsubscribe(subscription: bigint): Promise<WitResult<undefined>> {
    return this.live.call('unsubscribe', [subscription]) as Promise<WitResult<undefined>>;
  }
}

const OK = { tag: 'ok', val: undefined };

async function start(config: [string, string][] = [], module: Promise<CompiledComponent> = compiled): Promise<Broker> {
  const logs: { level: string; message: string }[] = [];
  const live = await LiveComponent.start(await module, {
    name: 'memory-pubsub',
    config: new Map([['consumerID', 'app'], ...config]),
    logger: capturingLogger(logs),
  });
  return new Broker(live, logs);
}

/** The error case and message of a WIT result that must be an error. */
function errorOf(result: WitResult<unknown>): { tag: string; message: string } {
  assert.equal(result.tag, 'err', `expected an error, got ${show(result)}`);
  const e = result.val as { tag: string; val: string };
  return { tag: e.tag, message: e.val };
}

describe('pubsub.memory (C++, through the host)', () => {
  test('exports the pubsub and snapshot interfaces, imports log and clock only, and carries its manifest', async () => {
    const module = await WebAssembly.compile(await wasmBytes);
    const fns = ['init', 'features', 'publish', 'bulk-publish', 'subscribe', 'pull', 'ack', 'unsubscribe', 'ping'].map((f) => PUBSUB + f);
    fns.push(`${SNAPSHOT}snapshot`, `${SNAPSHOT}restore`, ...['snapshot-chunk', 'restore-chunk', 'restore-end'].map((f) => SNAPSHOT_STREAM + f));
    assert.deepEqual(
      WebAssembly.Module.exports(module).map((e) => e.name).sort(),
      // snapshot-begin returns nothing, so it has no post-return.
      ['_initialize', 'cabi_realloc', 'memory', `${SNAPSHOT_STREAM}snapshot-begin`, ...fns, ...fns.map((f) => `cabi_post_${f}`)].sort(),
    );
    assert.deepEqual(
      WebAssembly.Module.imports(module).map((i) => `${i.module} ${i.name}`).sort(),
      [`tessera:components/clock@${ABI_VERSION} now-ms`, `tessera:components/log@${ABI_VERSION} log`],
    );
    const { manifest, optionalExports, needsJspi } = await compiled;
    assert.deepEqual({ ...manifest, description: undefined }, {
      kind: 'pubsub', type: 'pubsub.memory', version: 'v1', abi: ABI_VERSION, capabilities: ['log', 'clock'], description: undefined,
    });
    assert.deepEqual([...optionalExports], ['snapshot', 'snapshot-stream']);
    assert.equal(needsJspi, false, 'no import suspends: pull answers at once, and calls skip JSPI');
  });

  test('init logs its settings; features and ping answer; a bad setting fails the load', async () => {
    const broker = await start([['visibilityTimeoutMs', '2500']]);
    assert.deepEqual(broker.logs, [
      { level: 'debug', message: 'pubsub.memory initialised: consumerID "app", visibilityTimeoutMs 2500, maxMessagesPerTopic 100000' },
    ]);
    assert.deepEqual([...broker.live.features], ['BULK_PUBLISH', 'MESSAGE_TTL']);
    assert.deepEqual(await broker.live.call('ping', []), OK);
    for (const [key, value] of [['visibilityTimeoutMs', 'soon'], ['visibilityTimeoutMs', '0'], ['maxMessagesPerTopic', '-3'], ['maxMessagesPerTopic', '1e3']]) {
      await assert.rejects(start([[key!, value!]]), (err: Error) => {
        assert.match(err.message, new RegExp(`init refused the configuration: invalid-argument: pubsub\\.memory: ${key} "${value}" is not a whole number`));
        return true;
      });
    }
  });

  test('a topic\'s messages come in publish order, exactly as published (70 KB of bytes too); a pull answers at once', async () => {
    const broker = await start();
    const sub = await broker.subscribe('orders');
    for (let i = 0; i < 5; i++) assert.deepEqual(await broker.publish('orders', `m${i}`), OK);
    await broker.publish('orders', '{"n":1}', { contentType: 'application/json', metadata: [['traceparent', '00-ab'], ['k', 'v']] });
    const binary = Uint8Array.from({ length: 70_000 }, (_, i) => i % 251);
    await broker.publish('orders', '', { data: binary });
    await broker.publish('other', 'elsewhere');

    const first = await broker.pull(sub, 3);
    assert.deepEqual(first.map((m) => decode(m.data)), ['m0', 'm1', 'm2']);
    assert.deepEqual(first[0], { id: first[0]!.id, topic: 'orders', data: encode('m0'), contentType: undefined, metadata: [] });
    const rest = await broker.pull(sub, 100);
    assert.deepEqual(rest.slice(0, 2).map((m) => decode(m.data)), ['m3', 'm4']);
    assert.deepEqual(rest[2], { id: rest[2]!.id, topic: 'orders', data: encode('{"n":1}'), contentType: 'application/json', metadata: [['traceparent', '00-ab'], ['k', 'v']] });
    assert.deepEqual(rest[3]!.data, binary);
    assert.equal(rest.length, 4);
    assert.deepEqual(await broker.pull(sub), [], 'nothing waits: pull answers at once with an empty list');
    assert.deepEqual(await broker.pull(sub, 0), []);
  });

  test('a topic keeps what was published before anyone subscribed, for its first consumer group', async () => {
    const broker = await start();
    await broker.publish('early', 'a');
    await broker.publish('early', 'b');
    const sub = await broker.subscribe('early');
    assert.deepEqual(await broker.drain(sub), ['a', 'b']);
  });

  test('consumer groups: one consumer id shares a topic\'s messages, different ids each get all of them', async () => {
    const broker = await start();
    const app1 = await broker.subscribe('t');
    const app2 = await broker.subscribe('t', [['consumerID', 'app']]);
    const other = await broker.subscribe('t', [['consumerID', 'audit']]);
    for (const d of ['a', 'b', 'c', 'd']) await broker.publish('t', d);
    assert.deepEqual(await broker.pullData(app1, 2), ['a', 'b']);
    assert.deepEqual(await broker.pullData(app2, 10), ['c', 'd'], 'the second subscriber of group "app" gets what the first did not take');
    assert.deepEqual(await broker.pullData(app1, 10), []);
    assert.deepEqual(await broker.drain(other), ['a', 'b', 'c', 'd'], 'group "audit" gets every message');
  });

  test('retry: the message is available again at once, ahead of later ones, under a new id', async () => {
    const broker = await start();
    const sub = await broker.subscribe('t');
    for (const d of ['a', 'b', 'c', 'd']) await broker.publish('t', d);
    const [a, b, c] = await broker.pull(sub, 3);
    assert.deepEqual(await broker.ack(sub, b!.id, 'retry'), OK);
    assert.deepEqual(await broker.ack(sub, a!.id, 'success'), OK);
    const again = await broker.pull(sub, 2);
    assert.deepEqual(again.map((m) => decode(m.data)), ['b', 'd'], 'order is kept: b goes back to the front');
    assert.notEqual(again[0]!.id, b!.id);
    assert.equal(errorOf(await broker.ack(sub, b!.id)).tag, 'not-found', 'the old delivery id is spent');
    assert.deepEqual(await broker.ack(sub, again[0]!.id, 'retry'), OK);
    assert.deepEqual(await broker.ack(sub, c!.id, 'retry'), OK);
    assert.deepEqual(await broker.drain(sub), ['b', 'c']);
    assert.deepEqual(await broker.ack(sub, again[1]!.id), OK);
    assert.deepEqual(await broker.pull(sub), []);
  });

  test('an unacknowledged message comes back after the visibility timeout (host clock)', async (t) => {
    const clock = frozenClock(t);
    const broker = await start([['visibilityTimeoutMs', '1000']]);
    const sub = await broker.subscribe('t');
    for (const d of ['a', 'b', 'c']) await broker.publish('t', d);
    const [a] = await broker.pull(sub, 1);
    clock.now += 999;
    const [b] = await broker.pull(sub, 1);
    assert.equal(decode(b!.data), 'b', 'a is still invisible');
    clock.now += 1;
    const redelivered = await broker.pull(sub, 1);
    assert.deepEqual(redelivered.map((m) => decode(m.data)), ['a'], 'a is back, ahead of c');
    assert.equal(errorOf(await broker.ack(sub, a!.id)).tag, 'not-found', 'the first delivery of a is void');
    assert.match(errorOf(await broker.ack(sub, a!.id)).message, /visibility timeout \(1000 ms\) passed/);
    // b timed out too, but no pull has handed it out again: a late ack still counts.
    assert.deepEqual(await broker.ack(sub, b!.id), OK);
    assert.deepEqual(await broker.ack(sub, redelivered[0]!.id), OK);
    assert.deepEqual(await broker.drain(sub), ['c']);
    clock.now += 5000;
    assert.deepEqual(await broker.pull(sub), []);
  });

  test('the visibility timeout defaults to 60 s', async (t) => {
    const clock = frozenClock(t);
    const broker = await start();
    const sub = await broker.subscribe('t');
    await broker.publish('t', 'a');
    assert.equal((await broker.pull(sub)).length, 1);
    clock.now += 59_999;
    assert.deepEqual(await broker.pull(sub), []);
    clock.now += 1;
    assert.deepEqual(await broker.pullData(sub), ['a']);
  });

  test('drop forgets a message for its group only', async () => {
    const broker = await start();
    const sub = await broker.subscribe('t');
    const audit = await broker.subscribe('t', [['consumerID', 'audit']]);
    await broker.publish('t', 'poison');
    await broker.publish('t', 'fine');
    const [poison] = await broker.pull(sub, 1);
    assert.deepEqual(await broker.ack(sub, poison!.id, 'drop'), OK);
    assert.deepEqual(await broker.drain(sub), ['fine']);
    assert.deepEqual(await broker.pull(sub), []);
    assert.deepEqual(await broker.drain(audit), ['poison', 'fine']);
  });

  test('ttlInSeconds expires a message, whether it waits or was handed back', async (t) => {
    const clock = frozenClock(t);
    const broker = await start();
    const sub = await broker.subscribe('t');
    await broker.publish('t', 'short', { metadata: [['ttlInSeconds', '10']] });
    await broker.publish('t', 'long', { metadata: [['ttlInSeconds', '3600']] });
    await broker.publish('t', 'forever', { metadata: [['ttlInSeconds', '']] });
    await broker.publish('t', 'returned', { metadata: [['ttlInSeconds', '10']] });
    const pulled = await broker.pull(sub, 4);
    assert.deepEqual(pulled[0]!.metadata, [['ttlInSeconds', '10']], 'the publish metadata travels with the message');
    assert.deepEqual(await broker.ack(sub, pulled[3]!.id, 'retry'), OK);
    for (const m of pulled.slice(0, 3)) assert.deepEqual(await broker.ack(sub, m.id, 'retry'), OK);
    clock.now += 10_000;
    assert.deepEqual(await broker.drain(sub), ['long', 'forever']);

    // In flight when it expires: its ack still succeeds, and it never comes back.
    await broker.publish('t', 'brief', { metadata: [['ttlInSeconds', '1']] });
    const [brief] = await broker.pull(sub);
    clock.now += 1000;
    assert.deepEqual(await broker.ack(sub, brief!.id, 'retry'), OK);
    assert.deepEqual(await broker.pull(sub), []);

    for (const bad of ['abc', '0', '-1', '1.5', '99999999999']) {
      const error = errorOf(await broker.publish('t', 'x', { metadata: [['ttlInSeconds', bad]] }));
      assert.equal(error.tag, 'invalid-argument');
      assert.equal(error.message, `ttlInSeconds "${bad}" for topic "t" is not a whole number of seconds from 1 to 1000000000`);
    }
  });

  test('unsubscribe stops delivery to that subscription and hands its in-flight messages back', async () => {
    const broker = await start();
    const one = await broker.subscribe('t');
    const two = await broker.subscribe('t');
    for (const d of ['a', 'b', 'c']) await broker.publish('t', d);
    const held = await broker.pull(one, 2);
    assert.deepEqual(await broker.unsubscribe(one), OK);
    assert.deepEqual(await broker.drain(two), ['a', 'b', 'c'], 'a and b are back, ahead of c');
    for (const result of [await broker.pullResult(one), await broker.ack(one, held[0]!.id), await broker.unsubscribe(one)]) {
      const error = errorOf(result);
      assert.equal(error.tag, 'not-found');
      assert.match(error.message, /^subscription \d+ does not exist .*: subscribe again$/);
    }
    // The group outlives its subscriptions, as a Kafka or Redis consumer group does.
    assert.deepEqual(await broker.unsubscribe(two), OK);
    await broker.publish('t', 'while away');
    const back = await broker.subscribe('t');
    assert.ok(back > two, 'subscription ids are never reused');
    assert.deepEqual(await broker.drain(back), ['while away']);
  });

  test('bulk publish: every entry in order, request metadata under each entry\'s own, failures named', async (t) => {
    const clock = frozenClock(t);
    const broker = await start([['maxMessagesPerTopic', '3']]);
    const sub = await broker.subscribe('t');
    const entry = (entryId: string, more: Partial<BulkPublishEntry> = {}): BulkPublishEntry => ({ entryId, data: encode(entryId), metadata: [], ...more });
    const result = await broker.bulkPublish('t', [
      entry('e1', { contentType: 'text/plain', metadata: [['ttlInSeconds', '3600']] }),
      entry('e2'),
      entry('e3', { metadata: [['x', 'y']] }),
      entry('e4'),
      entry('e5'),
    ], [['ttlInSeconds', '5']]);
    assert.equal(result.tag, 'ok');
    assert.deepEqual((result.val as BulkPublishFailure[]).map((f) => f.entryId), ['e4', 'e5']);
    assert.match((result.val as BulkPublishFailure[])[0]!.error, /^topic "t" is full: 3 messages wait/);
    const messages = await broker.pull(sub);
    assert.deepEqual(messages.map((m) => [decode(m.data), m.contentType, m.metadata]), [
      ['e1', 'text/plain', [['ttlInSeconds', '3600']]],
      ['e2', undefined, [['ttlInSeconds', '5']]],
      ['e3', undefined, [['x', 'y'], ['ttlInSeconds', '5']]],
    ]);
    for (const m of messages) await broker.ack(sub, m.id, 'retry');
    clock.now += 5000;
    assert.deepEqual(await broker.drain(sub), ['e1'], 'the request\'s TTL applied to e2 and e3');
    assert.deepEqual(await broker.bulkPublish('t', []), { tag: 'ok', val: [] });
    const bad = await broker.bulkPublish('', [entry('only')]);
    assert.deepEqual(bad, { tag: 'ok', val: [{ entryId: 'only', error: 'pubsub.memory: cannot publish to an empty topic name' }] });
  });

  test('a full topic refuses a publish with unavailable, naming the topic, until its subscribers catch up', async () => {
    const broker = await start([['maxMessagesPerTopic', '3']]);
    const sub = await broker.subscribe('busy');
    for (const d of ['1', '2', '3']) assert.deepEqual(await broker.publish('busy', d), OK);
    const full = errorOf(await broker.publish('busy', '4'));
    assert.deepEqual(full, {
      tag: 'unavailable',
      message: 'topic "busy" is full: 3 messages wait for their subscribers (maxMessagesPerTopic 3); retry once they have caught up, or raise maxMessagesPerTopic',
    });
    assert.deepEqual(await broker.publish('quiet', 'x'), OK, 'the cap is per topic');
    const [first] = await broker.pull(sub, 1);
    assert.equal(errorOf(await broker.publish('busy', '4')).tag, 'unavailable', 'a message in flight still counts');
    assert.deepEqual(await broker.ack(sub, first!.id), OK);
    assert.deepEqual(await broker.publish('busy', '4'), OK);
    assert.deepEqual(await broker.drain(sub), ['2', '3', '4']);
    // A message is kept until every group is done with it.
    const audit = await broker.subscribe('busy', [['consumerID', 'audit']]);
    for (const d of ['5', '6', '7']) await broker.publish('busy', d);
    assert.deepEqual(await broker.drain(sub), ['5', '6', '7']);
    assert.equal(errorOf(await broker.publish('busy', '8')).tag, 'unavailable', 'group "audit" has not read them yet');
    assert.deepEqual(await broker.drain(audit), ['5', '6', '7']);
    assert.deepEqual(await broker.publish('busy', '8'), OK);
  });

  test('malformed calls answer errors, not traps', async () => {
    const broker = await start();
    assert.equal(errorOf(await broker.publish('', 'x')).tag, 'invalid-argument');
    assert.equal(errorOf(await broker.subscribeResult('')).tag, 'invalid-argument');
    assert.equal(errorOf(await broker.pullResult(42n)).tag, 'not-found');
    const sub = await broker.subscribe('t');
    for (const id of ['', 'x', '0', '999', '18446744073709551616']) {
      const error = errorOf(await broker.ack(sub, id));
      assert.equal(error.tag, 'not-found');
      assert.match(error.message, new RegExp(`^message "${id}" is not in flight on subscription ${sub}`));
    }
    await broker.publish('t', 'a');
    const [a] = await broker.pull(sub);
    const other = await broker.subscribe('t');
    assert.equal(errorOf(await broker.ack(other, a!.id)).tag, 'not-found', 'a delivery is acknowledged on its own subscription');
    assert.deepEqual(await broker.ack(sub, a!.id), OK);
  });

  test('snapshot and restore carry queues, cursors, groups, subscriptions and in-flight messages across a swap', async (t) => {
    const clock = frozenClock(t);
    const old = await start([['visibilityTimeoutMs', '1000']]);
    const sub = await old.subscribe('orders');
    const audit = await old.subscribe('orders', [['consumerID', 'audit']]);
    const gone = await old.subscribe('orders');
    assert.deepEqual(await old.unsubscribe(gone), OK);
    const other = await old.subscribe('other ✓');
    for (const d of ['a', 'b', 'c', 'd', 'e']) await old.publish('orders', d);
    await old.publish('orders', 'json', { contentType: 'application/json', metadata: [['k', 'v'], ['ttlInSeconds', '60']] });
    await old.publish('other ✓', 'x');
    await old.publish('unsubscribed', 'waiting');
    const [a, b, c] = await old.pull(sub, 3);
    assert.deepEqual(await old.ack(sub, a!.id), OK);
    assert.deepEqual(await old.ack(sub, b!.id, 'retry'), OK);
    const [auditA] = await old.pull(audit, 1);
    const data = (await old.live.snapshot())!;
    assert.equal(data[0]?.[0], 1, 'a snapshot starts with its format version');
    assert.deepEqual(await old.live.snapshot(), data, 'taking a snapshot changes nothing');

    const next = await start([['visibilityTimeoutMs', '1000']]);
    await next.live.restore(data);
    assert.deepEqual(await next.live.snapshot(), data, 'the restored broker is the same broker');
    // In flight on the old generation: acknowledged on the new one.
    assert.deepEqual(await next.ack(sub, c!.id), OK);
    assert.deepEqual(await next.ack(audit, auditA!.id, 'retry'), OK);
    const rest = await next.pull(sub);
    assert.deepEqual(rest.map((m) => decode(m.data)), ['b', 'd', 'e', 'json'], 'b was handed back; then the cursor goes on');
    assert.deepEqual(rest[3], { id: rest[3]!.id, topic: 'orders', data: encode('json'), contentType: 'application/json', metadata: [['k', 'v'], ['ttlInSeconds', '60']] });
    assert.ok(rest.every((m) => BigInt(m.id) > BigInt(auditA!.id)), 'delivery ids go on from where they were');
    assert.deepEqual(await next.drain(audit), ['a', 'b', 'c', 'd', 'e', 'json']);
    assert.deepEqual(await next.drain(other), ['x']);
    assert.equal(errorOf(await next.pullResult(gone)).tag, 'not-found');
    const late = await next.subscribe('unsubscribed');
    assert.ok(late > other, 'subscription ids go on from where they were');
    assert.deepEqual(await next.drain(late), ['waiting']);

    // Visibility deadlines cross too: a message in flight at the swap comes back after it.
    const swap = await start([['visibilityTimeoutMs', '1000']]);
    await swap.live.restore(data);
    clock.now += 999;
    assert.deepEqual((await swap.pull(sub)).map((m) => decode(m.data)), ['b', 'd', 'e', 'json']);
    clock.now += 1;
    assert.deepEqual(await swap.pullData(sub), ['c'], 'c was still in flight, and its timeout ran out');
    // TTLs cross as absolute times.
    const ttl = await start();
    await ttl.live.restore(data);
    clock.now += 60_000;
    assert.deepEqual(await ttl.pullData(sub), ['b', 'c', 'd', 'e'], 'json expired 60 s after it was published; c timed out');
    assert.deepEqual(ttl.logs.at(-1), { level: 'debug', message: `pubsub.memory restored 3 topics, 8 messages, 3 subscriptions and 2 deliveries in flight from a snapshot of ${sizeOf(data)} bytes` });
  });

  test('restore refuses an empty, foreign, truncated, padded or inconsistent snapshot and keeps its state', async () => {
    const broker = await start();
    const sub = await broker.subscribe('t', [['consumerID', 'g']]);
    await broker.publish('t', 'a', { contentType: 'c', metadata: [['k', 'v']] });
    await broker.publish('t', 'b');
    await broker.pull(sub, 1);
    const data = new Uint8Array(Buffer.concat((await broker.live.snapshot())!));
    const prefix = 'pubsub.memory cannot restore this snapshot: ';
    const refusal = async (bytes: Uint8Array): Promise<string> => {
      const result = (await broker.live.call('snapshot#restore', [bytes])) as WitResult<undefined>;
      const error = errorOf(result);
      assert.equal(error.tag, 'invalid-argument');
      assert.ok(error.message.startsWith(prefix), error.message);
      return error.message.slice(prefix.length);
    };
    assert.equal(await refusal(new Uint8Array(0)), 'it is empty (not even a format version byte)');
    assert.equal(await refusal(Uint8Array.of(2, ...data.subarray(1))), 'its format version is 2, and this version of pubsub.memory reads format version 1 only (was it taken by a newer pubsub.memory?)');
    for (let n = 1; n < data.length; n++) assert.match(await refusal(data.subarray(0, n)), /^it ends inside its data \(\d+ bytes; a read at byte \d+ ran past the end\)$/, `cut at ${n}`);
    assert.equal(await refusal(Uint8Array.of(...data, 0)), '1 bytes follow its last delivery (it holds 1 topics)');
    // The delivery in flight names subscription `sub`: point it at one that does not exist.
    const orphan = data.slice();
    new DataView(orphan.buffer).setBigUint64(data.length - 24, 77n, true);
    assert.match(await refusal(orphan), /^delivery \d+ belongs to subscription 77, which it does not hold$/);
    assert.deepEqual(new Uint8Array(Buffer.concat((await broker.live.snapshot())!)), data, 'every refusal left the state as it was');
    assert.deepEqual(await broker.live.call('snapshot#restore', [data]), OK);
  });

  test('a snapshot streamed in chunks is the whole snapshot, and restores chunk by chunk', async () => {
    const broker = await start();
    const sub = await broker.subscribe('orders');
    await broker.subscribe('orders', [['consumerID', 'audit']]);
    for (let i = 0; i < 40; i++) await broker.publish(i % 3 ? 'orders' : 'other', 'x'.repeat(i * 11), { contentType: 'text/plain', metadata: [['i', `${i}`]] });
    const [first] = await broker.pull(sub, 1);
    const whole = (await broker.live.call('snapshot#snapshot', [])) as Uint8Array;
    for (const chunkBytes of [1, 64, 1000, 1 << 20]) {
      const chunks = await takeSnapshot(portOf(broker.live), { chunkBytes });
      assert.deepEqual(joined(chunks), whole, `chunks of ${chunkBytes} bytes joined`);
      const next = await start();
      await restoreSnapshot(portOf(next.live), chunks);
      assert.deepEqual(joined(await takeSnapshot(portOf(next.live))), whole, 'the restored broker is the same broker');
      assert.deepEqual(await next.ack(sub, first!.id), OK, 'the delivery in flight is acknowledged on the restored broker');
    }
    // Cut at a chunk boundary: the stream stops short, and the broker keeps what it had.
    const chunks = await takeSnapshot(portOf(broker.live), { chunkBytes: 64 });
    const next = await start();
    await next.publish('mine', 'kept');
    await assert.rejects(restoreSnapshot(portOf(next.live), chunks.slice(0, 5)), /refused the snapshot: invalid-argument: pubsub\.memory cannot restore this snapshot: it ends inside its data/);
    await assert.rejects(restoreSnapshot(portOf(next.live), [chunks[0]!, chunks[1]!.subarray(0, 3)]), /it ends inside its data/);
    const mine = await next.subscribe('mine');
    assert.deepEqual(await next.pullData(mine), ['kept']);
  });

  test('messages filling 90% of an 8 MiB memory limit cross snapshot and restore, with groups and deliveries in flight', async () => {
    // The whole-snapshot export needs a second copy of every message in the broker's memory;
    // the stream one chunk at a time, on both sides.
    const memoryLimitBytes = 8 * 1024 * 1024;
    const capped = CompiledComponent.compile(await wasmBytes, { source: 'pubsub-memory.wasm', memoryLimitBytes });
    const old = await start([], capped);
    const sub = await old.subscribe('orders');
    const audit = await old.subscribe('orders', [['consumerID', 'audit']]);
    const target = dataTarget(await wasmBytes, memoryLimitBytes);
    const sent: Uint8Array[] = [];
    for (let total = 0; total < target; ) {
      const i = sent.length;
      const data = new Uint8Array([12, 16, 20][i % 3]! * 1024).fill(i & 0xff);
      data.set(encode(`message ${i}`));
      assert.deepEqual(await old.live.call('publish', [{ topic: 'orders', data, contentType: i % 2 ? 'application/octet-stream' : undefined, metadata: [['n', `${i}`]] }]), OK);
      sent.push(data);
      total += data.length;
    }
    const inFlight = await old.pull(sub, 2);
    assert.deepEqual(await old.ack(sub, inFlight[0]!.id), OK);
    const data = await takeSnapshot(portOf(old.live));
    assert.ok(sizeOf(data) > 0.85 * memoryLimitBytes && data.length > 20, `${sizeOf(data)} bytes in ${data.length} chunks`);

    const next = await start([], capped);
    await restoreSnapshot(portOf(next.live), data);
    assert.deepEqual(joined(await takeSnapshot(portOf(next.live))), joined(data), 'every topic, message, group, subscription and delivery');
    // One at a time: a pull copies what it hands over.
    const received: Uint8Array[] = [];
    for (;;) {
      const [m] = await next.pull(sub, 1);
      if (m === undefined) break;
      received.push(m.data);
      assert.deepEqual(await next.ack(sub, m.id), OK);
    }
    assert.equal(received.length, sent.length - 2, 'all but the acknowledged one and the one in flight');
    assert.ok(received.every((d, i) => Buffer.compare(d, sent[i + 2]!) === 0), 'in order, byte for byte');
    assert.deepEqual(await next.ack(sub, inFlight[1]!.id), OK, 'the one in flight is acknowledged on the new broker');
    const [auditFirst] = await next.pull(audit, 1);
    assert.deepEqual(auditFirst?.data, sent[0], 'the other group starts from the first message');

    await assert.rejects(old.live.call('snapshot#snapshot', []), /trapped in snapshot#snapshot/, 'the whole snapshot does not fit beside the messages');
  });

  test('jco embed + jco new accept it as the snapshotting-pubsub-broker world, and jco\'s own lifting agrees', async () => {
    // wit-component checks every core signature against the WIT; jco's generated glue then
    // lifts and lowers by its own reading of the Canonical ABI, independently of the host's.
    const witDir = join(ROOT, 'abi', 'wit');
    let wit = `package tessera:components@${ABI_VERSION};\n`;
    for (const file of (await readdir(witDir)).sort()) wit += (await readFile(join(witDir, file), 'utf8')).replace(/^package .*;$/m, '');
    const component = await componentNew(await componentEmbed({ binary: await wasmBytes, witSource: wit, world: 'snapshotting-pubsub-broker', stringEncoding: 'utf8' }));
    const { files } = await transpile(component, { name: 'broker', instantiation: 'async', noTypescript: true });
    const dir = await mkdtemp(join(tmpdir(), 'tessera-jco-pubsub-'));
    try {
      for (const [name, bytes] of Object.entries(files)) {
        await mkdir(dirname(join(dir, name)), { recursive: true });
        await writeFile(join(dir, name), bytes);
      }
      const { instantiate: instantiateComponent } = await import(pathToFileURL(join(dir, 'broker.js')).href);
      const { pubsub, snapshot } = await instantiateComponent((path: string) => readFile(join(dir, path)).then((b) => WebAssembly.compile(b)), {
        'tessera:components/log': { log() {} },
        'tessera:components/clock': { nowMs: () => BigInt(T0), monotonicNs: () => 0n },
        'tessera:components/types': {},
      });
      const isError = (tag: string) => (e: { payload?: { tag?: string } }) => e.payload?.tag === tag;
      pubsub.init([['consumerID', 'app']]);
      assert.deepEqual(pubsub.features(), ['BULK_PUBLISH', 'MESSAGE_TTL']);
      const sub: bigint = pubsub.subscribe('t', []);
      assert.equal(typeof sub, 'bigint');
      assert.throws(() => pubsub.subscribe('', []), isError('invalid-argument'));
      pubsub.publish({ topic: 't', data: Uint8Array.of(1, 2), contentType: 'a/b', metadata: [['k', 'v']] });
      assert.deepEqual(pubsub.bulkPublish('t', [
        { entryId: 'e1', data: Uint8Array.of(3), contentType: undefined, metadata: [] },
        { entryId: 'e2', data: Uint8Array.of(4), contentType: 'c/d', metadata: [['x', 'y']] },
      ], [['r', 's']]), []);
      const messages = pubsub.pull(sub, 10, 0);
      assert.deepEqual(messages.map((m: Message) => ({ ...m, id: undefined })), [
        { id: undefined, topic: 't', data: Uint8Array.of(1, 2), contentType: 'a/b', metadata: [['k', 'v']] },
        { id: undefined, topic: 't', data: Uint8Array.of(3), contentType: undefined, metadata: [['r', 's']] },
        { id: undefined, topic: 't', data: Uint8Array.of(4), contentType: 'c/d', metadata: [['x', 'y'], ['r', 's']] },
      ]);
      pubsub.ack(sub, messages[0].id, 'success');
      pubsub.ack(sub, messages[1].id, 'retry');
      assert.throws(() => pubsub.ack(sub, messages[0].id, 'drop'), isError('not-found'));
      assert.throws(() => pubsub.pull(sub + 1n, 1, 0), isError('not-found'));
      const data = snapshot.snapshot();
      assert.ok(data instanceof Uint8Array && data[0] === 1, 'a snapshot starts with its format version');
      pubsub.unsubscribe(sub);
      snapshot.restore(data);
      assert.deepEqual(pubsub.pull(sub, 10, 0).map((m: Message) => [...m.data]), [[3]]);
      pubsub.ack(sub, messages[2].id, 'drop');
      assert.throws(() => snapshot.restore(Uint8Array.of(9)), isError('invalid-argument'));
      pubsub.ping();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('memory stays flat across many calls: every argument and result is freed', async () => {
    // Unmetered: one instance takes thousands of calls here without the host resetting its fuel.
    const unmetered = await CompiledComponent.compile(await wasmBytes, { cpuBudget: 0 });
    const instance = await instantiate(unmetered, { name: 'memory-pubsub', logger: silentLogger });
    const call = (fn: string, ...args: unknown[]) => instance.calls.get(fn)!(...args) as WitResult<unknown>;
    assert.equal(call('init', [['consumerID', 'app']]).tag, 'ok');
    const sub = call('subscribe', 't', [['consumerID', 'app']]).val as bigint;
    const payload = (i: number) => encode(`${i}:`.padEnd(4000, String.fromCharCode(97 + (i % 26))));
    const round = (i: number) => {
      const meta: Metadata = [['a', `${i}`], ['b', 'c']];
      assert.equal(call('publish', { topic: 't', data: payload(i), contentType: 'a/b', metadata: meta }).tag, 'ok');
      const failures = call('bulk-publish', 't', [
        { entryId: 'x', data: payload(i + 1), contentType: undefined, metadata: meta },
        { entryId: 'y', data: payload(i + 2), contentType: 'c', metadata: [] },
      ], [['ttlInSeconds', 'bad']]);
      assert.equal((failures.val as BulkPublishFailure[]).length, 2);
      const messages = call('pull', sub, 5, 0).val as Message[];
      assert.equal(messages.length, 1);
      assert.equal(messages[0]!.data.length, 4000);
      assert.equal(call('ack', sub, messages[0]!.id, 'retry').tag, 'ok');
      const again = call('pull', sub, 5, 0).val as Message[];
      assert.deepEqual(again.map((m) => m.data), [payload(i)]);
      assert.equal(call('ack', sub, again[0]!.id, i % 2 === 0 ? 'success' : 'drop').tag, 'ok');
      assert.equal(call('ack', sub, 'nope', 'drop').tag, 'err');
      if (i % 100 === 0) assert.equal((call('snapshot#snapshot') as unknown as Uint8Array)[0], 1);
    };
    for (let i = 0; i < 200; i++) round(i);
    const before = instance.memory.buffer.byteLength;
    for (let i = 200; i < 3200; i++) round(i);
    assert.equal(instance.memory.buffer.byteLength, before, 'about 36 MB of messages went through; none of it should stay');
  });

  test('a bad ack outcome or pointer traps, as the canonical ABI requires', async () => {
    const instance = new WebAssembly.Instance(await WebAssembly.compile(await wasmBytes), {
      [`tessera:components/log@${ABI_VERSION}`]: { log() {} },
      [`tessera:components/clock@${ABI_VERSION}`]: { 'now-ms': () => BigInt(T0) },
    });
    const exports = instance.exports as Record<string, Function>;
    exports._initialize!();
    // subscribe returns result<u64, error>: 8-aligned, the id at 8.
    const ret = exports[`${PUBSUB}subscribe`]!(1, 0, 1, 0) as number;
    const view = new DataView((exports.memory as unknown as WebAssembly.Memory).buffer);
    assert.equal(ret % 8, 0);
    assert.equal(view.getUint8(ret), 1, 'an empty topic is an error');
    assert.equal(view.getUint8(ret + 8), 3, 'invalid-argument, at 8');
    exports[`cabi_post_${PUBSUB}subscribe`]!(ret);
    assert.throws(() => exports[`${PUBSUB}ack`]!(1n, 1, 0, 3), WebAssembly.RuntimeError);
  });

  test('the README\'s pub/sub example builds with the plain pubsub-broker exports and serves', needs('clang'), async () => {
    const readme = await readFile(join(ROOT, 'sdk', 'cpp', 'README.md'), 'utf8');
    const source = /```cpp\n(\/\/ pubsub\.fanout[\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(source, 'sdk/cpp/README.md has a ```cpp example starting `// pubsub.fanout`');
    const dir = await mkdtemp(join(tmpdir(), 'tessera-cpp-pubsub-readme-'));
    try {
      await mkdir(join(dir, 'pubsub-fanout'));
      await writeFile(join(dir, 'pubsub-fanout', 'main.cpp'), source);
      const bytes = await buildCppComponent(join(dir, 'pubsub-fanout'), join(dir, 'pubsub-fanout.wasm'));
      const fanout = await CompiledComponent.compile(bytes);
      assert.deepEqual({ kind: fanout.manifest.kind, type: fanout.manifest.type }, { kind: 'pubsub', type: 'pubsub.fanout' });
      assert.deepEqual([...fanout.importedInterfaces], ['log']);
      assert.deepEqual([...fanout.optionalExports], [], 'no snapshot interface');
      const broker = await start([], Promise.resolve(fanout));
      assert.deepEqual(broker.logs, [{ level: 'info', message: 'pubsub.fanout ready' }]);
      assert.deepEqual([...broker.live.features], ['BULK_PUBLISH']);
      const one = await broker.subscribe('t');
      const two = await broker.subscribe('t');
      assert.deepEqual(await broker.bulkPublish('t', [{ entryId: 'a', data: encode('a'), metadata: [] }, { entryId: 'b', data: encode('b'), metadata: [] }]), { tag: 'ok', val: [] });
      assert.deepEqual(await broker.pullData(one), ['a', 'b']);
      assert.deepEqual(await broker.pullData(two), ['a', 'b']);
      assert.deepEqual(await broker.ack(one, '0'), OK);
      assert.equal(errorOf(await broker.publish('', 'x')).tag, 'invalid-argument');
      assert.deepEqual(await broker.unsubscribe(one), OK);
      assert.equal(errorOf(await broker.pullResult(one)).tag, 'not-found');
      await broker.live.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a rebuild from a copy of the sources in another folder is byte-identical to the committed .wasm', needs('clang'), async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tessera-pubsub-rebuild-'));
    try {
      const copy = join(dir, 'somewhere', 'else', 'pubsub-memory');
      await cp(SOURCE_DIR, copy, { recursive: true, filter: (src) => !src.endsWith('.wasm') });
      const out = join(dir, 'rebuilt.wasm');
      await buildCppComponent(copy, out);
      const [committed, rebuilt] = await Promise.all([wasmBytes, readFile(out)]);
      assert.ok(Buffer.compare(committed, rebuilt) === 0, `committed ${committed.length} bytes, rebuilt ${rebuilt.length}: rebuild components-wasm/pubsub-memory with the C++ builder`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

conformanceTests('pubsub-memory.wasm', async () => ({ bytes: await wasmBytes, source: 'pubsub-memory.wasm' }));
