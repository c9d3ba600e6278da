// Topics and consumer groups: a subscriber gets its own topic's messages only; subscriptions
// under one `consumerID` share a topic's messages (each goes to one of them), and, where a
// broker's instances share their messages (it keeps them outside, over tcp or http), another
// `consumerID` gets every message too. The WIT names `consumerID` in `init`'s config only, so
// no check gives it in a subscription's metadata.
import type { Message } from '../../../../abi/ts/pubsub.ts';
import { collect, expectDelivered, expectQuiet, fail, publish, pullOnce, texts, type Check } from './harness.ts';
import type { Subject } from '../check.ts';

/** A broker that imports neither tcp nor http keeps its messages in its own instance. */
const sharesAcrossInstances = (subject: Subject): string | undefined =>
  subject.compiled.manifest.capabilities.some((c) => c === 'tcp' || c === 'http')
    ? undefined
    : 'keeps its messages in its instance (it imports neither tcp nor http): two consumer ids would mean two brokers';

export const topicChecks: Check[] = [
  {
    area: 'topics',
    name: 'topics are kept apart: a subscriber gets its topic\'s messages only',
    async run({ pubsub, topic }) {
      const [a, b, c] = [topic('apart-a'), topic('apart-b'), topic('apart-c')];
      const subA = await pubsub.subscribe(a, []);
      const subB = await pubsub.subscribe(b, []);
      await publish(pubsub, a, 'a1');
      await publish(pubsub, b, 'b1');
      await publish(pubsub, c, 'c1 (no subscriber)');
      await publish(pubsub, a, 'a2');
      const gotA = await expectDelivered(subA, ['a1', 'a2'], `after publishes to ${a}, ${b} and ${c}`);
      const gotB = await expectDelivered(subB, ['b1'], `after publishes to ${a}, ${b} and ${c}`);
      for (const m of [...gotA, ...gotB]) if (m.topic !== (gotA.includes(m) ? a : b)) fail(`a message came with topic ${JSON.stringify(m.topic)} on a subscription to another`);
      await expectQuiet(subA, 'after its own two messages');
      await expectQuiet(subB, 'after its own message');
    },
  },
  {
    area: 'consumer groups',
    name: 'subscriptions under one consumerID share a topic: each message goes to one of them',
    async run({ pubsub, topic }) {
      const t = topic('shared');
      const one = await pubsub.subscribe(t, []);
      const two = await pubsub.subscribe(t, []);
      const want = ['s0', 's1', 's2', 's3', 's4', 's5'];
      for (const d of want) await publish(pubsub, t, d);
      const got: Message[] = [];
      const deadline = Date.now() + 3000;
      // Small pulls from each in turn, so both get the chance to take some.
      while (got.length < want.length && Date.now() < deadline) {
        for (const sub of [one, two]) {
          const batch = await pullOnce(sub, 2);
          for (const m of batch) await sub.ack(m.id, 'success');
          got.push(...batch);
        }
      }
      const data = texts(got);
      const twice = data.filter((d, i) => data.indexOf(d) !== i);
      if (twice.length > 0) fail(`${JSON.stringify([...new Set(twice)])} went to both subscriptions of one consumerID (each was acknowledged with success)`);
      const missing = want.filter((w) => !data.includes(w));
      if (missing.length > 0) fail(`${JSON.stringify(missing)} reached neither subscription within 3 s`);
      await expectQuiet(one, 'after the group took every message');
      await expectQuiet(two, 'after the group took every message');
    },
  },
  {
    area: 'consumer groups',
    name: 'another consumerID gets every message as well',
    skip: sharesAcrossInstances,
    async run({ pubsub, topic, subject, fresh }) {
      const t = topic('groups');
      const other = await fresh({ consumerID: `${subject.config.get('consumerID') ?? 'conformance'}-other` });
      const mine = await pubsub.subscribe(t, []);
      const theirs = await other.pubsub.subscribe(t, []);
      const want = ['g0', 'g1', 'g2'];
      for (const d of want) await publish(pubsub, t, d);
      await expectDelivered(mine, want, 'to the first consumerID');
      const got = await collect(theirs, want.length);
      if (got.length === 0) fail('a subscriber under another consumerID got none of the messages (each consumer id is a group of its own, as in Dapr)');
      for (const m of got) await theirs.ack(m.id, 'success');
      const missing = want.filter((w) => !texts(got).includes(w));
      if (missing.length > 0) fail(`a subscriber under another consumerID missed ${JSON.stringify(missing)}`);
    },
  },
];
