// How the sidecar reads an HTTP app's answers to deliveries, as daprd does: the JSON fields
// match by name as Go's decoder matches them (the exact name first, else any case).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bulkVerdicts, verdictOf } from '../../../host/app-channel/http-callbacks.ts';

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));

describe('reading the app answer to a delivery', () => {
  it('any 2xx is success unless its status says otherwise; 404 drops; other codes retry', () => {
    assert.deepEqual(verdictOf(200, Buffer.alloc(0)), { outcome: 'success' });
    assert.deepEqual(verdictOf(204, json({ status: 'SUCCESS' })), { outcome: 'success' });
    assert.equal(verdictOf(200, json({ status: 'RETRY' })).outcome, 'retry');
    assert.equal(verdictOf(200, json({ status: 'DROP' })).outcome, 'drop');
    assert.equal(verdictOf(200, json({ status: 'LATER' })).outcome, 'retry');
    assert.equal(verdictOf(200, Buffer.from('not json')).outcome, 'success');
    assert.equal(verdictOf(404, Buffer.from('no route')).outcome, 'drop');
    assert.equal(verdictOf(500, Buffer.alloc(0)).outcome, 'retry');
  });

  it('matches the status field in any case, and prefers the exact name when both are there', () => {
    assert.equal(verdictOf(200, json({ Status: 'DROP' })).outcome, 'drop');
    assert.equal(verdictOf(200, json({ STATUS: 'RETRY' })).outcome, 'retry');
    assert.equal(verdictOf(200, json({ Status: 'DROP', status: 'SUCCESS' })).outcome, 'success');
  });

  it('reads a bulk answer entry by entry, in any case, and retries the entries it does not list', () => {
    const verdicts = bulkVerdicts(
      200,
      json({ Statuses: [{ entryId: 'a', status: 'SUCCESS' }, { EntryID: 'b', STATUS: 'DROP' }, { entryId: 'c' }, { entryId: 'zz', status: 'SUCCESS' }] }),
      ['a', 'b', 'c', 'd'],
    );
    assert.equal(verdicts.get('a')?.outcome, 'success');
    assert.equal(verdicts.get('b')?.outcome, 'drop');
    assert.equal(verdicts.get('c')?.outcome, 'retry');
    assert.match((verdicts.get('d') as { reason: string }).reason, /does not list entry d/);
    assert.equal(verdicts.has('zz'), false);
    assert.equal(bulkVerdicts(503, Buffer.alloc(0), ['a']).get('a')?.outcome, 'retry');
    assert.equal(bulkVerdicts(200, json({ statuses: 'all good' }), ['a']).get('a')?.outcome, 'retry');
  });
});
