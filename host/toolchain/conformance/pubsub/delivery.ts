// Delivery: what is published comes to a subscriber as it was published (topic, bytes,
// content type, metadata), once when acknowledged, never more than a pull asked for; a
// subscription the broker does not hold is `not-found`, which tells the host to subscribe again.
import type { WitResult } from '../../../../abi/ts/types.ts';
import { collect, describeBytes, expectDelivered, expectMetadata, expectQuiet, fail, pullOnce, publish, sameBytes, text, utf8, type Check } from './harness.ts';

export const deliveryChecks: Check[] = [
  {
    area: 'delivery',
    name: 'a message comes with its topic, bytes, content type and metadata',
    async run({ pubsub, topic }) {
      const t = topic('round-trip');
      const sub = await pubsub.subscribe(t, []);
      const binary = Uint8Array.from({ length: 256 }, (_, i) => 255 - i);
      const metadata: [string, string][] = [['traceparent', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'], ['k', 'v ✓']];
      await pubsub.publish({ topic: t, data: binary, contentType: 'application/octet-stream', metadata });
      await pubsub.publish({ topic: t, data: utf8('{"n":1}'), contentType: 'application/json', metadata: [] });
      const got = await collect(sub, 2);
      const bin = got.find((m) => m.contentType === 'application/octet-stream');
      const json = got.find((m) => m.contentType === 'application/json');
      if (bin === undefined || json === undefined) fail(`pulled ${got.length} messages with content types ${JSON.stringify(got.map((m) => m.contentType))}; expected the two published (application/octet-stream, application/json)`);
      if (!sameBytes(bin.data, binary)) fail(`the 256-byte binary message came as ${describeBytes(bin.data)}`);
      if (text(json) !== '{"n":1}') fail(`the JSON message came as ${describeBytes(json.data)}`);
      for (const m of got) if (m.topic !== t) fail(`a message of topic ${JSON.stringify(t)} came with topic ${JSON.stringify(m.topic)}`);
      expectMetadata(bin, metadata, 'the binary message');
      for (const m of got) await sub.ack(m.id, 'success');
    },
  },
  {
    area: 'delivery',
    name: 'each message comes once, under an id of its own; acknowledged (success), it does not come again',
    async run({ pubsub, topic }) {
      const t = topic('once');
      const sub = await pubsub.subscribe(t, []);
      const want = ['m0', 'm1', 'm2', 'm3', 'm4'];
      for (const d of want) await publish(pubsub, t, d);
      const got = await expectDelivered(sub, want, 'after five publishes');
      const ids = got.map((m) => m.id);
      if (new Set(ids).size !== ids.length) fail(`five messages came under ids ${JSON.stringify(ids)}: an id must name one delivery`);
      await expectQuiet(sub, 'after every message was acknowledged with success');
    },
  },
  {
    area: 'delivery',
    name: 'a pull answers at most max-messages, and an empty list when nothing waits',
    async run({ pubsub, topic }) {
      const t = topic('max');
      const sub = await pubsub.subscribe(t, []);
      const empty = await pullOnce(sub);
      if (empty.length > 0) fail(`a pull of a topic nothing was published to answered ${empty.length} messages`);
      for (const d of ['a', 'b', 'c']) await publish(pubsub, t, d);
      // The host refuses a batch larger than asked (ERR_INTERNAL names both counts): that is this check's failure.
      const one = await collect(sub, 1);
      if (one.length !== 1) fail(`a pull for 1 message of 3 waiting answered ${one.length}`);
      await sub.ack(one[0]!.id, 'success');
      await expectDelivered(sub, ['a', 'b', 'c'].filter((d) => d !== text(one[0]!)), 'after the first was pulled alone');
    },
  },
  {
    area: 'delivery',
    name: 'pull on a subscription it does not hold is refused with not-found (the host then subscribes again)',
    async run({ live }) {
      const result = (await live.call('pull', [0xdead_beefn, 1, 0])) as WitResult<unknown>;
      if (result.tag === 'ok') fail('pull on subscription 3735928559, never made, succeeded');
      if (result.val.tag !== 'not-found') fail(`pull on a subscription never made was refused with ${result.val.tag} (${result.val.val}); expected not-found, which tells the host to subscribe again`);
    },
  },
];
