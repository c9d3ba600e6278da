// Concurrent delivery to a real HTTP app on loopback, which counts the requests it holds:
// a subscription's maxConcurrentHandlers (its own, else its Component's) is reached and never
// passed, --app-max-concurrency caps every subscription together, failures still retry and
// dead-letter, a stop hands what was at the app back to the broker, and bad values are
// refused naming the subscription or the component.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { MemoryBroker } from '../../../support/memory-pubsub.ts';
import { FakeComponents } from '../../../support/fake-components.ts';
import { FAST_RETRIES, startAppAndSidecar, type PubSubSidecar, type PubSubSidecarOptions } from '../../../support/pubsub-sidecar.ts';
import { pollUntil } from '../../../support/sidecar-process.ts';
import { TestApp } from '../../../support/test-app.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

const setup = (subscriptions: unknown[], options: PubSubSidecarOptions = {}) => startAppAndSidecar(cleanups, subscriptions, options);

async function publishMany(sidecar: PubSubSidecar, topic: string, count: number): Promise<void> {
  for (let n = 0; n < count; n++) {
    const res = await sidecar.publish('pubsub', topic, { n });
    assert.equal(res.status, 204, await res.text());
  }
}

/**
 * Holds every request to the given paths until `open()`, counting those held at once across
 * all of them: `peak` is the most ever held together.
 */
function gate(app: TestApp, paths: string[]): { held: () => number; peak: () => number; open: () => void; received: Map<string, number[]> } {
  let held = 0;
  let peak = 0;
  const opened = Promise.withResolvers<void>();
  const received = new Map<string, number[]>(paths.map((p) => [p, []]));
  for (const path of paths) {
    app.on(path, async (d) => {
      held++;
      peak = Math.max(peak, held);
      await opened.promise;
      held--;
      received.get(path)!.push(d.json.data.n as number);
      return {};
    });
  }
  return { held: () => held, peak: () => peak, open: () => opened.resolve(), received };
}

