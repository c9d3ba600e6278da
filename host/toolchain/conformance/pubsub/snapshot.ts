// Snapshots (for a broker that exports `snapshot` or `snapshot-stream`): the messages not yet
// acknowledged cross into a fresh instance restored from a snapshot, whichever way it was
// taken, and the acknowledged ones stay gone; a snapshot it cannot read is refused with an
// error, not a trap, and its messages stay. As on a hot swap, the restored broker is
// subscribed to anew.
import { exportsSnapshot, exportsStream, expectChunksAreWhole, expectEmptyRefused, expectRestored, joined, SMALL_CHUNK_BYTES, snapshotOf } from '../snapshot-calls.ts';
import { collect, expectDelivered, expectQuiet, fail, publish, type Broker, type Check, type CheckContext } from './harness.ts';

/**
 * Publishes five messages to one topic and one to another, then acknowledges `acked` with
 * success and `retried` with retry: what a restored broker must still deliver, by topic.
 */
async function fill({ pubsub, topic }: CheckContext): Promise<{ topics: [string, string]; pending: [string[], string[]] }> {
  const [t, other] = [topic('snap'), topic('snap-other ✓')];
  const sub = await pubsub.subscribe(t, []);
  for (const d of ['acked', 'retried', 'w1', 'w2', 'w3']) await publish(pubsub, t, d);
  await publish(pubsub, other, 'elsewhere');
  const got = await collect(sub, 2);
  // Whichever came first is acknowledged; the other goes back.
  for (const [i, m] of got.entries()) await sub.ack(m.id, i === 0 ? 'success' : 'retry');
  if (got.length < 2) fail(`two of five published messages did not come within 3 s (came ${got.length})`);
  const acked = new TextDecoder().decode(got[0]!.data);
  const pending = ['acked', 'retried', 'w1', 'w2', 'w3'].filter((d) => d !== acked);
  return { topics: [t, other], pending: [pending, ['elsewhere']] };
}

/** On the restored broker, subscribed to anew: the pending messages come, and nothing else. */
async function expectPending(restored: Broker, topics: [string, string], pending: [string[], string[]], when: string): Promise<void> {
  for (const [i, t] of topics.entries()) {
    const sub = await restored.pubsub.subscribe(t, []);
    await expectDelivered(sub, pending[i]!, when);
    await expectQuiet(sub, `${when}, once the messages not yet acknowledged came`);
  }
}

export const snapshotChecks: Check[] = [
  {
    area: 'snapshot',
    name: 'messages not yet acknowledged cross a snapshot into a fresh instance; acknowledged ones do not',
    skip: exportsSnapshot,
    async run(cx) {
      const { topics, pending } = await fill(cx);
      const data = await snapshotOf(cx.live);
      const next = await cx.fresh();
      await expectRestored(next.live, data, 'its own snapshot');
      await expectPending(next, topics, pending, 'after restore into a fresh instance');
    },
  },
  {
    area: 'snapshot',
    name: 'a snapshot streamed in small chunks is the whole snapshot, and restores chunk by chunk or in one piece',
    skip: exportsStream,
    async run(cx) {
      const { topics, pending } = await fill(cx);
      const chunks = await snapshotOf(cx.live, SMALL_CHUNK_BYTES);
      await expectChunksAreWhole(cx.live, chunks);
      const next = await cx.fresh();
      await expectRestored(next.live, chunks, 'its own snapshot, chunk by chunk');
      await expectPending(next, topics, pending, `after a restore in ${chunks.length} chunks`);
      const other = await cx.fresh();
      await expectRestored(other.live, [joined(chunks)], 'its own snapshot in one chunk');
      await expectPending(other, topics, pending, 'after a restore in one chunk');
    },
  },
  {
    area: 'snapshot',
    name: 'restore refuses an empty snapshot with an error, not a trap, and keeps its messages',
    skip: exportsSnapshot,
    async run({ pubsub, live, topic }) {
      const t = topic('kept');
      await publish(pubsub, t, 'kept');
      await expectEmptyRefused(live);
      await expectDelivered(await pubsub.subscribe(t, []), ['kept'], 'after a refused restore');
    },
  },
];
