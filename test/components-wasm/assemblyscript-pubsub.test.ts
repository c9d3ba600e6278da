// The AssemblyScript SDK's pubsub-broker world (sdk/assemblyscript/assembly/pubsub*.ts): a tiny
// in-memory broker written against the SDK is built at test time, outside the checkout, with
// the same builder as the bundled AssemblyScript components, and driven through the real host
// (CompiledComponent, LiveComponent and the host's own canonical ABI lifting), and through the
// conformance kit's pub/sub suite.
import { ABI_VERSION } from '../../abi/ts/manifest.ts';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { before, describe, test } from 'node:test';
import type { Message } from '../../abi/ts/pubsub.ts';
import type { WitResult } from '../../abi/ts/types.ts';
import { silentLogger } from '../../host/observability/logger.ts';
import { CompiledComponent } from '../../host/sandbox/compiled-component.ts';
import { LiveComponent } from '../../host/sandbox/live-component.ts';
import { readManifest } from '../../host/sandbox/manifest.ts';
import { buildAssemblyScriptComponent } from '../../host/toolchain/assemblyscript.ts';
import { SDK_DIRS } from '../../host/toolchain/build-support.ts';
import { conformanceTests } from '../support/conformance.ts';
import { tempDir } from '../support/temp-dir.ts';

const PUBSUB = `tessera:components/pubsub@${ABI_VERSION}#`;
const OK = { tag: 'ok', val: undefined };
const encode = (s: string): Uint8Array => new TextEncoder().encode(s);

/** A broker with one queue per topic; pull answers at once; metadata `fail` makes publish fail. */
function brokerSource(sdk: string): string {
  return `export * from "${sdk}/pubsub-exports";
import {
  AckOutcome, log, Message, Metadata, PublishRequest, PubSub, PubSubFeature, PullResult,
  registerPubSub, StateError, SubscribeResult,
} from "${sdk}/pubsub";

class Subscription {
  inflight: Map<string, Message> = new Map<string, Message>();
  constructor(public topic: string) {}
}

class TinyBroker extends PubSub {
  private queues: Map<string, Message[]> = new Map<string, Message[]>();
  private subscriptions: Map<u64, Subscription> = new Map<u64, Subscription>();
  private nextSubscription: u64 = 0x1_0000_0001;
  private nextMessage: u32 = 1;
  private consumer: string = "";

  init(config: Metadata): StateError | null {
    const consumer = config.get("consumerID");
    if (consumer === null) return StateError.invalidArgument("consumerID is missing");
    this.consumer = consumer;
    log.info("tiny broker ready for " + consumer);
    return null;
  }

  features(): string[] {
    return [PubSubFeature.BULK_PUBLISH];
  }

  private queue(topic: string): Message[] {
    if (!this.queues.has(topic)) this.queues.set(topic, new Array<Message>());
    return this.queues.get(topic);
  }

  publish(req: PublishRequest): StateError | null {
    if (req.topic.length == 0) return StateError.invalidArgument("the topic is empty");
    const fail = req.metadata.get("fail");
    if (fail !== null) return StateError.unavailable(fail);
    const id = "m" + this.nextMessage.toString();
    this.nextMessage++;
    this.queue(req.topic).push(new Message(id, req.topic, req.data, req.contentType, req.metadata));
    return null;
  }

  subscribe(topic: string, metadata: Metadata): SubscribeResult {
    if (topic.length == 0) return SubscribeResult.failed(StateError.invalidArgument("the topic is empty"));
    const id = this.nextSubscription++;
    this.subscriptions.set(id, new Subscription(topic));
    return SubscribeResult.ok(id);
  }

  pull(subscription: u64, maxMessages: u32, timeoutMs: u32): PullResult {
    if (!this.subscriptions.has(subscription)) return PullResult.failed(StateError.notFound("no subscription " + subscription.toString()));
    const sub = this.subscriptions.get(subscription);
    const queue = this.queue(sub.topic);
    const out = new Array<Message>();
    while (queue.length > 0 && <u32>out.length < maxMessages) {
      const message = queue.shift();
      sub.inflight.set(message.id, message);
      out.push(message);
    }
    return PullResult.ok(out);
  }

  ack(subscription: u64, messageId: string, outcome: AckOutcome): StateError | null {
    if (!this.subscriptions.has(subscription)) return StateError.notFound("no subscription " + subscription.toString());
    const sub = this.subscriptions.get(subscription);
    if (!sub.inflight.has(messageId)) return StateError.notFound("no message " + messageId + " in flight");
    const message = sub.inflight.get(messageId);
    sub.inflight.delete(messageId);
    if (outcome == AckOutcome.Retry) this.queue(sub.topic).unshift(message);
    return null;
  }

  unsubscribe(subscription: u64): StateError | null {
    if (!this.subscriptions.has(subscription)) return StateError.notFound("no subscription " + subscription.toString());
    const sub = this.subscriptions.get(subscription);
    const messages = sub.inflight.values();
    for (let i = messages.length - 1; i >= 0; i--) this.queue(sub.topic).unshift(messages[i]);
    this.subscriptions.delete(subscription);
    return null;
  }
}

registerPubSub(new TinyBroker());
`;
}

