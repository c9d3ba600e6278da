// Redelivery, which makes delivery at least once: a message acknowledged `retry`, or pulled
// and never acknowledged by a subscription that then closed, comes again; one acknowledged
// `drop` never does. A broker may hand an unacknowledged message back only after a timeout of
// its own: give it a short one with --metadata, or this kit waits DELIVERY_WAIT_MS for it.
import { collect, DELIVERY_WAIT_MS, expectDelivered, expectQuiet, fail, publish, texts, type Check } from './harness.ts';

export const redeliveryChecks: Check[] = [
  {
    area: 'redelivery',
    name: 'a message acknowledged retry comes again',
    async run({ pubsub, topic }) {
      const t = topic('retry');
      const sub = await pubsub.subscribe(t, []);
      await publish(pubsub, t, 'again');
      const [first] = await collect(sub, 1);
      if (first === undefined) fail('the message published did not come');
      await sub.ack(first.id, 'retry');
      await expectDelivered(sub, ['again'], 'after an ack with retry');
      await expectQuiet(sub, 'after its second delivery was acknowledged with success');
    },
  },
  {
    area: 'redelivery',
    name: 'a message pulled and never acknowledged comes again once its subscription closed',
    async run({ pubsub, topic }) {
      const t = topic('unacked');
      const gone = await pubsub.subscribe(t, []);
      await publish(pubsub, t, 'held');
      const held = await collect(gone, 1);
      if (held.length === 0) fail('the message published did not come');
      await gone.close();
      const next = await pubsub.subscribe(t, []);
      const got = await collect(next, 1);
      if (!texts(got).includes('held')) {
        fail(`a message the closed subscription never acknowledged did not come to the next one within ${DELIVERY_WAIT_MS / 1000} s (a broker that hands it back after a timeout: set it shorter with --metadata)`);
      }
      for (const m of got) await next.ack(m.id, 'success');
    },
  },
  {
    area: 'redelivery',
    name: 'a message acknowledged drop never comes again',
    async run({ pubsub, topic }) {
      const t = topic('drop');
      const sub = await pubsub.subscribe(t, []);
      await publish(pubsub, t, 'dropped');
      const [dropped] = await collect(sub, 1);
      if (dropped === undefined) fail('the message published did not come');
      await sub.ack(dropped.id, 'drop');
      await expectQuiet(sub, 'after an ack with drop');
      // Closing hands back what is in flight: a dropped message is not.
      await sub.close();
      const next = await pubsub.subscribe(t, []);
      await publish(pubsub, t, 'later');
      await expectDelivered(next, ['later'], 'after the dropped message, on a new subscription');
    },
  },
];
