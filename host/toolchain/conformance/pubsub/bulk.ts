// Bulk publish: every entry is published as a message of its own, with its content type and
// metadata; the entries that failed come back, each named by its entry id, and only they are
// missing. A bulk publish of no entries publishes nothing and fails nothing.
import type { BulkPublishEntry } from '../../../../abi/ts/pubsub.ts';
import { collect, expectMetadata, expectQuiet, fail, text, texts, utf8, type Check } from './harness.ts';

const entry = (entryId: string, more: Partial<BulkPublishEntry> = {}): BulkPublishEntry => ({ entryId, data: utf8(`data of ${entryId}`), metadata: [], ...more });

export const bulkChecks: Check[] = [
  {
    area: 'bulk publish',
    name: 'every entry comes as a message with its content type and metadata; failures name entries of the request',
    async run({ pubsub, topic }) {
      const t = topic('bulk');
      const sub = await pubsub.subscribe(t, []);
      const entries = [entry('e1', { contentType: 'text/plain' }), entry('e2', { metadata: [['k', 'v']] }), entry('e3', { contentType: 'application/json', data: utf8('{"e":3}') }), entry('e4')];
      const failures = await pubsub.bulkPublish(t, entries, []);
      const ids = entries.map((e) => e.entryId);
      const foreign = failures.filter((f) => !ids.includes(f.entryId));
      if (foreign.length > 0) fail(`bulk publish reported failures for ${JSON.stringify(foreign.map((f) => f.entryId))}, which are no entry ids of the request (${ids.join(', ')})`);
      if (failures.length > 0) fail(`bulk publish of ${entries.length} small entries failed ${failures.map((f) => `${f.entryId} (${f.error})`).join(', ')}`);
      const got = await collect(sub, entries.length);
      for (const e of entries) {
        const m = got.find((g) => text(g) === new TextDecoder().decode(e.data));
        if (m === undefined) fail(`entry ${e.entryId} did not come within 3 s (came: ${JSON.stringify(texts(got))})`);
        if (m.contentType !== e.contentType && e.contentType !== undefined) fail(`entry ${e.entryId} came with content type ${JSON.stringify(m.contentType)}, published with ${JSON.stringify(e.contentType)}`);
        if (m.topic !== t) fail(`entry ${e.entryId} came with topic ${JSON.stringify(m.topic)}, published to ${JSON.stringify(t)}`);
        expectMetadata(m, e.metadata, `entry ${e.entryId}`);
      }
      for (const m of got) await sub.ack(m.id, 'success');
      if (got.length > entries.length) fail(`${got.length} messages came of ${entries.length} entries`);
      await expectQuiet(sub, 'after every entry was acknowledged with success');
    },
  },
  {
    area: 'bulk publish',
    name: 'a bulk publish of no entries publishes nothing and fails nothing',
    async run({ pubsub, topic }) {
      const t = topic('bulk-empty');
      const sub = await pubsub.subscribe(t, []);
      const failures = await pubsub.bulkPublish(t, [], []);
      if (failures.length > 0) fail(`a bulk publish of no entries reported ${failures.length} failures`);
      await expectQuiet(sub, 'after a bulk publish of no entries');
    },
  },
];