/** Builds the tiny broker once, outside the checkout, for the tests and the conformance kit. */
const built = (async () => {
  const dir = await tempDir('tessera-as-pubsub-');
  const component = join(dir.path, 'tiny-broker');
  await mkdir(join(component, 'assembly'), { recursive: true });
  const sdk = relative(join(component, 'assembly'), SDK_DIRS.as);
  await writeFile(join(component, 'assembly', 'index.ts'), brokerSource(sdk.startsWith('.') ? sdk : `./${sdk}`));
  await writeFile(
    join(component, 'manifest.json'),
    JSON.stringify({ kind: 'pubsub', type: 'pubsub.tiny', version: 'v1', abi: ABI_VERSION, capabilities: ['log'], description: 'A tiny test broker.' }),
  );
  try {
    return await buildAssemblyScriptComponent(component, join(dir.path, 'tiny-broker.wasm'));
  } finally {
    await dir.remove();
  }
})();

describe('AssemblyScript SDK: pubsub-broker world', () => {
  let bytes: Uint8Array;
  let compiled: CompiledComponent;

  before(async () => {
    bytes = await built;
    compiled = await CompiledComponent.compile(bytes);
  });

  async function start(): Promise<LiveComponent> {
    return LiveComponent.start(compiled, { name: 'b', config: new Map([['consumerID', 'app']]), logger: silentLogger });
  }

  test('the build gives the canonical exports and the pubsub manifest', async () => {
    const exports = WebAssembly.Module.exports(new WebAssembly.Module(bytes as BufferSource)).map((e) => e.name);
    for (const fn of ['init', 'features', 'publish', 'bulk-publish', 'subscribe', 'pull', 'ack', 'unsubscribe', 'ping']) {
      assert.ok(exports.includes(`${PUBSUB}${fn}`), `missing ${fn}`);
      assert.ok(exports.includes(`cabi_post_${PUBSUB}${fn}`), `missing post-return of ${fn}`);
    }
    assert.deepEqual(exports.filter((e) => !e.includes(PUBSUB)).sort(), ['_initialize', 'cabi_realloc', 'memory']);
    const manifest = readManifest(bytes);
    assert.equal(manifest.kind, 'pubsub');
    assert.equal(manifest.type, 'pubsub.tiny');
  });

  test('a subscription id keeps the high bits of its u64', async () => {
    const live = await start();
    assert.deepEqual(await live.call('subscribe', ['t', []]), { tag: 'ok', val: 0x1_0000_0001n });
    assert.deepEqual(await live.call('pull', [0x1_0000_0001n, 10, 0]), { tag: 'ok', val: [] });
    assert.deepEqual(await live.call('unsubscribe', [0x1_0000_0001n]), OK);
  });

  test('bulk publish: the default loops over publish, merges request metadata, answers the failures', async () => {
    const live = await start();
    const id = ((await live.call('subscribe', ['bulk', []])) as WitResult<bigint>).val as bigint;
    const result = await live.call('bulk-publish', [
      'bulk',
      [
        { entryId: 'a', data: encode('one'), contentType: 'text/plain', metadata: [] },
        { entryId: 'b', data: encode('two'), metadata: [['fail', 'broker down']] },
        { entryId: 'c', data: new Uint8Array([9, 0, 9]), metadata: [['x', 'entry']] },
      ],
      [['x', 'request'], ['y', 'shared']],
    ]);
    assert.deepEqual(result, { tag: 'ok', val: [{ entryId: 'b', error: 'unavailable: broker down' }] });
    const pulled = (await live.call('pull', [id, 10, 0])) as WitResult<Message[]>;
    assert.equal(pulled.tag, 'ok');
    const messages = pulled.val as Message[];
    assert.deepEqual(messages.map((m) => Array.from(m.data)), [Array.from(encode('one')), [9, 0, 9]]);
    assert.equal(messages[0]!.contentType, 'text/plain');
    assert.deepEqual(messages[0]!.metadata, [['x', 'request'], ['y', 'shared']]);
    assert.deepEqual(messages[1]!.metadata, [['x', 'entry'], ['y', 'shared']]);
    assert.deepEqual(await live.call('bulk-publish', ['bulk', [], []]), { tag: 'ok', val: [] });
  });

  test('errors come back as error results, and the instance keeps serving', async () => {
    const live = await start();
    assert.deepEqual(await live.call('publish', [{ topic: '', data: encode('x'), metadata: [] }]), { tag: 'err', val: { tag: 'invalid-argument', val: 'the topic is empty' } });
    assert.deepEqual(await live.call('subscribe', ['', []]), { tag: 'err', val: { tag: 'invalid-argument', val: 'the topic is empty' } });
    assert.deepEqual(await live.call('pull', [42n, 10, 0]), { tag: 'err', val: { tag: 'not-found', val: 'no subscription 42' } });
    assert.deepEqual(await live.call('ack', [42n, 'm1', 'success']), { tag: 'err', val: { tag: 'not-found', val: 'no subscription 42' } });
    assert.deepEqual(await live.call('unsubscribe', [42n]), { tag: 'err', val: { tag: 'not-found', val: 'no subscription 42' } });
    const id = ((await live.call('subscribe', ['t', []])) as WitResult<bigint>).val as bigint;
    assert.deepEqual(await live.call('ack', [id, 'nope', 'success']), { tag: 'err', val: { tag: 'not-found', val: 'no message nope in flight' } });
    assert.deepEqual(await live.call('publish', [{ topic: 't', data: encode('still here'), metadata: [] }]), OK);
    const pulled = (await live.call('pull', [id, 10, 0])) as WitResult<Message[]>;
    assert.equal((pulled.val as Message[]).length, 1);
  });
});

conformanceTests('the tiny AssemblyScript broker', async () => ({ bytes: await built, source: 'tiny-broker.wasm' }));