describe('pub/sub delivery: messages at the app at once', () => {
  it("reaches the subscription's maxConcurrentHandlers and never passes it", async () => {
    const { app, sidecar } = await setup([{ pubsubname: 'pubsub', topic: 'work', route: '/work', metadata: { maxConcurrentHandlers: '4' } }]);
    const door = gate(app, ['/work']);
    await publishMany(sidecar, 'work', 20);
    await pollUntil('4 requests held at the app', () => (door.held() === 4 ? true : undefined));
    await sleep(100); // time for a fifth to arrive, were the limit not kept
    assert.equal(door.held(), 4);
    door.open();
    await pollUntil('20 successes', () => (sidecar.broker.stats.acks.success === 20 ? true : undefined));
    assert.equal(door.peak(), 4);
    assert.deepEqual([...door.received.get('/work')!].sort((a, b) => a - b), Array.from({ length: 20 }, (_, n) => n));
  });

  it("takes the Component's maxConcurrentHandlers when the subscription sets none", async () => {
    const broker = new MemoryBroker();
    const components = new FakeComponents().addPubSub('pubsub', broker.client('myapp'), { maxConcurrentHandlers: '3' });
    const { app, sidecar } = await setup([{ pubsubname: 'pubsub', topic: 'work', route: '/work' }], { broker, components });
    const door = gate(app, ['/work']);
    await publishMany(sidecar, 'work', 12);
    await pollUntil('3 requests held at the app', () => (door.held() === 3 ? true : undefined));
    await sleep(100);
    assert.equal(door.held(), 3);
    door.open();
    await pollUntil('12 successes', () => (broker.stats.acks.success === 12 ? true : undefined));
    assert.equal(door.peak(), 3);
  });

  it('caps the calls of every subscription together at --app-max-concurrency', async () => {
    const { app, sidecar } = await setup(
      [
        { pubsubname: 'pubsub', topic: 'a', route: '/a' },
        { pubsubname: 'pubsub', topic: 'b', route: '/b' },
      ],
      { appMaxConcurrency: 3 },
    );
    const door = gate(app, ['/a', '/b']);
    await publishMany(sidecar, 'a', 10);
    await publishMany(sidecar, 'b', 10);
    await pollUntil('3 requests held at the app', () => (door.held() === 3 ? true : undefined));
    await sleep(100);
    assert.equal(door.held(), 3);
    door.open();
    await pollUntil('20 successes', () => (sidecar.broker.stats.acks.success === 20 ? true : undefined));
    assert.equal(door.peak(), 3);
    assert.equal(door.received.get('/a')!.length, 10);
    assert.equal(door.received.get('/b')!.length, 10);
  });

  it('still retries failures and dead-letters what keeps failing while many are in flight', async () => {
    const { app, sidecar } = await setup([
      { pubsubname: 'pubsub', topic: 'jobs', route: '/jobs', deadLetterTopic: 'jobs-dead', metadata: { maxConcurrentHandlers: '8' } },
      { pubsubname: 'pubsub', topic: 'jobs-dead', route: '/jobs-dead' },
    ]);
    const tries = new Map<number, number>();
    app.on('/jobs', async (d) => {
      const n = d.json.data.n as number;
      tries.set(n, (tries.get(n) ?? 0) + 1);
      await sleep(1);
      if (n === 7) return { status: 500 };
      return n % 3 === 0 && tries.get(n) === 1 ? { body: { status: 'RETRY' } } : {};
    });
    await publishMany(sidecar, 'jobs', 30);
    const [dead] = await app.waitFor('/jobs-dead');
    await pollUntil('30 messages settled', () => (sidecar.broker.stats.acks.success === 31 ? true : undefined));
    assert.deepEqual(dead!.json.data, { n: 7 });
    assert.equal(tries.get(7), 1 + FAST_RETRIES.retryDelaysMs.length);
    for (let n = 0; n < 30; n++) if (n !== 7) assert.equal(tries.get(n), n % 3 === 0 ? 2 : 1, `tries of ${n}`);
    assert.equal(sidecar.broker.stats.acks.retry, 0);
  });

  it('on stop, hands the messages at the app and those not yet sent back to the broker; the next subscriber gets every one', async () => {
    const broker = new MemoryBroker();
    const subscriptions = [{ pubsubname: 'pubsub', topic: 'work', route: '/work', metadata: { maxConcurrentHandlers: '4' } }];
    const first = await setup(subscriptions, { broker });
    const door = gate(first.app, ['/work']);
    await publishMany(first.sidecar, 'work', 20);
    await pollUntil('4 requests held at the app', () => (door.held() === 4 ? true : undefined));
    await first.sidecar.subscriptions.stop();
    door.open();
    assert.equal(broker.stats.acks.success, 0);

    const second = await setup(subscriptions, { broker });
    const got = new Set<number>();
    second.app.on('/work', (d) => {
      got.add(d.json.data.n as number);
      return {};
    });
    await pollUntil('every message at the second app', () => (got.size === 20 ? true : undefined));
  });
});

describe('pub/sub delivery: concurrency settings that cannot be used', () => {
  it('refuses a bad concurrencyMode or maxConcurrentHandlers, naming the subscription or the component', async () => {
    const broker = new MemoryBroker();
    const components = new FakeComponents()
      .addPubSub('pubsub', broker.client('myapp'))
      .addPubSub('badpubsub', broker.client('myapp'), { maxConcurrentHandlers: 'lots' });
    const { sidecar } = await setup(
      [
        { pubsubname: 'pubsub', topic: 'mode', route: '/mode', metadata: { concurrencyMode: 'sometimes' } },
        { pubsubname: 'pubsub', topic: 'zero', route: '/zero', metadata: { maxConcurrentHandlers: '0' } },
        { pubsubname: 'badpubsub', topic: 'fine', route: '/fine' },
      ],
      { broker, components },
    );
    const meta = await sidecar.metadata();
    assert.deepEqual(meta.subscriptions, []);
    const errors = meta.subscriptionStatus.map((s) => s.error as string);
    assert.equal(errors.length, 3, errors.join('\n'));
    assert.match(errors[0]!, /topic mode.*concurrencyMode must be "single" or "parallel", got "sometimes"/);
    assert.match(errors[1]!, /topic zero.*maxConcurrentHandlers must be a positive integer, got "0"/);
    assert.match(errors[2]!, /topic fine.*its pubsub component: metadata maxConcurrentHandlers must be a positive integer, got "lots"/);
  });
});
